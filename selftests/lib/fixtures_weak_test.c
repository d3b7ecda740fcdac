/*
 * fixtures_weak_test.c - weak definitions and undefined weak references
 * (libfx_weak.so, needing libfx_weak_dep.so).
 */
#include "kdl_test.h"
#include "kselftest_harness.h"

typedef int (*int_fn)(void);
typedef int (*int_int_fn)(int);
typedef void *(*ptr_fn)(void);

TEST(weak_definition_is_found)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_weak.so"), RTLD_NOW);

	EXPECT_EQ(1, ((int_fn)KDL_SYM_OK(h, "fx_weak_defined"))());
	EXPECT_EQ(0, kdl_close(h));
}

TEST(undefined_weak_resolves_to_null)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_weak.so"), RTLD_NOW);

	EXPECT_EQ(NULL, ((ptr_fn)KDL_SYM_OK(h, "fx_weak_missing_fn_addr"))());
	EXPECT_EQ(NULL, ((ptr_fn)KDL_SYM_OK(h, "fx_weak_missing_var_addr"))());
	EXPECT_EQ(77, ((int_int_fn)KDL_SYM_OK(h, "fx_weak_call_missing_or"))(77));
	EXPECT_EQ(NULL, kdl_sym(h, "fx_weak_missing"));
	EXPECT_EQ(0, kdl_close(h));
}

TEST(undefined_weak_satisfied_by_dependency)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_weak.so"), RTLD_NOW);

	EXPECT_EQ(3, ((int_fn)KDL_SYM_OK(h, "fx_weak_call_dep_only"))());
	EXPECT_EQ(0, kdl_close(h));
}

/* Dynamic lookup takes the first definition in scope order, weak or strong. */
TEST(first_definition_wins_even_if_weak)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_weak.so"), RTLD_NOW);

	EXPECT_EQ(1, ((int_fn)KDL_SYM_OK(h, "fx_weak_call_pick"))());
	EXPECT_EQ(1, ((int_fn)KDL_SYM_OK(h, "fx_weak_pick"))());
	EXPECT_EQ(0, kdl_close(h));
}

TEST(same_results_as_glibc)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_weak.so"), RTLD_NOW);
	int k_pick = ((int_fn)KDL_SYM_OK(h, "fx_weak_call_pick"))();
	int k_dep = ((int_fn)KDL_SYM_OK(h, "fx_weak_call_dep_only"))();
	void *g = dlopen(fx_path("libfx_weak.so"), RTLD_NOW | RTLD_LOCAL);

	ASSERT_NE(NULL, g);
	EXPECT_EQ(((int_fn)dlsym(g, "fx_weak_call_pick"))(), k_pick);
	EXPECT_EQ(((int_fn)dlsym(g, "fx_weak_call_dep_only"))(), k_dep);
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

TEST_HARNESS_MAIN

/*
 * fixtures_ifunc_test.c - IFUNC: an exported GNU_IFUNC symbol (kdl_sym and
 * JUMP_SLOT), a local one (R_X86_64_IRELATIVE, run after the other
 * relocations) and a reference from another object.
 */
#include "kdl_test.h"
#include "kselftest_harness.h"

typedef int (*int_fn)(void);
typedef void *(*ptr_fn)(void);

TEST(sym_returns_resolved_implementation)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_ifunc.so"), RTLD_NOW);
	int want = ((int_fn)KDL_SYM_OK(h, "fx_ifunc_expected"))();
	int_fn f = (int_fn)KDL_SYM_OK(h, "fx_ifunc");

	EXPECT_EQ(want, f());
	EXPECT_GE(((int_fn)KDL_SYM_OK(h, "fx_ifunc_resolver_ran"))(), 1);
	EXPECT_EQ(0, kdl_close(h));
}

TEST(plt_and_irelative_calls_reach_chosen_implementation)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_ifunc.so"), RTLD_NOW);
	int want = ((int_fn)KDL_SYM_OK(h, "fx_ifunc_expected"))();
	int_fn *ptr = KDL_SYM_OK(h, "fx_ifunc_ptr");

	EXPECT_EQ(want, ((int_fn)KDL_SYM_OK(h, "fx_ifunc_call_exported"))());
	EXPECT_EQ(want, ((int_fn)KDL_SYM_OK(h, "fx_ifunc_call_local"))());
	ASSERT_NE(NULL, *ptr);
	EXPECT_EQ(want, (*ptr)());
	/* IRELATIVE stored the implementation, as kdl_sym returned it */
	EXPECT_EQ((void *)*ptr, kdl_sym(h, "fx_ifunc"));
	EXPECT_EQ(0, kdl_close(h));
}

TEST(other_object_binds_to_resolved_address)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_ifunc_user.so"), RTLD_NOW);
	int want = ((int_fn)KDL_SYM_OK(h, "fx_ifunc_expected"))();

	EXPECT_EQ(want, ((int_fn)KDL_SYM_OK(h, "fx_ifunc_user_call"))());
	EXPECT_EQ(kdl_sym(h, "fx_ifunc"),
		  ((ptr_fn)KDL_SYM_OK(h, "fx_ifunc_user_addr"))());
	EXPECT_EQ(0, kdl_close(h));
}

TEST(same_choice_as_glibc)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_ifunc.so"), RTLD_NOW);
	int k = ((int_fn)KDL_SYM_OK(h, "fx_ifunc"))();
	void *g = dlopen(fx_path("libfx_ifunc.so"), RTLD_NOW | RTLD_LOCAL);

	ASSERT_NE(NULL, g);
	EXPECT_EQ(((int_fn)dlsym(g, "fx_ifunc"))(), k);
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

TEST_HARNESS_MAIN

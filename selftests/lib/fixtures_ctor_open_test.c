/*
 * fixtures_ctor_open_test.c - a constructor that calls kdl_open itself:
 * libfx_ctor_open.so loads $FX_CTOR_OPEN_TARGET from its constructor and
 * closes it from its destructor.  Under the glibc shim the fixture's
 * twin libfx_ctor_open_glibc.so does the same through dlopen.
 */
#include "kdl_test.h"
#include "kselftest_harness.h"

#if KDL_TEST_GLIBC
#define CTOR_OPEN_LIB "libfx_ctor_open_glibc.so"
#else
#define CTOR_OPEN_LIB "libfx_ctor_open.so"
#endif

TEST(constructor_loads_another_library)
{
	const char *target = fx_path("libfx_ctor_open_target.so");
	void *h, **inner;
	const char *err;

	setenv("FX_CTOR_OPEN_TARGET", target, 1);
	h = KDL_OPEN_OK(fx_path(CTOR_OPEN_LIB), RTLD_NOW);
	err = KDL_SYM_OK(h, "fx_ctor_open_err");
	EXPECT_STREQ("", err);
	inner = KDL_SYM_OK(h, "fx_ctor_open_handle");
	ASSERT_NE(NULL, *inner);
	EXPECT_EQ(4242, ((int (*)(void))KDL_SYM_OK(h, "fx_ctor_open_result"))());
	EXPECT_EQ(0, kdl_close(h));
}

/*
 * The handle the constructor got must belong to the process's one loader:
 * the test's own kdl sees the target (a second copy of libkdl, loaded as
 * the fixture's DT_NEEDED instead of binding to the process's, would not).
 */
TEST(inner_load_is_visible_to_the_process_loader)
{
	const char *target = fx_path("libfx_ctor_open_target.so");
	void *h, *again, **inner;

	setenv("FX_CTOR_OPEN_TARGET", target, 1);
	h = KDL_OPEN_OK(fx_path(CTOR_OPEN_LIB), RTLD_NOW);
	inner = KDL_SYM_OK(h, "fx_ctor_open_handle");
	ASSERT_NE(NULL, *inner);
	again = kdl_open(target, RTLD_NOW | RTLD_NOLOAD, NULL);
	EXPECT_EQ(*inner, again);
	if (again) {
		EXPECT_EQ(1, *(int *)KDL_SYM_OK(again, "fx_ctor_open_target_inits"));
		EXPECT_EQ(0, kdl_close(again));
	}
	EXPECT_EQ(0, kdl_close(h));
}

TEST(destructor_close_unmaps_inner_library)
{
	const char *target = fx_path("libfx_ctor_open_target.so");
	void *h;

	setenv("FX_CTOR_OPEN_TARGET", target, 1);
	h = KDL_OPEN_OK(fx_path(CTOR_OPEN_LIB), RTLD_NOW);
	EXPECT_LT(0, maps_count_path(target));
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(0, maps_count_path(target));
}

TEST(constructor_error_is_reported_by_fixture)
{
	const char *err;
	void *h;

	setenv("FX_CTOR_OPEN_TARGET", fx_path("libfx_no_such_target.so"), 1);
	h = KDL_OPEN_OK(fx_path(CTOR_OPEN_LIB), RTLD_NOW);
	err = KDL_SYM_OK(h, "fx_ctor_open_err");
	TH_LOG("inner error: %s", err);
	EXPECT_NE(NULL, strstr(err, "libfx_no_such_target.so"));
	EXPECT_EQ(-1, ((int (*)(void))KDL_SYM_OK(h, "fx_ctor_open_result"))());
	EXPECT_EQ(0, kdl_close(h));
}

TEST_HARNESS_MAIN

/*
 * fixtures_origin_test.c - $ORIGIN: origin/libfx_origin.so has
 * DT_RUNPATH=$ORIGIN/sub (origin/libfx_origin_rpath.so the same as
 * DT_RPATH); its dependency lives only in origin/sub/.
 */
#include "kdl_test.h"
#include "kselftest_harness.h"

static void check_origin_load(struct __test_metadata *_metadata, const char *rel)
{
	const char *path = fx_path(rel);
	void *h = KDL_OPEN_OK(path, RTLD_NOW);
	void *dep = KDL_SYM_OK(h, "fx_origin_dep_value");
	Dl_info info;

	EXPECT_EQ(41, ((int (*)(void))KDL_SYM_OK(h, "fx_origin_value"))());
	ASSERT_NE(0, kdl_addr(dep, &info));
	ASSERT_NE(NULL, info.dli_fname);
	TH_LOG("dependency loaded from %s", info.dli_fname);
	EXPECT_TRUE(str_ends_with(info.dli_fname, "/origin/sub/libfx_origin_dep.so"));
	EXPECT_EQ(0, kdl_close(h));
}

TEST(runpath_origin_finds_dependency)
{
	check_origin_load(_metadata, "origin/libfx_origin.so");
}

TEST(rpath_origin_finds_dependency)
{
	check_origin_load(_metadata, "origin/libfx_origin_rpath.so");
}

TEST(dependency_is_not_on_default_path)
{
	const char *e;

	EXPECT_EQ(NULL, kdl_open("libfx_origin_dep.so", RTLD_NOW, NULL));
	e = kdl_error();
	ASSERT_NE(NULL, e);
	EXPECT_NE(NULL, strstr(e, "libfx_origin_dep.so"));
}

TEST(dependency_is_unmapped_with_its_user)
{
	void *h = KDL_OPEN_OK(fx_path("origin/libfx_origin.so"), RTLD_NOW);
	const char *dep = fx_path("origin/sub/libfx_origin_dep.so");

	EXPECT_LT(0, maps_count_path(dep));
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(0, maps_count_path(dep));
}

TEST_HARNESS_MAIN

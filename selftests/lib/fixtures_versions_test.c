/*
 * fixtures_versions_test.c - symbol versions: libfx_versions.so has
 * foo@VER_1 (hidden) and foo@@VER_2 (default); consumers bind to the
 * version recorded in their VERNEED.
 */
#include "kdl_test.h"
#include "kselftest_harness.h"

typedef int (*int_fn)(void);

TEST(unversioned_lookup_finds_default_version)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_versions.so"), RTLD_NOW);
	int_fn foo = (int_fn)KDL_SYM_OK(h, "foo");

	EXPECT_EQ(2, foo());
	EXPECT_EQ(0, kdl_close(h));
}

TEST(vsym_picks_hidden_and_default_versions)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_versions.so"), RTLD_NOW);
	int_fn v1 = (int_fn)kdl_vsym(h, "foo", "VER_1");
	int_fn v2 = (int_fn)kdl_vsym(h, "foo", "VER_2");

	ASSERT_NE(NULL, v1);
	ASSERT_NE(NULL, v2);
	EXPECT_NE(v1, v2);
	EXPECT_EQ(1, v1());
	EXPECT_EQ(2, v2());
	EXPECT_EQ((void *)v2, kdl_sym(h, "foo"));
	EXPECT_EQ(0, kdl_close(h));
}

TEST(vsym_of_unknown_version_fails_naming_symbol)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_versions.so"), RTLD_NOW);
	const char *e;

	EXPECT_EQ(NULL, kdl_vsym(h, "foo", "VER_3"));
	e = kdl_error();
	ASSERT_NE(NULL, e);
	EXPECT_NE(NULL, strstr(e, "foo"));
	/* bar only exists at VER_1 */
	EXPECT_EQ(NULL, kdl_vsym(h, "bar", "VER_2"));
	EXPECT_NE(NULL, kdl_error());
	ASSERT_NE(NULL, kdl_vsym(h, "bar", "VER_1"));
	EXPECT_EQ(10, ((int_fn)kdl_vsym(h, "bar", "VER_1"))());
	EXPECT_EQ(0, kdl_close(h));
}

TEST(consumer_linked_against_v1_binds_hidden_version)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_versions_user_v1.so"), RTLD_NOW);
	int_fn f = (int_fn)KDL_SYM_OK(h, "fx_versions_user_foo");

	EXPECT_EQ(1, f());
	EXPECT_EQ(0, kdl_close(h));
}

TEST(consumer_linked_against_v2_binds_default_version)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_versions_user_v2.so"), RTLD_NOW);
	int_fn f = (int_fn)KDL_SYM_OK(h, "fx_versions_user_foo");

	EXPECT_EQ(2, f());
	EXPECT_EQ(0, kdl_close(h));
}

TEST(both_consumers_share_one_copy_of_the_library)
{
	void *h1 = KDL_OPEN_OK(fx_path("libfx_versions_user_v1.so"), RTLD_NOW);
	void *h2 = KDL_OPEN_OK(fx_path("libfx_versions_user_v2.so"), RTLD_NOW);

	EXPECT_EQ(1, ((int_fn)KDL_SYM_OK(h1, "fx_versions_user_foo"))());
	EXPECT_EQ(2, ((int_fn)KDL_SYM_OK(h2, "fx_versions_user_foo"))());
	EXPECT_EQ(kdl_vsym(h1, "foo", "VER_2"), kdl_vsym(h2, "foo", "VER_2"));
	EXPECT_EQ(0, kdl_close(h1));
	EXPECT_EQ(0, kdl_close(h2));
}

TEST(missing_needed_version_fails_naming_it)
{
	const char *path = fx_path("libfx_versions_user_v3.so");
	const char *e;

	EXPECT_EQ(NULL, kdl_open(path, RTLD_NOW, NULL));
	e = kdl_error();
	ASSERT_NE(NULL, e);
	TH_LOG("error: %s", e);
	EXPECT_NE(NULL, strstr(e, "VER_3"));
	EXPECT_EQ(0, maps_count_path(path));
}

TEST(same_results_as_glibc)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_versions.so"), RTLD_NOW);
	int k1 = ((int_fn)kdl_vsym(h, "foo", "VER_1"))();
	int k2 = ((int_fn)kdl_sym(h, "foo"))();
	void *g = dlopen(fx_path("libfx_versions.so"), RTLD_NOW | RTLD_LOCAL);

	ASSERT_NE(NULL, g);
	EXPECT_EQ(((int_fn)dlvsym(g, "foo", "VER_1"))(), k1);
	EXPECT_EQ(((int_fn)dlsym(g, "foo"))(), k2);
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

/* libfx_versions_self.so's own references to fx_vs@VER_1 and
 * fx_vs@@VER_2, two entries of one name and hash, each bind to the
 * version they name, as under glibc. */
TEST(self_references_bind_the_version_they_name)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_versions_self.so"), RTLD_NOW);
	void *g = dlopen(fx_path("libfx_versions_self.so"), RTLD_NOW | RTLD_LOCAL);

	ASSERT_NE(NULL, g);
	EXPECT_EQ(2, ((int_fn)KDL_SYM_OK(h, "fx_vs_call_default"))());
	EXPECT_EQ(1, ((int_fn)KDL_SYM_OK(h, "fx_vs_call_hidden"))());
	EXPECT_EQ(((int_fn)dlsym(g, "fx_vs_call_default"))(), 2);
	EXPECT_EQ(((int_fn)dlsym(g, "fx_vs_call_hidden"))(), 1);
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

TEST_HARNESS_MAIN

/* namespaces_test.c - isolated dependency trees: two versions of one
 * soname side by side, one shared libc, sonames shared with the process
 * or linked from another namespace, and destroy only when empty. */
#include "kdl_test.h"
#include "kselftest_harness.h"

static struct kdl_ns *ns_new(const char *name, const char *shared, const char *path)
{
	struct kdl_ns_config cfg = {
		.size = sizeof(cfg), .name = name, .shared = shared, .library_path = path,
	};

	return kdl_ns_create(&cfg);
}

static void *open_in(struct kdl_ns *ns, const char *path)
{
	struct kdl_load_args args = { .size = sizeof(args), .ns = ns };

	return kdl_open(path, RTLD_NOW, &args);
}

static int plugin_dual(void *h)
{
	int (*f)(void) = (int (*)(void))kdl_sym(h, "fx_plugin_dual");

	return f ? f() : -1;
}

TEST(two_versions_of_one_soname_live_side_by_side)
{
	struct kdl_ns *n1 = ns_new("plugin-a", NULL, NULL), *n2 = ns_new("plugin-b", NULL, NULL);
	struct kdl_ns *got = NULL;
	void *a, *b;

	ASSERT_NE(NULL, n1);
	ASSERT_NE(NULL, n2);
	a = open_in(n1, fx_path("ns/a/libfx_plugin_a.so"));
	b = open_in(n2, fx_path("ns/b/libfx_plugin_b.so"));
	ASSERT_NE(NULL, a) {
		TH_LOG("%s", kdl_error());
	}
	ASSERT_NE(NULL, b) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(1, plugin_dual(a));
	EXPECT_EQ(2, plugin_dual(b));
	EXPECT_EQ(1, maps_count_path(fx_path("ns/a/libfx_dual.so.1")) > 0);
	EXPECT_EQ(1, maps_count_path(fx_path("ns/b/libfx_dual.so.1")) > 0);
	ASSERT_EQ(0, kdl_info(b, KDL_INFO_NS, &got));
	EXPECT_EQ(n2, got);
	/* One libc for everyone: the plugins' malloc is the process's. */
	EXPECT_EQ((void *)malloc, ((void *(*)(void))kdl_sym(a, "fx_plugin_malloc"))());
	EXPECT_EQ((void *)malloc, ((void *(*)(void))kdl_sym(b, "fx_plugin_malloc"))());
	EXPECT_EQ(1, maps_count_exec("/libc.so.6"));
	EXPECT_EQ(0, kdl_close(a));
	EXPECT_EQ(0, kdl_close(b));
	EXPECT_EQ(0, kdl_ns_destroy(n1));
	EXPECT_EQ(0, kdl_ns_destroy(n2));
}

/* The conflict namespaces exist for: in one namespace, as with glibc's
 * dlopen, the second plugin gets the soname the first one loaded. */
TEST(one_namespace_shares_a_soname_like_glibc)
{
	void *a = KDL_OPEN_OK(fx_path("ns/a/libfx_plugin_a.so"), RTLD_NOW);
	void *b = KDL_OPEN_OK(fx_path("ns/b/libfx_plugin_b.so"), RTLD_NOW);
	void *ga = DL_OPEN_OK(fx_path("ns/a/libfx_plugin_a.so"));
	void *gb = DL_OPEN_OK(fx_path("ns/b/libfx_plugin_b.so"));

	EXPECT_EQ(1, plugin_dual(b));
	EXPECT_EQ(1, ((int (*)(void))dlsym(gb, "fx_plugin_dual"))());
	EXPECT_EQ(0, kdl_close(a));
	EXPECT_EQ(0, kdl_close(b));
	dlclose(ga);
	dlclose(gb);
}

TEST(library_path_of_a_namespace_is_searched)
{
	char dir[4096];
	struct kdl_ns *ns;
	void *h;

	snprintf(dir, sizeof(dir), "%s", fx_path("ns/b"));
	ns = ns_new(NULL, NULL, dir);
	ASSERT_NE(NULL, ns);
	h = open_in(ns, "libfx_dual.so.1");
	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(2, ((int (*)(void))kdl_sym(h, "fx_dual_version"))());
	/* Not visible from the default namespace. */
	EXPECT_EQ(NULL, kdl_open("libfx_dual.so.1", RTLD_NOW | RTLD_NOLOAD, NULL));
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(0, kdl_ns_destroy(ns));
}

/* A soname the namespace shares binds to the process's copy; otherwise
 * the namespace loads its own. */
TEST(shared_soname_binds_to_the_process_copy)
{
	void *glibc_z = DL_OPEN_OK("libz.so.1");
	struct kdl_ns *sharing = ns_new("sharing", "libz.so.1", NULL);
	struct kdl_ns *own = ns_new("own", NULL, NULL);
	struct kdl_info_dep dep = { 0 };
	void *p1, *p2;
	int sys = -1;

	ASSERT_NE(NULL, sharing);
	ASSERT_NE(NULL, own);
	p1 = open_in(sharing, "libpng16.so.16");
	p2 = open_in(own, "libpng16.so.16");
	ASSERT_NE(NULL, p1);
	ASSERT_NE(NULL, p2);
	EXPECT_NE(p1, p2);
	for (dep.index = 0; !kdl_info(p1, KDL_INFO_DEP, &dep); dep.index++)
		if (!strcmp(dep.needed, "libz.so.1"))
			break;
	ASSERT_EQ(0, kdl_info(dep.handle, KDL_INFO_SYSTEM, &sys));
	EXPECT_EQ(1, sys);
	for (dep.index = 0; !kdl_info(p2, KDL_INFO_DEP, &dep); dep.index++)
		if (!strcmp(dep.needed, "libz.so.1"))
			break;
	ASSERT_EQ(0, kdl_info(dep.handle, KDL_INFO_SYSTEM, &sys));
	EXPECT_EQ(0, sys);
	EXPECT_EQ(0, kdl_close(p1));
	EXPECT_EQ(0, kdl_close(p2));
	EXPECT_EQ(0, kdl_ns_destroy(sharing));
	EXPECT_EQ(0, kdl_ns_destroy(own));
	dlclose(glibc_z);
}

TEST(linked_soname_comes_from_the_other_namespace)
{
	struct kdl_ns *base = ns_new("base", NULL, NULL), *user = ns_new("user", NULL, NULL);
	struct kdl_ns *dual_ns = NULL;
	struct kdl_info_dep dep = { 0 };
	void *a, *b;

	ASSERT_NE(NULL, base);
	ASSERT_NE(NULL, user);
	ASSERT_EQ(0, kdl_ns_link(user, base, "libfx_dual.so.1"));
	a = open_in(base, fx_path("ns/a/libfx_plugin_a.so"));
	ASSERT_NE(NULL, a);
	/* plugin_b would find version 2 beside it, but its namespace takes
	 * libfx_dual.so.1 from base, which already holds version 1. */
	b = open_in(user, fx_path("ns/b/libfx_plugin_b.so"));
	ASSERT_NE(NULL, b) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(1, plugin_dual(b));
	ASSERT_EQ(0, kdl_info(b, KDL_INFO_DEP, &dep));
	ASSERT_EQ(0, kdl_info(dep.handle, KDL_INFO_NS, &dual_ns));
	EXPECT_EQ(base, dual_ns);
	/* base is in use through the link while b holds it. */
	EXPECT_EQ(0, kdl_close(a));
	EXPECT_EQ(-1, kdl_ns_destroy(base));
	EXPECT_NE(NULL, strstr(kdl_error(), "still in use"));
	EXPECT_EQ(0, kdl_close(b));
	EXPECT_EQ(0, kdl_ns_destroy(user));
	EXPECT_EQ(0, kdl_ns_destroy(base));
}

TEST(destroy_refuses_a_namespace_with_objects_and_the_default)
{
	struct kdl_ns *ns = ns_new(NULL, NULL, NULL);
	struct kdl_ns_config bad = { .size = sizeof(bad), .flags = 0x80 };
	void *h;

	ASSERT_NE(NULL, ns);
	h = open_in(ns, fx_path("libfx_basic.so"));
	ASSERT_NE(NULL, h);
	EXPECT_EQ(-1, kdl_ns_destroy(ns));
	EXPECT_NE(NULL, strstr(kdl_error(), "still in use"));
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(0, kdl_ns_destroy(ns));
	EXPECT_EQ(-1, kdl_ns_destroy(NULL));
	EXPECT_NE(NULL, kdl_error());
	EXPECT_EQ(NULL, kdl_ns_create(&bad));
	EXPECT_NE(NULL, strstr(kdl_error(), "flags"));
}

TEST_HARNESS_MAIN

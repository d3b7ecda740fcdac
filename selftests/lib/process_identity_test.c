/*
 * process_identity_test.c - the process's objects are known by file
 * identity (device and inode), as glibc knows them: libc and libm named
 * by any path, symlink or hard link are the process's copies; a runtime
 * group member the process lacks is loaded by glibc, not mapped by kdl;
 * a library glibc loaded, opened by another path, is glibc's copy in the
 * default namespace and a copy of the namespace's own in a created one.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "kdl_test.h"
#include "kselftest_harness.h"

/* libc's own malloc (a sanitizer's interposes on the program's). */
static void *libc_malloc(void)
{
	void *g = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	void *m = g ? dlsym(g, "malloc") : NULL;

	if (g)
		dlclose(g);
	return m;
}

static void expect_process_copy(struct __test_metadata *_metadata, const char *path,
				const char *sym, void *want)
{
	void *h = kdl_open(path, RTLD_NOW, NULL);
	int system = 0;

	ASSERT_NE(NULL, h) TH_LOG("%s: %s", path, kdl_error());
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_SYSTEM, &system));
	EXPECT_EQ(1, system) TH_LOG("%s is not the process's copy", path);
	EXPECT_EQ(want, kdl_sym(h, sym)) TH_LOG("%s: %s", path, sym);
	EXPECT_EQ(0, kdl_close(h));
}

TEST(libc_and_libm_by_any_path_are_the_process_copies)
{
	static const char *const paths[] = {
		"/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6",
		"/usr/lib/x86_64-linux-gnu/../x86_64-linux-gnu/libc.so.6",
	};
	int before = maps_count_path("/usr/lib/x86_64-linux-gnu/libc.so.6") +
		     maps_count_path("/lib/x86_64-linux-gnu/libc.so.6");
	void *libm = dlopen("libm.so.6", RTLD_NOW);

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		expect_process_copy(_metadata, paths[i], "malloc", libc_malloc());
	ASSERT_NE(NULL, libm);
	expect_process_copy(_metadata, "/lib/x86_64-linux-gnu/libm.so.6", "cos", dlsym(libm, "cos"));
	expect_process_copy(_metadata, "/usr/lib/x86_64-linux-gnu/libm.so.6", "cos",
			    dlsym(libm, "cos"));
	/* No second mapping of libc appeared. */
	EXPECT_EQ(before, maps_count_path("/usr/lib/x86_64-linux-gnu/libc.so.6") +
			  maps_count_path("/lib/x86_64-linux-gnu/libc.so.6"));
	dlclose(libm);
}

TEST(libc_by_symlink_and_hard_link_is_the_process_copy)
{
	char dir[] = "/tmp/kdl-ident-XXXXXX", sym[64], hard[64];
	char *libc = realpath("/lib/x86_64-linux-gnu/libc.so.6", NULL);

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(sym, sizeof(sym), "%s/libc-link.so", dir);
	snprintf(hard, sizeof(hard), "%s/libc-hard.so", dir);
	ASSERT_EQ(0, symlink("/lib/x86_64-linux-gnu/libc.so.6", sym));
	expect_process_copy(_metadata, sym, "malloc", libc_malloc());
	/* A hard link needs the same file system; a copy would be another
	 * file, which glibc would load a second time too. */
	ASSERT_NE(NULL, libc);
	if (!link(libc, hard)) {
		expect_process_copy(_metadata, hard, "malloc", libc_malloc());
		unlink(hard);
	} else {
		TH_LOG("no hard link across file systems: %m");
	}
	unlink(sym);
	rmdir(dir);
	free(libc);
}

/* libanl is in the runtime group; the test program does not link it. */
TEST(missing_runtime_group_member_by_path_is_loaded_by_glibc)
{
	const char *path = "/usr/lib/x86_64-linux-gnu/libanl.so.1";
	int system = 0;
	void *h, *g;

	if (access(path, R_OK))
		SKIP(return, "%s is not installed", path);
	ASSERT_EQ(NULL, dlopen(path, RTLD_NOW | RTLD_NOLOAD));
	h = KDL_OPEN_OK(path, RTLD_NOW);
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_SYSTEM, &system));
	EXPECT_EQ(1, system);
	g = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
	ASSERT_NE(NULL, g);
	EXPECT_EQ(dlsym(g, "getaddrinfo_a"), kdl_sym(h, "getaddrinfo_a"));
	EXPECT_EQ(0, kdl_close(h));
	dlclose(g);
}

TEST(a_library_glibc_loaded_is_its_copy_by_another_path)
{
	void *g = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL), *h, *nh;
	struct kdl_ns_config cfg = { .size = sizeof(cfg), .name = "ident" };
	struct kdl_load_args args = { .size = sizeof(args) };
	struct kdl_ns *ns;
	int system = 0;

	ASSERT_NE(NULL, g);
	h = KDL_OPEN_OK("/usr/lib/x86_64-linux-gnu/../x86_64-linux-gnu/libz.so.1", RTLD_NOW);
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_SYSTEM, &system));
	EXPECT_EQ(1, system);
	EXPECT_EQ(dlsym(g, "deflate"), kdl_sym(h, "deflate"));
	/* A created namespace has copies of its own. */
	ns = kdl_ns_create(&cfg);
	ASSERT_NE(NULL, ns);
	args.ns = ns;
	nh = kdl_open("/lib/x86_64-linux-gnu/libz.so.1", RTLD_NOW, &args);
	ASSERT_NE(NULL, nh) TH_LOG("%s", kdl_error());
	ASSERT_EQ(0, kdl_info(nh, KDL_INFO_SYSTEM, &system));
	EXPECT_EQ(0, system);
	EXPECT_NE(dlsym(g, "deflate"), kdl_sym(nh, "deflate"));
	EXPECT_EQ(0, kdl_close(nh));
	EXPECT_EQ(0, kdl_ns_destroy(ns));
	EXPECT_EQ(0, kdl_close(h));
	dlclose(g);
}

/* In a created namespace, libc by path is still the process's. */
TEST(libc_by_path_in_a_created_namespace_is_the_process_copy)
{
	struct kdl_ns_config cfg = { .size = sizeof(cfg), .name = "ident-libc" };
	struct kdl_load_args args = { .size = sizeof(args) };
	struct kdl_ns *ns = kdl_ns_create(&cfg);
	int system = 0;
	void *h;

	ASSERT_NE(NULL, ns);
	args.ns = ns;
	h = kdl_open("/usr/lib/x86_64-linux-gnu/libc.so.6", RTLD_NOW, &args);
	ASSERT_NE(NULL, h) TH_LOG("%s", kdl_error());
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_SYSTEM, &system));
	EXPECT_EQ(1, system);
	EXPECT_EQ(libc_malloc(), kdl_sym(h, "malloc"));
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(0, kdl_ns_destroy(ns));
}

TEST_HARNESS_MAIN

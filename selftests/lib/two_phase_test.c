/* two_phase_test.c - KDL_LOAD_NORELOC and kdl_relocate(): the tree is
 * mapped as its files hold it (the caller may checksum it) and nothing of
 * it runs until kdl_relocate(), which reports relocation errors; closing
 * an unrelocated handle leaves nothing behind; no other use of it
 * relocates it silently. */
#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include "kdl_leaks.h"
#include "kdl_test.h"
#include "kselftest_harness.h"

static void *open_noreloc(const char *path, struct kdl_ns *ns)
{
	struct kdl_load_args args = { .size = sizeof(args), .ns = ns, .flags = KDL_LOAD_NORELOC };

	return kdl_open(path, RTLD_NOW, &args);
}

/* Whether every PT_LOAD's file bytes of @path read the same at @bias. */
static int image_matches_file(const char *path, uintptr_t bias)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), same = 1;
	Elf64_Ehdr eh;
	Elf64_Phdr ph[32];

	if (fd < 0 || pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || eh.e_phnum > 32 ||
	    pread(fd, ph, eh.e_phnum * sizeof(*ph), eh.e_phoff) != (ssize_t)(eh.e_phnum * sizeof(*ph)))
		return -1;
	for (int i = 0; i < eh.e_phnum && same; i++) {
		char *buf;

		if (ph[i].p_type != PT_LOAD || !ph[i].p_filesz)
			continue;
		buf = malloc(ph[i].p_filesz);
		if (!buf || pread(fd, buf, ph[i].p_filesz, ph[i].p_offset) != (ssize_t)ph[i].p_filesz)
			same = -1;
		else
			same = !memcmp(buf, (void *)(bias + ph[i].p_vaddr), ph[i].p_filesz);
		free(buf);
	}
	close(fd);
	return same;
}

TEST(an_unrelocated_tree_is_its_files_and_runs_only_after_kdl_relocate)
{
	const char *path = fx_path("libfx_two_phase.so");
	uintptr_t bias = 0, range[2];
	int relocated = -1;
	void *h;

	unsetenv("FX_TWO_PHASE_CTOR");
	h = open_noreloc(path, NULL);
	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_BIAS, &bias));
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_RANGE, range));
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_RELOCATED, &relocated));
	EXPECT_EQ(0, relocated);
	EXPECT_LT(0, maps_count_path(path));
	/* What a verifier would checksum: the file's bytes, unrelocated. */
	EXPECT_EQ(1, image_matches_file(path, bias));
	EXPECT_EQ(NULL, getenv("FX_TWO_PHASE_CTOR"));
	EXPECT_EQ(NULL, kdl_sym(h, "fx_two_phase_get"));
	EXPECT_NE(NULL, strstr(kdl_error(), "not relocated"));
	ASSERT_EQ(0, kdl_relocate(h));
	EXPECT_STREQ("ran", getenv("FX_TWO_PHASE_CTOR"));
	/* Relocated, the pointer differs from the file (negative control of
	 * the comparison above). */
	EXPECT_EQ(0, image_matches_file(path, bias));
	EXPECT_EQ(7, ((int (*)(void))KDL_SYM_OK(h, "fx_two_phase_get"))());
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_RELOCATED, &relocated));
	EXPECT_EQ(1, relocated);
	EXPECT_EQ(0, kdl_relocate(h));	/* again: nothing to do */
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(0, maps_count_path(path));
}

TEST(a_relocation_error_is_reported_by_kdl_relocate_and_close_leaves_nothing)
{
	static char before[LEAK_MAPS_MAX], after[LEAK_MAPS_MAX];
	const char *path = fx_path("libfx_undef.so");
	int fds;
	void *h, *again;

	/* Warm what a first load sets up once (process objects, backend). */
	again = KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW);
	kdl_close(again);
	fds = leak_fd_count();
	leak_maps_snapshot(before);
	h = open_noreloc(path, NULL);
	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_LT(0, maps_count_path(path));
	EXPECT_EQ(-1, kdl_relocate(h));
	EXPECT_NE(NULL, strstr(kdl_error(), "fx_undef_missing"));
	/* Once failed, only close is left. */
	EXPECT_EQ(-1, kdl_relocate(h));
	EXPECT_NE(NULL, strstr(kdl_error(), "failed already"));
	EXPECT_EQ(NULL, kdl_sym(h, "fx_undef_call"));
	kdl_error();
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(0, maps_count_path(path));
	EXPECT_EQ(fds, leak_fd_count());
	leak_maps_snapshot(after);
	EXPECT_STREQ(before, after);
	/* Nothing of it stays indexed: a new load fails as any would. */
	again = kdl_open(path, RTLD_NOW, NULL);
	EXPECT_EQ(NULL, again);
	EXPECT_NE(NULL, strstr(kdl_error(), "fx_undef_missing"));
}

TEST(closing_an_unrelocated_tree_undoes_it_without_running_anything)
{
	const char *path = fx_path("ns/a/libfx_plugin_a.so");
	struct kdl_info_dep dep = { 0 };
	void *h;

	unsetenv("FX_TWO_PHASE_CTOR");
	h = open_noreloc(path, NULL);
	ASSERT_NE(NULL, h);
	/* Its dependency is mapped and is part of it, not a handle. */
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_DEP, &dep));
	EXPECT_LT(0, maps_count_path(fx_path("ns/a/libfx_dual.so.1")));
	EXPECT_EQ(-1, kdl_close(dep.handle));
	EXPECT_NE(NULL, strstr(kdl_error(), "close that handle"));
	EXPECT_EQ(-1, kdl_relocate(dep.handle));
	kdl_error();
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(0, maps_count_path(path));
	EXPECT_EQ(0, maps_count_path(fx_path("ns/a/libfx_dual.so.1")));
}

/* Another load reaching an unrelocated object fails, rather than run
 * code the first caller has not verified yet. */
TEST(another_load_does_not_relocate_an_unrelocated_object_silently)
{
	struct kdl_ns_config cfg = { .size = sizeof(cfg), .name = "verify" };
	struct kdl_ns *ns = kdl_ns_create(&cfg);
	void *dual, *plugin;

	ASSERT_NE(NULL, ns);
	dual = open_noreloc(fx_path("ns/a/libfx_dual.so.1"), ns);
	ASSERT_NE(NULL, dual);
	plugin = kdl_open(fx_path("ns/a/libfx_plugin_a.so"), RTLD_NOW,
			  &(struct kdl_load_args){ .size = sizeof(struct kdl_load_args), .ns = ns });
	EXPECT_EQ(NULL, plugin);
	EXPECT_NE(NULL, strstr(kdl_error(), "not relocated yet"));
	EXPECT_EQ(-1, kdl_ns_destroy(ns));	/* it holds an object */
	ASSERT_EQ(0, kdl_relocate(dual));
	plugin = kdl_open(fx_path("ns/a/libfx_plugin_a.so"), RTLD_NOW,
			  &(struct kdl_load_args){ .size = sizeof(struct kdl_load_args), .ns = ns });
	ASSERT_NE(NULL, plugin) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(1, ((int (*)(void))KDL_SYM_OK(plugin, "fx_plugin_dual"))());
	EXPECT_EQ(0, kdl_close(plugin));
	EXPECT_EQ(0, kdl_close(dual));
	EXPECT_EQ(0, kdl_ns_destroy(ns));
}

TEST_HARNESS_MAIN

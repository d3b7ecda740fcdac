/*
 * api_errors_test.c - kdl_error(): every failure says what failed (the
 * file, the symbol, the missing dependency), the message is read once and
 * per thread, and a failed load leaves no mapping or fd behind.
 */
#include <pthread.h>

#include "kdl_leaks.h"
#include "kdl_test.h"
#include "kselftest_harness.h"

/* Expects kdl_open(path) to fail with a message containing want, leaving
 * no fd and no mapping of path behind. */
static void expect_open_fails(struct __test_metadata *_metadata,
			      const char *path, const char *want)
{
	void *warm = kdl_open(fx_path("libfx_basic.so"), RTLD_NOW, NULL);
	const char *e;
	int fds;

	/* A successful load first, so that fds the loader keeps for good
	 * (the /dev/kdl it opens once, say) are not counted as leaks. */
	ASSERT_NE(NULL, warm);
	ASSERT_EQ(0, kdl_close(warm));
	fds = leak_fd_count();
	kdl_error();
	EXPECT_EQ(NULL, kdl_open(path, RTLD_NOW, NULL));
	e = kdl_error();
	ASSERT_NE(NULL, e);
	TH_LOG("error: %s", e);
	EXPECT_NE(NULL, strstr(e, want));
	EXPECT_EQ(fds, leak_fd_count());
	if (path[0] == '/')
		EXPECT_EQ(0, maps_count_path(path));
}

TEST(missing_file_names_the_path)
{
	const char *path = fx_path("libfx_does_not_exist.so");

	expect_open_fails(_metadata, path, path);
}

TEST(missing_soname_names_it)
{
	expect_open_fails(_metadata, "libfx_nowhere.so.9", "libfx_nowhere.so.9");
}

TEST(missing_symbol_names_the_symbol)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW);
	const char *e;

	EXPECT_EQ(NULL, kdl_sym(h, "fx_basic_nope"));
	e = kdl_error();
	ASSERT_NE(NULL, e);
	TH_LOG("error: %s", e);
	EXPECT_NE(NULL, strstr(e, "fx_basic_nope"));
	EXPECT_EQ(0, kdl_close(h));
}

TEST(error_is_cleared_once_read)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW);

	EXPECT_EQ(NULL, kdl_sym(h, "fx_basic_nope"));
	EXPECT_NE(NULL, kdl_error());
	EXPECT_EQ(NULL, kdl_error());
	EXPECT_EQ(0, kdl_close(h));
}

TEST(success_leaves_no_error)
{
	void *h;

	kdl_error();
	h = KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW);
	KDL_SYM_OK(h, "fx_basic_add");
	EXPECT_EQ(NULL, kdl_error());
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(NULL, kdl_error());
}

TEST(non_elf_file_is_rejected)
{
	char path[] = "/tmp/kdl-not-elf-XXXXXX.so";
	int fd = mkstemps(path, 3);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(64, write(fd, "this is not an ELF file, just text padding it to 64 bytes long.\n", 64));
	close(fd);
	expect_open_fails(_metadata, path, path);
	unlink(path);
}

TEST(empty_file_is_rejected)
{
	char path[] = "/tmp/kdl-empty-XXXXXX.so";
	int fd = mkstemps(path, 3);

	ASSERT_GE(fd, 0);
	close(fd);
	expect_open_fails(_metadata, path, path);
	unlink(path);
}

TEST(directory_is_rejected)
{
	expect_open_fails(_metadata, fx_dir(), fx_dir());
}

TEST(undefined_symbol_fails_the_load_naming_it)
{
	expect_open_fails(_metadata, fx_path("libfx_undef.so"), "fx_undef_missing");
}

TEST(missing_dependency_fails_the_load_naming_it)
{
	expect_open_fails(_metadata, fx_path("libfx_missing_dep.so"), "libfx_nonexistent.so");
}

static void *fail_in_thread(void *arg)
{
	void *h = arg;

	if (kdl_sym(h, "fx_basic_nope_thread"))
		return (void *)1;
	return kdl_error() ? NULL : (void *)2;
}

TEST(error_is_per_thread)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW);
	pthread_t t;
	void *ret;

	kdl_error();
	ASSERT_EQ(0, pthread_create(&t, NULL, fail_in_thread, h));
	ASSERT_EQ(0, pthread_join(t, &ret));
	EXPECT_EQ(NULL, ret);
	EXPECT_EQ(NULL, kdl_error());
	EXPECT_EQ(0, kdl_close(h));
}

/* A position-independent executable is not a library: refused as glibc
 * refuses it, nothing left mapped. */
TEST(position_independent_executable_is_refused_like_glibc)
{
	const char *path = fx_path("fx_rand_prog");
	const char *e;

	EXPECT_EQ(NULL, kdl_open(path, RTLD_NOW, NULL));
	e = kdl_error();
	ASSERT_NE(NULL, e);
	EXPECT_NE(NULL, strstr(e, "fx_rand_prog"));
	EXPECT_NE(NULL, strstr(e, "DF_1_PIE"));
	EXPECT_EQ(0, maps_count_path(path));
	EXPECT_EQ(NULL, dlopen(path, RTLD_NOW | RTLD_LOCAL));
}

TEST_HARNESS_MAIN

/* sources_fd_test.c - kdl_fdopen at offsets, zero-copy where aligned. */
#include <sys/mman.h>

#include "kdl_src_test.h"
#include "kselftest_harness.h"

FIXTURE(lib_in_file) {
	char path[64];
	int fd;
	unsigned char *lib;
	size_t len;
};

FIXTURE_SETUP(lib_in_file)
{
	self->lib = slurp(ZLIB_PATH, &self->len);
	ASSERT_NE(NULL, self->lib);
	strcpy(self->path, "/tmp/kdl-fdopen-XXXXXX");
	self->fd = mkstemp(self->path);
	ASSERT_LE(0, self->fd);
	/* junk, the library at 3 pages, junk, the library at 0x80000 + 100 */
	ASSERT_EQ(4, pwrite(self->fd, "junk", 4, 0));
	ASSERT_EQ((ssize_t)self->len, pwrite(self->fd, self->lib, self->len, 3 * 4096));
	ASSERT_EQ((ssize_t)self->len, pwrite(self->fd, self->lib, self->len, 0x80000 + 100));
	ASSERT_EQ(4, pwrite(self->fd, "tail", 4, 0x80000 + 100 + self->len));
	ASSERT_EQ(0, lseek(self->fd, 0, SEEK_SET));
}

FIXTURE_TEARDOWN(lib_in_file)
{
	close(self->fd);
	unlink(self->path);
	free(self->lib);
}

TEST_F(lib_in_file, aligned_offset_maps_the_file_pages)
{
	struct backing_report r;
	uintptr_t range[2];
	void *h = kdl_fdopen(self->fd, 3 * 4096, RTLD_NOW, NULL);

	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_STREQ("1.2.13", zlib_version_of(h));
	EXPECT_EQ(1, zero_copy_of(h));
	object_range(h, range);
	backing_of_range(range[0], range[1], self->path, &r);
	EXPECT_LT(0, r.matching);
	EXPECT_EQ(0, r.other_files);
	EXPECT_EQ(3 * 4096, r.min_offset);
	/* The fd is neither moved nor closed. */
	EXPECT_EQ(0, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_LE(0, fcntl(self->fd, F_GETFD));
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_LE(0, fcntl(self->fd, F_GETFD));
}

TEST_F(lib_in_file, unaligned_offset_loads_through_one_copy)
{
	struct backing_report r;
	uintptr_t range[2];
	void *h = kdl_fdopen(self->fd, 0x80000 + 100, RTLD_NOW, NULL);

	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_STREQ("1.2.13", zlib_version_of(h));
	EXPECT_EQ(0, zero_copy_of(h));
	object_range(h, range);
	backing_of_range(range[0], range[1], "/memfd:kdl:", &r);
	EXPECT_LT(0, r.matching);
	backing_of_range(range[0], range[1], self->path, &r);
	EXPECT_EQ(0, r.matching);
	EXPECT_EQ(0, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(0, kdl_close(h));
}

TEST_F(lib_in_file, same_offset_twice_is_one_object)
{
	void *a = kdl_fdopen(self->fd, 3 * 4096, RTLD_NOW, NULL);
	void *b = kdl_fdopen(self->fd, 3 * 4096, RTLD_NOW, NULL);
	void *c = kdl_fdopen(self->fd, 0x80000 + 100, RTLD_NOW, NULL);

	ASSERT_NE(NULL, a);
	EXPECT_EQ(a, b);
	EXPECT_NE(a, c);
	EXPECT_EQ(0, kdl_close(a));
	EXPECT_EQ(0, kdl_close(b));
	EXPECT_EQ(0, kdl_close(c));
}

TEST_F(lib_in_file, offset_past_the_end_is_an_error)
{
	const char *e;

	EXPECT_EQ(NULL, kdl_fdopen(self->fd, 1 << 30, RTLD_NOW, NULL));
	e = kdl_error();
	ASSERT_NE(NULL, e);
	EXPECT_NE(NULL, strstr(e, "past the end"));
	EXPECT_EQ(NULL, kdl_fdopen(self->fd, 100, RTLD_NOW, NULL));	/* junk there */
	EXPECT_NE(NULL, kdl_error());
}

TEST_F(lib_in_file, display_name_is_used_everywhere)
{
	struct kdl_load_args args = { .size = sizeof(args), .name = "plugin:zlib" };
	void *h = kdl_fdopen(self->fd, 3 * 4096, RTLD_NOW, &args);
	const char *p = NULL;
	Dl_info info;

	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_PATH, &p));
	EXPECT_STREQ("plugin:zlib", p);
	ASSERT_NE(0, kdl_addr(kdl_sym(h, "zlibVersion"), &info));
	EXPECT_STREQ("plugin:zlib", info.dli_fname);
	EXPECT_STREQ("zlibVersion", info.dli_sname);
	EXPECT_EQ(NULL, kdl_sym(h, "no_such_symbol"));
	p = kdl_error();
	ASSERT_NE(NULL, p);
	EXPECT_NE(NULL, strstr(p, "plugin:zlib"));
	EXPECT_EQ(0, kdl_close(h));
	/* A broken image is reported under its display name too. */
	args.name = "plugin:broken";
	EXPECT_EQ(NULL, kdl_fdopen(self->fd, 0, RTLD_NOW, &args));
	p = kdl_error();
	ASSERT_NE(NULL, p);
	EXPECT_NE(NULL, strstr(p, "plugin:broken"));
}

TEST(sealed_memfd_maps_zero_copy)
{
	struct backing_report r;
	uintptr_t range[2];
	size_t len;
	unsigned char *lib = slurp(ZLIB_PATH, &len);
	int fd = memfd_create("sealed-zlib", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	void *h;

	ASSERT_NE(NULL, lib);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)len, write(fd, lib, len));
	ASSERT_EQ(0, fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL));
	h = kdl_fdopen(fd, 0, RTLD_NOW, NULL);
	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(1, zero_copy_of(h));
	object_range(h, range);
	backing_of_range(range[0], range[1], "/memfd:sealed-zlib", &r);
	EXPECT_LT(0, r.matching);
	EXPECT_STREQ("1.2.13", zlib_version_of(h));
	EXPECT_EQ(0, kdl_close(h));
	close(fd);
	free(lib);
}

TEST(bad_fd_is_an_error)
{
	EXPECT_EQ(NULL, kdl_fdopen(-1, 0, RTLD_NOW, NULL));
	EXPECT_NE(NULL, kdl_error());
	EXPECT_EQ(NULL, kdl_fdopen(12345, 0, RTLD_NOW, NULL));
	EXPECT_NE(NULL, kdl_error());
}

TEST_HARNESS_MAIN

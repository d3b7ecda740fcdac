/* sources_mem_test.c - kdl_memopen: zero-copy from file and memfd
 * mappings, one copy from anonymous or privately modified memory, and the
 * buffer left as it was. */
#include <sys/mman.h>

#include "kdl_src_test.h"
#include "kselftest_harness.h"

static uint64_t checksum(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

TEST(file_mapping_is_zero_copy)
{
	struct backing_report r;
	uintptr_t range[2];
	int fd = open(ZLIB_PATH, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *buf, *h;
	uint64_t sum;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	buf = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, buf);
	close(fd);
	sum = checksum(buf, st.st_size);
	h = kdl_memopen(buf, st.st_size, RTLD_NOW, NULL);
	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(1, zero_copy_of(h));
	EXPECT_STREQ("1.2.13", zlib_version_of(h));
	object_range(h, range);
	backing_of_range(range[0], range[1], "libz.so", &r);
	EXPECT_LT(0, r.matching);
	EXPECT_EQ(0, r.other_files);
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(sum, checksum(buf, st.st_size));
	EXPECT_EQ(0, munmap(buf, st.st_size));
}

TEST(anonymous_memory_is_copied_once_into_a_memfd)
{
	struct backing_report r;
	uintptr_t range[2];
	size_t len;
	unsigned char *buf = slurp(ZLIB_PATH, &len);
	uint64_t sum;
	void *h;

	ASSERT_NE(NULL, buf);
	sum = checksum(buf, len);
	h = kdl_memopen(buf, len, RTLD_NOW, NULL);
	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(0, zero_copy_of(h));
	EXPECT_STREQ("1.2.13", zlib_version_of(h));
	object_range(h, range);
	backing_of_range(range[0], range[1], "/memfd:kdl:", &r);
	EXPECT_LT(0, r.matching);
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(sum, checksum(buf, len));
	free(buf);
}

TEST(memfd_mapping_is_zero_copy)
{
	struct backing_report r;
	uintptr_t range[2];
	size_t len;
	unsigned char *lib = slurp(ZLIB_PATH, &len);
	int fd = memfd_create("image-in-memfd", MFD_CLOEXEC);
	void *buf, *h;

	ASSERT_NE(NULL, lib);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)len, write(fd, lib, len));
	buf = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, buf);
	h = kdl_memopen(buf, len, RTLD_NOW, NULL);
	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(1, zero_copy_of(h));
	object_range(h, range);
	backing_of_range(range[0], range[1], "/memfd:image-in-memfd", &r);
	EXPECT_LT(0, r.matching);
	EXPECT_STREQ("1.2.13", zlib_version_of(h));
	EXPECT_EQ(0, kdl_close(h));
	munmap(buf, len);
	close(fd);
	free(lib);
}

/* A private file mapping whose pages were written holds bytes the file
 * does not: mapping the file would load something else. */
TEST(privately_modified_file_mapping_is_copied)
{
	int fd = open(ZLIB_PATH, O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned char *buf;
	void *h;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	buf = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, buf);
	close(fd);
	buf[st.st_size - 1] ^= 0;	/* a write: the page becomes a private copy */
	buf[st.st_size - 1] = buf[st.st_size - 1];
	*(volatile unsigned char *)&buf[8192] = buf[8192];
	h = kdl_memopen(buf, st.st_size, RTLD_NOW, NULL);
	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(0, zero_copy_of(h));
	EXPECT_STREQ("1.2.13", zlib_version_of(h));
	EXPECT_EQ(0, kdl_close(h));
	munmap(buf, st.st_size);
}

TEST(short_unaligned_and_null_buffers_are_errors)
{
	static unsigned char small[32] __attribute__((aligned(16)));
	size_t len;
	unsigned char *lib = slurp(ZLIB_PATH, &len);
	const char *e;

	ASSERT_NE(NULL, lib);
	EXPECT_EQ(NULL, kdl_memopen(NULL, 4096, RTLD_NOW, NULL));
	EXPECT_NE(NULL, kdl_error());
	EXPECT_EQ(NULL, kdl_memopen(small, sizeof(small), RTLD_NOW, NULL));
	e = kdl_error();
	ASSERT_NE(NULL, e);
	EXPECT_NE(NULL, strstr(e, "too short"));
	EXPECT_EQ(NULL, kdl_memopen(lib + 1, len - 1, RTLD_NOW, NULL));
	e = kdl_error();
	ASSERT_NE(NULL, e);
	EXPECT_NE(NULL, strstr(e, "aligned"));
	/* Shorter than the image's segments: the intake refuses it. */
	EXPECT_EQ(NULL, kdl_memopen(lib, len / 2, RTLD_NOW, NULL));
	e = kdl_error();
	ASSERT_NE(NULL, e);
	EXPECT_NE(NULL, strstr(e, "past the end"));
	free(lib);
}

TEST(display_name_comes_from_args)
{
	struct kdl_load_args args = { .size = sizeof(args), .name = "mem:zlib-copy" };
	size_t len;
	unsigned char *lib = slurp(ZLIB_PATH, &len);
	const char *p = NULL;
	Dl_info info;
	void *h;

	ASSERT_NE(NULL, lib);
	h = kdl_memopen(lib, len, RTLD_NOW, &args);
	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_PATH, &p));
	EXPECT_STREQ("mem:zlib-copy", p);
	ASSERT_NE(0, kdl_addr(kdl_sym(h, "zlibVersion"), &info));
	EXPECT_STREQ("mem:zlib-copy", info.dli_fname);
	EXPECT_EQ(0, kdl_close(h));
	free(lib);
}

TEST_HARNESS_MAIN

/* noexec_test.c - a library whose file lies on a noexec mount is refused
 * as glibc's dlopen refuses it, on every path: by name, from an fd at an
 * aligned and an unaligned offset, as a zip -0 entry, and from a buffer
 * that maps the file (zero-copy or through the copy).  The copy paths
 * are the ones that would launder the mount; each case runs again on an
 * exec-allowed mount, where it loads: the control.  Failed loads leave no
 * fd and no mapping. */
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>

#include "kdl_leaks.h"
#include "kdl_test.h"
#include "kdl_src_test.h"
#include "kselftest_harness.h"

#define JUNK 104	/* an unaligned offset, still 8-byte aligned for memopen */

FIXTURE(noexec) {
	char dir[2][64];	/* [0] noexec, [1] exec */
	unsigned char *lib;
	size_t len;
	int fds_before;
};

static void write_file(const char *path, const void *lead, size_t lead_len,
		       const unsigned char *lib, size_t len)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return;
	if (lead_len)
		fwrite(lead, 1, lead_len, f);
	fwrite(lib, 1, len, f);
	fclose(f);
}

FIXTURE_SETUP(noexec)
{
	char path[128], cmd[1024], junk[JUNK];

	/* Before unshare: in the VM's chroot, /proc/self/exe reads
	 * differently in a new mount namespace. */
	const char *rwx = fx_path("libfx_rwx.so");

	memset(junk, 'j', sizeof(junk));
	self->dir[0][0] = self->dir[1][0] = '\0';
	if (geteuid() != 0 || unshare(CLONE_NEWNS))
		SKIP(return, "needs root for private mounts");
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	self->lib = slurp(ZLIB_PATH, &self->len);
	ASSERT_NE(NULL, self->lib);
	for (int i = 0; i < 2; i++) {
		snprintf(self->dir[i], sizeof(self->dir[i]), "/tmp/kdl-lib-%sexec-%d",
			 i ? "" : "no", getpid());
		mkdir(self->dir[i], 0755);
		ASSERT_EQ(0, mount("kdl", self->dir[i], "tmpfs", i ? 0 : MS_NOEXEC, NULL));
		snprintf(path, sizeof(path), "%s/libz.so.1", self->dir[i]);
		write_file(path, NULL, 0, self->lib, self->len);
		snprintf(path, sizeof(path), "%s/junk+libz", self->dir[i]);
		write_file(path, junk, sizeof(junk), self->lib, self->len);
		snprintf(cmd, sizeof(cmd), "cd %s && zip -q -0 app.zip libz.so.1 && cp %s .",
			 self->dir[i], rwx);
		ASSERT_EQ(0, system(cmd));
	}
	/* A first load opens what stays open (the kernel backend's device). */
	void *warm = kdl_open(ZLIB_PATH, RTLD_NOW, NULL);

	ASSERT_NE(NULL, warm);
	kdl_close(warm);
	self->fds_before = leak_fd_count();
}

FIXTURE_TEARDOWN(noexec)
{
	for (int i = 0; i < 2; i++) {
		if (self->dir[i][0]) {
			umount2(self->dir[i], MNT_DETACH);
			rmdir(self->dir[i]);
		}
	}
	free(self->lib);
}

/* The verdict on mount @i: loads (and works) on the exec mount; refused,
 * naming the mount as the reason, leaving no fd, on the noexec one. */
#define EXPECT_VERDICT(i, h) do {					\
	if (i) {								\
		EXPECT_NE(NULL, h) {						\
			TH_LOG("exec mount: %s", kdl_error());			\
		}								\
		if (h) {							\
			EXPECT_STREQ("1.2.13", zlib_version_of(h));		\
			EXPECT_EQ(0, kdl_close(h));				\
		}								\
	} else {								\
		const char *e_ = kdl_error();					\
		EXPECT_EQ(NULL, h);						\
		ASSERT_NE(NULL, e_);						\
		EXPECT_NE(NULL, strstr(e_, "noexec")) {				\
			TH_LOG("%s", e_);					\
		}								\
		EXPECT_EQ(self->fds_before, leak_fd_count());			\
	}									\
} while (0)

TEST_F(noexec, by_name_as_glibc)
{
	char path[128];

	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/libz.so.1", self->dir[i]);
		void *h = kdl_open(path, RTLD_NOW, NULL);

		EXPECT_VERDICT(i, h);
		/* glibc, on the same file. */
		void *g = dlopen(path, RTLD_NOW | RTLD_LOCAL);

		EXPECT_EQ(i == 1, g != NULL) {
			TH_LOG("glibc: %s", g ? "loaded" : dlerror());
		}
		if (g)
			dlclose(g);
	}
}

/* An unaligned offset goes through the copy; an aligned one is zero-copy. */
TEST_F(noexec, fd_at_unaligned_and_aligned_offsets_is_not_laundered_by_the_copy)
{
	static const struct { const char *file; uint64_t offset; } at[] = {
		{ "junk+libz", JUNK }, { "libz.so.1", 0 },
	};
	char path[128];

	for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++)
		for (int i = 0; i < 2; i++) {
			snprintf(path, sizeof(path), "%s/%s", self->dir[i], at[k].file);
			int fd = open(path, O_RDONLY | O_CLOEXEC);

			ASSERT_LE(0, fd);
			self->fds_before = leak_fd_count();
			void *h = kdl_fdopen(fd, at[k].offset, RTLD_NOW, NULL);

			EXPECT_VERDICT(i, h);
			close(fd);
		}
}

TEST_F(noexec, zip_stored_entry_is_not_laundered_by_the_copy)
{
	char name[160];

	for (int i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "%s/app.zip!/libz.so.1", self->dir[i]);
		void *h = kdl_open(name, RTLD_NOW, NULL);

		if (i)
			EXPECT_EQ(0, h ? zero_copy_of(h) : 0);	/* zip -0: unaligned */
		EXPECT_VERDICT(i, h);
	}
}

/* A buffer that maps the file: zero-copy when page aligned, a copy at an
 * unaligned start or once a page was written (the rest still the file's). */
TEST_F(noexec, buffer_mapping_the_file_is_not_laundered_by_the_copy)
{
	char path[128];

	for (int i = 0; i < 2; i++) {
		size_t maplen = self->len + JUNK + 4096;

		snprintf(path, sizeof(path), "%s/libz.so.1", self->dir[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		unsigned char *m = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);

		ASSERT_NE(MAP_FAILED, m);
		close(fd);
		self->fds_before = leak_fd_count();
		void *h = kdl_memopen(m, self->len, RTLD_NOW, NULL);

		EXPECT_VERDICT(i, h);
		((volatile unsigned char *)m)[self->len - 1] = m[self->len - 1];	/* anonymous now */
		self->fds_before = leak_fd_count();
		h = kdl_memopen(m, self->len, RTLD_NOW, NULL);
		if (i)
			EXPECT_EQ(0, h ? zero_copy_of(h) : 1);
		EXPECT_VERDICT(i, h);
		munmap(m, self->len);

		snprintf(path, sizeof(path), "%s/junk+libz", self->dir[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		m = mmap(NULL, maplen, PROT_READ, MAP_PRIVATE, fd, 0);
		ASSERT_NE(MAP_FAILED, m);
		close(fd);
		self->fds_before = leak_fd_count();
		h = kdl_memopen(m + JUNK, self->len, RTLD_NOW, NULL);
		EXPECT_VERDICT(i, h);
		munmap(m, maplen);
	}
}

/* A mirror copies an executable segment with a zero tail (both backends
 * make it shared memory): the copy is judged as the file would be. */
TEST_F(noexec, mirrored_executable_segment_is_not_laundered_by_the_copy)
{
	struct kdl_load_args args = {
		.size = sizeof(args), .flags = KDL_LOAD_WINDOW | KDL_LOAD_MIRROR,
		.window_lo = 1ull << 30, .window_hi = 2ull << 30, .mirror_base = 1ull << 44,
	};
	char path[128];

	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/libfx_rwx.so", self->dir[i]);
		void *h = kdl_open(path, RTLD_NOW, &args);

		if (i) {
			ASSERT_NE(NULL, h) {
				TH_LOG("%s", kdl_error());
			}
			int (*get)(void) = (int (*)(void))kdl_sym(h, "fx_rwx_get");

			ASSERT_NE(NULL, get);
			EXPECT_EQ(3, get());
			EXPECT_EQ(0, kdl_close(h));
		} else {
			const char *e = kdl_error();

			EXPECT_EQ(NULL, h);
			if (h)
				kdl_close(h);
			ASSERT_NE(NULL, e);
			EXPECT_NE(NULL, strstr(e, "noexec")) {
				TH_LOG("%s", e);
			}
			EXPECT_EQ(self->fds_before, leak_fd_count());
		}
	}
}

/* The boundary: bytes the process read into its own memory are its own,
 * as with any loader; noexec guards the file's pages, not its contents. */
TEST_F(noexec, a_malloced_copy_of_the_bytes_is_the_processs_own)
{
	void *h = kdl_memopen(self->lib, self->len, RTLD_NOW, NULL);

	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_STREQ("1.2.13", zlib_version_of(h));
	EXPECT_EQ(0, kdl_close(h));
}

TEST_HARNESS_MAIN

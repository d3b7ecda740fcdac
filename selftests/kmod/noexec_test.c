// SPDX-License-Identifier: GPL-2.0
/*
 * noexec_test.c - bytes of a file on a noexec mount never become
 * executable through kdl.ko: neither the file pages nor the shmem copies
 * the module builds from them (a read-only segment's zero-tailed last
 * page, both views of a mirrored writable segment) accept PROT_EXEC,
 * at map time or by a later mprotect().  Each case also runs on an
 * exec-allowed mount, where the same mprotect() succeeds and the byte
 * runs: the control that the probe can tell the two apart.
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "kdl_test.h"

#define RET_INSN	0xc3	/* x86 ret, at file offsets 0 and PG */

FIXTURE(noexec) {
	int dev;
	int fd[2];		/* [0] on the noexec mount, [1] on the exec one */
	char dir[2][64];
};

static int make_lib(const char *dir)
{
	char path[128];
	uint8_t ret = RET_INSN;
	int fd;

	snprintf(path, sizeof(path), "%s/lib.so", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd < 0)
		return -1;
	if (write_pattern(fd, 0, STD_FILE_PAGES) || pwrite(fd, &ret, 1, 0) != 1 ||
	    pwrite(fd, &ret, 1, PG) != 1) {
		close(fd);
		return -1;
	}
	return fd;
}

FIXTURE_SETUP(noexec)
{
	int i;

	self->fd[0] = self->fd[1] = -1;
	self->dev = -1;
	if (geteuid() != 0 || unshare(CLONE_NEWNS))
		SKIP(return, "needs root for private mounts");
	OPEN_DEV_OR_SKIP(self->dev);
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	for (i = 0; i < 2; i++) {
		snprintf(self->dir[i], sizeof(self->dir[i]), "/tmp/kdl-%sexec-%d",
			 i ? "" : "no", getpid());
		mkdir(self->dir[i], 0755);
		ASSERT_EQ(0, mount("kdl", self->dir[i], "tmpfs",
				   i ? 0 : MS_NOEXEC, "mode=0755"));
		self->fd[i] = make_lib(self->dir[i]);
		ASSERT_LE(0, self->fd[i]);
	}
}

FIXTURE_TEARDOWN(noexec)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (self->fd[i] >= 0) {
			close(self->fd[i]);
			umount2(self->dir[i], MNT_DETACH);
			rmdir(self->dir[i]);
		}
	}
	if (self->dev >= 0)
		close(self->dev);
}

/* One read-only segment whose zero tail starts one byte into page 1. */
static const struct kdl_segment tail_seg = {
	.vaddr = 0, .offset = 0, .filesz = PG + 1, .memsz = 2 * PG,
	.prot = PROT_READ,
};

/* One writable segment, to be mirrored (its pages come from shmem). */
static const struct kdl_segment data_seg = {
	.vaddr = 0, .offset = 0, .filesz = PG + 1, .memsz = 2 * PG,
	.prot = PROT_READ | PROT_WRITE,
};

static int map_one(int dev, int fd, const struct kdl_segment *seg,
		   unsigned int flags, uint64_t *base)
{
	struct kdl_segment s = *seg;
	struct kdl_map m;

	/* Below 4 GiB, so that the mirror 1 TiB above fits with 4-level
	 * page tables too. */
	std_map(&m, fd, &s, KDL_MAP_WINDOW | flags);
	m.window_lo = GIB;
	m.window_hi = 4 * GIB;
	m.nr_segments = 1;
	m.span = 2 * PG;
	if (flags & KDL_MAP_MIRROR)
		m.mirror_base = 1UL << 40;
	if (ioctl(dev, KDL_IOC_MAP, &m))
		return -1;
	*base = m.base;
	return 0;
}

/*
 * mprotect(PROT_EXEC | @prot) of the page at @addr; when it is allowed,
 * runs the ret at its start.  Returns 0 or the errno of mprotect.
 */
static int try_exec(uint64_t addr, int prot)
{
	if (mprotect((void *)addr, PG, prot | PROT_EXEC))
		return errno;
	((void (*)(void))addr)();
	return 0;
}

TEST_F(noexec, zero_tailed_page_of_a_readonly_segment_refuses_exec)
{
	int i;

	for (i = 0; i < 2; i++) {
		uint64_t base;

		ASSERT_EQ(0, map_one(self->dev, self->fd[i], &tail_seg, 0, &base));
		ASSERT_EQ(RET_INSN, *(volatile uint8_t *)(base + PG));
		ASSERT_EQ(0, *(volatile uint8_t *)(base + PG + 1));
		/* Page 0 is the file's own page, page 1 the shmem copy. */
		EXPECT_EQ(i ? 0 : EACCES, try_exec(base, PROT_READ)) {
			TH_LOG("%s: file page", self->dir[i]);
		}
		EXPECT_EQ(i ? 0 : EACCES, try_exec(base + PG, PROT_READ)) {
			TH_LOG("%s: shmem tail page", self->dir[i]);
		}
		EXPECT_EQ(0, unmap_image(self->dev, base));
	}
}

TEST_F(noexec, both_views_of_a_mirrored_writable_segment_refuse_exec)
{
	int i;

	for (i = 0; i < 2; i++) {
		uint64_t base, mirror;

		ASSERT_EQ(0, map_one(self->dev, self->fd[i], &data_seg,
				     KDL_MAP_MIRROR, &base));
		mirror = base + (1UL << 40);
		ASSERT_EQ(RET_INSN, *(volatile uint8_t *)(mirror + PG));
		EXPECT_EQ(i ? 0 : EACCES,
			  try_exec(base + PG, PROT_READ | PROT_WRITE)) {
			TH_LOG("%s: base view", self->dir[i]);
		}
		EXPECT_EQ(i ? 0 : EACCES,
			  try_exec(mirror + PG, PROT_READ | PROT_WRITE)) {
			TH_LOG("%s: mirror view", self->dir[i]);
		}
		EXPECT_EQ(0, unmap_image(self->dev, base));
	}
}

/* KDL_MAP_SRC_ADDR: the source is the file behind the caller's mapping. */
TEST_F(noexec, copy_from_a_mapping_of_a_noexec_file_refuses_exec)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct kdl_segment s = tail_seg;
		struct kdl_map m;
		void *src = mmap(NULL, STD_FILE_PAGES * PG, PROT_READ,
				 MAP_PRIVATE, self->fd[i], 0);

		ASSERT_NE(MAP_FAILED, src);
		std_map(&m, -1, &s, KDL_MAP_ANYWHERE | KDL_MAP_SRC_ADDR);
		m.nr_segments = 1;
		m.span = 2 * PG;
		m.src_addr = (uintptr_t)src;
		m.src_len = STD_FILE_PAGES * PG;
		ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_MAP, &m));
		EXPECT_EQ(i ? 0 : EACCES, try_exec(m.base + PG, PROT_READ)) {
			TH_LOG("%s: shmem tail page", self->dir[i]);
		}
		EXPECT_EQ(0, unmap_image(self->dev, m.base));
		munmap(src, STD_FILE_PAGES * PG);
	}
}

/* The rule does not depend on privilege: the same as an unprivileged user. */
TEST_F(noexec, an_unprivileged_user_is_refused_too)
{
	int i;

	for (i = 0; i < 2; i++) {
		pid_t pid = fork();
		int status;

		ASSERT_LE(0, pid);
		if (pid == 0) {
			uint64_t base;
			int dev;

			/* A /dev/kdl fd serves the mm that opened it. */
			if (setgid(65534) || setuid(65534))
				_exit(10);
			dev = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);
			if (dev < 0 || map_one(dev, self->fd[i], &tail_seg, 0, &base)) {
				fprintf(stderr, "# uid 65534: map: %s\n", strerror(errno));
				_exit(11);
			}
			_exit(try_exec(base + PG, PROT_READ) == (i ? 0 : EACCES) ?
			      0 : 12);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			TH_LOG("%s: child status 0x%x", self->dir[i], status);
		}
	}
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * segment_fd_test.c - KDL_IOC_SEGMENT_FD: an fd for the shmem object of a
 * mirrored writable segment, shared with both views and other processes.
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "kdl_test.h"

#define VM_WINDOW	0x560000000000UL	/* a DOSEMU-like guest window */
#define DATA_IDX	1			/* std_segments(): rw- data */
#define TEXT_IDX	0			/* std_segments(): r-x text */
/* The data segment's pages: image [3P, 7P) (vaddr 3P + 0x40, memsz 3P). */
#define DATA_PAGE	(3 * PG)
#define DATA_LEN	(4 * PG)

FIXTURE(segfd) {
	int dev;
	int fd;
	char path[128];
	uint64_t base;
};

FIXTURE_SETUP(segfd)
{
	struct kdl_query q = { .size = sizeof(q) };

	self->fd = -1;
	self->base = 0;
	OPEN_DEV_OR_SKIP(self->dev);
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_QUERY, &q));
	if (!(q.features & KDL_FEAT_SEGMENT_FD))
		SKIP(return, "module without KDL_FEAT_SEGMENT_FD");
	self->fd = make_image_file("segfd", self->path, sizeof(self->path));
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(segfd)
{
	if (self->fd >= 0) {
		close(self->fd);
		unlink(self->path);
	}
	if (self->dev >= 0)
		close(self->dev);
}

/*
 * The standard image below 4 GiB, mirrored (or not) at VM_WINDOW + base;
 * with @no_exec its text is r-- (a noexec mount refuses r-x).
 */
static int map_image_prot(int dev, int fd, bool mirror, bool no_exec,
			  uint64_t *base)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_map m;
	int ret;

	std_segments(s);
	if (no_exec)
		s[TEXT_IDX].prot = PROT_READ;
	std_map(&m, fd, s, KDL_MAP_WINDOW | (mirror ? KDL_MAP_MIRROR : 0));
	m.window_lo = GIB;
	m.window_hi = 2 * GIB;
	m.mirror_base = mirror ? VM_WINDOW : 0;
	ret = ioctl(dev, KDL_IOC_MAP, &m);
	if (!ret)
		*base = m.base;
	return ret;
}

static int map_image(int dev, int fd, bool mirror, uint64_t *base)
{
	return map_image_prot(dev, fd, mirror, false, base);
}

static void segfd_req(struct kdl_segment_fd *r, uint64_t base,
		      unsigned int index)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->flags = KDL_SEGFD_CLOEXEC;
	r->base = base;
	r->index = index;
}

/* A new fd for segment @index of the image at @base, or -1 (errno). */
static int segment_fd(int dev, uint64_t base, unsigned int index,
		      uint64_t *offset, uint64_t *len)
{
	struct kdl_segment_fd r;

	segfd_req(&r, base, index);
	if (ioctl(dev, KDL_IOC_SEGMENT_FD, &r))
		return -1;
	if (offset)
		*offset = r.offset;
	if (len)
		*len = r.len;
	return r.fd;
}

/* Maps the data segment's pages from @sfd shared and writable. */
static volatile uint8_t *map_segment(int sfd, uint64_t offset, uint64_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, sfd,
		       offset);

	return p == MAP_FAILED ? NULL : p;
}

/* The lowest free fd number: it moves if a call leaks an fd. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

/*
 * What a second process does with the fd: map it, check the image bytes
 * and the parent's store, store back.  Exit codes: 0 as expected, else
 * the failing step.
 */
static int other_process(int sfd, uint64_t offset, uint64_t len)
{
	volatile uint8_t *p = map_segment(sfd, offset, len);

	if (!p)
		return 1;
	if (p[0x41] != pat_byte(STD_DATA_OFF + 1))
		return 2;		/* the file bytes of the data segment */
	if (p[0x40] != 0xa1)
		return 3;		/* the parent's store before fork */
	if (p[3 * PG + 8])
		return 4;		/* bss reads zero */
	p[0x42] = 0xb2;			/* data */
	p[2 * PG + 16] = 0xc3;		/* bss */
	munmap((void *)p, len);
	return 0;
}

/* The stores of other_process(), seen in the image at @view. */
static bool saw_the_other_process(uint64_t view)
{
	volatile uint8_t *a = (volatile uint8_t *)view;

	return a[DATA_PAGE + 0x42] == 0xb2 && a[DATA_PAGE + 2 * PG + 16] == 0xc3;
}

TEST_F(segfd, query_reports_the_feature)
{
	struct kdl_query q = { .size = sizeof(q) };

	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_QUERY, &q));
	EXPECT_TRUE(q.features & KDL_FEAT_SEGMENT_FD);
}

TEST_F(segfd, gives_offset_and_length_of_the_segment_pages)
{
	uint64_t offset = 1, len = 0;
	struct stat st;
	int sfd;

	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	sfd = segment_fd(self->dev, self->base, DATA_IDX, &offset, &len);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(0, offset % PG);
	EXPECT_EQ(DATA_LEN, len);
	ASSERT_EQ(0, fstat(sfd, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_LE(offset + len, (uint64_t)st.st_size);
	EXPECT_EQ(O_RDWR, fcntl(sfd, F_GETFL) & O_ACCMODE);
	close(sfd);
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
}

TEST_F(segfd, forked_child_writes_are_seen_in_both_views)
{
	volatile uint8_t *a, *b;
	uint64_t offset = 0, len = 0;
	int sfd, status;
	pid_t pid;

	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	a = (volatile uint8_t *)self->base;
	b = (volatile uint8_t *)(VM_WINDOW + self->base);
	sfd = segment_fd(self->dev, self->base, DATA_IDX, &offset, &len);
	ASSERT_LE(0, sfd);
	a[STD_DATA_VADDR] = 0xa1;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Not the inherited views: unmap them, use only the fd. */
		munmap((void *)self->base, STD_SPAN);
		munmap((void *)(VM_WINDOW + self->base), STD_SPAN);
		_exit(other_process(sfd, offset, len));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(saw_the_other_process(self->base));
	EXPECT_TRUE(saw_the_other_process(VM_WINDOW + self->base));
	EXPECT_EQ(0xa1, b[STD_DATA_VADDR]);
	close(sfd);
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
}

/* A process that shares nothing with the image but the fd it is sent. */
static int receiver(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	uint64_t hdr[2];
	struct iovec iov = { .iov_base = hdr, .iov_len = sizeof(hdr) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int sfd, ret;

	if (recvmsg(sock, &msg, 0) != sizeof(hdr))
		return 10;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return 11;
	memcpy(&sfd, CMSG_DATA(c), sizeof(sfd));
	ret = other_process(sfd, hdr[0], hdr[1]);
	close(sfd);
	if (write(sock, "k", 1) != 1)
		return 12;
	return ret;
}

TEST_F(segfd, fd_sent_over_a_unix_socket_shares_the_pages)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	uint64_t hdr[2] = {};
	struct iovec iov = { .iov_base = hdr, .iov_len = sizeof(hdr) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int sv[2], sfd, status;
	char ack = 0;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	/* Forked before the image exists: it gets the pages only by fd. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sv[0]);
		_exit(receiver(sv[1]));
	}
	close(sv[1]);
	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	((volatile uint8_t *)self->base)[STD_DATA_VADDR] = 0xa1;
	sfd = segment_fd(self->dev, self->base, DATA_IDX, &hdr[0], &hdr[1]);
	ASSERT_LE(0, sfd);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &sfd, sizeof(sfd));
	ASSERT_EQ(sizeof(hdr), sendmsg(sv[0], &msg, 0));
	close(sfd);
	EXPECT_EQ(1, read(sv[0], &ack, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(saw_the_other_process(self->base));
	EXPECT_TRUE(saw_the_other_process(VM_WINDOW + self->base));
	close(sv[0]);
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
}

TEST_F(segfd, third_mapping_in_the_same_process_is_coherent)
{
	volatile uint8_t *a, *b, *p;
	uint64_t offset = 0, len = 0;
	int sfd;

	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	a = (volatile uint8_t *)self->base + DATA_PAGE;
	b = (volatile uint8_t *)(VM_WINDOW + self->base) + DATA_PAGE;
	sfd = segment_fd(self->dev, self->base, DATA_IDX, &offset, &len);
	ASSERT_LE(0, sfd);
	p = map_segment(sfd, offset, len);
	ASSERT_NE(NULL, p);
	p[0x40] = 0x5a;
	EXPECT_EQ(0x5a, a[0x40]);
	EXPECT_EQ(0x5a, b[0x40]);
	a[3 * PG + 1] = 0x6b;
	EXPECT_EQ(0x6b, p[3 * PG + 1]);
	b[PG] = 0x7c;
	EXPECT_EQ(0x7c, p[PG]);
	munmap((void *)p, len);
	close(sfd);
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
}

TEST_F(segfd, fd_still_maps_after_unmap_and_close)
{
	volatile uint8_t *p;
	uint64_t offset = 0, len = 0;
	int sfd;

	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	((volatile uint8_t *)self->base)[STD_DATA_VADDR] = 0x3d;
	sfd = segment_fd(self->dev, self->base, DATA_IDX, &offset, &len);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
	EXPECT_TRUE(range_free(self->base, STD_SPAN));
	EXPECT_TRUE(range_free(VM_WINDOW + self->base, STD_SPAN));
	close(self->dev);
	self->dev = -1;
	p = map_segment(sfd, offset, len);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0x3d, p[0x40]);
	EXPECT_EQ(pat_byte(STD_DATA_OFF + 1), p[0x41]);
	p[0x41] = 0x4e;
	EXPECT_EQ(0x4e, p[0x41]);
	munmap((void *)p, len);
	close(sfd);
}

TEST_F(segfd, unmapped_image_is_enoent)
{
	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
	EXPECT_EQ(-1, segment_fd(self->dev, self->base, DATA_IDX, NULL, NULL));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(segfd, base_of_no_image_is_enoent)
{
	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	EXPECT_EQ(-1, segment_fd(self->dev, self->base + PG, DATA_IDX, NULL,
				 NULL));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, segment_fd(self->dev, VM_WINDOW + self->base, DATA_IDX,
				 NULL, NULL));
	EXPECT_EQ(ENOENT, errno);	/* the mirror's address is not a base */
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
}

TEST_F(segfd, image_of_another_open_file_is_enoent)
{
	int dev2 = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, dev2);
	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	EXPECT_EQ(-1, segment_fd(dev2, self->base, DATA_IDX, NULL, NULL));
	EXPECT_EQ(ENOENT, errno);
	close(dev2);
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
}

TEST_F(segfd, readonly_segment_is_einval)
{
	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	EXPECT_EQ(-1, segment_fd(self->dev, self->base, TEXT_IDX, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
}

TEST_F(segfd, index_out_of_range_is_einval)
{
	const unsigned int bad[] = { STD_NSEGS, 64, 65, UINT32_MAX };
	unsigned int i;

	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-1, segment_fd(self->dev, self->base, bad[i], NULL,
					 NULL));
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
}

TEST_F(segfd, image_without_mirror_is_einval)
{
	ASSERT_EQ(0, map_image(self->dev, self->fd, false, &self->base));
	EXPECT_EQ(-1, segment_fd(self->dev, self->base, DATA_IDX, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
}

TEST_F(segfd, nonzero_reserved_out_or_unknown_flag_is_einval)
{
	struct kdl_segment_fd r;
	unsigned int i, before;

	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	before = lowest_free_fd();
	for (i = 0; i < 2; i++) {
		segfd_req(&r, self->base, DATA_IDX);
		r.reserved[i] = 1;
		EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_SEGMENT_FD, &r));
		EXPECT_EQ(EINVAL, errno);
	}
	segfd_req(&r, self->base, DATA_IDX);
	r.fd = 3;
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_SEGMENT_FD, &r));
	EXPECT_EQ(EINVAL, errno);
	segfd_req(&r, self->base, DATA_IDX);
	r.offset = PG;
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_SEGMENT_FD, &r));
	EXPECT_EQ(EINVAL, errno);
	segfd_req(&r, self->base, DATA_IDX);
	r.len = PG;
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_SEGMENT_FD, &r));
	EXPECT_EQ(EINVAL, errno);
	for (i = 1; i < 32; i++) {
		segfd_req(&r, self->base, DATA_IDX);
		r.flags |= 1U << i;
		EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_SEGMENT_FD, &r));
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_EQ(before, lowest_free_fd());
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
}

TEST_F(segfd, struct_sizes_follow_the_versioning_rules)
{
	struct {
		struct kdl_segment_fd r;
		uint64_t tail[2];
	} big;
	struct kdl_segment_fd r;
	int sfd;

	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	segfd_req(&r, self->base, DATA_IDX);
	r.size = KDL_SEGMENT_FD_SIZE_VER0 - 8;
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_SEGMENT_FD, &r));
	EXPECT_EQ(EINVAL, errno);
	r.size = 0;
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_SEGMENT_FD, &r));
	EXPECT_EQ(EINVAL, errno);

	memset(&big, 0, sizeof(big));
	segfd_req(&big.r, self->base, DATA_IDX);
	big.r.size = sizeof(big);
	big.tail[1] = 1;
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_SEGMENT_FD, &big));
	EXPECT_EQ(E2BIG, errno);
	/* A larger struct with a zero tail is a caller from a later ABI. */
	big.tail[1] = 0;
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_SEGMENT_FD, &big));
	sfd = big.r.fd;
	EXPECT_LE(0, sfd);
	EXPECT_EQ(DATA_LEN, big.r.len);
	EXPECT_EQ(0, big.tail[0]);
	EXPECT_EQ(0, big.tail[1]);
	close(sfd);
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
}

TEST_F(segfd, cloexec_flag_sets_fd_cloexec)
{
	struct kdl_segment_fd r;

	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	segfd_req(&r, self->base, DATA_IDX);
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_SEGMENT_FD, &r));
	EXPECT_EQ(FD_CLOEXEC, fcntl(r.fd, F_GETFD) & FD_CLOEXEC);
	close(r.fd);
	segfd_req(&r, self->base, DATA_IDX);
	r.flags = 0;
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_SEGMENT_FD, &r));
	EXPECT_EQ(0, fcntl(r.fd, F_GETFD) & FD_CLOEXEC);
	close(r.fd);
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
}

/* A holder of the fd cannot cut pages from under the views (SIGBUS). */
TEST_F(segfd, object_size_is_sealed)
{
	uint64_t len = 0;
	struct stat st;
	int sfd;

	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	sfd = segment_fd(self->dev, self->base, DATA_IDX, NULL, &len);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(-1, ftruncate(sfd, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, ftruncate(sfd, len + PG));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, fcntl(sfd, F_ADD_SEALS, F_SEAL_WRITE));
	EXPECT_EQ(EPERM, errno);
	ASSERT_EQ(0, fstat(sfd, &st));
	EXPECT_EQ(len, (uint64_t)st.st_size);
	EXPECT_EQ(pat_byte(STD_DATA_OFF),
		  ((volatile uint8_t *)self->base)[STD_DATA_VADDR]);
	close(sfd);
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
}

/* The fd is installed last: a struct that cannot be written back leaks none. */
TEST_F(segfd, unwritable_struct_is_efault_and_installs_no_fd)
{
	struct kdl_segment_fd *r;
	int before;

	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	r = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	segfd_req(r, self->base, DATA_IDX);
	ASSERT_EQ(0, mprotect(r, PG, PROT_READ));
	before = lowest_free_fd();
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_SEGMENT_FD, r));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(before, lowest_free_fd());
	munmap(r, PG);
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
}

TEST_F(segfd, no_free_fd_is_emfile)
{
	struct rlimit old, lim;

	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	lim = old;
	lim.rlim_cur = lowest_free_fd();
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &lim));
	EXPECT_EQ(-1, segment_fd(self->dev, self->base, DATA_IDX, NULL, NULL));
	EXPECT_EQ(EMFILE, errno);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
}

TEST_F(segfd, child_of_the_opener_gets_eperm)
{
	int status;
	pid_t pid;

	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(segment_fd(self->dev, self->base, DATA_IDX, NULL, NULL) ==
		      -1 && errno == EPERM ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, unmap_image(self->dev, self->base));
}

/*
 * A later image over this one drops its record: the base now names the
 * new, unmirrored image (EINVAL), and the old object lives on in the fd.
 */
TEST_F(segfd, replaced_image_gives_the_new_record)
{
	volatile uint8_t *p;
	uint64_t other = 0;
	int sfd;

	ASSERT_EQ(0, map_image(self->dev, self->fd, true, &self->base));
	((volatile uint8_t *)self->base)[STD_DATA_VADDR] = 0x2f;
	sfd = segment_fd(self->dev, self->base, DATA_IDX, NULL, NULL);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, map_std(self->dev, self->fd, KDL_MAP_FIXED, self->base,
			     0, &other));
	ASSERT_EQ(self->base, other);
	EXPECT_EQ(-1, segment_fd(self->dev, self->base, DATA_IDX, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	p = map_segment(sfd, 0, DATA_LEN);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0x2f, p[0x40]);
	munmap((void *)p, DATA_LEN);
	close(sfd);
	EXPECT_EQ(0, unmap_image(self->dev, other));
	/* The old mirror view has no record any more: the process's own. */
	munmap((void *)(VM_WINDOW + self->base), STD_SPAN);
}

/*
 * The fd keeps the source's noexec verdict: PROT_EXEC of it fails when
 * the image came from a noexec mount, and works from an exec-allowed one
 * (the control that the probe tells the two apart).
 */
FIXTURE(segfd_exec) {
	int dev;
	int fd;
	char dir[64], path[128];
};

FIXTURE_VARIANT(segfd_exec) {
	bool noexec;
};

FIXTURE_VARIANT_ADD(segfd_exec, noexec_mount) { .noexec = true };
FIXTURE_VARIANT_ADD(segfd_exec, exec_mount) { .noexec = false };

FIXTURE_SETUP(segfd_exec)
{
	self->fd = -1;
	self->dev = -1;
	self->dir[0] = 0;
	if (geteuid() != 0 || unshare(CLONE_NEWNS))
		SKIP(return, "needs root for private mounts");
	OPEN_DEV_OR_SKIP(self->dev);
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	snprintf(self->dir, sizeof(self->dir), "/tmp/kdl-segfd-%d", getpid());
	mkdir(self->dir, 0755);
	ASSERT_EQ(0, mount("kdl", self->dir, "tmpfs",
			   variant->noexec ? MS_NOEXEC : 0, "mode=0755"));
	snprintf(self->path, sizeof(self->path), "%s/lib.so", self->dir);
	self->fd = open(self->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
			0755);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, write_pattern(self->fd, 0, STD_FILE_PAGES));
}

FIXTURE_TEARDOWN(segfd_exec)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->dir[0]) {
		umount2(self->dir, MNT_DETACH);
		rmdir(self->dir);
	}
	if (self->dev >= 0)
		close(self->dev);
}

TEST_F(segfd_exec, prot_exec_of_the_fd_follows_the_source_mount)
{
	uint64_t base = 0, offset = 0, len = 0;
	void *p;
	int sfd;

	ASSERT_EQ(0, map_image_prot(self->dev, self->fd, true, true, &base));
	sfd = segment_fd(self->dev, base, DATA_IDX, &offset, &len);
	ASSERT_LE(0, sfd);
	p = mmap(NULL, len, PROT_READ | PROT_EXEC, MAP_SHARED, sfd, offset);
	if (variant->noexec) {
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(EPERM, errno);
	} else {
		EXPECT_NE(MAP_FAILED, p);
	}
	if (p != MAP_FAILED)
		munmap(p, len);
	close(sfd);
	EXPECT_EQ(0, unmap_image(self->dev, base));
}

TEST_HARNESS_MAIN

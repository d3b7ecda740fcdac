// SPDX-License-Identifier: GPL-2.0
/* map_test.c - KDL_IOC_MAP/UNMAP: contents, protections, sources, fixed placement, rollback. */
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "kdl_test.h"

FIXTURE(map) {
	int dev;
	int fd;
	char path[128];
};

FIXTURE_SETUP(map)
{
	self->fd = -1;
	OPEN_DEV_OR_SKIP(self->dev);
	self->fd = make_image_file("map", self->path, sizeof(self->path));
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(map)
{
	if (self->fd >= 0) {
		close(self->fd);
		unlink(self->path);
	}
	if (self->dev >= 0)
		close(self->dev);
}

TEST_F(map, segment_contents_equal_the_file)
{
	uint64_t base = 0;

	ASSERT_EQ(0, map_std(self->dev, self->fd, KDL_MAP_ANYWHERE, 0, 0, &base));
	EXPECT_NE(0, base);
	EXPECT_EQ(0, base % PG);
	EXPECT_EQ(-1, std_check(base, 0));
	EXPECT_EQ(0, unmap_image(self->dev, base));
	EXPECT_TRUE(range_free(base, STD_SPAN));
}

TEST_F(map, protections_and_names_match_the_segments)
{
	struct map_line ml;
	uint64_t base = 0;

	ASSERT_EQ(0, map_std(self->dev, self->fd, KDL_MAP_ANYWHERE, 0, 0, &base));
	ASSERT_TRUE(probe_map(base, &ml));
	EXPECT_STREQ("r-xp", ml.perms);
	EXPECT_STREQ(self->path, ml.path);
	EXPECT_EQ(base + 2 * PG, ml.end);
	ASSERT_TRUE(probe_map(base + 2 * PG, &ml));
	EXPECT_STREQ("---p", ml.perms);
	EXPECT_STRNE("/dev/kdl", ml.path);	/* no VMA keeps the device */
	ASSERT_TRUE(probe_map(base + 3 * PG, &ml));
	EXPECT_STREQ("rw-p", ml.perms);
	EXPECT_STREQ(self->path, ml.path);
	EXPECT_EQ(base + 5 * PG, ml.end);
	ASSERT_TRUE(probe_map(base + 5 * PG, &ml));
	EXPECT_STREQ("rw-p", ml.perms);
	EXPECT_STREQ("", ml.path);
	ASSERT_TRUE(probe_map(base + 7 * PG, &ml));
	EXPECT_STREQ("---p", ml.perms);
	EXPECT_EQ(0, unmap_image(self->dev, base));
}

TEST_F(map, writable_data_is_private_and_tail_is_zeroed)
{
	uint8_t b;
	uint64_t base = 0;
	volatile uint8_t *p;

	ASSERT_EQ(0, map_std(self->dev, self->fd, KDL_MAP_ANYWHERE, 0, 0, &base));
	p = (volatile uint8_t *)base;
	/* The file page behind [4P, 4P + 0x40) has pattern bytes past 0x40. */
	EXPECT_EQ(0, p[4 * PG + 0x40]);
	EXPECT_EQ(0, p[5 * PG - 1]);
	p[3 * PG + 0x40] = 0x5a;
	p[6 * PG] = 0xa5;
	ASSERT_EQ(1, pread(self->fd, &b, 1, STD_DATA_OFF));
	EXPECT_EQ(pat_byte(STD_DATA_OFF), b);
	EXPECT_EQ(0, unmap_image(self->dev, base));
}

TEST_F(map, readonly_segment_tail_reads_zero)
{
	struct kdl_segment s = {
		.vaddr = 0, .offset = 0, .filesz = PG + 0x100, .memsz = 3 * PG,
		.prot = PROT_READ,
	};
	struct map_line ml;
	struct kdl_map m;
	const uint8_t *p;
	uint64_t i;

	std_map(&m, self->fd, &s, KDL_MAP_ANYWHERE);
	m.nr_segments = 1;
	m.span = 4 * PG;
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_MAP, &m));
	p = (const uint8_t *)m.base;
	for (i = 0; i < PG + 0x100; i++)
		ASSERT_EQ(pat_byte(i), p[i]);
	for (; i < 3 * PG; i++)
		ASSERT_EQ(0, p[i]);
	ASSERT_TRUE(probe_map(m.base, &ml));
	EXPECT_STREQ("r--p", ml.perms);
	EXPECT_STREQ(self->path, ml.path);
	ASSERT_TRUE(probe_map(m.base + PG, &ml));
	EXPECT_STREQ("r--p", ml.perms);
	EXPECT_EQ(0, unmap_image(self->dev, m.base));
}

TEST_F(map, anywhere_honours_alignment)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_map m;

	std_segments(s);
	std_map(&m, self->fd, s, KDL_MAP_ANYWHERE);
	m.align = 1UL << 21;
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_MAP, &m));
	EXPECT_EQ(0, m.base % (1UL << 21));
	EXPECT_EQ(-1, std_check(m.base, 0));
	EXPECT_EQ(0, unmap_image(self->dev, m.base));
}

TEST_F(map, fixed_noreplace_on_busy_range_is_eexist)
{
	uint64_t base = 0;
	void *busy;

	busy = mmap((void *)0x3c0000000000UL, STD_SPAN, PROT_READ,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ASSERT_NE(MAP_FAILED, busy);
	EXPECT_EQ(-1, map_std(self->dev, self->fd, KDL_MAP_FIXED_NOREPLACE,
			      (uintptr_t)busy + PG, 0, &base));
	EXPECT_EQ(EEXIST, errno);
	/* Still the one mapping we made, and nothing of the image. */
	EXPECT_EQ(1, count_maps((uintptr_t)busy, (uintptr_t)busy + STD_SPAN));
	EXPECT_TRUE(range_free((uintptr_t)busy + STD_SPAN, PG));
	munmap(busy, STD_SPAN);
}

TEST_F(map, fixed_noreplace_on_free_range_maps_there)
{
	uint64_t base = 0, want = 0x3f0000000000UL;

	ASSERT_TRUE(range_free(want, STD_SPAN));
	ASSERT_EQ(0, map_std(self->dev, self->fd, KDL_MAP_FIXED_NOREPLACE,
			     want, 0, &base));
	EXPECT_EQ(want, base);
	EXPECT_EQ(-1, std_check(base, 0));
	EXPECT_EQ(0, unmap_image(self->dev, base));
}

TEST_F(map, fixed_replaces_what_is_there)
{
	uint64_t base = 0;
	void *busy;

	busy = mmap(NULL, 2 * STD_SPAN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	ASSERT_NE(MAP_FAILED, busy);
	ASSERT_EQ(0, map_std(self->dev, self->fd, KDL_MAP_FIXED,
			     (uintptr_t)busy + PG, 0, &base));
	EXPECT_EQ((uintptr_t)busy + PG, base);
	EXPECT_EQ(-1, std_check(base, 0));
	EXPECT_EQ(0, unmap_image(self->dev, base));
	munmap(busy, 2 * STD_SPAN);
}

TEST_F(map, unmap_refuses_bases_it_did_not_map)
{
	uint64_t base = 0;
	void *own;

	own = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, own);
	EXPECT_EQ(-1, unmap_image(self->dev, (uintptr_t)own));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_TRUE(probe_map((uintptr_t)own, NULL));
	ASSERT_EQ(0, map_std(self->dev, self->fd, KDL_MAP_ANYWHERE, 0, 0, &base));
	EXPECT_EQ(-1, unmap_image(self->dev, base + PG));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, unmap_image(self->dev, base));
	EXPECT_EQ(-1, unmap_image(self->dev, base));
	EXPECT_EQ(ENOENT, errno);
	munmap(own, PG);
}

/* An image mapped right next to another, in the larger one's span as
 * measured from the smaller's start, must not make the first unmappable
 * (both orders: the small one below, then above). */
TEST_F(map, unmap_finds_an_image_after_a_neighbour_was_mapped)
{
	struct kdl_segment one = { .vaddr = 0, .offset = 0, .filesz = PG, .memsz = PG,
				   .prot = PROT_READ };
	uint64_t want = 0x3e0000000000UL, a = 0;
	struct kdl_map m;

	for (int above = 0; above < 2; above++) {
		uint64_t at = above ? want + STD_SPAN : want - PG;

		ASSERT_TRUE(range_free(want - PG, STD_SPAN + 2 * PG));
		ASSERT_EQ(0, map_std(self->dev, self->fd, KDL_MAP_FIXED_NOREPLACE,
				     want, 0, &a));
		memset(&m, 0, sizeof(m));
		m.size = sizeof(m);
		m.flags = KDL_MAP_FIXED_NOREPLACE;
		m.fd = self->fd;
		m.nr_segments = 1;
		m.span = PG;
		m.segments = (uintptr_t)&one;
		m.fixed_addr = at;
		ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_MAP, &m));
		ASSERT_EQ(at, m.base);
		EXPECT_EQ(0, unmap_image(self->dev, a)) TH_LOG("above %d: %m", above);
		EXPECT_FALSE(probe_map(a, NULL));
		EXPECT_EQ(0, unmap_image(self->dev, m.base));
		EXPECT_FALSE(probe_map(m.base, NULL));
	}
}

TEST_F(map, images_are_per_open_file)
{
	uint64_t base = 0;
	int dev2 = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, dev2);
	ASSERT_EQ(0, map_std(self->dev, self->fd, KDL_MAP_ANYWHERE, 0, 0, &base));
	EXPECT_EQ(-1, unmap_image(dev2, base));
	EXPECT_EQ(ENOENT, errno);
	close(dev2);
	EXPECT_EQ(0, unmap_image(self->dev, base));
}

TEST_F(map, file_base_selects_an_image_inside_a_container)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_map m;
	char path[128];
	int fd;

	/* An "apk": 3 pages of other data, then the image. */
	snprintf(path, sizeof(path), "/tmp/kdl-apk-%d.zip", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 3 * PG));
	ASSERT_EQ(0, write_pattern(fd, 3 * PG, STD_FILE_PAGES));
	std_segments(s);
	std_map(&m, fd, s, KDL_MAP_ANYWHERE);
	m.file_base = 3 * PG;
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_MAP, &m));
	EXPECT_EQ(-1, std_check(m.base, 0));
	EXPECT_EQ(0, unmap_image(self->dev, m.base));
	close(fd);
	unlink(path);
}

TEST_F(map, src_addr_maps_the_file_behind_a_mapping)
{
	struct kdl_segment s[STD_NSEGS];
	struct map_line ml;
	struct kdl_map m;
	void *src;

	src = mmap(NULL, STD_FILE_PAGES * PG, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, src);
	std_segments(s);
	std_map(&m, -1, s, KDL_MAP_ANYWHERE | KDL_MAP_SRC_ADDR);
	m.src_addr = (uintptr_t)src;
	m.src_len = STD_FILE_PAGES * PG;
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_MAP, &m));
	EXPECT_EQ(-1, std_check(m.base, 0));
	ASSERT_TRUE(probe_map(m.base, &ml));
	EXPECT_STREQ(self->path, ml.path);	/* zero-copy: the file itself */
	EXPECT_EQ(0, unmap_image(self->dev, m.base));
	munmap(src, STD_FILE_PAGES * PG);
}

TEST_F(map, src_addr_maps_a_memfd_buffer_zero_copy)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_map m;
	uint8_t *src;
	int mfd;

	mfd = memfd_create("kdl-mem", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, write_pattern(mfd, PG, STD_FILE_PAGES));
	src = mmap(NULL, (STD_FILE_PAGES + 1) * PG, PROT_READ | PROT_WRITE,
		   MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, src);
	std_segments(s);
	std_map(&m, -1, s, KDL_MAP_ANYWHERE | KDL_MAP_SRC_ADDR);
	m.src_addr = (uintptr_t)src + PG;
	m.src_len = STD_FILE_PAGES * PG;
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_MAP, &m));
	EXPECT_EQ(-1, std_check(m.base, 0));
	/* Same pages: a store into the buffer shows in the text view. */
	src[PG + 100] = 0xee;
	EXPECT_EQ(0xee, ((volatile uint8_t *)m.base)[100]);
	EXPECT_EQ(0, unmap_image(self->dev, m.base));
	munmap(src, (STD_FILE_PAGES + 1) * PG);
	close(mfd);
}

TEST_F(map, src_addr_rejects_anonymous_memory)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_map m;
	void *src;

	src = mmap(NULL, STD_FILE_PAGES * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	std_segments(s);
	std_map(&m, -1, s, KDL_MAP_ANYWHERE | KDL_MAP_SRC_ADDR);
	m.src_addr = (uintptr_t)src;
	m.src_len = STD_FILE_PAGES * PG;
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_MAP, &m));
	EXPECT_EQ(EINVAL, errno);
	munmap(src, STD_FILE_PAGES * PG);
}

/*
 * A mapping-time failure (PROT_EXEC from a noexec mount) in any segment
 * must roll the whole span back.
 */
TEST_F(map, failure_in_a_segment_leaves_nothing_in_the_span)
{
	struct kdl_segment s[STD_NSEGS];
	const char *dir = "/tmp/kdl-noexec";
	uint64_t want = 0x3e0000000000UL;
	char path[128];
	struct kdl_map m;
	int fd;

	if (geteuid() != 0 || unshare(CLONE_NEWNS))
		SKIP(return, "needs root for a private noexec mount");
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	mkdir(dir, 0700);
	ASSERT_EQ(0, mount("kdl", dir, "tmpfs", MS_NOEXEC, NULL));
	snprintf(path, sizeof(path), "%s/lib.so", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write_pattern(fd, 0, STD_FILE_PAGES));

	/*
	 * Three segments (text, data, and a read-only one with a zero tail
	 * from a shmem copy); each in turn is the one that asks for exec.
	 */
	struct kdl_segment t[3] = {
		{ .vaddr = 0, .offset = 0, .filesz = PG, .memsz = PG },
		{ .vaddr = 2 * PG + 0x40, .offset = PG + 0x40, .filesz = PG,
		  .memsz = 2 * PG, .prot = PROT_READ | PROT_WRITE },
		{ .vaddr = 5 * PG, .offset = 3 * PG, .filesz = 0x80,
		  .memsz = 2 * PG },
	};
	int bad;

	(void)s;
	for (bad = 0; bad < 3; bad++) {
		int i;

		for (i = 0; i < 3; i++)
			t[i].prot = (t[i].prot & PROT_WRITE) | PROT_READ |
				    (i == bad ? PROT_EXEC : 0);
		std_map(&m, fd, t, KDL_MAP_FIXED_NOREPLACE);
		m.nr_segments = 3;
		m.fixed_addr = want;
		ASSERT_TRUE(range_free(want, STD_SPAN));
		EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_MAP, &m));
		EXPECT_EQ(EPERM, errno);
		EXPECT_TRUE(range_free(want, STD_SPAN)) {
			TH_LOG("segment %d failed, something stayed", bad);
		}
	}

	/* A mirrored writable segment comes from shmem: still judged. */
	t[2].prot &= ~PROT_EXEC;
	t[1].prot |= PROT_EXEC;
	m.flags |= KDL_MAP_MIRROR;
	m.mirror_base = 1UL << 40;
	ASSERT_TRUE(range_free(want + m.mirror_base, STD_SPAN));
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_MAP, &m));
	EXPECT_EQ(EPERM, errno);
	EXPECT_TRUE(range_free(want, STD_SPAN));
	EXPECT_TRUE(range_free(want + m.mirror_base, STD_SPAN));
	m.flags &= ~KDL_MAP_MIRROR;

	/* The same image without exec maps fine from there. */
	t[1].prot &= ~PROT_EXEC;
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_MAP, &m));
	EXPECT_EQ(0, ((volatile uint8_t *)m.base)[5 * PG + 0x80]);
	EXPECT_EQ(pat_byte(3 * PG + 0x7f),
		  ((volatile uint8_t *)m.base)[5 * PG + 0x7f]);
	EXPECT_EQ(0, unmap_image(self->dev, m.base));
	close(fd);
	umount(dir);
}

TEST_F(map, write_only_fd_is_eacces_and_maps_nothing)
{
	uint64_t base = 0, want = 0x3d0000000000UL;
	int fd = open(self->path, O_WRONLY | O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, map_std(self->dev, fd, KDL_MAP_FIXED_NOREPLACE, want, 0,
			      &base));
	EXPECT_EQ(EACCES, errno);
	EXPECT_TRUE(range_free(want, STD_SPAN));
	close(fd);
}

TEST_F(map, direct_mmap_of_the_device_is_refused)
{
	void *p = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE, self->dev, 0);

	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, self->dev, PG);
	EXPECT_EQ(MAP_FAILED, p);
}

/*
 * While the image is filled its gaps are a reservation nobody may open;
 * once the call has returned they are what ld.so leaves: anonymous
 * PROT_NONE the process may mprotect(), copied into a child at fork, no
 * longer special (the module opens them in place, kdl_release_gaps()).
 */
TEST_F(map, gaps_are_plain_anonymous_memory_after_the_map)
{
	volatile uint8_t *gap, *tail;
	struct map_line ml;
	uint64_t base = 0;
	int status;
	pid_t pid;

	ASSERT_EQ(0, map_std(self->dev, self->fd, KDL_MAP_ANYWHERE, 0, 0, &base));
	gap = (volatile uint8_t *)(base + 2 * PG);
	tail = (volatile uint8_t *)(base + 7 * PG);
	ASSERT_TRUE(probe_map(base + 2 * PG, &ml));
	EXPECT_STREQ("", ml.path);
	EXPECT_EQ(0, mprotect((void *)gap, PG, PROT_READ));
	EXPECT_EQ(0, mprotect((void *)tail, PG, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, *gap);
	*tail = 0x5a;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)	/* a gap left out at fork would fault here */
		_exit(*gap == 0 && *tail == 0x5a ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, unmap_image(self->dev, base));
	EXPECT_TRUE(range_free(base, STD_SPAN));
}

TEST_HARNESS_MAIN

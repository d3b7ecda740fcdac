// SPDX-License-Identifier: GPL-2.0
/*
 * datafd_test.c - KDL_SEG_DATA_FD: a segment whose file pages come from a
 * second file (a relocation cache entry) in the same KDL_IOC_MAP.  The
 * data pages are the entry's bytes, the other segments the image's; the
 * tail after filesz is the entry's too (the module writes nothing there),
 * so the pages stay the page cache's own, never copied; memsz beyond is
 * zero.  Every rule of the flag fails with its errno and leaves nothing
 * mapped; batches and io_uring take the same requests.
 */
#include <liburing.h>
#include <sched.h>
#include <sys/mount.h>

#include "kselftest_harness.h"
#include "kdl_test.h"

#define WIN_LO		0x4f0000000000UL
#define WIN_HI		(WIN_LO + GIB)

/*
 * The entry: ENT_PAGES pages of its own pattern.  The standard image's
 * data segment (vaddr 3P + 0x40, filesz P, memsz 3P) has its two file
 * pages, image [3P, 5P), at entry offset ENT_OFF.
 */
#define ENT_PAGES	4
#define ENT_OFF		PG
#define DATA_PAGES	2
#define DATA_TAIL	(STD_DATA_VADDR + STD_DATA_FILESZ)	/* 4P + 0x40 */

/* The byte the entry holds at @off: never the image's byte there. */
static uint8_t ent_byte(uint64_t off)
{
	return (uint8_t)~pat_byte(off + 3 * PG);
}

/* The byte a DATA_FD mapping of the standard image shows at image @a. */
static uint8_t data_byte(uint64_t a)
{
	return ent_byte(ENT_OFF + a - 3 * PG);
}

static int make_entry(const char *dir, const char *tag, char *path, size_t plen)
{
	uint8_t page[PG];
	size_t i, j;
	int fd;

	snprintf(path, plen, "%s/kdl-%s-%d.entry", dir, tag, getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	for (i = 0; i < ENT_PAGES; i++) {
		for (j = 0; j < PG; j++)
			page[j] = ent_byte(i * PG + j);
		if (pwrite(fd, page, PG, i * PG) != (ssize_t)PG) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static bool has_data_fd(int dev)
{
	struct kdl_query q = { .size = sizeof(q) };

	return !ioctl(dev, KDL_IOC_QUERY, &q) && (q.features & KDL_FEAT_DATA_FD);
}

/*
 * In each test body, not in the setup: 6.1's harness runs the body after
 * a SKIP in FIXTURE_SETUP.  Without /dev/kdl, @_dev is -1 and this skips
 * too.
 */
#define DATA_FD_OR_SKIP(_dev)						\
	do {								\
		if (!has_data_fd(_dev))					\
			SKIP(return, "module without KDL_FEAT_DATA_FD");\
	} while (0)

/* The standard image with its data segment taken from @data_fd. */
static void data_map(struct kdl_map *m, int fd, int data_fd,
		     struct kdl_segment *s)
{
	std_segments(s);
	s[1].flags = KDL_SEG_DATA_FD;
	s[1].offset = ENT_OFF;
	std_map(m, fd, s, KDL_MAP_WINDOW);
	m->window_lo = WIN_LO;
	m->window_hi = WIN_HI;
	m->data_fd = data_fd;
}

/*
 * Checks the standard image mapped with a DATA_FD data segment: text from
 * the image (at @file_base of its file), [3P, 5P) from the entry, zero
 * after.  Returns the image offset of the first wrong byte, or -1.
 */
static long data_check(uintptr_t base)
{
	const uint8_t *p = (const uint8_t *)base;
	uint64_t i;

	for (i = 0; i < 2 * PG; i++)
		if (p[i] != pat_byte(i))
			return i;
	for (i = 3 * PG; i < 5 * PG; i++)
		if (p[i] != data_byte(i))
			return i;
	for (; i < 7 * PG; i++)
		if (p[i])
			return i;
	return -1;
}

/* A field ("Anonymous:") of the smaps entry covering @addr, in kB. */
static long smaps_kb(uintptr_t addr, const char *field)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	bool in = false;
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char c;

		/* A VMA's first line; field lines ("Rss:") do not parse. */
		if (sscanf(line, "%lx-%lx %c", &lo, &hi, &c) == 3) {
			in = lo <= addr && addr < hi;
			continue;
		}
		if (in && !strncmp(line, field, strlen(field))) {
			kb = strtol(line + strlen(field), NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

/* The /proc/self/pagemap entry of the page at @addr (0 if unreadable). */
static uint64_t pagemap(uintptr_t addr)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t e = 0;

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (addr / PG) * sizeof(e)) != sizeof(e))
		e = 0;
	close(fd);
	return e;
}

#define PM_PRESENT	(1ULL << 63)
#define PM_FILE		(1ULL << 61)	/* file page or shared anonymous */
#define PM_PFN(e)	((e) & ((1ULL << 55) - 1))

static char maps_before[1 << 18], maps_after[1 << 18];

FIXTURE(datafd) {
	int dev;
	int fd;			/* the standard image */
	int data;		/* the entry, O_RDONLY */
	char path[128];
	char ent_path[128];
};

FIXTURE_SETUP(datafd)
{
	int rw;

	self->fd = self->data = -1;
	OPEN_DEV_OR_SKIP(self->dev);
	self->fd = make_image_file("datafd", self->path, sizeof(self->path));
	ASSERT_LE(0, self->fd);
	rw = make_entry("/tmp", "datafd", self->ent_path, sizeof(self->ent_path));
	ASSERT_LE(0, rw);
	close(rw);
	/* Reading is all a private mapping needs, writable or not. */
	self->data = open(self->ent_path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->data);
}

FIXTURE_TEARDOWN(datafd)
{
	if (self->data >= 0) {
		close(self->data);
		unlink(self->ent_path);
	}
	if (self->fd >= 0) {
		close(self->fd);
		unlink(self->path);
	}
	if (self->dev >= 0)
		close(self->dev);
}

TEST_F(datafd, data_pages_are_the_entry_and_text_is_the_image)
{
	struct kdl_segment s[STD_NSEGS];
	struct map_line ml;
	struct kdl_map m;
	long bad;

	DATA_FD_OR_SKIP(self->dev);

	data_map(&m, self->fd, self->data, s);
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_MAP, &m));
	bad = data_check(m.base);
	EXPECT_EQ(-1, bad) {
		TH_LOG("image byte %#lx is %#x", bad,
		       ((uint8_t *)m.base)[bad]);
	}
	ASSERT_TRUE(probe_map(m.base, &ml));
	EXPECT_STREQ("r-xp", ml.perms);
	EXPECT_STREQ(self->path, ml.path);
	ASSERT_TRUE(probe_map(m.base + 3 * PG, &ml));
	EXPECT_STREQ("rw-p", ml.perms);
	EXPECT_STREQ(self->ent_path, ml.path);
	EXPECT_EQ(m.base + 5 * PG, ml.end);
	ASSERT_TRUE(probe_map(m.base + 5 * PG, &ml));
	EXPECT_STREQ("rw-p", ml.perms);
	EXPECT_STREQ("", ml.path);		/* the bss: anonymous */
	ASSERT_TRUE(probe_map(m.base + 7 * PG, &ml));
	EXPECT_STREQ("---p", ml.perms);
	EXPECT_EQ(0, unmap_image(self->dev, m.base));
	EXPECT_TRUE(range_free(m.base, STD_SPAN));
}

TEST_F(datafd, tail_after_filesz_is_the_entrys_and_memsz_beyond_is_zero)
{
	struct kdl_segment s[STD_NSEGS];
	const uint8_t *p;
	struct kdl_map m;
	uint64_t i, nonzero = 0;

	DATA_FD_OR_SKIP(self->dev);

	data_map(&m, self->fd, self->data, s);
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_MAP, &m));
	p = (const uint8_t *)m.base;
	/* The module zeroes this part of an ordinary segment's last page. */
	for (i = DATA_TAIL; i < 5 * PG; i++) {
		nonzero += p[i] != 0;
		if (p[i] != data_byte(i))
			break;
	}
	EXPECT_EQ(5 * PG, i) {
		TH_LOG("tail byte %#lx is %#x, the entry has %#x",
		       (unsigned long)i, p[i], data_byte(i));
	}
	EXPECT_LT(0, nonzero);
	for (i = 5 * PG; i < 7 * PG && !p[i]; i++)
		;
	EXPECT_EQ(7 * PG, i);
	EXPECT_EQ(0, unmap_image(self->dev, m.base));
}

TEST_F(datafd, data_pages_stay_the_page_caches_own_pages)
{
	struct kdl_segment s[STD_NSEGS];
	volatile const uint8_t *p;
	struct kdl_map m;
	uint8_t *shared, b;
	uint64_t i;

	DATA_FD_OR_SKIP(self->dev);

	data_map(&m, self->fd, self->data, s);
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_MAP, &m));
	p = (volatile const uint8_t *)m.base;
	for (i = 3 * PG; i < 5 * PG; i++)
		(void)p[i];
	/*
	 * No page of the range was copied on write: a copy would count as
	 * Anonymous.  (Private_Dirty proves nothing here: the VM's /tmp is
	 * tmpfs, whose page-cache pages are always dirty.)
	 */
	EXPECT_EQ(DATA_PAGES * PG / 1024,
		  smaps_kb(m.base + 3 * PG, "Rss:"));
	EXPECT_EQ(0, smaps_kb(m.base + 3 * PG, "Anonymous:"));
	/* The same page-cache pages a shared mapping of the entry sees. */
	shared = mmap(NULL, DATA_PAGES * PG, PROT_READ, MAP_SHARED, self->data,
		      ENT_OFF);
	ASSERT_NE(MAP_FAILED, shared);
	for (i = 0; i < DATA_PAGES; i++) {
		uint64_t e = pagemap(m.base + (3 + i) * PG);
		uint64_t se;

		(void)*(volatile uint8_t *)(shared + i * PG);
		se = pagemap((uintptr_t)shared + i * PG);
		EXPECT_TRUE(e & PM_PRESENT);
		EXPECT_TRUE(e & PM_FILE) {
			TH_LOG("data page %lu is an anonymous copy",
			       (unsigned long)i);
		}
		if (PM_PFN(se))		/* PFNs need CAP_SYS_ADMIN */
			EXPECT_EQ(PM_PFN(se), PM_PFN(e));
	}
	munmap(shared, DATA_PAGES * PG);

	/* A store copies the page, in this process only. */
	*(volatile uint8_t *)(m.base + 3 * PG) = 0x11;
	EXPECT_EQ(4, smaps_kb(m.base + 3 * PG, "Anonymous:"));
	EXPECT_FALSE(pagemap(m.base + 3 * PG) & PM_FILE);
	ASSERT_EQ(1, pread(self->data, &b, 1, ENT_OFF));
	EXPECT_EQ(ent_byte(ENT_OFF), b);
	EXPECT_EQ(0, unmap_image(self->dev, m.base));
}

/* The control: the probe above does see the page the module zeroes. */
TEST_F(datafd, an_ordinary_segments_zeroed_tail_page_is_dirty)
{
	uint64_t base = 0;

	DATA_FD_OR_SKIP(self->dev);

	ASSERT_EQ(0, map_std(self->dev, self->fd, KDL_MAP_WINDOW, WIN_LO,
			     WIN_HI, &base));
	EXPECT_EQ(0, ((volatile uint8_t *)base)[DATA_TAIL]);
	EXPECT_EQ(4, smaps_kb(base + 3 * PG, "Anonymous:"));
	EXPECT_TRUE(pagemap(base + 4 * PG) & PM_PRESENT);
	EXPECT_FALSE(pagemap(base + 4 * PG) & PM_FILE);
	EXPECT_EQ(0, unmap_image(self->dev, base));
}

TEST_F(datafd, file_base_moves_the_image_but_not_the_data)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_map m;
	long bad;

	DATA_FD_OR_SKIP(self->dev);

	/* The image 4 pages into its file, as in a container. */
	ASSERT_EQ(0, write_pattern(self->fd, 4 * PG, STD_FILE_PAGES));
	data_map(&m, self->fd, self->data, s);
	m.file_base = 4 * PG;
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_MAP, &m));
	bad = data_check(m.base);
	EXPECT_EQ(-1, bad);
	EXPECT_EQ(0, unmap_image(self->dev, m.base));
}

TEST_F(datafd, readonly_data_segment_keeps_its_tail_page_from_the_entry)
{
	struct kdl_segment s[STD_NSEGS];
	struct map_line ml;
	struct kdl_map m;
	const uint8_t *p;

	DATA_FD_OR_SKIP(self->dev);

	data_map(&m, self->fd, self->data, s);
	s[1].prot = PROT_READ;
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_MAP, &m));
	p = (const uint8_t *)m.base;
	EXPECT_EQ(-1, data_check(m.base));
	EXPECT_EQ(data_byte(DATA_TAIL), p[DATA_TAIL]);
	/* No shmem copy of the last page: it is the entry's own. */
	ASSERT_TRUE(probe_map(m.base + 4 * PG, &ml));
	EXPECT_STREQ("r--p", ml.perms);
	EXPECT_STREQ(self->ent_path, ml.path);
	EXPECT_EQ(0, smaps_kb(m.base + 4 * PG, "Anonymous:"));
	EXPECT_TRUE(pagemap(m.base + 4 * PG) & PM_FILE);
	EXPECT_EQ(0, unmap_image(self->dev, m.base));
}

TEST_F(datafd, every_segment_may_come_from_the_entry)
{
	struct kdl_segment s[STD_NSEGS];
	const uint8_t *p;
	struct kdl_map m;
	uint64_t i;

	DATA_FD_OR_SKIP(self->dev);

	data_map(&m, self->fd, self->data, s);
	s[0].flags = KDL_SEG_DATA_FD;
	s[0].offset = 2 * PG;	/* text [0, 2P) from entry [2P, 4P) */
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_MAP, &m));
	p = (const uint8_t *)m.base;
	for (i = 0; i < 2 * PG && p[i] == ent_byte(2 * PG + i); i++)
		;
	EXPECT_EQ(2 * PG, i);
	EXPECT_EQ(data_byte(3 * PG), p[3 * PG]);
	EXPECT_EQ(0, unmap_image(self->dev, m.base));
}

TEST_F(datafd, old_size_callers_and_unused_data_fd_are_unaffected)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_map m;

	DATA_FD_OR_SKIP(self->dev);

	/* VER0: data_fd lies past its size and is never read. */
	std_segments(s);
	std_map(&m, self->fd, s, KDL_MAP_WINDOW);
	m.window_lo = WIN_LO;
	m.window_hi = WIN_HI;
	m.size = KDL_MAP_SIZE_VER0;
	m.data_fd = -1;
	m.reserved2 = 1;
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_MAP, &m));
	EXPECT_EQ(-1, std_check(m.base, 0));
	EXPECT_EQ(0, unmap_image(self->dev, m.base));

	/* VER1 without a DATA_FD segment: data_fd is ignored. */
	m.size = sizeof(m);
	m.reserved2 = 0;
	m.base = 0;
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_MAP, &m));
	EXPECT_EQ(-1, std_check(m.base, 0));
	EXPECT_EQ(0, unmap_image(self->dev, m.base));
}

TEST_F(datafd, a_batch_mixes_old_and_data_requests)
{
	struct kdl_segment s[STD_NSEGS], ds[STD_NSEGS];
	struct kdl_map m[3];
	struct kdl_map_batch b;
	uint64_t ptr[3];
	int i;

	DATA_FD_OR_SKIP(self->dev);

	std_segments(s);
	std_map(&m[0], self->fd, s, KDL_MAP_WINDOW);
	m[0].window_lo = WIN_LO;
	m[0].window_hi = WIN_HI;
	m[0].size = KDL_MAP_SIZE_VER0;
	data_map(&m[1], self->fd, self->data, ds);
	m[2] = m[1];
	m[2].size = KDL_MAP_SIZE_VER0;	/* no data_fd: DATA_FD is EINVAL */
	for (i = 0; i < 3; i++)
		ptr[i] = (uintptr_t)&m[i];
	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.count = 3;
	b.maps = (uintptr_t)ptr;
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_MAP_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(2, b.done);
	EXPECT_EQ(-1, std_check(m[0].base, 0));
	EXPECT_EQ(-1, data_check(m[1].base));
	EXPECT_EQ(0, m[2].base);
	EXPECT_EQ(0, unmap_image(self->dev, m[0].base));
	EXPECT_EQ(0, unmap_image(self->dev, m[1].base));
}

TEST_F(datafd, io_uring_maps_a_data_request)
{
	struct kdl_query q = { .size = sizeof(q) };
	struct kdl_segment s[STD_NSEGS];
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	struct kdl_uring_cmd *c;
	struct kdl_map m;
	int ret;

	DATA_FD_OR_SKIP(self->dev);

	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_QUERY, &q));
	if (!(q.features & KDL_FEAT_URING_CMD))
		SKIP(return, "module built without io_uring");
	ret = io_uring_queue_init(4, &ring, 0);
	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(return, "io_uring unavailable (%d)", ret);
	ASSERT_EQ(0, ret);
	data_map(&m, self->fd, self->data, s);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, self->dev, NULL, 0, 0);
	sqe->cmd_op = KDL_URING_CMD_MAP;
	c = (struct kdl_uring_cmd *)sqe->cmd;
	c->addr = (uintptr_t)&m;
	c->reserved = 0;
	ASSERT_EQ(1, io_uring_submit_and_wait(&ring, 1));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(0, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
	ASSERT_NE(0, m.base);
	EXPECT_EQ(-1, data_check(m.base));
	EXPECT_EQ(0, unmap_image(self->dev, m.base));
}

/*
 * data_fd is judged by mmap as fd is: PROT_EXEC from a noexec mount is
 * EPERM.  That failure comes after the reservation and the text are in
 * place, so it also shows the rollback.
 */
TEST_F(datafd, data_fd_on_a_noexec_mount_refuses_exec_and_rolls_back)
{
	char dir[64], path[128];
	int i;

	DATA_FD_OR_SKIP(self->dev);

	if (geteuid() != 0 || unshare(CLONE_NEWNS))
		SKIP(return, "needs root for private mounts");
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	for (i = 0; i < 2; i++) {
		struct kdl_segment s[STD_NSEGS];
		struct kdl_map m;
		int ent, ret;

		snprintf(dir, sizeof(dir), "/tmp/kdl-datafd-%sexec-%d",
			 i ? "" : "no", getpid());
		mkdir(dir, 0755);
		ASSERT_EQ(0, mount("kdl", dir, "tmpfs", i ? 0 : MS_NOEXEC,
				   "mode=0755"));
		ent = make_entry(dir, "x", path, sizeof(path));
		ASSERT_LE(0, ent);
		data_map(&m, self->fd, ent, s);
		s[1].prot = PROT_READ | PROT_EXEC;
		read_maps(maps_before, sizeof(maps_before));
		ret = ioctl(self->dev, KDL_IOC_MAP, &m);
		if (i) {
			EXPECT_EQ(0, ret);
			EXPECT_EQ(data_byte(3 * PG), ((uint8_t *)m.base)[3 * PG]);
			EXPECT_EQ(0, unmap_image(self->dev, m.base));
		} else {
			EXPECT_EQ(-1, ret);
			EXPECT_EQ(EPERM, errno);
			EXPECT_EQ(0, m.base);
			read_maps(maps_after, sizeof(maps_after));
			EXPECT_STREQ(maps_before, maps_after);
		}
		close(ent);
		umount2(dir, MNT_DETACH);
		rmdir(dir);
	}
}

/* ---- Every rule of the flag: its errno, and nothing mapped ----------- */

struct ctx {
	int fd, data, wronly, dir, pipe, null, opath, sysfs;
	void *filemap;
};

typedef void (*mutate_fn)(struct kdl_map *m, struct kdl_segment *s,
			  const struct ctx *c);

FIXTURE(bad) {
	int dev;
	char path[128], ent_path[128];
	struct ctx c;
};

FIXTURE_VARIANT(bad) {
	mutate_fn mutate;
	int err;
};

#define M(name, e, body)						\
	static void mut_##name(struct kdl_map *m, struct kdl_segment *s,\
			       const struct ctx *c)			\
	{								\
		(void)m; (void)s; (void)c;				\
		body;							\
	}								\
	FIXTURE_VARIANT_ADD(bad, name) { .mutate = mut_##name, .err = e }

/* data_fd is checked as fd is. */
M(data_fd_negative, EBADF, m->data_fd = -1);
M(data_fd_not_open, EBADF, m->data_fd = 999);
M(data_fd_o_path, EBADF, m->data_fd = c->opath);
M(data_fd_write_only, EACCES, m->data_fd = c->wronly);
M(data_fd_directory, ENODEV, m->data_fd = c->dir);
M(data_fd_pipe, ENODEV, m->data_fd = c->pipe);
M(data_fd_char_device, ENODEV, m->data_fd = c->null);
/* A regular file mmap refuses: found only when mapping, after the text. */
M(data_fd_not_mmapable, ENODEV, {
	m->data_fd = c->sysfs;
	s[1].offset = 0;
	s[1].filesz = PG - 0x40;	/* one page, as big as sysfs says */
});
/* The range in data_fd. */
M(data_range_past_eof, EINVAL, s[1].offset = (ENT_PAGES - 1) * PG);
M(data_offset_at_eof, EINVAL, s[1].offset = ENT_PAGES * PG);
M(data_offset_wraps_around, EINVAL, s[1].offset = ~0UL & ~(PG - 1));
M(data_offset_unaligned, EINVAL, s[1].offset = ENT_OFF + 0x40);
M(data_segment_without_file_bytes, EINVAL, s[1].filesz = 0);
/* Where the flag is not allowed. */
M(data_flag_with_ver0_size, EINVAL, m->size = KDL_MAP_SIZE_VER0);
M(data_flag_with_size_between_versions, EINVAL,
  m->size = KDL_MAP_SIZE_VER0 + 4);
M(data_flag_with_mirror, EINVAL, { m->flags |= KDL_MAP_MIRROR;
				    m->mirror_base = GIB; });
M(data_flag_with_src_addr, EINVAL, { m->flags |= KDL_MAP_SRC_ADDR;
				      m->src_addr = (uintptr_t)c->filemap;
				      m->src_len = STD_FILE_PAGES * PG; });
M(unknown_segment_flag, EINVAL, s[1].flags |= 1U << 1);
M(reserved2_nonzero, EINVAL, m->reserved2 = 1);

FIXTURE_SETUP(bad)
{
	static const char *const sysfs[] = {
		"/sys/kernel/uevent_seqnum", "/sys/kernel/profiling",
		"/sys/kernel/mm/transparent_hugepage/enabled" };
	struct stat st;
	unsigned int i;
	int p[2];

	memset(&self->c, 0, sizeof(self->c));
	self->c.fd = self->c.data = self->c.sysfs = -1;
	OPEN_DEV_OR_SKIP(self->dev);
	self->c.fd = make_image_file("datafd-bad", self->path,
				     sizeof(self->path));
	ASSERT_LE(0, self->c.fd);
	self->c.data = make_entry("/tmp", "datafd-bad", self->ent_path,
				  sizeof(self->ent_path));
	ASSERT_LE(0, self->c.data);
	self->c.wronly = open(self->ent_path, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, self->c.wronly);
	self->c.opath = open(self->ent_path, O_PATH | O_CLOEXEC);
	ASSERT_LE(0, self->c.opath);
	self->c.dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->c.dir);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	self->c.pipe = p[0];
	self->c.null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->c.null);
	for (i = 0; i < 3 && self->c.sysfs < 0; i++) {
		self->c.sysfs = open(sysfs[i], O_RDONLY | O_CLOEXEC);
		if (self->c.sysfs >= 0 &&
		    (fstat(self->c.sysfs, &st) || st.st_size < (off_t)PG)) {
			close(self->c.sysfs);
			self->c.sysfs = -1;
		}
	}
	self->c.filemap = mmap(NULL, STD_FILE_PAGES * PG, PROT_READ,
			       MAP_SHARED, self->c.fd, 0);
	ASSERT_NE(MAP_FAILED, self->c.filemap);
}

FIXTURE_TEARDOWN(bad)
{
	if (self->c.data >= 0) {
		close(self->c.data);
		unlink(self->ent_path);
	}
	if (self->c.fd >= 0) {
		close(self->c.fd);
		unlink(self->path);
	}
	if (self->dev >= 0)
		close(self->dev);
}

TEST_F(bad, map_is_rejected_and_maps_nothing)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_map m;

	DATA_FD_OR_SKIP(self->dev);

	data_map(&m, self->c.fd, self->c.data, s);
	variant->mutate(&m, s, &self->c);
	if (m.data_fd < 0 && variant->mutate == mut_data_fd_not_mmapable)
		SKIP(return, "no sysfs attribute of a page");

	read_maps(maps_before, sizeof(maps_before));
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_MAP, &m));
	EXPECT_EQ(variant->err, errno) {
		TH_LOG("errno %d (%s), expected %d", errno, strerror(errno),
		       variant->err);
	}
	read_maps(maps_after, sizeof(maps_after));
	EXPECT_STREQ(maps_before, maps_after);
	EXPECT_EQ(0, m.base);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * badinput_test.c - every validation rule of KDL_IOC_MAP/UNMAP, one variant
 * each: the errno, and /proc/self/maps unchanged by the call.
 */
#include "kselftest_harness.h"
#include "kdl_test.h"

#define WIN_LO		0x570000000000UL
#define WIN_HI		(WIN_LO + GIB)
/* Above TASK_SIZE with 4- and with 5-level page tables (QEMU -cpu max). */
#define BEYOND		(1UL << 57)

struct ctx {
	int fd;			/* the standard image, O_RDWR */
	int wronly;
	int dir;
	int pipe;
	int null;
	void *anon;		/* anonymous memory */
	void *filemap;		/* the image file, mapped */
};

/* The request under test: the map struct followed by a zero tail. */
struct req {
	struct kdl_map m;
	uint64_t tail[2];
	struct kdl_segment s[STD_NSEGS];
};

typedef void (*mutate_fn)(struct req *r, const struct ctx *c);

FIXTURE(bad) {
	int dev;
	char path[128];
	struct ctx c;
};

FIXTURE_VARIANT(bad) {
	mutate_fn mutate;
	int err;
};

#define M(name, body)							\
	static void mut_##name(struct req *r, const struct ctx *c)	\
	{								\
		struct kdl_map *m = &r->m;				\
		struct kdl_segment *s = r->s;				\
		(void)m; (void)s; (void)c;				\
		body;							\
	}								\
	FIXTURE_VARIANT_ADD(bad, name) { .mutate = mut_##name,		\
					  .err = ERR_##name }

/* Struct versioning. */
#define ERR_size_below_ver0 EINVAL
M(size_below_ver0, m->size = KDL_MAP_SIZE_VER0 - 8);
#define ERR_nonzero_unknown_tail E2BIG
M(nonzero_unknown_tail, { m->size = sizeof(*m) + 16; r->tail[1] = 1; });
#define ERR_size_above_a_page E2BIG
M(size_above_a_page, m->size = 8192);
/* Flags and reserved fields. */
#define ERR_unknown_flag EINVAL
M(unknown_flag, m->flags |= 1U << 20);
#define ERR_no_placement EINVAL
M(no_placement, m->flags = 0);
#define ERR_two_placements EINVAL
M(two_placements, m->flags |= KDL_MAP_ANYWHERE);
#define ERR_reserved_nonzero EINVAL
M(reserved_nonzero, m->reserved[1] = 1);
#define ERR_mirror_noreplace_without_mirror EINVAL
M(mirror_noreplace_without_mirror, m->flags |= KDL_MAP_MIRROR_NOREPLACE);
/* Counts and the segment array. */
#define ERR_no_segments EINVAL
M(no_segments, m->nr_segments = 0);
#define ERR_too_many_segments EINVAL
M(too_many_segments, m->nr_segments = 65);
#define ERR_absurd_segment_count EINVAL
M(absurd_segment_count, m->nr_segments = 0xffffffffU);
#define ERR_bad_segments_pointer EFAULT
M(bad_segments_pointer, m->segments = 16);
/* Span and alignment. */
#define ERR_zero_span EINVAL
M(zero_span, m->span = 0);
#define ERR_unaligned_span EINVAL
M(unaligned_span, m->span += 1);
#define ERR_span_beyond_user_space EINVAL
M(span_beyond_user_space, m->span = 1UL << 48);
#define ERR_align_not_power_of_two EINVAL
M(align_not_power_of_two, m->align = 3 * PG);
#define ERR_align_below_page EINVAL
M(align_below_page, m->align = 16);
#define ERR_align_huge EINVAL
M(align_huge, m->align = 1UL << 62);
#define ERR_file_base_unaligned EINVAL
M(file_base_unaligned, m->file_base = 1);
/* Placement. */
#define ERR_window_lo_above_hi EINVAL
M(window_lo_above_hi, { m->window_lo = WIN_HI; m->window_hi = WIN_LO; });
#define ERR_window_beyond_user_space EINVAL
M(window_beyond_user_space, m->window_hi = BEYOND);
#define ERR_window_far_beyond_user_space EINVAL
M(window_far_beyond_user_space, { m->window_lo = 1UL << 60;
				  m->window_hi = 1UL << 61; });
#define ERR_window_unaligned EINVAL
M(window_unaligned, m->window_lo += 8);
#define ERR_window_smaller_than_span EINVAL
M(window_smaller_than_span, m->window_hi = m->window_lo + STD_SPAN - PG);
#define ERR_fixed_unaligned EINVAL
M(fixed_unaligned, { m->flags = KDL_MAP_FIXED_NOREPLACE;
		     m->fixed_addr = WIN_LO + 8; });
#define ERR_fixed_misaligned_for_align EINVAL
M(fixed_misaligned_for_align, { m->flags = KDL_MAP_FIXED_NOREPLACE;
				m->fixed_addr = WIN_LO + PG;
				m->align = 1UL << 21; });
#define ERR_fixed_wraps_around EINVAL
M(fixed_wraps_around, { m->flags = KDL_MAP_FIXED;
			m->fixed_addr = ~0UL - 2 * PG + 1; });
#define ERR_fixed_beyond_user_space EINVAL
M(fixed_beyond_user_space, { m->flags = KDL_MAP_FIXED;
			     m->fixed_addr = BEYOND - PG; });
/* Segments. */
#define ERR_offset_not_congruent EINVAL
M(offset_not_congruent, s[1].offset += 1);
#define ERR_filesz_above_memsz EINVAL
M(filesz_above_memsz, s[1].filesz = s[1].memsz + 1);
#define ERR_empty_segment EINVAL
M(empty_segment, { s[1].memsz = 0; s[1].filesz = 0; });
#define ERR_segment_beyond_span EINVAL
M(segment_beyond_span, s[1].memsz = 5 * PG);
#define ERR_vaddr_wraps_around EINVAL
M(vaddr_wraps_around, { s[1].vaddr = ~0UL - PG + 0x41;
			s[1].offset = 0x40; });
#define ERR_offset_wraps_around EINVAL
M(offset_wraps_around, s[1].offset = ~0UL - PG + 0x41);
#define ERR_segments_unsorted EINVAL
M(segments_unsorted, { struct kdl_segment t = s[0];
		       s[0] = s[1]; s[1] = t; });
#define ERR_segments_share_a_page EINVAL
M(segments_share_a_page, { s[1].vaddr = PG + 0x40;
			   s[1].offset = 2 * PG + 0x40; });
#define ERR_unknown_prot_bit EINVAL
M(unknown_prot_bit, s[0].prot |= 0x8);
#define ERR_unknown_segment_flag EINVAL
M(unknown_segment_flag, s[1].flags = ~KDL_SEG_ALL_FLAGS);
#define ERR_segment_past_eof EINVAL
M(segment_past_eof, s[1].filesz = 3 * PG);
#define ERR_file_base_past_eof EINVAL
M(file_base_past_eof, m->file_base = STD_FILE_PAGES * PG);
/* The source fd. */
#define ERR_fd_negative EBADF
M(fd_negative, m->fd = -1);
#define ERR_fd_not_open EBADF
M(fd_not_open, m->fd = 999);
#define ERR_fd_directory ENODEV
M(fd_directory, m->fd = c->dir);
#define ERR_fd_pipe ENODEV
M(fd_pipe, m->fd = c->pipe);
#define ERR_fd_char_device ENODEV
M(fd_char_device, m->fd = c->null);
#define ERR_fd_write_only EACCES
M(fd_write_only, m->fd = c->wronly);
/* The source address range. */
#define ERR_src_anonymous EINVAL
M(src_anonymous, { m->flags |= KDL_MAP_SRC_ADDR;
		   m->src_addr = (uintptr_t)c->anon;
		   m->src_len = STD_FILE_PAGES * PG; });
#define ERR_src_unaligned EINVAL
M(src_unaligned, { m->flags |= KDL_MAP_SRC_ADDR;
		   m->src_addr = (uintptr_t)c->filemap + 8;
		   m->src_len = STD_FILE_PAGES * PG; });
#define ERR_src_len_zero EINVAL
M(src_len_zero, { m->flags |= KDL_MAP_SRC_ADDR;
		  m->src_addr = (uintptr_t)c->filemap; });
#define ERR_src_len_too_short EINVAL
M(src_len_too_short, { m->flags |= KDL_MAP_SRC_ADDR;
		       m->src_addr = (uintptr_t)c->filemap;
		       m->src_len = 2 * PG; });
#define ERR_src_runs_into_a_hole EINVAL
M(src_runs_into_a_hole, { m->flags |= KDL_MAP_SRC_ADDR;
			  m->src_addr = (uintptr_t)c->filemap;
			  m->src_len = (STD_FILE_PAGES + 1) * PG; });
#define ERR_src_wraps_around EINVAL
M(src_wraps_around, { m->flags |= KDL_MAP_SRC_ADDR;
		      m->src_addr = (uintptr_t)c->filemap;
		      m->src_len = ~0UL - PG; });
/* Mirrors. */
#define ERR_mirror_overlaps_image EINVAL
M(mirror_overlaps_image, { m->flags |= KDL_MAP_MIRROR;
			   m->mirror_base = PG; });
#define ERR_mirror_unaligned EINVAL
M(mirror_unaligned, { m->flags |= KDL_MAP_MIRROR;
		      m->mirror_base = GIB + 8; });
#define ERR_mirror_beyond_user_space EINVAL
M(mirror_beyond_user_space, { m->flags |= KDL_MAP_MIRROR;
			      m->mirror_base = BEYOND / 2; });

FIXTURE_SETUP(bad)
{
	int p[2];

	memset(&self->c, 0, sizeof(self->c));
	self->c.fd = -1;
	OPEN_DEV_OR_SKIP(self->dev);
	self->c.fd = make_image_file("bad", self->path, sizeof(self->path));
	ASSERT_LE(0, self->c.fd);
	self->c.wronly = open(self->path, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, self->c.wronly);
	self->c.dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->c.dir);
	ASSERT_EQ(0, pipe(p));
	self->c.pipe = p[0];
	self->c.null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->c.null);
	self->c.anon = mmap(NULL, STD_FILE_PAGES * PG, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->c.anon);
	/* The file mapped, then a hole of one page after it. */
	self->c.filemap = mmap(NULL, (STD_FILE_PAGES + 1) * PG, PROT_READ,
			       MAP_SHARED, self->c.fd, 0);
	ASSERT_NE(MAP_FAILED, self->c.filemap);
	munmap((char *)self->c.filemap + STD_FILE_PAGES * PG, PG);
}

FIXTURE_TEARDOWN(bad)
{
	if (self->c.fd >= 0) {
		close(self->c.fd);
		unlink(self->path);
	}
	if (self->dev >= 0)
		close(self->dev);
}

static char maps_before[1 << 18], maps_after[1 << 18];

TEST_F(bad, map_is_rejected_and_maps_nothing)
{
	static struct req r;

	memset(&r, 0, sizeof(r));
	std_segments(r.s);
	std_map(&r.m, self->c.fd, r.s, KDL_MAP_WINDOW);
	r.m.window_lo = WIN_LO;
	r.m.window_hi = WIN_HI;
	variant->mutate(&r, &self->c);

	read_maps(maps_before, sizeof(maps_before));
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_MAP, &r.m));
	EXPECT_EQ(variant->err, errno) {
		TH_LOG("errno %d (%s), expected %d", errno, strerror(errno),
		       variant->err);
	}
	read_maps(maps_after, sizeof(maps_after));
	EXPECT_STREQ(maps_before, maps_after);
	EXPECT_EQ(0, r.m.base);
}

TEST(unmap_rejects_flags_reserved_and_small_size)
{
	struct kdl_unmap u = { .size = sizeof(u), .base = WIN_LO };
	int dev;

	OPEN_DEV_OR_SKIP(dev);
	u.flags = 1;
	EXPECT_EQ(-1, ioctl(dev, KDL_IOC_UNMAP, &u));
	EXPECT_EQ(EINVAL, errno);
	u.flags = 0;
	u.reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(dev, KDL_IOC_UNMAP, &u));
	EXPECT_EQ(EINVAL, errno);
	u.reserved[0] = 0;
	u.size = KDL_UNMAP_SIZE_VER0 - 8;
	EXPECT_EQ(-1, ioctl(dev, KDL_IOC_UNMAP, &u));
	EXPECT_EQ(EINVAL, errno);
	u.size = sizeof(u);
	EXPECT_EQ(-1, ioctl(dev, KDL_IOC_UNMAP, &u));
	EXPECT_EQ(ENOENT, errno);
	close(dev);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/* window_test.c - KDL_MAP_WINDOW placement: low and high windows, alignment, full windows. */
#include "kselftest_harness.h"
#include "kdl_test.h"

FIXTURE(window) {
	int dev;
	int fd;
	char path[128];
};

FIXTURE_SETUP(window)
{
	self->fd = -1;
	OPEN_DEV_OR_SKIP(self->dev);
	self->fd = make_image_file("win", self->path, sizeof(self->path));
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(window)
{
	if (self->fd >= 0) {
		close(self->fd);
		unlink(self->path);
	}
	if (self->dev >= 0)
		close(self->dev);
}

static int map_in(int dev, int fd, uint64_t lo, uint64_t hi, uint64_t align,
		  uint64_t *base)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_map m;
	int ret;

	std_segments(s);
	std_map(&m, fd, s, KDL_MAP_WINDOW);
	m.window_lo = lo;
	m.window_hi = hi;
	m.align = align;
	ret = ioctl(dev, KDL_IOC_MAP, &m);
	if (!ret)
		*base = m.base;
	return ret;
}

TEST_F(window, below_4g_with_2m_alignment)
{
	uint64_t lo = 0x10000000UL, hi = 4 * GIB, align = 1UL << 21, base = 0;
	struct map_line ml;

	ASSERT_EQ(0, map_in(self->dev, self->fd, lo, hi, align, &base));
	EXPECT_LE(lo, base);
	EXPECT_GE(hi, base + STD_SPAN);
	EXPECT_EQ(0, base % align);
	EXPECT_EQ(-1, std_check(base, 0));
	ASSERT_TRUE(probe_map(base, &ml));
	EXPECT_STREQ(self->path, ml.path);
	EXPECT_EQ(0, unmap_image(self->dev, base));
}

TEST_F(window, high_4g_window_with_1g_alignment)
{
	uint64_t lo = 0x500000000000UL, hi = lo + 4 * GIB, align = GIB;
	uint64_t a = 0, b = 0;

	ASSERT_TRUE(range_free(lo, hi - lo));
	ASSERT_EQ(0, map_in(self->dev, self->fd, lo, hi, align, &a));
	EXPECT_EQ(lo, a);
	/* The first image occupies lo: the next aligned slot is lo + 1G. */
	ASSERT_EQ(0, map_in(self->dev, self->fd, lo, hi, align, &b));
	EXPECT_EQ(lo + GIB, b);
	EXPECT_EQ(-1, std_check(a, 0));
	EXPECT_EQ(-1, std_check(b, 0));
	EXPECT_EQ(0, unmap_image(self->dev, a));
	EXPECT_EQ(0, unmap_image(self->dev, b));
	EXPECT_TRUE(range_free(lo, hi - lo));
}

TEST_F(window, search_skips_existing_mappings)
{
	uint64_t lo = 0x510000000000UL, hi = lo + 64 * PG, base = 0;
	void *blk;

	blk = mmap((void *)(lo + PG), 3 * PG, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ASSERT_EQ((void *)(lo + PG), blk);
	ASSERT_EQ(0, map_in(self->dev, self->fd, lo, hi, 0, &base));
	EXPECT_EQ(lo + 4 * PG, base);
	EXPECT_EQ(-1, std_check(base, 0));
	EXPECT_EQ(0, unmap_image(self->dev, base));
	munmap(blk, 3 * PG);
}

TEST_F(window, full_window_is_enomem)
{
	uint64_t lo = 0x520000000000UL, base = 0, other = 0;

	ASSERT_EQ(0, map_in(self->dev, self->fd, lo, lo + STD_SPAN, 0, &base));
	EXPECT_EQ(lo, base);
	EXPECT_EQ(-1, map_in(self->dev, self->fd, lo, lo + STD_SPAN, 0, &other));
	EXPECT_EQ(ENOMEM, errno);
	EXPECT_EQ(-1, std_check(base, 0));
	EXPECT_EQ(0, unmap_image(self->dev, base));
}

TEST_F(window, window_with_only_small_holes_is_enomem)
{
	uint64_t lo = 0x530000000000UL, hi = lo + 4 * STD_SPAN, base = 0;
	uint64_t a;
	int before;

	/* One page mapped every 4 pages: no hole of 8 pages. */
	for (a = lo; a < hi; a += 4 * PG)
		ASSERT_NE(MAP_FAILED, mmap((void *)a, PG, PROT_NONE,
					   MAP_PRIVATE | MAP_ANONYMOUS |
					   MAP_FIXED_NOREPLACE, -1, 0));
	before = count_maps(lo, hi);
	EXPECT_EQ(-1, map_in(self->dev, self->fd, lo, hi, 0, &base));
	EXPECT_EQ(ENOMEM, errno);
	EXPECT_EQ(before, count_maps(lo, hi));
	munmap((void *)lo, hi - lo);
}

TEST_F(window, alignment_that_cannot_fit_is_enomem)
{
	uint64_t align = 1UL << 24;
	uint64_t lo = 0x540000000000UL + PG, hi = lo + align - 2 * PG;
	uint64_t base = 0;

	/* The only aligned base in [lo, hi) would be lo - PG + align. */
	EXPECT_EQ(-1, map_in(self->dev, self->fd, lo, hi, align, &base));
	EXPECT_EQ(ENOMEM, errno);
	EXPECT_TRUE(range_free(lo, hi - lo));
}

TEST_F(window, fills_up_and_reuses_a_freed_slot)
{
	uint64_t lo = 0x550000000000UL, hi = lo + 4 * STD_SPAN;
	uint64_t base[4], again = 0, extra = 0;
	int i, j;

	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, map_in(self->dev, self->fd, lo, hi, 0, &base[i]));
		for (j = 0; j < i; j++)
			EXPECT_NE(base[j], base[i]);
	}
	EXPECT_EQ(-1, map_in(self->dev, self->fd, lo, hi, 0, &extra));
	EXPECT_EQ(ENOMEM, errno);
	EXPECT_EQ(0, unmap_image(self->dev, base[2]));
	ASSERT_EQ(0, map_in(self->dev, self->fd, lo, hi, 0, &again));
	EXPECT_EQ(base[2], again);
	base[2] = again;
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(-1, std_check(base[i], 0));
		EXPECT_EQ(0, unmap_image(self->dev, base[i]));
	}
}

TEST_HARNESS_MAIN

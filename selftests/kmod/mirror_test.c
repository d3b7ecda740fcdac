// SPDX-License-Identifier: GPL-2.0
/* mirror_test.c - KDL_MAP_MIRROR: an image seen coherently at base and at mirror_base + base. */
#include "kselftest_harness.h"
#include "kdl_test.h"

#define VM_WINDOW	0x560000000000UL	/* a DOSEMU-like guest window */

FIXTURE(mirror) {
	int dev;
	int fd;
	char path[128];
};

FIXTURE_SETUP(mirror)
{
	self->fd = -1;
	OPEN_DEV_OR_SKIP(self->dev);
	self->fd = make_image_file("mirror", self->path, sizeof(self->path));
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(mirror)
{
	if (self->fd >= 0) {
		close(self->fd);
		unlink(self->path);
	}
	if (self->dev >= 0)
		close(self->dev);
}

/* The standard image below 4 GiB, mirrored at VM_WINDOW + base. */
static int map_mirrored(int dev, int fd, unsigned int extra, uint64_t *base)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_map m;
	int ret;

	std_segments(s);
	std_map(&m, fd, s, KDL_MAP_WINDOW | KDL_MAP_MIRROR | extra);
	m.window_lo = GIB;
	m.window_hi = 2 * GIB;
	m.mirror_base = VM_WINDOW;
	ret = ioctl(dev, KDL_IOC_MAP, &m);
	if (!ret)
		*base = m.base;
	return ret;
}

TEST_F(mirror, both_views_hold_the_image)
{
	struct map_line ml;
	uint64_t base = 0;

	ASSERT_EQ(0, map_mirrored(self->dev, self->fd, 0, &base));
	EXPECT_GT(4 * GIB, base);
	EXPECT_EQ(-1, std_check(base, 0));
	EXPECT_EQ(-1, std_check(VM_WINDOW + base, 0));
	ASSERT_TRUE(probe_map(VM_WINDOW + base, &ml));
	EXPECT_STREQ("r-xp", ml.perms);
	EXPECT_STREQ(self->path, ml.path);	/* text stays file-backed */
	ASSERT_TRUE(probe_map(VM_WINDOW + base + 3 * PG, &ml));
	EXPECT_STREQ("rw-s", ml.perms);		/* data: shared shmem */
	EXPECT_EQ(0, unmap_image(self->dev, base));
}

TEST_F(mirror, writable_data_is_coherent_both_ways)
{
	volatile uint8_t *a, *b;
	uint64_t base = 0;

	ASSERT_EQ(0, map_mirrored(self->dev, self->fd, 0, &base));
	a = (volatile uint8_t *)base;
	b = (volatile uint8_t *)(VM_WINDOW + base);
	a[STD_DATA_VADDR] = 0x11;
	EXPECT_EQ(0x11, b[STD_DATA_VADDR]);
	b[STD_DATA_VADDR + 1] = 0x22;
	EXPECT_EQ(0x22, a[STD_DATA_VADDR + 1]);
	/* The zero tail (bss) too. */
	a[6 * PG + 8] = 0x33;
	EXPECT_EQ(0x33, b[6 * PG + 8]);
	b[5 * PG] = 0x44;
	EXPECT_EQ(0x44, a[5 * PG]);
	EXPECT_EQ(0, unmap_image(self->dev, base));
}

TEST_F(mirror, readonly_text_shares_the_file_pages)
{
	volatile uint8_t *a, *b;
	uint8_t v = 0x99;
	uint64_t base = 0;

	ASSERT_EQ(0, map_mirrored(self->dev, self->fd, 0, &base));
	a = (volatile uint8_t *)base;
	b = (volatile uint8_t *)(VM_WINDOW + base);
	/* A change to the page cache shows in both views at once. */
	ASSERT_EQ(1, pwrite(self->fd, &v, 1, 123));
	EXPECT_EQ(0x99, a[123]);
	EXPECT_EQ(0x99, b[123]);
	EXPECT_EQ(0, unmap_image(self->dev, base));
}

TEST_F(mirror, unmap_removes_both_views)
{
	uint64_t base = 0;

	ASSERT_EQ(0, map_mirrored(self->dev, self->fd, 0, &base));
	EXPECT_EQ(0, unmap_image(self->dev, base));
	EXPECT_TRUE(range_free(base, STD_SPAN));
	EXPECT_TRUE(range_free(VM_WINDOW + base, STD_SPAN));
}

TEST_F(mirror, mirror_replaces_a_reserved_vm_window)
{
	uint64_t base = 0;
	void *win;

	win = mmap((void *)VM_WINDOW, 4 * GIB, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
		   MAP_FIXED_NOREPLACE, -1, 0);
	ASSERT_EQ((void *)VM_WINDOW, win);
	ASSERT_EQ(0, map_mirrored(self->dev, self->fd, 0, &base));
	EXPECT_EQ(-1, std_check(VM_WINDOW + base, 0));
	EXPECT_EQ(0, unmap_image(self->dev, base));
	munmap(win, 4 * GIB);
}

TEST_F(mirror, noreplace_mirror_on_busy_range_fails_and_maps_nothing)
{
	uint64_t want = 0x3b0000000000UL, mb = 0x10000000000UL;
	struct kdl_segment s[STD_NSEGS];
	struct kdl_map m;
	void *busy;

	busy = mmap((void *)(want + mb + 4 * PG), PG, PROT_READ,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ASSERT_NE(MAP_FAILED, busy);
	std_segments(s);
	std_map(&m, self->fd, s, KDL_MAP_FIXED_NOREPLACE | KDL_MAP_MIRROR |
		KDL_MAP_MIRROR_NOREPLACE);
	m.fixed_addr = want;
	m.mirror_base = mb;
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_MAP, &m));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_TRUE(range_free(want, STD_SPAN));
	EXPECT_EQ(1, count_maps(want + mb, want + mb + STD_SPAN));
	munmap(busy, PG);
}

TEST_F(mirror, private_write_does_not_reach_the_file)
{
	volatile uint8_t *a;
	uint64_t base = 0;
	uint8_t v;

	ASSERT_EQ(0, map_mirrored(self->dev, self->fd, 0, &base));
	a = (volatile uint8_t *)base;
	a[STD_DATA_VADDR] = 0x77;
	ASSERT_EQ(1, pread(self->fd, &v, 1, STD_DATA_OFF));
	EXPECT_EQ(pat_byte(STD_DATA_OFF), v);
	EXPECT_EQ(0, unmap_image(self->dev, base));
}

TEST_HARNESS_MAIN

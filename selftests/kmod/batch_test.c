// SPDX-License-Identifier: GPL-2.0
/* batch_test.c - KDL_IOC_MAP_BATCH: a dependency tree in one call, and its partial-failure rule. */
#include "kselftest_harness.h"
#include "kdl_test.h"

#define WIN_LO		0x590000000000UL
#define WIN_HI		(WIN_LO + GIB)
#define NMAX		50

FIXTURE(batch) {
	int dev;
	int fd;
	char path[128];
	struct kdl_segment s[STD_NSEGS];
	struct kdl_map m[NMAX];
	uint64_t ptr[NMAX];
};

FIXTURE_SETUP(batch)
{
	int i;

	self->fd = -1;
	OPEN_DEV_OR_SKIP(self->dev);
	self->fd = make_image_file("batch", self->path, sizeof(self->path));
	ASSERT_LE(0, self->fd);
	std_segments(self->s);
	for (i = 0; i < NMAX; i++) {
		std_map(&self->m[i], self->fd, self->s, KDL_MAP_WINDOW);
		self->m[i].window_lo = WIN_LO;
		self->m[i].window_hi = WIN_HI;
		self->ptr[i] = (uintptr_t)&self->m[i];
	}
}

FIXTURE_TEARDOWN(batch)
{
	if (self->fd >= 0) {
		close(self->fd);
		unlink(self->path);
	}
	if (self->dev >= 0)
		close(self->dev);
}

static int run_batch(int dev, uint64_t *ptr, unsigned int count,
		     struct kdl_map_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->size = sizeof(*b);
	b->count = count;
	b->maps = (uintptr_t)ptr;
	return ioctl(dev, KDL_IOC_MAP_BATCH, b);
}

TEST_F(batch, fifty_images_in_one_call)
{
	struct kdl_map_batch b;
	int i, j;

	ASSERT_EQ(0, run_batch(self->dev, self->ptr, NMAX, &b));
	EXPECT_EQ(NMAX, b.done);
	for (i = 0; i < NMAX; i++) {
		EXPECT_LE(WIN_LO, self->m[i].base);
		EXPECT_EQ(-1, std_check(self->m[i].base, 0));
		for (j = 0; j < i; j++)
			EXPECT_NE(self->m[j].base, self->m[i].base);
	}
	for (i = 0; i < NMAX; i++)
		EXPECT_EQ(0, unmap_image(self->dev, self->m[i].base));
	EXPECT_TRUE(range_free(WIN_LO, WIN_HI - WIN_LO));
}

TEST_F(batch, stops_at_the_first_failure_and_keeps_the_earlier_images)
{
	struct kdl_segment bad[STD_NSEGS];
	struct kdl_map_batch b;
	int i;

	std_segments(bad);
	bad[1].filesz = bad[1].memsz + 1;
	self->m[2].segments = (uintptr_t)bad;
	EXPECT_EQ(-1, run_batch(self->dev, self->ptr, 5, &b));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(2, b.done);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(-1, std_check(self->m[i].base, 0));
	for (i = 2; i < 5; i++)
		EXPECT_EQ(0, self->m[i].base);
	/* Exactly the two images' mappings (5 VMAs each) are in the window. */
	EXPECT_EQ(10, count_maps(WIN_LO, WIN_HI));
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, unmap_image(self->dev, self->m[i].base));
}

TEST_F(batch, a_bad_pointer_entry_is_efault_with_done_set)
{
	struct kdl_map_batch b;

	self->ptr[1] = 16;
	EXPECT_EQ(-1, run_batch(self->dev, self->ptr, 3, &b));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1, b.done);
	EXPECT_EQ(0, unmap_image(self->dev, self->m[0].base));
	EXPECT_EQ(0, self->m[2].base);
}

/*
 * A batch whose done field cannot be written (its struct on a read-only
 * page) leaves the caller unable to tell what it mapped: the module
 * undoes the batch, as KDL_IOC_MAP undoes a map whose base it cannot write.
 */
TEST_F(batch, an_unwritable_done_field_undoes_the_batch)
{
	struct kdl_map_batch *b;
	int i;

	b = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	ASSERT_NE(MAP_FAILED, b);
	b->size = sizeof(*b);
	b->count = 3;
	b->maps = (uintptr_t)self->ptr;
	ASSERT_EQ(0, mprotect(b, PG, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_MAP_BATCH, b));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_TRUE(range_free(WIN_LO, WIN_HI - WIN_LO));
	for (i = 0; i < 3; i++)
		if (self->m[i].base)
			EXPECT_EQ(ENOENT, unmap_image(self->dev, self->m[i].base) ? errno : 0);
	munmap(b, PG);
}

TEST_F(batch, entries_may_use_different_struct_versions)
{
	struct { struct kdl_map m; uint64_t tail[3]; } big;
	struct kdl_map_batch b;

	memset(&big, 0, sizeof(big));
	big.m = self->m[0];
	big.m.size = sizeof(big);
	self->ptr[1] = (uintptr_t)&big;
	ASSERT_EQ(0, run_batch(self->dev, self->ptr, 2, &b));
	EXPECT_EQ(2, b.done);
	EXPECT_EQ(-1, std_check(big.m.base, 0));
	EXPECT_EQ(0, unmap_image(self->dev, self->m[0].base));
	EXPECT_EQ(0, unmap_image(self->dev, big.m.base));
}

TEST_F(batch, rejects_bad_headers)
{
	struct kdl_map_batch b;

	EXPECT_EQ(-1, run_batch(self->dev, self->ptr, 0, &b));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, run_batch(self->dev, self->ptr, 100000, &b));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, run_batch(self->dev, (uint64_t *)16, 2, &b));
	EXPECT_EQ(EFAULT, errno);

	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.count = 1;
	b.maps = (uintptr_t)self->ptr;
	b.flags = 1;
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_MAP_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	b.flags = 0;
	b.done = 1;
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_MAP_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	b.done = 0;
	b.reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_MAP_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	b.reserved[0] = 0;
	b.size = KDL_MAP_BATCH_SIZE_VER0 - 8;
	EXPECT_EQ(-1, ioctl(self->dev, KDL_IOC_MAP_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_TRUE(range_free(WIN_LO, WIN_HI - WIN_LO));
}

TEST_F(batch, query_reports_batch_limits)
{
	struct kdl_query q = { .size = sizeof(q) };

	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_QUERY, &q));
	EXPECT_TRUE(q.features & KDL_FEAT_BATCH);
	EXPECT_LE(NMAX, q.max_batch);
}

TEST_HARNESS_MAIN

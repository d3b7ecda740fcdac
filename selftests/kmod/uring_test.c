// SPDX-License-Identifier: GPL-2.0
/* uring_test.c - the map commands through io_uring passthrough (IORING_OP_URING_CMD), with liburing. */
#include <liburing.h>

#include "kselftest_harness.h"
#include "kdl_test.h"

#define WIN_LO		0x5a0000000000UL
#define WIN_HI		(WIN_LO + GIB)
#define NSQE		16

FIXTURE(uring) {
	int dev;
	int fd;
	char path[128];
	struct io_uring ring;
	bool have_ring;
};

FIXTURE_SETUP(uring)
{
	struct kdl_query q = { .size = sizeof(q) };
	int ret;

	self->fd = -1;
	self->have_ring = false;
	OPEN_DEV_OR_SKIP(self->dev);
	ASSERT_EQ(0, ioctl(self->dev, KDL_IOC_QUERY, &q));
	if (!(q.features & KDL_FEAT_URING_CMD))
		SKIP(return, "module built without io_uring");
	ret = io_uring_queue_init(64, &self->ring, 0);
	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(return, "io_uring unavailable (%d)", ret);
	ASSERT_EQ(0, ret);
	self->have_ring = true;
	self->fd = make_image_file("uring", self->path, sizeof(self->path));
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(uring)
{
	if (self->have_ring)
		io_uring_queue_exit(&self->ring);
	if (self->fd >= 0) {
		close(self->fd);
		unlink(self->path);
	}
	if (self->dev >= 0)
		close(self->dev);
}

/* liburing 2.3 has no helper for driver commands: fill the SQE by hand. */
static void prep_kdl(struct io_uring *ring, int dev, uint32_t op, void *arg,
		     uint64_t tag, uint64_t reserved)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct kdl_uring_cmd *c;

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, dev, NULL, 0, 0);
	sqe->cmd_op = op;
	c = (struct kdl_uring_cmd *)sqe->cmd;
	c->addr = (uintptr_t)arg;
	c->reserved = reserved;
	sqe->user_data = tag;
}

/* Submits what is queued and collects @n results into res[tag]. */
static int reap(struct io_uring *ring, int n, int *res)
{
	struct io_uring_cqe *cqe;
	int i, ret;

	ret = io_uring_submit_and_wait(ring, n);
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++) {
		ret = io_uring_wait_cqe(ring, &cqe);
		if (ret)
			return ret;
		res[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(ring, cqe);
	}
	return 0;
}

static void window_map(struct kdl_map *m, int fd, struct kdl_segment *s)
{
	std_map(m, fd, s, KDL_MAP_WINDOW);
	m->window_lo = WIN_LO;
	m->window_hi = WIN_HI;
}

TEST_F(uring, map_and_unmap_complete_with_res_zero)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_unmap u = { .size = sizeof(u) };
	struct kdl_map m;
	int res[1] = { 1 };

	std_segments(s);
	window_map(&m, self->fd, s);
	prep_kdl(&self->ring, self->dev, KDL_URING_CMD_MAP, &m, 0, 0);
	ASSERT_EQ(0, reap(&self->ring, 1, res));
	ASSERT_EQ(0, res[0]);
	EXPECT_LE(WIN_LO, m.base);
	EXPECT_EQ(-1, std_check(m.base, 0));

	u.base = m.base;
	prep_kdl(&self->ring, self->dev, KDL_URING_CMD_UNMAP, &u, 0, 0);
	ASSERT_EQ(0, reap(&self->ring, 1, res));
	EXPECT_EQ(0, res[0]);
	EXPECT_TRUE(range_free(m.base, STD_SPAN));
	prep_kdl(&self->ring, self->dev, KDL_URING_CMD_UNMAP, &u, 0, 0);
	ASSERT_EQ(0, reap(&self->ring, 1, res));
	EXPECT_EQ(-ENOENT, res[0]);
}

TEST_F(uring, sixteen_maps_in_one_submission)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_unmap u[NSQE];
	struct kdl_map m[NSQE];
	int res[NSQE], i, j;

	std_segments(s);
	for (i = 0; i < NSQE; i++) {
		window_map(&m[i], self->fd, s);
		prep_kdl(&self->ring, self->dev, KDL_URING_CMD_MAP, &m[i], i, 0);
	}
	ASSERT_EQ(0, reap(&self->ring, NSQE, res));
	for (i = 0; i < NSQE; i++) {
		EXPECT_EQ(0, res[i]);
		EXPECT_EQ(-1, std_check(m[i].base, 0));
		for (j = 0; j < i; j++)
			EXPECT_NE(m[j].base, m[i].base);
	}
	for (i = 0; i < NSQE; i++) {
		memset(&u[i], 0, sizeof(u[i]));
		u[i].size = sizeof(u[i]);
		u[i].base = m[i].base;
		prep_kdl(&self->ring, self->dev, KDL_URING_CMD_UNMAP, &u[i], i, 0);
	}
	ASSERT_EQ(0, reap(&self->ring, NSQE, res));
	for (i = 0; i < NSQE; i++)
		EXPECT_EQ(0, res[i]);
	EXPECT_TRUE(range_free(WIN_LO, WIN_HI - WIN_LO));
}

TEST_F(uring, batch_command_maps_a_tree)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_map_batch b;
	struct kdl_map m[4];
	uint64_t ptr[4];
	int res[1], i;

	std_segments(s);
	for (i = 0; i < 4; i++) {
		window_map(&m[i], self->fd, s);
		ptr[i] = (uintptr_t)&m[i];
	}
	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.count = 4;
	b.maps = (uintptr_t)ptr;
	prep_kdl(&self->ring, self->dev, KDL_URING_CMD_MAP_BATCH, &b, 0, 0);
	ASSERT_EQ(0, reap(&self->ring, 1, res));
	EXPECT_EQ(0, res[0]);
	EXPECT_EQ(4, b.done);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(-1, std_check(m[i].base, 0));
		EXPECT_EQ(0, unmap_image(self->dev, m[i].base));
	}
}

TEST_F(uring, errors_come_back_in_the_cqe)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_map m, bad;
	int res[4];

	std_segments(s);
	window_map(&bad, self->fd, s);
	bad.span = 0;
	prep_kdl(&self->ring, self->dev, KDL_URING_CMD_MAP, &bad, 0, 0);
	window_map(&m, self->fd, s);
	prep_kdl(&self->ring, self->dev, 99, &m, 1, 0);
	prep_kdl(&self->ring, self->dev, KDL_URING_CMD_MAP, &m, 2, 1);
	prep_kdl(&self->ring, self->dev, KDL_URING_CMD_MAP, (void *)16, 3, 0);
	ASSERT_EQ(0, reap(&self->ring, 4, res));
	EXPECT_EQ(-EINVAL, res[0]);
	EXPECT_EQ(-ENOTTY, res[1]);
	EXPECT_EQ(-EINVAL, res[2]);
	EXPECT_EQ(-EFAULT, res[3]);
	EXPECT_TRUE(range_free(WIN_LO, WIN_HI - WIN_LO));
}

TEST_HARNESS_MAIN

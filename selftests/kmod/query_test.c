// SPDX-License-Identifier: GPL-2.0
/* query_test.c - KDL_IOC_QUERY and the ioctl entry checks of /dev/kdl. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/kdl.h>

#include "kselftest_harness.h"
#include "../kdl_harness_main.h"

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, "%s absent (module not loaded)", KDL_DEVICE_PATH);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(dev, query_reports_abi_and_limits)
{
	struct kdl_query q = { .size = sizeof(q) };

	ASSERT_EQ(0, ioctl(self->fd, KDL_IOC_QUERY, &q));
	EXPECT_EQ(KDL_ABI_VERSION, q.abi_version);
	EXPECT_EQ(sizeof(q), q.size);
	EXPECT_LT(0, q.max_segments);
	EXPECT_LT(0, q.max_batch);
	EXPECT_EQ(0, q.features & ~((KDL_FEAT_SEGMENT_FD << 1) - 1));
}

TEST_F(dev, query_reports_the_implemented_features)
{
	struct kdl_query q = { .size = sizeof(q) };
	uint64_t want = KDL_FEAT_MAP | KDL_FEAT_MIRROR | KDL_FEAT_SRC_ADDR |
			KDL_FEAT_BATCH | KDL_FEAT_DATA_FD | KDL_FEAT_SEGMENT_FD;

	ASSERT_EQ(0, ioctl(self->fd, KDL_IOC_QUERY, &q));
	EXPECT_EQ(want, q.features & want);
	EXPECT_EQ(64, q.max_segments);
	EXPECT_EQ(256, q.max_batch);
}

TEST_F(dev, query_rejects_size_below_ver0)
{
	struct kdl_query q = { .size = KDL_QUERY_SIZE_VER0 - 8 };

	EXPECT_EQ(-1, ioctl(self->fd, KDL_IOC_QUERY, &q));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, query_accepts_larger_struct_with_zero_tail)
{
	struct { struct kdl_query q; uint64_t tail[4]; } big;

	memset(&big, 0, sizeof(big));
	big.q.size = sizeof(big);
	ASSERT_EQ(0, ioctl(self->fd, KDL_IOC_QUERY, &big));
	EXPECT_EQ(KDL_ABI_VERSION, big.q.abi_version);
	EXPECT_EQ(sizeof(big), big.q.size);
	EXPECT_EQ(0, big.tail[0] | big.tail[3]);
}

TEST_F(dev, query_rejects_nonzero_unknown_tail)
{
	struct { struct kdl_query q; uint64_t tail[4]; } big;

	memset(&big, 0, sizeof(big));
	big.q.size = sizeof(big);
	big.tail[2] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, KDL_IOC_QUERY, &big));
	EXPECT_EQ(E2BIG, errno);
}

TEST_F(dev, query_rejects_size_above_a_page)
{
	static char buf[8192];
	struct kdl_query *q = (struct kdl_query *)buf;

	q->size = sizeof(buf);
	EXPECT_EQ(-1, ioctl(self->fd, KDL_IOC_QUERY, q));
	EXPECT_EQ(E2BIG, errno);
}

TEST_F(dev, query_rejects_nonzero_reserved)
{
	struct kdl_query q = { .size = sizeof(q) };

	q.reserved[3] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, KDL_IOC_QUERY, &q));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, query_rejects_bad_pointer)
{
	EXPECT_EQ(-1, ioctl(self->fd, KDL_IOC_QUERY, (void *)16));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(dev, unknown_command_is_enotty)
{
	struct kdl_query q = { .size = sizeof(q) };

	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(KDL_IOC_MAGIC, 0x7f, struct kdl_query), &q));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR('x', 0x00, struct kdl_query), &q));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, forked_child_cannot_use_parent_fd)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kdl_query q = { .size = sizeof(q) };

		if (ioctl(self->fd, KDL_IOC_QUERY, &q) == 0)
			_exit(1);
		_exit(errno == EPERM ? 0 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN

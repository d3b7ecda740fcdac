// SPDX-License-Identifier: GPL-2.0
/* fork_test.c - a forked child inherits the images but not the right to use the fd. */
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "kdl_test.h"

FIXTURE(fork) {
	int dev;
	int fd;
	char path[128];
};

FIXTURE_SETUP(fork)
{
	self->fd = -1;
	OPEN_DEV_OR_SKIP(self->dev);
	self->fd = make_image_file("fork", self->path, sizeof(self->path));
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(fork)
{
	if (self->fd >= 0) {
		close(self->fd);
		unlink(self->path);
	}
	if (self->dev >= 0)
		close(self->dev);
}

/* Exit codes of the child: 0 all as expected, else the failing step. */
static int child(int dev, int fd, uint64_t base)
{
	uint64_t other = 0;
	int before;

	if (std_check(base, 0) != -1)
		return 1;		/* the image is inherited like any mapping */
	before = count_maps(0, ~0UL);
	if (map_std(dev, fd, KDL_MAP_ANYWHERE, 0, 0, &other) == 0 ||
	    errno != EPERM)
		return 2;
	if (unmap_image(dev, base) == 0 || errno != EPERM)
		return 3;
	if (count_maps(0, ~0UL) != before)
		return 4;
	if (std_check(base, 0) != -1)
		return 5;
	return 0;
}

TEST_F(fork, child_use_of_the_inherited_fd_fails_with_eperm)
{
	uint64_t base = 0;
	int status;
	pid_t pid;

	ASSERT_EQ(0, map_std(self->dev, self->fd, KDL_MAP_ANYWHERE, 0, 0,
			     &base));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(child(self->dev, self->fd, base));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The parent still owns its image. */
	EXPECT_EQ(-1, std_check(base, 0));
	EXPECT_EQ(0, unmap_image(self->dev, base));
}

TEST_F(fork, child_outliving_the_parent_fd_is_harmless)
{
	uint64_t base = 0;
	int status;
	pid_t pid;

	ASSERT_EQ(0, map_std(self->dev, self->fd, KDL_MAP_ANYWHERE, 0, 0,
			     &base));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		usleep(100000);	/* the parent closes its fd meanwhile */
		_exit(std_check(base, 0) == -1 ? 0 : 1);
	}
	close(self->dev);
	self->dev = -1;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(-1, std_check(base, 0));
	munmap((void *)base, STD_SPAN);
}

TEST_HARNESS_MAIN

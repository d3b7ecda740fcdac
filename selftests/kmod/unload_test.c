// SPDX-License-Identifier: GPL-2.0
/*
 * unload_test.c - rmmod while images are mapped: refused while an fd is
 * open, allowed after close with the images still readable; then the
 * module is loaded again from /tmp/kdl.ko (tools/vm/init puts it there).
 */
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "kdl_test.h"

#define KO_PATH		"/tmp/kdl.ko"
#define MIRROR_BASE	0x5b0000000000UL

static int delete_module(const char *name, int flags)
{
	return syscall(SYS_delete_module, name, flags);
}

static int load_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return ret;
}

TEST(unload_with_images_mapped_then_reload)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_query q = { .size = sizeof(q) };
	volatile uint8_t *a, *b;
	uint64_t base = 0;
	struct kdl_map m;
	char path[128];
	int dev, fd, i;

	if (geteuid() != 0)
		SKIP(return, "needs root to unload modules");
	if (access(KO_PATH, R_OK))
		SKIP(return, "%s absent (not in the test VM)", KO_PATH);
	OPEN_DEV_OR_SKIP(dev);
	fd = make_image_file("unload", path, sizeof(path));
	ASSERT_LE(0, fd);

	ASSERT_EQ(0, map_std(dev, fd, KDL_MAP_ANYWHERE, 0, 0, &base));
	std_segments(s);
	std_map(&m, fd, s, KDL_MAP_WINDOW | KDL_MAP_MIRROR);
	m.window_lo = GIB;
	m.window_hi = 2 * GIB;
	m.mirror_base = MIRROR_BASE;
	ASSERT_EQ(0, ioctl(dev, KDL_IOC_MAP, &m));

	/* 1. The open fd pins the module. */
	EXPECT_EQ(-1, delete_module("kdl", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);

	/* 2. Closed: the images do not pin it and outlive it. */
	close(dev);
	ASSERT_EQ(0, delete_module("kdl", O_NONBLOCK)) {
		TH_LOG("delete_module: %s", strerror(errno));
	}
	EXPECT_EQ(-1, open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC));
	EXPECT_EQ(-1, std_check(base, 0));
	EXPECT_EQ(-1, std_check(m.base, 0));
	EXPECT_EQ(-1, std_check(MIRROR_BASE + m.base, 0));
	a = (volatile uint8_t *)m.base;
	b = (volatile uint8_t *)(MIRROR_BASE + m.base);
	a[STD_DATA_VADDR] = 0x42;
	EXPECT_EQ(0x42, b[STD_DATA_VADDR]);

	/* 3. Loaded again, the device works. */
	ASSERT_EQ(0, load_module(KO_PATH)) {
		TH_LOG("finit_module: %s", strerror(errno));
	}
	for (i = 0; i < 50; i++) {
		dev = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);
		if (dev >= 0)
			break;
		usleep(20000);
	}
	ASSERT_LE(0, dev);
	EXPECT_EQ(0, ioctl(dev, KDL_IOC_QUERY, &q));
	/* The new module instance knows nothing of the old images. */
	EXPECT_EQ(-1, unmap_image(dev, base));
	EXPECT_EQ(ENOENT, errno);
	close(dev);

	munmap((void *)base, STD_SPAN);
	munmap((void *)m.base, STD_SPAN);
	munmap((void *)(MIRROR_BASE + m.base), STD_SPAN);
	close(fd);
	unlink(path);
}

TEST_HARNESS_MAIN

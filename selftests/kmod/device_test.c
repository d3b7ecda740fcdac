// SPDX-License-Identifier: GPL-2.0
/*
 * device_test.c - the /dev/kdl node: a misc character device whose mode is
 * the module's "mode" parameter (Documentation/man/kdl.4), and the
 * release the module reports through MODULE_VERSION.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kdl_test.h"

#define MISC_MAJOR 10

static int read_sysfs(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

TEST(node_has_the_mode_parameter_when_no_udev_runs)
{
	char val[32];
	struct stat st;
	unsigned long mode;

	if (stat(KDL_DEVICE_PATH, &st))
		SKIP(return, "%s: %s (module not loaded)", KDL_DEVICE_PATH, strerror(errno));
	if (!access("/run/udev/control", F_OK))
		SKIP(return, "udevd runs: its rules may have set another mode");
	ASSERT_EQ(0, read_sysfs("/sys/module/kdl/parameters/mode", val, sizeof(val)));
	mode = strtoul(val, NULL, 10);
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(MISC_MAJOR, major(st.st_rdev));
	EXPECT_EQ(mode, st.st_mode & 07777) {
		TH_LOG("parameter %#lo, node %#o", mode, st.st_mode & 07777);
	}
}

TEST(module_reports_a_release)
{
	char ver[64];
	unsigned int a, b, c;

	if (access(KDL_DEVICE_PATH, F_OK))
		SKIP(return, "%s absent (module not loaded)", KDL_DEVICE_PATH);
	ASSERT_EQ(0, read_sysfs("/sys/module/kdl/version", ver, sizeof(ver)));
	EXPECT_EQ(3, sscanf(ver, "%u.%u.%u", &a, &b, &c)) {
		TH_LOG("MODULE_VERSION \"%s\" is not MAJOR.MINOR.PATCH", ver);
	}
}

TEST_HARNESS_MAIN

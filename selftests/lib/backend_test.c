/* backend_test.c - libkdl's backend choice and kdl_error(). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kdl.h"
#include "kselftest_harness.h"
#include "../kdl_harness_main.h"

static int have_dev(void)
{
	return access("/dev/kdl", R_OK | W_OK) == 0;
}

TEST(error_is_null_when_nothing_failed)
{
	EXPECT_EQ(NULL, kdl_error());
}

TEST(error_is_reported_once)
{
	int b;

	ASSERT_EQ(-1, kdl_info(NULL, 9999, &b));
	ASSERT_NE(NULL, kdl_error());
	EXPECT_EQ(NULL, kdl_error());
}

TEST(auto_backend_follows_device_presence)
{
	int b = 0;

	unsetenv("KDL_BACKEND");
	ASSERT_EQ(0, kdl_info(NULL, KDL_INFO_BACKEND, &b));
	EXPECT_EQ(have_dev() ? KDL_BACKEND_KERNEL : KDL_BACKEND_USER, b);
}

TEST(env_forces_user_backend)
{
	int b = 0;

	setenv("KDL_BACKEND", "user", 1);
	ASSERT_EQ(0, kdl_info(NULL, KDL_INFO_BACKEND, &b));
	EXPECT_EQ(KDL_BACKEND_USER, b);
}

TEST(forced_kernel_backend_without_device_is_an_error)
{
	int b = 0;

	if (have_dev())
		SKIP(return, "/dev/kdl present");
	setenv("KDL_BACKEND", "kernel", 1);
	EXPECT_EQ(-1, kdl_info(NULL, KDL_INFO_BACKEND, &b));
	const char *e = kdl_error();
	ASSERT_NE(NULL, e);
	EXPECT_NE(NULL, strstr(e, "/dev/kdl"));
}

TEST(forced_kernel_backend_with_device_is_used)
{
	int b = 0;
	unsigned int abi = 0;

	if (!have_dev())
		SKIP(return, "/dev/kdl absent");
	setenv("KDL_BACKEND", "kernel", 1);
	ASSERT_EQ(0, kdl_info(NULL, KDL_INFO_BACKEND, &b));
	EXPECT_EQ(KDL_BACKEND_KERNEL, b);
	ASSERT_EQ(0, kdl_info(NULL, KDL_INFO_ABI_VERSION, &abi));
	EXPECT_EQ(1, abi);
}

TEST(unknown_backend_name_is_an_error)
{
	int b = 0;

	setenv("KDL_BACKEND", "gpu", 1);
	EXPECT_EQ(-1, kdl_info(NULL, KDL_INFO_BACKEND, &b));
	const char *e = kdl_error();
	ASSERT_NE(NULL, e);
	EXPECT_NE(NULL, strstr(e, "gpu"));
}

TEST_HARNESS_MAIN

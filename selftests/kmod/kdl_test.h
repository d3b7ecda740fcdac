/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kdl_test.h - helpers of the kdl.ko selftests: a hand-made image file with
 * known page patterns, its segment table, and /proc/self/maps probes (all
 * in kdl_util.h), with the harness and OPEN_DEV_OR_SKIP.
 * Include after kselftest_harness.h.
 */
#ifndef KDL_TEST_H
#define KDL_TEST_H

#include "../kdl_harness_main.h"

#include "kdl_util.h"

#define OPEN_DEV_OR_SKIP(_fd)						\
	do {								\
		(_fd) = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);	\
		if ((_fd) < 0 && errno == ENOENT)			\
			SKIP(return, "%s absent (module not loaded)",	\
			     KDL_DEVICE_PATH);				\
		ASSERT_LE(0, (_fd));					\
	} while (0)

#endif /* KDL_TEST_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kdl_harness_main.h - TEST_HARNESS_MAIN with every test's timeout
 * multiplied by $KDL_TEST_TIMEOUT_SCALE (a whole number, 1 when unset).
 * The harness gives each test a fixed alarm (30 s unless TEST_F_TIMEOUT);
 * a KASAN + lockdep kernel under TCG runs the same test 5-20 times
 * slower, so tools/check.sh's vm-debug suite sets a scale instead of
 * every test carrying a timeout for the slowest kernel.
 */
#ifndef KDL_HARNESS_MAIN_H
#define KDL_HARNESS_MAIN_H

#include <stdlib.h>

#include "kselftest_harness.h"

static inline void kdl_scale_timeouts(void)
{
	const char *v = getenv("KDL_TEST_TIMEOUT_SCALE");
	long scale = v ? strtol(v, NULL, 10) : 1;
	struct __fixture_metadata *f;
	struct __test_metadata *t;

	if (scale <= 1 || scale > 1000)
		return;
	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			t->timeout *= scale;
}

#undef TEST_HARNESS_MAIN
#define TEST_HARNESS_MAIN \
	static void __attribute__((constructor)) \
	__constructor_order_last(void) \
	{ \
		if (!__constructor_order) \
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	} \
	int main(int argc, char **argv) \
	{ \
		kdl_scale_timeouts(); \
		return test_harness_run(argc, argv); \
	}

#endif

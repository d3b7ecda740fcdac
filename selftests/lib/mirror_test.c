/* mirror_test.c - an image placed below 4 GiB and mirrored at
 * mirror_base + its address, as a VM that shares a library with its guest
 * needs: code the same in both views, data coherent both ways, both views
 * gone after close.  Runs on both backends. */
#include "kdl_test.h"
#include "kselftest_harness.h"

#define WINDOW_LO 0x10000000ull
#define WINDOW_HI 0x100000000ull
#define MIRROR_BASE 0x200000000000ull

static int mapped_in(uintptr_t lo, uintptr_t hi)
{
	return maps_count_overlap(lo, hi);
}

TEST(mirror_below_4g_is_coherent_both_ways)
{
	struct kdl_load_args args = {
		.size = sizeof(args), .flags = KDL_LOAD_WINDOW | KDL_LOAD_MIRROR,
		.window_lo = WINDOW_LO, .window_hi = WINDOW_HI, .mirror_base = MIRROR_BASE,
	};
	void *h = kdl_open(fx_path("libfx_basic.so"), RTLD_NOW, &args);
	uintptr_t range[2], mirror = 0, delta;
	int (*get)(void);
	volatile int *counter, *mirrored;

	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_RANGE, range));
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_MIRROR, &mirror));
	EXPECT_LE(WINDOW_LO, range[0]);
	EXPECT_GE(WINDOW_HI, range[1]);
	EXPECT_EQ(MIRROR_BASE + range[0], mirror);
	delta = mirror - range[0];
	/* Code and read-only data read the same in both views. */
	EXPECT_EQ(0, memcmp((void *)range[0], (void *)mirror, 4096));
	get = (int (*)(void))kdl_sym(h, "fx_basic_get_counter");
	counter = kdl_sym(h, "fx_basic_counter");
	ASSERT_NE(NULL, get);
	ASSERT_NE(NULL, counter);
	mirrored = (volatile int *)((uintptr_t)counter + delta);
	EXPECT_EQ(*counter, *mirrored);
	*counter = 77;
	EXPECT_EQ(77, *mirrored);
	*mirrored = 99;
	EXPECT_EQ(99, get());
	/* The mirrored code runs too. */
	EXPECT_EQ(99, ((int (*)(void))((uintptr_t)get + delta))());
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(0, mapped_in(range[0], range[1]));
	EXPECT_EQ(0, mapped_in(mirror, mirror + (range[1] - range[0])));
}

TEST(mirror_base_must_be_page_aligned_and_clear_of_the_image)
{
	struct kdl_load_args args = {
		.size = sizeof(args), .flags = KDL_LOAD_WINDOW | KDL_LOAD_MIRROR,
		.window_lo = WINDOW_LO, .window_hi = WINDOW_HI, .mirror_base = MIRROR_BASE + 12,
	};

	EXPECT_EQ(NULL, kdl_open(fx_path("libfx_basic.so"), RTLD_NOW, &args));
	EXPECT_NE(NULL, kdl_error());
	args.mirror_base = 4096;	/* the mirror would overlap the image */
	EXPECT_EQ(NULL, kdl_open(fx_path("libfx_basic.so"), RTLD_NOW, &args));
	EXPECT_NE(NULL, kdl_error());
	EXPECT_EQ(0, maps_count_path(fx_path("libfx_basic.so")));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * concurrency_test.c - 8 threads mapping and unmapping images in one small
 * window on one fd, against threads taking pages of the same window with
 * mmap(MAP_FIXED_NOREPLACE): no overlap, no corruption, for a bounded time.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "kselftest_harness.h"
#include "kdl_test.h"

#define WIN_LO		0x580000000000UL
#define WIN_PAGES	72UL	/* 9 images: the window runs full */
#define WIN_HI		(WIN_LO + WIN_PAGES * PG)
#define MAPPERS		8
#define SQUATTERS	2
#define RUN_NS		2500000000LL

#define MIRROR_BASE	0x10000000000UL	/* mirrors at base + 1 TiB */

struct shared {
	int dev;
	int fd;
	bool mirror;
	atomic_int stop;
	atomic_long maps, enomem, squats, errors;
	char why[256];
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fail(struct shared *sh, const char *what, uint64_t addr)
{
	if (atomic_fetch_add(&sh->errors, 1) == 0)
		snprintf(sh->why, sizeof(sh->why), "%s at %#lx", what,
			 (unsigned long)addr);
}

static int map_one(struct shared *sh, uint64_t *base)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_map m;

	std_segments(s);
	std_map(&m, sh->fd, s, KDL_MAP_WINDOW);
	m.window_lo = WIN_LO;
	m.window_hi = WIN_HI;
	if (sh->mirror) {
		m.flags |= KDL_MAP_MIRROR | KDL_MAP_MIRROR_NOREPLACE;
		m.mirror_base = MIRROR_BASE;
	}
	if (ioctl(sh->dev, KDL_IOC_MAP, &m))
		return -1;
	*base = m.base;
	return 0;
}

static void *mapper(void *arg)
{
	struct shared *sh = arg;
	uint64_t sig = (uint64_t)(uintptr_t)pthread_self(), base, n = 0;

	while (!atomic_load(&sh->stop)) {
		volatile uint64_t *data, *bss;

		if (map_one(sh, &base)) {
			/* A squatter in the mirror range: MIRROR_NOREPLACE. */
			if (errno == ENOMEM || (sh->mirror && errno == EEXIST))
				atomic_fetch_add(&sh->enomem, 1);
			else
				fail(sh, "map failed", errno);
			continue;
		}
		if (base < WIN_LO || base + STD_SPAN > WIN_HI)
			fail(sh, "base outside the window", base);
		if (std_check(base, 0) != -1)
			fail(sh, "image content wrong", base);
		if (sh->mirror && std_check(base + MIRROR_BASE, 0) != -1)
			fail(sh, "mirror content wrong", base);
		data = (volatile uint64_t *)(base + 4 * PG + 0x80);
		bss = (volatile uint64_t *)(base + 6 * PG);
		*data = sig ^ n;
		*bss = sig + n;
		sched_yield();
		if (*data != (sig ^ n) || *bss != sig + n)
			fail(sh, "image overwritten", base);
		if (sh->mirror &&
		    *(volatile uint64_t *)((uintptr_t)data + MIRROR_BASE) !=
		    (sig ^ n))
			fail(sh, "mirror not coherent", base);
		if (unmap_image(sh->dev, base))
			fail(sh, "unmap failed", base);
		atomic_fetch_add(&sh->maps, 1);
		n++;
	}
	return NULL;
}

static void *squatter(void *arg)
{
	struct shared *sh = arg;
	unsigned int seed = (unsigned int)(uintptr_t)pthread_self();

	while (!atomic_load(&sh->stop)) {
		unsigned long pages = 1 + rand_r(&seed) % 4;
		unsigned long at = WIN_LO + (rand_r(&seed) % (WIN_PAGES - pages)) * PG;

		if (sh->mirror && (rand_r(&seed) & 1))
			at += MIRROR_BASE;
		uint64_t mark = ((uint64_t)seed << 20) | at >> 12;
		volatile uint64_t *p;
		unsigned long i;

		p = mmap((void *)at, pages * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			 -1, 0);
		if (p == MAP_FAILED) {
			if (errno != EEXIST)
				fail(sh, "squatter mmap", errno);
			continue;
		}
		for (i = 0; i < pages; i++)
			p[i * PG / 8] = mark + i;
		sched_yield();
		for (i = 0; i < pages; i++)
			if (p[i * PG / 8] != mark + i)
				fail(sh, "squatter page overwritten", at);
		munmap((void *)p, pages * PG);
		atomic_fetch_add(&sh->squats, 1);
	}
	return NULL;
}

static void run(struct __test_metadata *_metadata, bool mirror)
{
	pthread_t th[MAPPERS + SQUATTERS];
	static struct shared sh;
	char path[128];
	long long end;
	int i;

	memset(&sh, 0, sizeof(sh));
	sh.mirror = mirror;
	OPEN_DEV_OR_SKIP(sh.dev);
	sh.fd = make_image_file("conc", path, sizeof(path));
	ASSERT_LE(0, sh.fd);
	ASSERT_TRUE(range_free(WIN_LO, WIN_HI - WIN_LO));

	for (i = 0; i < MAPPERS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, mapper, &sh));
	for (; i < MAPPERS + SQUATTERS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, squatter, &sh));
	end = now_ns() + RUN_NS;
	while (now_ns() < end && !atomic_load(&sh.errors))
		usleep(50000);
	atomic_store(&sh.stop, 1);
	for (i = 0; i < MAPPERS + SQUATTERS; i++)
		pthread_join(th[i], NULL);

	TH_LOG("%ld images mapped+unmapped, %ld ENOMEM, %ld squats",
	       atomic_load(&sh.maps), atomic_load(&sh.enomem),
	       atomic_load(&sh.squats));
	EXPECT_EQ(0, atomic_load(&sh.errors)) {
		TH_LOG("first error: %s", sh.why);
	}
	EXPECT_LT(0, atomic_load(&sh.maps));
	EXPECT_LT(0, atomic_load(&sh.squats));
	/* Nothing left behind: every image was unmapped. */
	EXPECT_TRUE(range_free(WIN_LO, WIN_HI - WIN_LO));
	EXPECT_TRUE(range_free(WIN_LO + MIRROR_BASE, WIN_HI - WIN_LO));
	close(sh.fd);
	unlink(path);
	close(sh.dev);
}

TEST(eight_mappers_against_noreplace_squatters)
{
	run(_metadata, false);
}

/* The same with mirrored images: squatters may also take mirror pages. */
TEST(eight_mirrored_mappers_against_noreplace_squatters)
{
	run(_metadata, true);
}

TEST_HARNESS_MAIN

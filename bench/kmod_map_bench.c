// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_map_bench.c - what one KDL_IOC_MAP saves: an image mapped by the
 * module in one call vs the userspace sequence (reserve + one mmap per
 * segment + zeroing + bss), and a batch of 50 images in one call vs 50
 * calls (and 50 io_uring SQEs in one submission).  Not a test; run it in
 * the VM:  make bench-kmod   or   tools/vm/run.sh -- build/bench/kmod_map_bench
 *
 *   kmod_map_bench [-1] [ITERS]   ITERS images per side (default 4200);
 *                                 -1: the per-image comparison only
 *
 * The per-image comparison is the one issue 10 asks about, so it is run
 * to be fair to both sides: a warm-up of each, then ROUNDS rounds of
 * ITERS / ROUNDS images per side, the two sides taking turns to go first,
 * and the medians reported (TCG timing drifts and jumps).  The headline
 * kernel/user figure is the median of the rounds' ratios: the two sides
 * of one round run back to back, so a slow stretch of the VM weighs on
 * both.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/kdl.h>

#define PG		4096UL
#define NSEG		4
#define FILE_PAGES	24
#define SPAN		(32 * PG)
#define BATCH		50
#define ROUNDS		21

/* A small libc-like image: headers+rodata r, text r-x, rodata r, data+bss rw. */
static const struct kdl_segment segs[NSEG] = {
	{ .vaddr = 0, .offset = 0, .filesz = 4 * PG, .memsz = 4 * PG,
	  .prot = PROT_READ },
	{ .vaddr = 4 * PG, .offset = 4 * PG, .filesz = 12 * PG,
	  .memsz = 12 * PG, .prot = PROT_READ | PROT_EXEC },
	{ .vaddr = 16 * PG, .offset = 16 * PG, .filesz = 4 * PG,
	  .memsz = 4 * PG, .prot = PROT_READ },
	{ .vaddr = 20 * PG + 0x100, .offset = 20 * PG + 0x100,
	  .filesz = 3 * PG, .memsz = 8 * PG, .prot = PROT_READ | PROT_WRITE },
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Maps segments [@from, NSEG) over a reservation at @base. */
static void user_fill(char *base, int fd, int from, int *nsys)
{
	int i;

	for (i = from; i < NSEG; i++) {
		const struct kdl_segment *s = &segs[i];
		uintptr_t ps = s->vaddr & ~(PG - 1);
		uintptr_t fend = s->vaddr + s->filesz;
		uintptr_t fpe = (fend + PG - 1) & ~(PG - 1);
		uintptr_t mend = (s->vaddr + s->memsz + PG - 1) & ~(PG - 1);

		if (mmap(base + ps, fpe - ps, s->prot, MAP_PRIVATE | MAP_FIXED,
			 fd, s->offset & ~(PG - 1)) == MAP_FAILED)
			die("segment");
		(*nsys)++;
		if (s->memsz > s->filesz && (s->prot & PROT_WRITE))
			memset(base + fend, 0, fpe - fend);
		if (mend > fpe) {
			if (mmap(base + fpe, mend - fpe, s->prot,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				 -1, 0) == MAP_FAILED)
				die("bss");
			(*nsys)++;
		}
	}
}

/*
 * The minimal userspace sequence, the one the module is held to: an
 * anonymous PROT_NONE reservation, one mmap per segment (and bss), the
 * tail left as reserved.  Counts its syscalls in *nsys.
 */
static uintptr_t user_map(int fd, int *nsys)
{
	char *base;

	base = mmap(NULL, SPAN, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	(*nsys)++;
	if (base == MAP_FAILED)
		die("reserve");
	user_fill(base, fd, 0, nsys);
	return (uintptr_t)base;
}

/*
 * What libkdl's userspace backend does for this image (map_user.c,
 * reserve_with_first() and holes_none()): the first segment's file
 * mapping stretched over the span is the reservation, the other segments
 * go over it, and the pages after the last one are remapped anonymous
 * PROT_NONE.  Shown for information; the module is held to user_map().
 */
static uintptr_t libkdl_map(int fd, int *nsys)
{
	uintptr_t end = (segs[NSEG - 1].vaddr + segs[NSEG - 1].memsz + PG - 1) &
			~(PG - 1);
	char *base;

	base = mmap(NULL, SPAN, segs[0].prot, MAP_PRIVATE, fd, 0);
	(*nsys)++;
	if (base == MAP_FAILED)
		die("reserve with the first segment");
	user_fill(base, fd, 1, nsys);
	if (end < SPAN) {
		if (mmap(base + end, SPAN - end, PROT_NONE, MAP_PRIVATE |
			 MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) ==
		    MAP_FAILED)
			die("gap");
		(*nsys)++;
	}
	return (uintptr_t)base;
}

static void kdl_req(struct kdl_map *m, int fd)
{
	memset(m, 0, sizeof(*m));
	m->size = sizeof(*m);
	m->flags = KDL_MAP_ANYWHERE;
	m->fd = fd;
	m->nr_segments = NSEG;
	m->span = SPAN;
	m->segments = (uintptr_t)segs;
}

static void kdl_unmap1(int dev, uint64_t base)
{
	struct kdl_unmap u = { .size = sizeof(u), .base = base };

	if (ioctl(dev, KDL_IOC_UNMAP, &u))
		die("KDL_IOC_UNMAP");
}

static void report(const char *what, int n, double t, double sys)
{
	printf("%-40s %8.2f us/image  %5.1f syscalls/image\n", what,
	       t / n * 1e6, sys / n);
}

/* @n images mapped by @map_fn and unmapped; seconds. */
static double user_round(uintptr_t (*map_fn)(int, int *), int fd, int n,
			 int *nsys)
{
	double t0 = now();
	int i;

	for (i = 0; i < n; i++) {
		uintptr_t b = map_fn(fd, nsys);

		munmap((void *)b, SPAN);
		(*nsys)++;
	}
	return now() - t0;
}

/* @n images mapped and unmapped by KDL_IOC_MAP + KDL_IOC_UNMAP; seconds. */
static double kdl_round(int dev, int fd, int n)
{
	struct kdl_map m;
	double t0 = now();
	int i;

	for (i = 0; i < n; i++) {
		kdl_req(&m, fd);
		if (ioctl(dev, KDL_IOC_MAP, &m))
			die("KDL_IOC_MAP");
		kdl_unmap1(dev, m.base);
	}
	return now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double lowest(const double *v, int n)
{
	double m = v[0];
	int i;

	for (i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

static double highest(const double *v, int n)
{
	double m = v[0];
	int i;

	for (i = 1; i < n; i++)
		m = v[i] > m ? v[i] : m;
	return m;
}

static double median(const double *v, int n)
{
	double s[ROUNDS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return s[n / 2];
}

/*
 * 1. One image: the userspace sequence vs one ioctl each way.  Each round
 * gives both sides the same number of images; odd rounds run the kernel
 * first.  Reported: the median round (us/image) of each side, its range,
 * the median and range of the rounds' kernel/user ratios, and the ratio
 * of the two medians; then, for information, libkdl's own userspace
 * sequence (third in every round) and the median kernel/it ratio.
 */
static void per_image(int dev, int fd, int iters)
{
	int n = iters / ROUNDS > 0 ? iters / ROUNDS : 1, warm = n / 4 + 1;
	double u[ROUNDS], k[ROUNDS], l[ROUNDS], ratio[ROUNDS], lratio[ROUNDS];
	int r, nsys = 0, lsys = 0;

	user_round(user_map, fd, warm, &nsys);
	user_round(libkdl_map, fd, warm, &lsys);
	kdl_round(dev, fd, warm);
	nsys = lsys = 0;
	for (r = 0; r < ROUNDS; r++) {
		if (r & 1) {
			k[r] = kdl_round(dev, fd, n) / n * 1e6;
			u[r] = user_round(user_map, fd, n, &nsys) / n * 1e6;
		} else {
			u[r] = user_round(user_map, fd, n, &nsys) / n * 1e6;
			k[r] = kdl_round(dev, fd, n) / n * 1e6;
		}
		l[r] = user_round(libkdl_map, fd, n, &lsys) / n * 1e6;
		ratio[r] = k[r] / u[r];
		lratio[r] = k[r] / l[r];
	}
	printf("%-40s %8.2f us/image  %5.1f syscalls/image  (rounds %.0f-%.0f)\n",
	       "userspace reserve+mmap/segment+munmap", median(u, ROUNDS),
	       (double)nsys / (n * ROUNDS), lowest(u, ROUNDS),
	       highest(u, ROUNDS));
	printf("%-40s %8.2f us/image  %5.1f syscalls/image  (rounds %.0f-%.0f)\n",
	       "KDL_IOC_MAP + KDL_IOC_UNMAP", median(k, ROUNDS), 2.0,
	       lowest(k, ROUNDS), highest(k, ROUNDS));
	printf("kernel/user: %.3f (median of %d rounds of %d images, each "
	       "%.3f-%.3f); ratio of the medians %.3f\n", median(ratio, ROUNDS),
	       ROUNDS, n, lowest(ratio, ROUNDS), highest(ratio, ROUNDS),
	       median(k, ROUNDS) / median(u, ROUNDS));
	printf("%-40s %8.2f us/image  %5.1f syscalls/image  (kernel/it %.3f)\n",
	       "libkdl user backend (1st seg reserves)", median(l, ROUNDS),
	       (double)lsys / (n * ROUNDS), median(lratio, ROUNDS));
}

int main(int argc, char **argv)
{
	bool only_per_image = argc > 1 && !strcmp(argv[1], "-1");
	int iters;
	struct kdl_map maps[BATCH];
	uint64_t ptrs[BATCH];
	struct io_uring ring;
	char path[] = "/tmp/kdl-bench-XXXXXX";
	static char page[PG];
	double t0, t;
	int dev, fd, i, j;

	if (only_per_image) {
		argc--;
		argv++;
	}
	iters = argc > 1 ? atoi(argv[1]) : 4200;
	if (iters <= 0) {
		fprintf(stderr, "usage: kmod_map_bench [-1] [ITERS]\n");
		return 2;
	}

	dev = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die(KDL_DEVICE_PATH);
	fd = mkstemp(path);
	if (fd < 0)
		die("mkstemp");
	for (i = 0; i < FILE_PAGES; i++) {
		memset(page, i + 1, sizeof(page));
		if (write(fd, page, PG) != (ssize_t)PG)
			die("write");
	}
	printf("image: %d segments, %lu KiB span, %d iterations\n", NSEG,
	       SPAN / 1024, iters);

	per_image(dev, fd, iters);
	if (only_per_image)
		goto out;

	/* 2. 50 images: 50 calls vs one batch vs one io_uring submission. */
	int rounds = iters / BATCH > 4 ? iters / BATCH : 4;

	t0 = now();
	for (j = 0; j < rounds; j++) {
		for (i = 0; i < BATCH; i++) {
			kdl_req(&maps[i], fd);
			if (ioctl(dev, KDL_IOC_MAP, &maps[i]))
				die("KDL_IOC_MAP");
		}
		for (i = 0; i < BATCH; i++)
			munmap((void *)maps[i].base, SPAN);
	}
	t = now() - t0;
	report("50 x KDL_IOC_MAP (map only + munmap)", rounds * BATCH, t,
	       2.0 * rounds * BATCH);

	t0 = now();
	for (j = 0; j < rounds; j++) {
		struct kdl_map_batch b = { .size = sizeof(b), .count = BATCH,
					   .maps = (uintptr_t)ptrs };

		for (i = 0; i < BATCH; i++) {
			kdl_req(&maps[i], fd);
			ptrs[i] = (uintptr_t)&maps[i];
		}
		if (ioctl(dev, KDL_IOC_MAP_BATCH, &b))
			die("KDL_IOC_MAP_BATCH");
		for (i = 0; i < BATCH; i++)
			munmap((void *)maps[i].base, SPAN);
	}
	t = now() - t0;
	report("1 x KDL_IOC_MAP_BATCH(50) + munmap", rounds * BATCH, t,
	       (1.0 + BATCH) * rounds);

	if (io_uring_queue_init(64, &ring, 0) == 0) {
		t0 = now();
		for (j = 0; j < rounds; j++) {
			struct io_uring_cqe *cqe;

			for (i = 0; i < BATCH; i++) {
				struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
				struct kdl_uring_cmd *c;

				kdl_req(&maps[i], fd);
				io_uring_prep_rw(IORING_OP_URING_CMD, sqe, dev,
						 NULL, 0, 0);
				sqe->cmd_op = KDL_URING_CMD_MAP;
				c = (struct kdl_uring_cmd *)sqe->cmd;
				c->addr = (uintptr_t)&maps[i];
				c->reserved = 0;
			}
			if (io_uring_submit_and_wait(&ring, BATCH) < 0)
				die("io_uring_submit_and_wait");
			for (i = 0; i < BATCH; i++) {
				if (io_uring_wait_cqe(&ring, &cqe))
					die("io_uring_wait_cqe");
				if (cqe->res)
					fprintf(stderr, "uring map: %d\n", cqe->res);
				io_uring_cqe_seen(&ring, cqe);
			}
			for (i = 0; i < BATCH; i++)
				munmap((void *)maps[i].base, SPAN);
		}
		t = now() - t0;
		report("io_uring 50 SQEs, 1 submit + munmap", rounds * BATCH, t,
		       (1.0 + BATCH) * rounds);
		io_uring_queue_exit(&ring);
	}
out:
	close(fd);
	unlink(path);
	close(dev);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_map_bench.c - what one KDL_IOC_MAP saves: an image mapped by the
 * module in one call vs the userspace sequence (reserve + one mmap per
 * segment + zeroing + bss), and a batch of 50 images in one call vs 50
 * calls (and 50 io_uring SQEs in one submission).  Not a test; run it in
 * the VM:  make bench-kmod   or   tools/vm/run.sh -- build/bench/kmod_map_bench
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
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

/* The userspace loader's sequence; counts its syscalls in *nsys. */
static uintptr_t user_map(int fd, int *nsys)
{
	char *base;
	int i;

	base = mmap(NULL, SPAN, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	(*nsys)++;
	if (base == MAP_FAILED)
		die("reserve");
	for (i = 0; i < NSEG; i++) {
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

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 2000;
	struct kdl_map maps[BATCH];
	uint64_t ptrs[BATCH];
	struct io_uring ring;
	char path[] = "/tmp/kdl-bench-XXXXXX";
	static char page[PG];
	double t0, t;
	int dev, fd, i, j, nsys;

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

	/* 1. One image: userspace sequence vs one ioctl (map + unmap). */
	nsys = 0;
	t0 = now();
	for (i = 0; i < iters; i++) {
		uintptr_t b = user_map(fd, &nsys);

		munmap((void *)b, SPAN);
		nsys++;
	}
	t = now() - t0;
	report("userspace reserve+mmap/segment+munmap", iters, t, nsys);

	t0 = now();
	for (i = 0; i < iters; i++) {
		kdl_req(&maps[0], fd);
		if (ioctl(dev, KDL_IOC_MAP, &maps[0]))
			die("KDL_IOC_MAP");
		kdl_unmap1(dev, maps[0].base);
	}
	t = now() - t0;
	report("KDL_IOC_MAP + KDL_IOC_UNMAP", iters, t, 2.0 * iters);

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
	close(fd);
	unlink(path);
	close(dev);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kdl_util.h - the helpers of the kdl.ko selftests that need no harness: a
 * hand-made image file with known page patterns, its segment table, and
 * /proc/self/maps probes.  kdl_test.h adds the harness; a file of a test
 * program that is not its harness file (stress/) includes this one.
 */
#ifndef KDL_UTIL_H
#define KDL_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kdl.h>

#define PG		4096UL
#define GIB		(1UL << 30)

/*
 * The standard test image (8 pages of address space, file of 4 pages):
 *   page 0-1  text  r-x  file pages 0-1
 *   page 2    gap   ---
 *   page 3-4  data  rw-  file bytes [2P, 3P + 0x40) at image 3P + 0x40,
 *                        zero from 4P + 0x40
 *   page 5-6  bss   rw-  anonymous zero
 *   page 7    gap   ---
 */
#define STD_SPAN	(8 * PG)
#define STD_FILE_PAGES	4
#define STD_NSEGS	2
#define STD_DATA_VADDR	(3 * PG + 0x40)
#define STD_DATA_OFF	(2 * PG + 0x40)
#define STD_DATA_FILESZ	PG
#define STD_DATA_MEMSZ	(3 * PG)

/* The byte the image file holds at file offset @off. */
static inline uint8_t pat_byte(uint64_t off)
{
	return (uint8_t)((off / PG) * 31 + (off % 251) + 7);
}

static inline void fill_pattern(uint8_t *buf, uint64_t off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pat_byte(off + i);
}

/* Writes @npages of pattern to @fd starting at file offset @at. */
static inline int write_pattern(int fd, uint64_t at, size_t npages)
{
	static uint8_t page[PG];
	size_t i;

	for (i = 0; i < npages; i++) {
		fill_pattern(page, i * PG, PG);
		if (pwrite(fd, page, PG, at + i * PG) != (ssize_t)PG)
			return -1;
	}
	return 0;
}

/* Creates /tmp/kdl-<tag>-<pid> with the standard image; returns an fd. */
static inline int make_image_file(const char *tag, char *path, size_t plen)
{
	int fd;

	snprintf(path, plen, "/tmp/kdl-%s-%d.so", tag, getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd < 0)
		return -1;
	if (write_pattern(fd, 0, STD_FILE_PAGES)) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline void std_segments(struct kdl_segment *s)
{
	memset(s, 0, STD_NSEGS * sizeof(*s));
	s[0].vaddr = 0;
	s[0].offset = 0;
	s[0].filesz = 2 * PG;
	s[0].memsz = 2 * PG;
	s[0].prot = PROT_READ | PROT_EXEC;
	s[1].vaddr = STD_DATA_VADDR;
	s[1].offset = STD_DATA_OFF;
	s[1].filesz = STD_DATA_FILESZ;
	s[1].memsz = STD_DATA_MEMSZ;
	s[1].prot = PROT_READ | PROT_WRITE;
}

static inline void std_map(struct kdl_map *m, int fd, struct kdl_segment *s,
			   unsigned int placement)
{
	memset(m, 0, sizeof(*m));
	m->size = sizeof(*m);
	m->flags = placement;
	m->fd = fd;
	m->nr_segments = STD_NSEGS;
	m->span = STD_SPAN;
	m->segments = (uintptr_t)s;
}

/*
 * Checks the standard image at @base (file at @file_base inside its
 * source); returns the image offset of the first wrong byte, or -1.
 */
static inline long std_check(uintptr_t base, uint64_t file_base)
{
	const uint8_t *p = (const uint8_t *)base;
	uint64_t i;

	for (i = 0; i < 2 * PG; i++)
		if (p[i] != pat_byte(i))
			return i;
	for (i = 3 * PG; i < STD_DATA_VADDR + STD_DATA_FILESZ; i++)
		if (p[i] != pat_byte(i - 3 * PG + 2 * PG))
			return i;
	for (; i < 7 * PG; i++)
		if (p[i])
			return i;
	(void)file_base;
	return -1;
}

/* The standard image with its file patterns in the data segment too. */
static inline int map_std(int dev, int fd, unsigned int placement,
			  uint64_t lo, uint64_t hi, uint64_t *base)
{
	struct kdl_segment s[STD_NSEGS];
	struct kdl_map m;
	int ret;

	std_segments(s);
	std_map(&m, fd, s, placement);
	m.window_lo = lo;
	m.window_hi = hi;
	m.fixed_addr = lo;
	ret = ioctl(dev, KDL_IOC_MAP, &m);
	if (!ret)
		*base = m.base;
	return ret;
}

static inline int unmap_image(int dev, uint64_t base)
{
	struct kdl_unmap u = { .size = sizeof(u), .base = base };

	return ioctl(dev, KDL_IOC_UNMAP, &u);
}

/* Reads /proc/self/maps into @buf without allocating. */
static inline size_t read_maps(char *buf, size_t len)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return 0;
	while (n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
	close(fd);
	return n;
}

struct map_line {
	unsigned long start, end;
	char perms[8];
	char path[256];
};

/*
 * Calls @fn on each mapping overlapping [lo, hi); returns how many there
 * are.  @fn may be NULL.
 */
static inline int for_each_map(unsigned long lo, unsigned long hi,
			       void (*fn)(const struct map_line *, void *),
			       void *arg)
{
	static char buf[1 << 18];
	struct map_line ml;
	char *line, *save = NULL;
	int count = 0;

	read_maps(buf, sizeof(buf));
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		memset(&ml, 0, sizeof(ml));
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &ml.start,
			   &ml.end, ml.perms, ml.path) < 3)
			continue;
		if (ml.end <= lo || ml.start >= hi)
			continue;
		count++;
		if (fn)
			fn(&ml, arg);
	}
	return count;
}

static inline int count_maps(unsigned long lo, unsigned long hi)
{
	return for_each_map(lo, hi, NULL, NULL);
}

struct map_probe {
	unsigned long addr;
	struct map_line found;
	int hits;
};

static inline void probe_cb(const struct map_line *ml, void *arg)
{
	struct map_probe *p = arg;

	if (ml->start <= p->addr && p->addr < ml->end) {
		p->found = *ml;
		p->hits++;
	}
}

/* The /proc/self/maps line covering @addr; false if unmapped. */
static inline int probe_map(unsigned long addr, struct map_line *out)
{
	struct map_probe p = { .addr = addr };

	for_each_map(addr, addr + 1, probe_cb, &p);
	if (p.hits && out)
		*out = p.found;
	return p.hits;
}

/* Is [addr, addr + len) free of mappings? */
static inline int range_free(unsigned long addr, unsigned long len)
{
	return count_maps(addr, addr + len) == 0;
}

#endif /* KDL_UTIL_H */

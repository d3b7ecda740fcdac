/* kdl_src_test.h - helpers for the source tests: what backs an object's
 * pages according to /proc/self/maps, and small files to load from. */
#ifndef KDL_SRC_TEST_H
#define KDL_SRC_TEST_H

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kdl.h"

#define ZLIB_PATH "/lib/x86_64-linux-gnu/libz.so.1"

/* The file-backed mappings inside [lo, hi): how many name a path
 * containing @needle, how many name anything else, and the smallest file
 * offset among the first kind. */
struct backing_report {
	int matching, other_files, anon;
	uint64_t min_offset;
	uint64_t inode;
};

static inline void backing_of_range(uintptr_t lo, uintptr_t hi, const char *needle,
				    struct backing_report *r)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[4352];

	memset(r, 0, sizeof(*r));
	r->min_offset = UINT64_MAX;
	while (f && fgets(line, sizeof(line), f)) {
		uintptr_t s, e;
		uint64_t off, ino;
		int at = 0;
		char *path;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %" SCNx64 " %*s %" SCNu64 " %n",
			   &s, &e, &off, &ino, &at) < 4 || e <= lo || s >= hi)
			continue;
		path = at ? line + at : (char *)"";
		path[strcspn(path, "\n")] = '\0';
		if (!ino) {
			r->anon++;
		} else if (strstr(path, needle)) {
			r->matching++;
			r->inode = ino;
			if (off < r->min_offset)
				r->min_offset = off;
		} else {
			r->other_files++;
		}
	}
	if (f)
		fclose(f);
}

static inline void object_range(void *h, uintptr_t r[2])
{
	r[0] = r[1] = 0;
	kdl_info(h, KDL_INFO_RANGE, r);
}

static inline int zero_copy_of(void *h)
{
	int zc = -1;

	kdl_info(h, KDL_INFO_ZERO_COPY, &zc);
	return zc;
}

/* Read a whole file into malloc'd memory. */
static inline unsigned char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned char *b;

	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	b = malloc(st.st_size);
	if (b && pread(fd, b, st.st_size, 0) != st.st_size) {
		free(b);
		b = NULL;
	}
	close(fd);
	*len = st.st_size;
	return b;
}

/* zlibVersion() through kdl_sym, or NULL. */
static inline const char *zlib_version_of(void *h)
{
	const char *(*v)(void) = (const char *(*)(void))kdl_sym(h, "zlibVersion");

	return v ? v() : NULL;
}

#endif

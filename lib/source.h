/* source.h - where an image's bytes come from: a file or memfd at an
 * offset, a zip entry, or a memory buffer -- and whether they are mapped
 * from the source's own pages (zero-copy) or from a sealed memfd copy. */
#ifndef KDL_SOURCE_H
#define KDL_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "kdl_internal.h"

/* The first bytes of a file a search opened, kept so that the load does
 * not read them again. */
#define KDL_HEAD_READ 1024
struct kdl_head {
	unsigned char buf[KDL_HEAD_READ];
	size_t len;
};

struct kdl_source {
	int fd;			/* what the segments are mapped from */
	bool own_fd;		/* close fd when done */
	uint64_t offset;	/* image start in fd (page aligned) */
	uint64_t size;		/* image bytes */
	const void *mem;	/* headers are read from here when set */
	uintptr_t addr;		/* kernel backend: map the backing of this range */
	bool copied;		/* one copy was made (not zero-copy) */
	bool noexec;		/* the copied bytes are a noexec mount's */
	dev_t dev;		/* identity, for "already loaded?" */
	ino_t ino;
	uint64_t id_offset;
	bool stat_known;	/* file_size, mtime, ctime are the file's */
	uint64_t file_size;
	struct timespec mtime, ctime;
	char *container;	/* zip file of a container entry */
	char *container_dir;	/* the entry's directory inside it */
	/* Set when fd was opened from the load's path by kdl_search(): the
	 * file's first bytes, read there already (len 0: none). */
	const struct kdl_head *head;
};

#define KDL_SOURCE_INIT { .fd = -1 }

/* @fd at byte @offset, @size bytes (0: to the end of the file).  An
 * unaligned offset costs one copy into a sealed memfd. */
KDL_HIDDEN int kdl_source_fd(struct kdl_source *s, int fd, uint64_t offset,
			     uint64_t size, const char *name);
/* "zip!/entry": a stored entry, zero-copy when its data is page aligned.
 * 1 when the zip has no such entry. */
KDL_HIDDEN int kdl_source_container(struct kdl_source *s, const char *zip,
				    const char *entry, const char *name);
/* A buffer holding an ELF file image. */
KDL_HIDDEN int kdl_source_mem(struct kdl_source *s, const void *buf, size_t len,
			      bool kernel_backend, const char *name);
/* Read @len bytes at image offset @off. */
KDL_HIDDEN int kdl_source_read(const struct kdl_source *s, void *buf, size_t len,
			       uint64_t off);
KDL_HIDDEN void kdl_source_release(struct kdl_source *s);

/* 1 if @hit picks the /proc/self/pagemap entry of some page of
 * [@addr, @addr + @len); 1 also when pagemap cannot be read. */
KDL_HIDDEN int kdl_pagemap_any(uintptr_t addr, size_t len, bool (*hit)(uint64_t ent));

/* Split "a.zip!/lib/x.so" into a malloc'd zip path and entry; 0 if @path
 * names no container. */
KDL_HIDDEN int kdl_container_split(const char *path, char **zip, char **entry);

/* perf_copy.c: KDL_PERF=1 asks for copies perf can read back; a file of
 * the user's own for @label, O_RDWR, its path in *@path. */
KDL_HIDDEN bool kdl_perf_copies(void);
KDL_HIDDEN int kdl_perf_file_create(const char *label, const char *name, char **path);

#endif

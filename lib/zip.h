/* zip.h - find entries in a zip container by its central directory. */
#ifndef KDL_ZIP_H
#define KDL_ZIP_H

#include <stdint.h>

#include "kdl_internal.h"

struct kdl_zip_entry {
	uint64_t data_offset;	/* where the entry's bytes start in the file */
	uint64_t size;		/* uncompressed size */
	uint64_t csize;		/* stored size */
	uint16_t method;	/* 0 stored, 8 deflate, ... */
};

/*
 * Find @name in the zip open at @fd (file size @file_size).  Returns 0 and
 * fills *e; 1 when the archive is sound but has no such entry; or -1 with
 * kdl_error() naming @zip_name and what is wrong:
 * no such entry, a malformed or hostile archive (structures outside the
 * file, entries overlapping each other or the central directory, lying
 * sizes, a name present twice).
 */
KDL_HIDDEN int kdl_zip_find(int fd, uint64_t file_size, const char *zip_name,
			    const char *name, struct kdl_zip_entry *e);

#endif

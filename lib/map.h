/* map.h - the mapping backends: put a validated image into memory. */
#ifndef KDL_MAP_H
#define KDL_MAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "elf_image.h"

/* Where an image's bytes come from: a file (or memfd) at a byte offset. */
struct kdl_src {
	int fd;
	uint64_t base;		/* offset of the image inside the file */
	uint64_t size;		/* bytes of the image */
	uintptr_t addr;		/* kernel backend: map the file behind this
				   user range instead of fd (KDL_MAP_SRC_ADDR) */
	/* A relocation-cache entry (reloc_cache.c): when data_off is set and
	 * data_off[i] != KDL_NO_DATA, PT_LOAD i's file pages, [PAGE_DOWN(vaddr),
	 * PAGE_UP(vaddr + filesz)), come from data_fd at byte data_off[i]
	 * (page aligned) as they are -- their tail after filesz is already
	 * zero, so it is not written (which would dirty the page). */
	int data_fd;
	const uint64_t *data_off;
};

#define KDL_NO_DATA UINT64_MAX

/* Page rounding of image addresses and file offsets. */
#define PAGE_DOWN(x) ((x) & ~(4096ULL - 1))
#define PAGE_UP(x) (((x) + 4096ULL - 1) & ~(4096ULL - 1))

struct kdl_placement {
	unsigned int flags;	/* KDL_LOAD_WINDOW, KDL_LOAD_FIXED, KDL_LOAD_MIRROR */
	uint64_t lo, hi;	/* window */
	uint64_t align;
	uint64_t fixed;
	uint64_t mirror_base;
};

struct kdl_mapping {
	uintptr_t start;	/* first byte of the span */
	size_t len;		/* the span */
	uintptr_t bias;		/* start - min_vaddr */
	uintptr_t mirror;	/* start of the mirror view, 0 if none */
	int backend;		/* KDL_BACKEND_* */
	/* User backend, mirrored: the memfd both views map their writable
	 * segments from (kept for KDL_INFO_SEGMENT_FD), else -1; and where
	 * each PT_LOAD's pages start in it (KDL_NO_DATA: not in it). */
	int shared_fd;
	uint64_t shared_off[KDL_MAX_LOADS];
};

KDL_HIDDEN int kdl_map_user(const struct kdl_elf *e, const struct kdl_src *src,
			    const struct kdl_placement *pl, struct kdl_mapping *m,
			    const char *name);
KDL_HIDDEN void kdl_unmap_user(struct kdl_mapping *m);
/* Map PT_LOAD @l of an image at @bias over what is there (either
 * backend's span): its file pages from @src, or from src->data_fd at
 * @data_off unless that is KDL_NO_DATA, then its zero-filled tail. */
KDL_HIDDEN int kdl_map_segment(const struct kdl_elf_load *l, uint64_t data_off,
			       const struct kdl_src *src, uintptr_t bias, const char *name);
KDL_HIDDEN int kdl_map_kernel(const struct kdl_elf *e, const struct kdl_src *src,
			      const struct kdl_placement *pl, struct kdl_mapping *m,
			      const char *name);
KDL_HIDDEN void kdl_unmap_kernel(struct kdl_mapping *m);
/* A new fd (O_RDWR, FD_CLOEXEC) for the shmem object behind writable
 * PT_LOAD @index of the image @m, which the kernel backend mapped with a
 * mirror: mmap it MAP_SHARED at *@offset for *@len bytes (either may be
 * NULL) to share the segment's pages with both views.  Returns the fd,
 * or -1 with kdl_error() set (naming /dev/kdl and the errno, or the
 * missing KDL_FEAT_SEGMENT_FD). */
KDL_HIDDEN int kdl_map_kernel_segment_fd(const struct kdl_mapping *m, unsigned int index,
					 uint64_t *offset, uint64_t *len);
/* backend.c: /dev/kdl is usable and maps KDL_SEG_DATA_FD segments, so
 * kdl_map_kernel() takes a src with data_off (else it refuses one). */
KDL_HIDDEN bool kdl_kernel_has_data_fd(void);

/* map_limit.c: for an mmap or mprotect that failed with @err, the words
 * naming vm.max_map_count when the process is at that limit, else "". */
KDL_HIDDEN const char *kdl_map_limit_hint(int err);

static inline int kdl_prot(uint32_t pf)
{
	return ((pf & PF_R) ? 1 : 0) | ((pf & PF_W) ? 2 : 0) | ((pf & PF_X) ? 4 : 0);
}

#endif

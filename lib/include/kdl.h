/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kdl.h - public interface of libkdl, a dynamic loader that runs inside an
 * ordinary glibc process.  The calls keep dlfcn's shape: porting code is a
 * rename.  Structs start with a size_t size set to sizeof() so fields can
 * be added later.
 */
#ifndef KDL_H
#define KDL_H

#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kdl_ns;
struct dl_phdr_info;

#ifndef __USE_GNU
/* <dlfcn.h> declares Dl_info only under _GNU_SOURCE; same layout here. */
typedef struct {
	const char *dli_fname;
	void *dli_fbase;
	const char *dli_sname;
	void *dli_saddr;
} Dl_info;
#endif

#define KDL_PUBLIC __attribute__((visibility("default")))

/* kdl_load_args.flags */
#define KDL_LOAD_BACKEND_USER	 0x1u	/* map with plain syscalls */
#define KDL_LOAD_BACKEND_KERNEL	 0x2u	/* map through /dev/kdl; error if absent */
#define KDL_LOAD_WINDOW		 0x4u	/* place inside [window_lo, window_hi) */
#define KDL_LOAD_FIXED		 0x8u	/* place at fixed_addr (must be free) */
#define KDL_LOAD_MIRROR		0x10u	/* also map at mirror_base + address */
#define KDL_LOAD_NO_CACHE	0x20u	/* neither use nor write the relocation
					   cache for this load (kdl_open(3)) */
#define KDL_LOAD_NORELOC	0x40u	/* map the tree, relocate nothing, run
					   nothing: kdl_relocate(3) does */

struct kdl_load_args {
	size_t size;		/* sizeof(struct kdl_load_args) */
	struct kdl_ns *ns;	/* NULL: the default namespace */
	const char *name;	/* display name (fd, memory and container loads) */
	unsigned int flags;	/* KDL_LOAD_* */
	uint64_t window_lo;	/* KDL_LOAD_WINDOW */
	uint64_t window_hi;
	uint64_t align;		/* base alignment, 0: the image's own */
	uint64_t fixed_addr;	/* KDL_LOAD_FIXED */
	uint64_t mirror_base;	/* KDL_LOAD_MIRROR */
};

/* kdl_ns_config.flags (kdl_ns_create(3)) */
#define KDL_NS_ISOLATED		0x1u	/* loads only from library_path and
					   permitted_paths */
#define KDL_NS_SHARED		0x2u	/* starts with a copy of its parent's
					   objects, paths and links */

struct kdl_ns_config {
	size_t size;		/* sizeof(struct kdl_ns_config) */
	const char *name;	/* for messages and kdl ldd */
	const char *library_path; /* ':'-separated, searched before defaults */
	const char *shared;	/* ':'-separated sonames taken from the process
				   in addition to the libc group */
	unsigned int flags;	/* KDL_NS_* */
	/* Since symbol version KDL_0.2 (a smaller size leaves them zero): */
	const char *permitted_paths; /* KDL_NS_ISOLATED: ':'-separated
				   directories loads may also come from,
				   subdirectories included */
	struct kdl_ns *parent;	/* KDL_NS_SHARED: NULL is the default one */
	unsigned int load_flags; /* KDL_LOAD_WINDOW, KDL_LOAD_MIRROR and
				   KDL_LOAD_BACKEND_*: every load into it */
	uint64_t window_lo;	/* KDL_LOAD_WINDOW */
	uint64_t window_hi;
	uint64_t mirror_base;	/* KDL_LOAD_MIRROR */
};

KDL_PUBLIC void *kdl_open(const char *path, int mode, const struct kdl_load_args *args);
KDL_PUBLIC void *kdl_fdopen(int fd, off_t offset, int mode,
		 const struct kdl_load_args *args);
KDL_PUBLIC void *kdl_memopen(const void *buf, size_t len, int mode,
		  const struct kdl_load_args *args);
KDL_PUBLIC void *kdl_sym(void *handle, const char *name);
KDL_PUBLIC void *kdl_vsym(void *handle, const char *name, const char *version);
KDL_PUBLIC int kdl_addr(const void *addr, Dl_info *info);
KDL_PUBLIC int kdl_close(void *handle);
KDL_PUBLIC const char *kdl_error(void);
KDL_PUBLIC int kdl_info(void *handle, int request, void *arg);
KDL_PUBLIC int kdl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *),
		     void *data);

KDL_PUBLIC struct kdl_ns *kdl_ns_create(const struct kdl_ns_config *cfg);
KDL_PUBLIC int kdl_ns_link(struct kdl_ns *from, struct kdl_ns *to, const char *sonames);
KDL_PUBLIC int kdl_ns_link_all(struct kdl_ns *from, struct kdl_ns *to);
KDL_PUBLIC int kdl_ns_destroy(struct kdl_ns *ns);
KDL_PUBLIC int kdl_ns_iterate_phdr(struct kdl_ns *ns,
				   int (*cb)(struct dl_phdr_info *, size_t, void *),
				   void *data);
KDL_PUBLIC int kdl_relocate(void *handle);

/* Backends, as answered by KDL_INFO_BACKEND. */
#define KDL_BACKEND_USER	1
#define KDL_BACKEND_KERNEL	2

/* kdl_info requests.  The handle may be NULL where noted. */
enum {
	KDL_INFO_BACKEND = 1,	/* int *: backend of handle; NULL: the
				   backend a load would use now */
	KDL_INFO_BIAS,		/* uintptr_t *: load bias */
	KDL_INFO_RANGE,		/* uintptr_t[2]: mapped [start, end) */
	KDL_INFO_PATH,		/* const char **: path or display name */
	KDL_INFO_NS,		/* struct kdl_ns **: namespace */
	KDL_INFO_MIRROR,	/* uintptr_t *: mirror address of base, 0 if none */
	KDL_INFO_TLS_MODID,	/* size_t *: TLS module id, 0 if none */
	KDL_INFO_TLS_BLOCK,	/* void **: this thread's TLS block */
	KDL_INFO_ZERO_COPY,	/* int *: 1 if mapped from the source's pages */
	KDL_INFO_ABI_VERSION,	/* unsigned *: /dev/kdl ABI (handle NULL) */
	KDL_INFO_NDEPS,		/* size_t *: number of DT_NEEDED entries */
	KDL_INFO_DEP,		/* struct kdl_info_dep *: one of them */
	KDL_INFO_SYSTEM,	/* int *: 1 if this is the process's own copy
				   (the runtime group), bound, not loaded */
	KDL_INFO_FILE,		/* const char **: the file it was mapped from */
	KDL_INFO_CACHED,	/* int *: 1 if its relocated writable pages
				   came from the relocation cache */
	KDL_INFO_RELOCATED,	/* int *: 0 while a KDL_LOAD_NORELOC load
				   waits for kdl_relocate(3), else 1 */
	KDL_INFO_SEGMENT_FD,	/* struct kdl_info_segment_fd *: a new fd of
				   a mirrored writable segment's pages */
	KDL_INFO_NS_NAME,	/* const char **: its namespace's name */
};

struct kdl_info_segment_fd {
	size_t index;		/* in: PT_LOAD index, from 0 */
	int fd;			/* out: O_CLOEXEC; the caller closes it */
	uint64_t offset;	/* out: where the segment's first page is */
	uintptr_t addr;		/* out: that page in the primary view */
	size_t len;		/* out: bytes of its pages */
};

struct kdl_info_dep {
	size_t index;		/* in: 0 .. KDL_INFO_NDEPS - 1 */
	const char *needed;	/* out: the DT_NEEDED string */
	void *handle;		/* out: what it resolved to (no reference taken) */
};

#ifdef __cplusplus
}
#endif

#endif /* KDL_H */

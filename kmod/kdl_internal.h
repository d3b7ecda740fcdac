/* SPDX-License-Identifier: GPL-2.0 */
/* kdl_internal.h - state shared by the files of kdl.ko. */
#ifndef KDL_INTERNAL_H
#define KDL_INTERNAL_H

#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/spinlock.h>
#include <linux/kdl.h>

#define KDL_MAX_SEGMENTS	64
#define KDL_MAX_BATCH		256
/* Segment arrays up to this long are copied into struct kdl_req itself. */
#define KDL_SEGS_ON_STACK	8

struct file;
struct io_uring_cmd;

/*
 * Lock order (see Documentation/ioctl-abi.md):
 *
 *   kdl_file.lock  ->  mmap_lock (taken inside vm_mmap/vm_munmap)
 *                  ->  kdl_file.pending_lock (taken by the
 *                      get_unmapped_area and mmap hooks, under mmap_lock)
 *
 * No path takes kdl_file.lock while holding mmap_lock.  KDL_IOC_SEGMENT_FD
 * holds kdl_file.lock only to take a file reference; it opens, copies out
 * and installs the fd with no lock held.
 */

/*
 * struct kdl_file - one open of /dev/kdl.
 * @mm:      the opener's mm (mmgrab'd); every ioctl from another mm fails.
 * @lock:    serialises @images.
 * @images:  struct kdl_image records of what this file mapped.
 * @pending_lock: protects @pending (a spinlock: the hooks take it under
 *           mmap_lock).
 * @pending: reservations in flight, one per thread at most; the
 *           get_unmapped_area and mmap hooks find the current thread's.
 */
struct kdl_file {
	struct mm_struct *mm;
	struct mutex lock;
	struct list_head images;
	spinlock_t pending_lock;
	struct list_head pending;
};

/*
 * struct kdl_image_seg - what a mirrored image keeps of one segment.
 * @shm: the shmem object both views map, for a writable segment (a
 *       reference is held); NULL for a read-only one.
 * @len: bytes of the segment's pages in @shm, from offset 0.
 */
struct kdl_image_seg {
	struct file *shm;
	unsigned long len;
};

/*
 * struct kdl_image - an image this open file mapped, for KDL_IOC_UNMAP
 * and KDL_IOC_SEGMENT_FD.  Created, found and freed under kdl_file.lock;
 * freeing drops the @seg references (kdl_image_free()).
 * @node:   entry in kdl_file.images.
 * @base:   first byte of the image.
 * @span:   bytes of address space from @base.
 * @mirror: first byte of the mirror view, 0 if none.
 * @nr_seg: entries in @seg: the request's nr_segments for a mirrored
 *          image, 0 for another.
 * @seg:    per segment, in the request's order.
 */
struct kdl_image {
	struct list_head node;
	unsigned long base;
	unsigned long span;
	unsigned long mirror;
	unsigned int nr_seg;
	struct kdl_image_seg seg[];
};

/* Placement modes of a reservation (one of KDL_MAP_* placement bits). */
enum kdl_place {
	KDL_PLACE_ANYWHERE,
	KDL_PLACE_WINDOW,
	KDL_PLACE_FIXED,
	KDL_PLACE_FIXED_NOREPLACE,
};

/*
 * struct kdl_req - a KDL_IOC_MAP request after validation.
 * @map:      the caller's struct, copied in; @map->base gets the result.
 * @segs:     the caller's segments, copied in and checked: @segs_small,
 *            or an allocation when there are more.
 * @src:      the source file (a reference is held).
 * @src_off:  file offset of image offset 0 inside @src.
 * @data:     kdl_map.data_fd's file when a segment has KDL_SEG_DATA_FD
 *            (a reference is held), else NULL.
 * @place:    placement mode.
 * @addr:     fixed base (FIXED*), else 0.
 * @lo, @hi:  search window for the base: base >= lo, base + span <= hi.
 * @span:     bytes of address space.
 * @align:    base alignment (>= PAGE_SIZE).
 * @mirror_off: mirror_base, 0 without KDL_MAP_MIRROR.
 * @base:     chosen base, 0 until reserved.
 * @mirror:   mirror address, 0 until reserved.
 * @segs_small: room for a short segment array (most images have four),
 *            so that the common map allocates nothing for it.
 */
struct kdl_req {
	struct kdl_map *map;
	struct kdl_segment *segs;
	struct file *src;
	u64 src_off;
	struct file *data;
	enum kdl_place place;
	unsigned long addr;
	unsigned long lo;
	unsigned long hi;
	unsigned long span;
	unsigned long align;
	unsigned long mirror_off;
	unsigned long base;
	unsigned long mirror;
	struct kdl_segment segs_small[KDL_SEGS_ON_STACK];
};

/* kdl_validate.c */
int kdl_req_init(struct kdl_req *req, struct kdl_map *map);
void kdl_req_destroy(struct kdl_req *req);

/* kdl_window.c */
unsigned long kdl_get_unmapped_area(struct file *file, unsigned long addr,
				    unsigned long len, unsigned long pgoff,
				    unsigned long flags);
int kdl_mmap(struct file *file, struct vm_area_struct *vma);
long kdl_reserve(struct file *dev, enum kdl_place place, unsigned long addr,
		 unsigned long lo, unsigned long hi, unsigned long len,
		 unsigned long align);
int kdl_release_gaps(struct kdl_req *req, unsigned long start);

/* kdl_mirror.c */
int kdl_shmem_init(void);
void kdl_shmem_exit(void);
struct file *kdl_shmem_copy(struct kdl_req *req, loff_t pos, size_t len,
			    size_t size);
int kdl_mirror_fill_writable(struct kdl_req *req,
			     const struct kdl_segment *seg,
			     struct kdl_image_seg *out);

/* kdl_map.c */
int kdl_map_image(struct kdl_file *kf, struct file *dev, struct kdl_map *map,
		  struct kdl_map __user *umap);
int kdl_unmap_image(struct kdl_file *kf, unsigned long base);
void kdl_forget_images(struct kdl_file *kf);
struct file *kdl_image_shm(struct kdl_file *kf, unsigned long base,
			   u32 index, unsigned long *len);

/* kdl_segfd.c */
int kdl_segment_fd(struct kdl_file *kf, struct kdl_segment_fd *sfd,
		   struct kdl_segment_fd __user *usfd);

/* kdl_dev.c */
long kdl_dispatch(struct file *file, unsigned int cmd, void __user *uarg);

/* kdl_uring.c */
int kdl_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags);

#endif /* KDL_INTERNAL_H */

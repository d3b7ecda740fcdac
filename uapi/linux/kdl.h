/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kdl.h - ioctl ABI of /dev/kdl, shared by kdl.ko and libkdl.
 *
 * Every argument struct starts with a __u32 size that userspace sets to
 * sizeof() of the struct it was built with.  The module accepts any size
 * from the VER0 size up to one page: bytes it does not know must be zero
 * (E2BIG otherwise), a size below VER0 is EINVAL.  Fields are added at
 * the end only; old fields never change meaning.  Reserved fields and
 * unknown flag bits must be zero (EINVAL).
 */
#ifndef _UAPI_LINUX_KDL_H
#define _UAPI_LINUX_KDL_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define KDL_DEVICE_PATH		"/dev/kdl"
/* Changes only with an incompatible change; additions are KDL_FEAT_* bits. */
#define KDL_ABI_VERSION		1

/* Feature bits reported by KDL_IOC_QUERY. */
#define KDL_FEAT_MAP		(1ULL << 0)	/* KDL_IOC_MAP, KDL_IOC_UNMAP */
#define KDL_FEAT_MIRROR		(1ULL << 1)	/* KDL_MAP_MIRROR */
#define KDL_FEAT_SRC_ADDR	(1ULL << 2)	/* KDL_MAP_SRC_ADDR */
#define KDL_FEAT_BATCH		(1ULL << 3)	/* KDL_IOC_MAP_BATCH */
#define KDL_FEAT_URING_CMD	(1ULL << 4)	/* IORING_OP_URING_CMD */
#define KDL_FEAT_DATA_FD	(1ULL << 5)	/* KDL_SEG_DATA_FD, kdl_map.data_fd */
#define KDL_FEAT_SEGMENT_FD	(1ULL << 6)	/* KDL_IOC_SEGMENT_FD */

/*
 * struct kdl_query - what this module speaks.
 * @size:        in: sizeof(struct kdl_query) as the caller knows it.
 * @abi_version: out: KDL_ABI_VERSION of the module.
 * @features:    out: KDL_FEAT_* bits the module implements.
 * @max_segments: out: largest kdl_map.nr_segments accepted.
 * @max_batch:   out: largest kdl_map_batch.count accepted.
 * @reserved:    must be zero.
 * The out fields must be zero on input too (EINVAL).
 */
struct kdl_query {
	__u32 size;
	__u32 abi_version;
	__aligned_u64 features;
	__u32 max_segments;
	__u32 max_batch;
	__aligned_u64 reserved[4];
};
#define KDL_QUERY_SIZE_VER0	56

/* kdl_segment.prot uses PROT_READ, PROT_WRITE, PROT_EXEC of <sys/mman.h>. */

/*
 * struct kdl_segment - one PT_LOAD of an image.
 * @vaddr:   offset of the segment in the image (from the image base).
 * @offset:  file offset of the segment, relative to kdl_map.file_base;
 *           with KDL_SEG_DATA_FD see below.
 * @filesz:  bytes taken from the file.
 * @memsz:   bytes in memory; [filesz, memsz) reads as zero (but see
 *           KDL_SEG_DATA_FD for the rest of the last file page).
 * @prot:    PROT_* bits.
 * @flags:   KDL_SEG_* bits.
 *
 * Segments are sorted by @vaddr and do not overlap at page granularity;
 * vaddr and offset are congruent modulo the page size (a KDL_SEG_DATA_FD
 * segment's offset is page aligned instead).
 *
 * KDL_SEG_DATA_FD (needs a struct kdl_map of at least KDL_MAP_SIZE_VER1,
 * and neither KDL_MAP_MIRROR nor KDL_MAP_SRC_ADDR): the segment's file
 * pages, [round_down(vaddr), round_up(vaddr + filesz)) of the image, are
 * mapped privately from kdl_map.data_fd, and @offset is the absolute
 * offset in data_fd of the first of them: page aligned, kdl_map.file_base
 * does not apply, and all of those pages must lie inside data_fd's size.
 * They are mapped as they are: the bytes after filesz on the last page
 * are data_fd's (a relocation cache stores them as zero) and the module
 * never writes them, so the pages stay the page cache's own, shared, not
 * copied, until the process writes them.  Whole pages past it up to memsz
 * are anonymous zero pages, as for any segment.  @filesz must not be 0.
 * Breaking one of these rules is EINVAL; data_fd gets the errnos of @fd
 * (EBADF, ENODEV, EACCES, and EPERM when mmap refuses it: noexec, LSM).
 */
struct kdl_segment {
	__aligned_u64 vaddr;
	__aligned_u64 offset;
	__aligned_u64 filesz;
	__aligned_u64 memsz;
	__u32 prot;
	__u32 flags;
};

/* kdl_segment.flags */
#define KDL_SEG_DATA_FD		(1U << 0)	/* file pages from kdl_map.data_fd */

#define KDL_SEG_ALL_FLAGS	KDL_SEG_DATA_FD

/* kdl_map.flags: placement (exactly one of the first four). */
#define KDL_MAP_ANYWHERE	(1U << 0)	/* anywhere mmap would place it */
#define KDL_MAP_WINDOW		(1U << 1)	/* inside [window_lo, window_hi) */
#define KDL_MAP_FIXED		(1U << 2)	/* at fixed_addr, replacing */
#define KDL_MAP_FIXED_NOREPLACE	(1U << 3)	/* at fixed_addr, EEXIST if busy */
/* kdl_map.flags: source and options. */
#define KDL_MAP_SRC_ADDR	(1U << 8)	/* source is [src_addr, +src_len) */
#define KDL_MAP_MIRROR		(1U << 9)	/* also map at mirror_base + base */
#define KDL_MAP_MIRROR_NOREPLACE (1U << 10)	/* with MIRROR: EEXIST if the
						 * mirror range is busy; without
						 * it the mirror replaces what
						 * is there (a VM window) */

#define KDL_MAP_PLACEMENT_MASK	0x0fU
#define KDL_MAP_ALL_FLAGS	(KDL_MAP_PLACEMENT_MASK | KDL_MAP_SRC_ADDR | \
				 KDL_MAP_MIRROR | KDL_MAP_MIRROR_NOREPLACE)

/*
 * struct kdl_map - map one ELF image.
 * @size:        sizeof(struct kdl_map).
 * @flags:       KDL_MAP_*.
 * @fd:          source file (regular file or memfd opened for reading)
 *               unless KDL_MAP_SRC_ADDR, where it is ignored.
 * @nr_segments: entries at @segments, 1..max_segments.
 * @file_base:   byte offset of the image inside the source (page aligned);
 *               a container or fd offset goes here.  With
 *               KDL_MAP_SRC_ADDR it counts from @src_addr.
 * @src_addr:    with KDL_MAP_SRC_ADDR: user address of the image (page
 *               aligned); the module maps the file or shmem backing that
 *               range, never copies.  EINVAL if the range is anonymous or
 *               not backed by one file at consecutive offsets.
 * @src_len:     with KDL_MAP_SRC_ADDR: bytes at @src_addr.
 * @span:        bytes of address space the image needs (page multiple).
 * @align:       base alignment (power of two, >= page size; 0 = page).
 * @window_lo:   KDL_MAP_WINDOW: lowest acceptable base (page aligned).
 * @window_hi:   KDL_MAP_WINDOW: base + span must be <= window_hi.
 * @fixed_addr:  KDL_MAP_FIXED*: the base.
 * @mirror_base: KDL_MAP_MIRROR: the image is also mapped at
 *               mirror_base + base (mirror_base >= span, page aligned):
 *               read-only segments map the same file pages, writable ones
 *               a shmem object shared by both views.
 * @segments:    user pointer to nr_segments struct kdl_segment.
 * @base:        out: the chosen base.
 * @reserved:    must be zero.
 * @data_fd:     (since VER1) the file KDL_SEG_DATA_FD segments map their
 *               file pages from: a regular file or memfd opened for
 *               reading, checked as @fd is.  Ignored when no segment has
 *               KDL_SEG_DATA_FD.
 * @reserved2:   (since VER1) must be zero.
 *
 * Fields of placements and options not selected by @flags are ignored.
 * Errors (Documentation/ioctl-abi.md has the full list): EINVAL a field
 * breaks a rule; E2BIG struct larger than a page or non-zero unknown
 * tail; EFAULT bad pointer; EBADF bad fd or data_fd; ENODEV source or
 * data_fd not a regular file; EACCES source or data_fd not readable;
 * EPERM fd used from another mm, or mmap refused (noexec, LSM, seal);
 * ENOMEM no room in the window; EEXIST FIXED_NOREPLACE/MIRROR_NOREPLACE
 * range busy.  On any error nothing is left mapped in the span or the
 * mirror span.
 */
struct kdl_map {
	__u32 size;
	__u32 flags;
	__s32 fd;
	__u32 nr_segments;
	__aligned_u64 file_base;
	__aligned_u64 src_addr;
	__aligned_u64 src_len;
	__aligned_u64 span;
	__aligned_u64 align;
	__aligned_u64 window_lo;
	__aligned_u64 window_hi;
	__aligned_u64 fixed_addr;
	__aligned_u64 mirror_base;
	__aligned_u64 segments;
	__aligned_u64 base;
	__aligned_u64 reserved[2];
	__s32 data_fd;
	__u32 reserved2;
};
#define KDL_MAP_SIZE_VER0	120	/* up to reserved */
#define KDL_MAP_SIZE_VER1	128	/* data_fd, reserved2 */

/*
 * struct kdl_unmap - unmap an image the device mapped, and its mirror.
 * @size:  sizeof(struct kdl_unmap).
 * @flags: must be zero.
 * @base:  the base KDL_IOC_MAP returned.  ENOENT if this open file did
 *         not map an image there.
 * @reserved: must be zero.
 */
struct kdl_unmap {
	__u32 size;
	__u32 flags;
	__aligned_u64 base;
	__aligned_u64 reserved[2];
};
#define KDL_UNMAP_SIZE_VER0	32

/*
 * struct kdl_map_batch - map several images in one call.
 * @size:   sizeof(struct kdl_map_batch).
 * @flags:  must be zero.
 * @count:  entries at @maps, 1..max_batch.
 * @maps:   user pointer to @count pointers (__u64) to struct kdl_map.
 * @done:   out: how many requests succeeded, in order.  The call stops at
 *          the first failure and returns its errno; requests [0, done)
 *          stay mapped with their @base filled in, the failed one and those
 *          after it map nothing.  If @done cannot be written, the call
 *          unmaps all it mapped and fails: with the failed request's
 *          errno, else EFAULT (the @base fields it wrote are then stale).
 */
struct kdl_map_batch {
	__u32 size;
	__u32 flags;
	__u32 count;
	__u32 done;
	__aligned_u64 maps;
	__aligned_u64 reserved[2];
};
#define KDL_MAP_BATCH_SIZE_VER0	40

/* kdl_segment_fd.flags */
#define KDL_SEGFD_CLOEXEC	(1U << 0)	/* the new fd gets FD_CLOEXEC */

#define KDL_SEGFD_ALL_FLAGS	KDL_SEGFD_CLOEXEC

/*
 * struct kdl_segment_fd - a new fd for the shmem object that backs one
 * writable segment of a mirrored image (KDL_MAP_MIRROR), so that another
 * process can map the same pages: a store through its MAP_SHARED mapping
 * is seen in both views of the image, and the other way round.
 * @size:   sizeof(struct kdl_segment_fd).
 * @flags:  in: KDL_SEGFD_* bits.
 * @base:   in: the base KDL_IOC_MAP returned, of an image this open file
 *          mapped and has not unmapped.
 * @index:  in: the segment's index in that request's segment array.
 * @fd:     out: the new file descriptor, opened O_RDWR, with FD_CLOEXEC
 *          when @flags has KDL_SEGFD_CLOEXEC.
 * @offset: out: offset in that file of the segment's first page, the
 *          page at image offset round_down(vaddr, page size).  Page
 *          aligned; use it as the mmap offset (it may be non-zero in a
 *          later module, so do not assume 0).
 * @len:    out: bytes of the segment's pages in the file, from @offset:
 *          round_up(vaddr + memsz) - round_down(vaddr).
 * @reserved: must be zero.
 * The out fields must be zero on input (EINVAL).
 *
 * The fd is a new open file description of the very object both views
 * map, not a copy; it holds its own reference, so it stays valid after
 * KDL_IOC_UNMAP or close() of /dev/kdl.  The object has a fixed size
 * (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL): ftruncate() fails with
 * EPERM, so a holder of the fd cannot cut pages from under the views.
 * It is on a noexec mount when the image's source is (PROT_EXEC: EPERM).
 * Only through the ioctl; not an io_uring command.
 * Errors: ENOENT no image at @base recorded for this open file; EINVAL
 * unknown flag, non-zero reserved or out field, @index not below the
 * request's nr_segments, the segment not writable, the image not
 * mirrored; EMFILE/ENFILE no fd free; EFAULT the struct cannot be
 * written (no fd is then installed); EPERM the fd used from another mm.
 */
struct kdl_segment_fd {
	__u32 size;
	__u32 flags;
	__aligned_u64 base;
	__u32 index;
	__s32 fd;
	__aligned_u64 offset;
	__aligned_u64 len;
	__aligned_u64 reserved[2];
};
#define KDL_SEGMENT_FD_SIZE_VER0	56

/*
 * The size encoded in these numbers is that of the VER0 structs; the
 * module dispatches on type and number only and reads the real size from
 * the struct's own size field, so a grown struct keeps its command number
 * (KDL_IOC_MAP spells its VER0 size out: struct kdl_map has grown).
 */
#define KDL_IOC_MAGIC		0xD1
#define KDL_IOC_QUERY		_IOWR(KDL_IOC_MAGIC, 0x00, struct kdl_query)
#define KDL_IOC_MAP		_IOC(_IOC_READ | _IOC_WRITE, KDL_IOC_MAGIC, \
				     0x01, KDL_MAP_SIZE_VER0)
#define KDL_IOC_UNMAP		_IOW(KDL_IOC_MAGIC, 0x02, struct kdl_unmap)
#define KDL_IOC_MAP_BATCH	_IOWR(KDL_IOC_MAGIC, 0x03, struct kdl_map_batch)
#define KDL_IOC_SEGMENT_FD	_IOWR(KDL_IOC_MAGIC, 0x04, struct kdl_segment_fd)

/*
 * io_uring passthrough: an IORING_OP_URING_CMD SQE on a /dev/kdl fd, with
 * sqe->cmd_op one of KDL_URING_CMD_* and the 16 command bytes of the SQE
 * (sqe->cmd, which overlays sqe->addr3) holding struct kdl_uring_cmd.
 * @addr points at the same struct the matching ioctl takes; outputs
 * (base, done) are written there.  The CQE's res is 0 or -errno, exactly
 * what the ioctl returns.
 */
#define KDL_URING_CMD_MAP	1	/* struct kdl_map */
#define KDL_URING_CMD_UNMAP	2	/* struct kdl_unmap */
#define KDL_URING_CMD_MAP_BATCH	3	/* struct kdl_map_batch */

struct kdl_uring_cmd {
	__aligned_u64 addr;
	__aligned_u64 reserved;		/* must be zero */
};

#endif /* _UAPI_LINUX_KDL_H */

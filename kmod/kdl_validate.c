// SPDX-License-Identifier: GPL-2.0
/* kdl_validate.c - checks every field of a KDL_IOC_MAP request before any mapping. */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kdl_internal.h"

#define KDL_SEG_PROT	(PROT_READ | PROT_WRITE | PROT_EXEC)

static int kdl_check_placement(struct kdl_req *req, const struct kdl_map *m)
{
	unsigned long end;

	switch (m->flags & KDL_MAP_PLACEMENT_MASK) {
	case KDL_MAP_ANYWHERE:
		req->place = KDL_PLACE_ANYWHERE;
		/* The search asks mmap's allocator for span + align - 1 page. */
		if (check_add_overflow(req->span, req->align, &end) ||
		    end > TASK_SIZE)
			return -EINVAL;
		return 0;
	case KDL_MAP_WINDOW:
		req->place = KDL_PLACE_WINDOW;
		if (m->window_lo >= m->window_hi || m->window_hi > TASK_SIZE ||
		    !PAGE_ALIGNED(m->window_lo) || !PAGE_ALIGNED(m->window_hi))
			return -EINVAL;
		if (m->window_hi - m->window_lo < req->span)
			return -EINVAL;
		req->lo = m->window_lo;
		req->hi = m->window_hi;
		return 0;
	case KDL_MAP_FIXED:
	case KDL_MAP_FIXED_NOREPLACE:
		req->place = (m->flags & KDL_MAP_FIXED) ? KDL_PLACE_FIXED :
			     KDL_PLACE_FIXED_NOREPLACE;
		if (!IS_ALIGNED(m->fixed_addr, req->align) ||
		    check_add_overflow(m->fixed_addr, (u64)req->span, &end) ||
		    end > TASK_SIZE)
			return -EINVAL;
		req->addr = m->fixed_addr;
		return 0;
	}
	return -EINVAL;		/* none, or more than one placement bit */
}

static int kdl_check_mirror(struct kdl_req *req, const struct kdl_map *m)
{
	unsigned long top;

	if (!(m->flags & KDL_MAP_MIRROR)) {
		if (m->flags & KDL_MAP_MIRROR_NOREPLACE)
			return -EINVAL;
		return 0;
	}
	/* The mirror sits above the image and never overlaps it. */
	if (!PAGE_ALIGNED(m->mirror_base) || m->mirror_base < req->span ||
	    m->mirror_base >= TASK_SIZE)
		return -EINVAL;
	switch (req->place) {
	case KDL_PLACE_WINDOW:
		top = req->hi;
		break;
	case KDL_PLACE_FIXED:
	case KDL_PLACE_FIXED_NOREPLACE:
		top = req->addr + req->span;
		break;
	default:
		top = req->span;	/* rechecked once the base is known */
		break;
	}
	if (check_add_overflow((unsigned long)m->mirror_base, top, &top) ||
	    top > TASK_SIZE)
		return -EINVAL;
	req->mirror_off = m->mirror_base;
	return 0;
}

/*
 * A KDL_SEG_DATA_FD segment's file pages, whole, at the page-aligned
 * absolute @s->offset of data_fd.  Called once vaddr + memsz is known to
 * lie inside the span, so vaddr + filesz cannot overflow.
 */
static int kdl_check_data_range(const struct kdl_segment *s, u64 data_limit)
{
	u64 len, end;

	if (!s->filesz || !PAGE_ALIGNED(s->offset))
		return -EINVAL;
	len = PAGE_ALIGN(s->vaddr + s->filesz) - round_down(s->vaddr, PAGE_SIZE);
	if (check_add_overflow(s->offset, len, &end) || end > data_limit)
		return -EINVAL;
	return 0;
}

/* Checks one segment against the image and against its predecessor. */
static int kdl_check_segment(const struct kdl_req *req,
			     const struct kdl_segment *s, u64 prev_end,
			     u64 src_limit, u64 data_limit)
{
	u64 end, fend;

	if ((s->flags & ~KDL_SEG_ALL_FLAGS) || (s->prot & ~KDL_SEG_PROT))
		return -EINVAL;
	if (!s->memsz || s->filesz > s->memsz)
		return -EINVAL;
	if (check_add_overflow(s->vaddr, s->memsz, &end) || end > req->span)
		return -EINVAL;
	if (round_down(s->vaddr, PAGE_SIZE) < prev_end)
		return -EINVAL;		/* unsorted or sharing a page */
	if (s->flags & KDL_SEG_DATA_FD)
		return kdl_check_data_range(s, data_limit);
	if (offset_in_page(s->vaddr) != offset_in_page(s->offset))
		return -EINVAL;
	if (check_add_overflow(s->offset, s->filesz, &fend) ||
	    check_add_overflow(fend, req->src_off, &fend) || fend > src_limit)
		return -EINVAL;
	return 0;
}

static int kdl_check_segments(struct kdl_req *req, u64 src_limit,
			      u64 data_limit)
{
	u64 prev_end = 0;
	unsigned int i;
	int ret;

	for (i = 0; i < req->map->nr_segments; i++) {
		const struct kdl_segment *s = &req->segs[i];

		ret = kdl_check_segment(req, s, prev_end, src_limit,
					data_limit);
		if (ret)
			return ret;
		prev_end = PAGE_ALIGN(s->vaddr + s->memsz);
	}
	return 0;
}

static struct file *kdl_src_from_fd(int fd)
{
	struct file *f = fget(fd);

	if (!f)
		return ERR_PTR(-EBADF);
	if (!S_ISREG(file_inode(f)->i_mode)) {
		fput(f);
		return ERR_PTR(-ENODEV);
	}
	if (!(f->f_mode & FMODE_READ)) {
		fput(f);
		return ERR_PTR(-EACCES);
	}
	return f;
}

/*
 * Finds the one file behind [addr, addr + len): every VMA of the range
 * must map the same inode at consecutive page offsets.  Returns the file
 * with a reference held, and in @off the file offset of @addr.
 */
static struct file *kdl_src_from_addr(unsigned long addr, unsigned long len,
				      u64 *off)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma, *first;
	struct file *f = ERR_PTR(-EINVAL);
	unsigned long end = addr + len, pos = addr;
	pgoff_t next_pgoff = 0;

	if (mmap_read_lock_killable(mm))
		return ERR_PTR(-EINTR);
	first = find_vma(mm, addr);
	if (!first || first->vm_start > addr || !first->vm_file)
		goto out_unlock;
	for (vma = first; pos < end; vma = find_vma(mm, pos)) {
		if (!vma || !vma->vm_file ||
		    file_inode(vma->vm_file) != file_inode(first->vm_file))
			goto out_unlock;
		if (vma != first && (vma->vm_start != pos ||
				     vma->vm_pgoff != next_pgoff))
			goto out_unlock;
		next_pgoff = vma->vm_pgoff + vma_pages(vma);
		pos = vma->vm_end;
	}
	*off = ((u64)first->vm_pgoff << PAGE_SHIFT) + (addr - first->vm_start);
	f = get_file(first->vm_file);
out_unlock:
	mmap_read_unlock(mm);
	return f;
}

static int kdl_check_source(struct kdl_req *req, u64 *limit)
{
	const struct kdl_map *m = req->map;
	struct file *f;
	u64 off = 0, end;

	if (!PAGE_ALIGNED(m->file_base))
		return -EINVAL;
	if (m->flags & KDL_MAP_SRC_ADDR) {
		if (!m->src_len || !PAGE_ALIGNED(m->src_addr) ||
		    check_add_overflow(m->src_addr, m->src_len, &end) ||
		    end > TASK_SIZE)
			return -EINVAL;
		f = kdl_src_from_addr(m->src_addr, m->src_len, &off);
	} else {
		f = kdl_src_from_fd(m->fd);
	}
	if (IS_ERR(f))
		return PTR_ERR(f);
	req->src = f;
	if (!S_ISREG(file_inode(f)->i_mode))
		return -ENODEV;
	if (!(f->f_mode & FMODE_READ))
		return -EACCES;
	if (check_add_overflow(off, m->file_base, &req->src_off))
		return -EINVAL;
	/* Segments may not reach past EOF, nor past src_len. */
	*limit = i_size_read(file_inode(f));
	if (m->flags & KDL_MAP_SRC_ADDR)
		*limit = min_t(u64, *limit, off + m->src_len);
	return 0;
}

/*
 * KDL_SEG_DATA_FD: the file of already-relocated pages (a relocation
 * cache entry).  Only a VER1 struct has data_fd.  Mirrors are refused:
 * their writable segments are shmem copies of the source, so the data
 * file's pages would not be mapped at all; an address source is refused
 * to keep one way of naming files.  Sets @limit to the file's size (0
 * when no segment uses it, and data_fd is then ignored).
 */
static int kdl_check_data(struct kdl_req *req, u64 *limit)
{
	const struct kdl_map *m = req->map;
	bool used = false;
	struct file *f;
	unsigned int i;

	*limit = 0;
	for (i = 0; i < m->nr_segments; i++)
		if (req->segs[i].flags & KDL_SEG_DATA_FD)
			used = true;
	if (!used)
		return 0;
	if (m->size < KDL_MAP_SIZE_VER1 ||
	    (m->flags & (KDL_MAP_MIRROR | KDL_MAP_SRC_ADDR)))
		return -EINVAL;
	f = kdl_src_from_fd(m->data_fd);
	if (IS_ERR(f))
		return PTR_ERR(f);
	req->data = f;
	*limit = i_size_read(file_inode(f));
	return 0;
}

/* Copies the segment array in (its count is capped already). */
static int kdl_copy_segments(struct kdl_req *req, const struct kdl_map *m)
{
	size_t size = array_size(m->nr_segments, sizeof(*req->segs));
	const void __user *usegs = u64_to_user_ptr(m->segments);
	struct kdl_segment *segs;

	if (m->nr_segments <= ARRAY_SIZE(req->segs_small)) {
		if (copy_from_user(req->segs_small, usegs, size))
			return -EFAULT;
		req->segs = req->segs_small;
		return 0;
	}
	segs = memdup_user(usegs, size);
	if (IS_ERR(segs))
		return PTR_ERR(segs);
	req->segs = segs;
	return 0;
}

/**
 * kdl_req_init() - validate @map and build @req from it.
 * @req: zeroed by the caller; on success owns the segments, the source
 *       and, when a segment uses it, data_fd's file.
 * @map: the request, already copied in (size and tail checked); @map->size
 *       is the caller's size, which tells whether it has data_fd.
 *
 * Every check happens here, before anything is mapped.  On error @req
 * holds whatever was set up so far; kdl_req_destroy() releases it.
 */
int kdl_req_init(struct kdl_req *req, struct kdl_map *map)
{
	const struct kdl_map *m = map;
	u64 limit, data_limit;
	int ret;

	req->map = map;
	if ((m->flags & ~KDL_MAP_ALL_FLAGS) ||
	    memchr_inv(m->reserved, 0, sizeof(m->reserved)) || m->reserved2)
		return -EINVAL;
	if (!m->nr_segments || m->nr_segments > KDL_MAX_SEGMENTS)
		return -EINVAL;
	if (!m->span || !PAGE_ALIGNED(m->span) || m->span > TASK_SIZE)
		return -EINVAL;
	if (m->align && (!is_power_of_2(m->align) || m->align < PAGE_SIZE ||
			 m->align > TASK_SIZE / 2))
		return -EINVAL;
	req->span = m->span;
	req->align = m->align ? m->align : PAGE_SIZE;

	ret = kdl_check_placement(req, m);
	if (ret)
		return ret;
	ret = kdl_check_mirror(req, m);
	if (ret)
		return ret;

	ret = kdl_copy_segments(req, m);
	if (ret)
		return ret;
	ret = kdl_check_source(req, &limit);
	if (ret)
		return ret;
	ret = kdl_check_data(req, &data_limit);
	if (ret)
		return ret;
	return kdl_check_segments(req, limit, data_limit);
}

void kdl_req_destroy(struct kdl_req *req)
{
	if (req->data)
		fput(req->data);
	if (req->src)
		fput(req->src);
	if (req->segs != req->segs_small)
		kfree(req->segs);
}

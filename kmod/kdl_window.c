// SPDX-License-Identifier: GPL-2.0
/* kdl_window.c - race-free reservation of an image's span: the device's own PROT_NONE mapping. */
#include <linux/fs.h>
#include <linux/maple_tree.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <linux/security.h>
#include <linux/sizes.h>

#include "kdl_internal.h"

/*
 * mmap_assert_write_locked() without its VM_BUG_ON_MM(): on a DEBUG_VM
 * kernel that calls dump_mm(), which 6.1 does not export to modules, so
 * a module using it does not link there.  lockdep checks the holder;
 * the rwsem test still catches an unlocked caller on a kernel without
 * lockdep, as a warning instead of a BUG.
 */
static inline void kdl_assert_mmap_write_locked(struct mm_struct *mm)
{
	lockdep_assert_held_write(&mm->mmap_lock);
	WARN_ON_ONCE(!rwsem_is_locked(&mm->mmap_lock));
}

/*
 * mmap_min_addr and stack_guard_gap are not exported to modules; these
 * are their defaults.  A window below the real mmap_min_addr fails in
 * security_mmap_addr() (EPERM/EACCES), which is what mmap would do.
 */
#define KDL_MIN_ADDR		SZ_64K
#define KDL_STACK_GAP		(256UL << PAGE_SHIFT)

/*
 * struct kdl_pending - what the get_unmapped_area hook needs to know
 * about the reservation the current thread is making.  It lives on the
 * stack of kdl_reserve() and on kdl_file.pending for the duration of one
 * vm_mmap() call; it is only dereferenced under kdl_file.pending_lock.
 * A thread has at most one in flight (kdl_reserve() is not reentered
 * from vm_mmap()), so the thread is the key: no id to allocate.
 */
struct kdl_pending {
	struct list_head node;
	struct task_struct *task;
	enum kdl_place place;
	unsigned long lo;
	unsigned long hi;
	unsigned long align;
};

static vm_fault_t kdl_reserve_fault(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static const struct vm_operations_struct kdl_reserve_vm_ops = {
	.fault = kdl_reserve_fault,
};

/* Copies the current thread's pending request, if it has one. */
static bool kdl_pending_get(struct kdl_file *kf, struct kdl_pending *out)
{
	struct kdl_pending *p;
	bool found = false;

	spin_lock(&kf->pending_lock);
	list_for_each_entry(p, &kf->pending, node) {
		if (p->task == current) {
			*out = *p;
			found = true;
			break;
		}
	}
	spin_unlock(&kf->pending_lock);
	return found;
}

static unsigned long kdl_start_gap(struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_GROWSDOWN) || vma->vm_start < KDL_STACK_GAP)
		return vma->vm_start;
	return vma->vm_start - KDL_STACK_GAP;
}

/*
 * The lowest base in [lo, hi - len] aligned to @align whose range
 * [base, base + len) is free, counting stack guard gaps.
 * mas_empty_area() jumps to the next free gap of at least @len; the
 * candidate is then aligned and checked against the next VMA, and the
 * search resumes past that VMA when alignment pushed it into one.
 */
static unsigned long kdl_find_in_window(struct mm_struct *mm,
					unsigned long lo, unsigned long hi,
					unsigned long len, unsigned long align)
{
	struct vm_area_struct *next;
	unsigned long cand;

	kdl_assert_mmap_write_locked(mm);
	lo = max(lo, (unsigned long)KDL_MIN_ADDR);
	for (;;) {
		MA_STATE(mas, &mm->mm_mt, 0, 0);

		lo = ALIGN(lo, align);
		if (lo >= hi || hi - lo < len)
			return -ENOMEM;
		if (mas_empty_area(&mas, lo, hi - 1, len))
			return -ENOMEM;
		cand = ALIGN(max(mas.index, lo), align);
		if (cand >= hi || hi - cand < len)
			return -ENOMEM;
		next = find_vma(mm, cand);
		if (!next || kdl_start_gap(next) >= cand + len)
			return cand;
		lo = next->vm_end;
	}
}

/* Anywhere mmap would put it, with room to round up to @align. */
static unsigned long kdl_find_anywhere(struct mm_struct *mm,
				       unsigned long len, unsigned long align)
{
	unsigned long addr;

	kdl_assert_mmap_write_locked(mm);
	addr = mm->get_unmapped_area(NULL, 0, len + align - PAGE_SIZE, 0, 0);
	if (IS_ERR_VALUE(addr))
		return addr;
	return ALIGN(addr, align);
}

/**
 * kdl_get_unmapped_area() - f_op->get_unmapped_area of /dev/kdl.
 *
 * Context: do_mmap() calls it with mmap_lock held for writing and inserts
 * the VMA at the address it returns before dropping the lock, so the
 * search and the insert are one critical section.  Only the thread that
 * registered the request in kdl_file.pending (kdl_reserve()) gets an
 * address; any other mmap of /dev/kdl fails here with EINVAL.
 */
unsigned long kdl_get_unmapped_area(struct file *file, unsigned long addr,
				    unsigned long len, unsigned long pgoff,
				    unsigned long flags)
{
	struct kdl_file *kf = file->private_data;
	struct mm_struct *mm = current->mm;
	struct kdl_pending p;

	if (!mm || mm != kf->mm || !kdl_pending_get(kf, &p))
		return -EINVAL;
	kdl_assert_mmap_write_locked(mm);
	if (flags & MAP_FIXED)
		return addr;
	switch (p.place) {
	case KDL_PLACE_ANYWHERE:
		return kdl_find_anywhere(mm, len, p.align);
	case KDL_PLACE_WINDOW:
		return kdl_find_in_window(mm, p.lo, p.hi, len, p.align);
	default:
		return -EINVAL;
	}
}

/**
 * kdl_mmap() - f_op->mmap of /dev/kdl: accepts only reservations.
 *
 * A reservation is PROT_NONE and loses VM_MAY{READ,WRITE,EXEC}, so
 * mprotect() cannot open it up; its pages cannot be faulted in; it is not
 * copied into a child at fork.
 */
int kdl_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct kdl_file *kf = file->private_data;
	struct kdl_pending p;

	if (!kdl_pending_get(kf, &p))
		return -ENODEV;
	if (vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC))
		return -EINVAL;
	vma->vm_flags &= ~(VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC);
	/* A child forked mid-map must not inherit (and pin) the device. */
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP | VM_DONTCOPY;
	vma->vm_ops = &kdl_reserve_vm_ops;
	return 0;
}

/**
 * kdl_reserve() - map @len bytes of PROT_NONE device mapping.
 * @dev:   the open /dev/kdl file.
 * @place: placement; FIXED* use @addr, WINDOW searches [@lo, @hi).
 * @align: base alignment for ANYWHERE and WINDOW.
 *
 * Context: process context of the mm bound to @dev; takes mmap_lock
 * (through vm_mmap), must not hold it.
 * Return: the base, or a negative errno (IS_ERR_VALUE).
 */
long kdl_reserve(struct file *dev, enum kdl_place place, unsigned long addr,
		 unsigned long lo, unsigned long hi, unsigned long len,
		 unsigned long align)
{
	struct kdl_file *kf = dev->private_data;
	struct kdl_pending p = {
		.task = current, .place = place,
		.lo = lo, .hi = hi, .align = align,
	};
	unsigned long flags = MAP_PRIVATE | MAP_NORESERVE;
	unsigned long ret;

	spin_lock(&kf->pending_lock);
	list_add(&p.node, &kf->pending);
	spin_unlock(&kf->pending_lock);
	if (place == KDL_PLACE_FIXED)
		flags |= MAP_FIXED;
	else if (place == KDL_PLACE_FIXED_NOREPLACE)
		flags |= MAP_FIXED_NOREPLACE;
	else
		addr = 0;
	ret = vm_mmap(dev, addr, len, PROT_NONE, flags, 0);
	spin_lock(&kf->pending_lock);
	list_del(&p.node);
	spin_unlock(&kf->pending_lock);
	return ret;
}

static int kdl_map_none(unsigned long addr, unsigned long len)
{
	unsigned long r;

	r = vm_mmap(NULL, addr, len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, 0);
	return IS_ERR_VALUE(r) ? (int)r : 0;
}

/**
 * kdl_release_gaps() - replace what is left of a reservation at @start.
 *
 * The pages between and after the segments become anonymous PROT_NONE
 * mappings, as ld.so leaves them, so that no VMA keeps a reference to
 * /dev/kdl once the image is complete: closing the fd then lets the
 * module unload while the image stays mapped.
 */
int kdl_release_gaps(struct kdl_req *req, unsigned long start)
{
	unsigned long cur = 0, pstart;
	unsigned int i;
	int ret;

	for (i = 0; i < req->map->nr_segments; i++) {
		const struct kdl_segment *s = &req->segs[i];

		pstart = round_down(s->vaddr, PAGE_SIZE);
		if (pstart > cur) {
			ret = kdl_map_none(start + cur, pstart - cur);
			if (ret)
				return ret;
		}
		cur = PAGE_ALIGN(s->vaddr + s->memsz);
	}
	if (cur < req->span)
		return kdl_map_none(start + cur, req->span - cur);
	return 0;
}

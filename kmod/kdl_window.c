// SPDX-License-Identifier: GPL-2.0
/* kdl_window.c - race-free reservation of an image's span through the device's mmap, and its release. */
#include <linux/bitmap.h>
#include <linux/fs.h>
#include <linux/maple_tree.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <linux/security.h>
#include <linux/sizes.h>
#include <linux/version.h>

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

/*
 * KDL_ANON_RESERVE: kdl_mmap() turns the reservation into anonymous memory
 * before do_mmap() inserts it (see kdl_mmap() and Documentation/ioctl-abi.md,
 * "Kernel facts").  That needs __mmap_region() of 6.1.119 or later, which
 * preallocates the maple tree before f_op->mmap and so has no error path
 * after a successful one that would fput() vm_file.  After the hook it
 * reads vm_file only (a) to retry a merge when the hook changed vm_flags,
 * which vma_merge() refuses at once for VM_SPECIAL flags (VM_DONTEXPAND
 * is set here), so its fput(vma->vm_file) is never reached, and (b) in
 * "if (vma->vm_file)" tests (i_mmap insert, uprobes), which then skip.
 * On older kernels the reservation stays the device's mapping and the
 * gaps are remapped.  Build with -DKDL_ANON_RESERVE=0 to test that path.
 */
#ifndef KDL_ANON_RESERVE
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 119) && \
	LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define KDL_ANON_RESERVE	1
#else
#define KDL_ANON_RESERVE	0
#endif
#endif

/*
 * What kdl_mmap() sets and clears on a reservation.  Without VM_MAY*,
 * mprotect() cannot open it (EACCES), nor GUP with FOLL_FORCE, nor
 * userfaultfd register it.  VM_DONTEXPAND is in VM_SPECIAL: vma_merge()
 * never merges such a VMA (with a neighbour's anonymous PROT_NONE, say),
 * so every piece of it stays a VMA of its own that kdl_release_gaps()
 * can recognise, and mremap() cannot grow it.
 */
#define KDL_RESV_SET	(VM_DONTEXPAND | VM_DONTDUMP | VM_DONTCOPY)
#define KDL_RESV_CLEAR	(VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC)

#if !KDL_ANON_RESERVE
static vm_fault_t kdl_reserve_fault(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static const struct vm_operations_struct kdl_reserve_vm_ops = {
	.fault = kdl_reserve_fault,
};
#endif

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
 * mprotect() cannot open it up; it is not copied into a child at fork.
 *
 * With KDL_ANON_RESERVE it also stops being a mapping of the device
 * here: the VMA's file reference is dropped and the VMA made anonymous
 * (vm_file and vm_ops NULL, vm_pgoff as for a private anonymous mapping)
 * before __mmap_region() inserts it, so the flags above are there from
 * the first instant the range is reserved.  Filling it then splits an
 * anonymous VMA (no i_mmap tree of /dev/kdl to update), no VMA ever
 * references the device or the module, and the gaps need no remapping.
 * The reference dropped is the VMA's own (get_file() in __mmap_region());
 * the caller of vm_mmap() still holds the file, so fput() only counts
 * down.  Its pages cannot be faulted in (PROT_NONE: SIGSEGV).
 *
 * Without it the device's own mapping stays; a fault in it is SIGBUS.
 *
 * Context: __mmap_region(), mmap_lock held for writing.
 */
int kdl_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct kdl_file *kf = file->private_data;
	struct kdl_pending p;

	if (!kdl_pending_get(kf, &p))
		return -ENODEV;
	if (vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC))
		return -EINVAL;
	vma->vm_flags &= ~KDL_RESV_CLEAR;
	/* A child forked mid-map must not inherit the reservation. */
	vma->vm_flags |= KDL_RESV_SET;
#if KDL_ANON_RESERVE
	/*
	 * Last, and only on success: the error path of __mmap_region()
	 * after a failed f_op->mmap fput()s vm_file.
	 */
	fput(vma->vm_file);
	vma->vm_file = NULL;
	vma->vm_pgoff = vma->vm_start >> PAGE_SHIFT;
	vma_set_anonymous(vma);
#else
	vma->vm_ops = &kdl_reserve_vm_ops;
#endif
	return 0;
}

/**
 * kdl_reserve() - reserve @len bytes, PROT_NONE, through kdl_mmap().
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

/*
 * Gap @i of the image: the pages before segment @i, or for @i ==
 * nr_segments those after the last one, as [*@lo, *@hi) image offsets.
 * Validation sorted the segments and keeps them off each other's pages.
 * Return: whether the gap has any page.
 */
static bool kdl_gap(const struct kdl_req *req, unsigned int i,
		    unsigned long *lo, unsigned long *hi)
{
	const struct kdl_segment *s = req->segs;
	unsigned int nr = req->map->nr_segments;

	*lo = i ? PAGE_ALIGN(s[i - 1].vaddr + s[i - 1].memsz) : 0;
	*hi = i < nr ? round_down(s[i].vaddr, PAGE_SIZE) : req->span;
	return *lo < *hi;
}

#if KDL_ANON_RESERVE
/*
 * A piece of a reservation that kdl_mmap() made: anonymous, VM_DONTEXPAND,
 * no VM_MAY*.  Nothing else has that combination: drivers that set
 * VM_DONTEXPAND keep their vm_file or vm_ops, and every other anonymous
 * VMA has VM_MAY* (do_mmap(), brk, the stack).
 */
static bool kdl_is_reservation(const struct vm_area_struct *vma)
{
	return !vma->vm_file && !vma->vm_ops &&
	       (vma->vm_flags & VM_DONTEXPAND) &&
	       !(vma->vm_flags & KDL_RESV_CLEAR);
}

/*
 * Opens gap @lo..@hi of the image at @start in place when it is still
 * exactly one piece of the reservation: its flags become those of a
 * private anonymous PROT_NONE mapping (what kdl_map_none() would map
 * there).  The VMA's other state already is: anonymous, no anon_vma (its
 * pages were never accessible), vm_pgoff linear from the image's.
 * Accounting does not change: vm_stat_account() counts PROT_NONE in no
 * bucket either way, and VM_ACCOUNT was never set (PROT_NONE).  Under
 * mlockall(MCL_FUTURE) a new mapping would be VM_LOCKED (and counted in
 * locked_vm), which a flag change cannot do right: remapped instead.
 * Return: whether it was opened; if not, the caller remaps the gap.
 *
 * Context: mmap_lock held for writing (no page fault, no GUP, no
 * /proc/PID/maps reader sees vm_flags change under it).
 */
static bool kdl_open_gap(struct mm_struct *mm, unsigned long lo,
			 unsigned long hi)
{
	struct vm_area_struct *vma;

	kdl_assert_mmap_write_locked(mm);
	if (mm->def_flags & VM_LOCKED)
		return false;
	vma = find_vma(mm, lo);
	if (!vma || vma->vm_start != lo || vma->vm_end != hi ||
	    !kdl_is_reservation(vma))
		return false;
	vma->vm_flags &= ~KDL_RESV_SET;
	vma->vm_flags |= KDL_RESV_CLEAR;
	return true;
}
#endif

/**
 * kdl_release_gaps() - turn what is left of a reservation at @start into
 * what ld.so leaves between segments: anonymous PROT_NONE pages that the
 * process may mprotect(), copied at fork.
 *
 * With KDL_ANON_RESERVE each gap is normally one anonymous piece of the
 * reservation still (the segments' vm_mmap() split it off), and only its
 * flags change, all gaps under one mmap_lock hold.  A gap that is not
 * exactly one such piece (a racer split, moved or replaced part of it
 * mid-call, or mlockall(MCL_FUTURE) is in force) is remapped anonymous
 * PROT_NONE with MAP_FIXED, as every gap is without KDL_ANON_RESERVE,
 * where the pieces are mappings of /dev/kdl: after this no VMA of the
 * span refers to the device, so the module can be unloaded while the
 * image stays mapped.
 *
 * Context: process context of the image's mm; takes mmap_lock, must not
 * hold it.
 * Return: 0 or a negative errno (the caller unmaps the span).
 */
int kdl_release_gaps(struct kdl_req *req, unsigned long start)
{
	DECLARE_BITMAP(remap, KDL_MAX_SEGMENTS + 1);
	unsigned int i, nr = req->map->nr_segments;
	unsigned long lo, hi;
	int ret;

	bitmap_zero(remap, nr + 1);
	for (i = 0; i <= nr; i++)
		if (kdl_gap(req, i, &lo, &hi))
			__set_bit(i, remap);
	if (bitmap_empty(remap, nr + 1))
		return 0;
#if KDL_ANON_RESERVE
	{
		struct mm_struct *mm = current->mm;

		if (mmap_write_lock_killable(mm))
			return -EINTR;
		for_each_set_bit(i, remap, nr + 1) {
			kdl_gap(req, i, &lo, &hi);
			if (kdl_open_gap(mm, start + lo, start + hi))
				__clear_bit(i, remap);
		}
		mmap_write_unlock(mm);
	}
#endif
	for_each_set_bit(i, remap, nr + 1) {
		kdl_gap(req, i, &lo, &hi);
		ret = kdl_map_none(start + lo, hi - lo);
		if (ret)
			return ret;
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * model.c - what a worker's memory is made of, as the kernel would see it:
 * its arena (where the objects of a request go, good and bad pointers),
 * the model of which bytes the kernel can read or write, and the records
 * its private fd keeps of the images it mapped.
 */
#include "stress.h"

/* The arena: bump allocation, a read-only alias, two fault boundaries. */
uintptr_t apage(const struct worker *w, int page)
{
	return w->arena + (uintptr_t)page * PG;
}

void arena_reset(struct worker *w)
{
	if (w->bump_hwm)
		memset((void *)apage(w, A_BUMP), 0, w->bump_hwm);
	if (w->ro_used)
		memset((void *)apage(w, A_ROW), 0, w->ro_used);
	if (w->straddles & 1)
		memset((void *)apage(w, A_PRE_NONE), 0, PG);
	if (w->straddles & 2)
		memset((void *)apage(w, A_PRE_HOLE), 0, PG);
	w->bump = w->bump_hwm = w->ro_used = 0;
	w->straddles = 0;
}

static uintptr_t bump_alloc(struct worker *w, size_t len)
{
	uintptr_t a;

	w->bump = (w->bump + 15) & ~15UL;
	if (w->bump + len > A_BUMP_PAGES * PG)
		return 0;
	a = apage(w, A_BUMP) + w->bump;
	w->bump += len;
	if (w->bump > w->bump_hwm)
		w->bump_hwm = w->bump;
	return a;
}

/*
 * Puts @len bytes of @obj where @loc says and returns the address a
 * request would carry.  LOC_STRADDLE keeps @prefix bytes before a
 * PROT_NONE or unmapped page; the bad locations write nothing.
 */
uintptr_t put_obj(struct worker *w, const void *obj, size_t len,
		  int loc, unsigned int prefix)
{
	uintptr_t a;

	switch (loc) {
	case LOC_RO:
		if (w->ro_used + len <= 2 * PG) {
			memcpy((void *)(apage(w, A_ROW) + w->ro_used), obj, len);
			a = apage(w, A_RO) + w->ro_used;
			w->ro_used = (w->ro_used + len + 15) & ~15UL;
			return a;
		}
		break;
	case LOC_STRADDLE:
		if (prefix >= len)
			prefix = len ? len - 1 : 0;
		if (!(w->straddles & 1)) {
			w->straddles |= 1;
			a = apage(w, A_NONE) - prefix;
		} else if (!(w->straddles & 2)) {
			w->straddles |= 2;
			a = apage(w, A_HOLE2) - prefix;
		} else {
			break;
		}
		memcpy((void *)a, obj, prefix);
		return a;
	case LOC_NULL:
		return 0;
	case LOC_LOW:
		return 16;
	case LOC_HOLE:
		return apage(w, A_HOLE) + 64;
	case LOC_NONEPG:
		return apage(w, A_NONE) + 8;
	case LOC_KERNEL:
		return KERNEL_ADDR;
	case LOC_KTEXT:
		return KTEXT_ADDR;
	case LOC_NONCANON:
		return NONCANON_ADDR | 0x1000;
	case LOC_TOP:
		return S->task_size - 8;
	}
	a = bump_alloc(w, len);
	if (!a)
		return apage(w, A_HOLE);	/* out of room: a bad pointer */
	memcpy((void *)a, obj, len);
	return a;
}

/* ---- The memory model: can the kernel read/write [a, a + len)? ------ */

enum acc page_access(const struct worker *w, uintptr_t page, bool wr)
{
	int i;

	if (page >= w->arena && page < apage(w, A_PAGES)) {
		int p = (page - w->arena) / PG;

		if (p == A_NONE || p == A_HOLE || p == A_HOLE2)
			return ACC_NO;
		if (p >= A_RO && p < A_RO + 2)
			return wr ? ACC_NO : ACC_YES;
		return ACC_YES;
	}
	if (page >= SRC_AREA && page < S->src_hi) {
		for (i = 0; i < S->nvmas; i++)
			if (page >= S->vmas[i].start && page < S->vmas[i].end)
				return (S->vmas[i].prot & PROT_READ) && !wr ?
				       ACC_YES : ACC_NO;
		return ACC_NO;
	}
	return ACC_UNKNOWN;
}

enum acc mem_access(const struct worker *w, uintptr_t a, uint64_t len, bool wr)
{
	uintptr_t end, p;
	enum acc r = ACC_YES, pa;

	if (!len)
		return ACC_YES;
	if (__builtin_add_overflow(a, len, &end) || end > S->task_size)
		return ACC_NO;
	if (a < S->mmap_min)
		return ACC_NO;
	for (p = PAGE_DOWN(a); p < end; p += PG) {
		pa = page_access(w, p, wr);
		if (pa == ACC_NO)
			return ACC_NO;
		if (pa == ACC_UNKNOWN)
			r = ACC_UNKNOWN;
	}
	return r;
}

/* ---- The records of the private fd (Documentation/ioctl-abi.md) ----- */

static bool ranges_meet(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a && b && a < b + blen && b < a + alen;
}

/*
 * A new image drops the records whose ranges it now occupies; they stay
 * dropped when the image is undone (a MAP_BATCH whose done cannot be
 * written), as the module recorded it before the undo.
 */
void recs_forget(struct worker *w, uint64_t base, uint64_t span,
		 uint64_t mirror)
{
	int i, n = 0;

	for (i = 0; i < w->nrecs; i++) {
		struct rec *o = &w->recs[i];

		if (ranges_meet(o->base, o->span, base, span) ||
		    ranges_meet(o->base, o->span, mirror, span) ||
		    ranges_meet(o->mirror, o->span, base, span) ||
		    ranges_meet(o->mirror, o->span, mirror, span))
			continue;
		w->recs[n++] = *o;
	}
	w->nrecs = n;
}

void recs_add(struct worker *w, uint64_t base, uint64_t span, uint64_t mirror)
{
	recs_forget(w, base, span, mirror);
	if (w->nrecs == MAX_RECS) {
		w->recs_unknown = true;
		return;
	}
	w->recs[w->nrecs++] = (struct rec){ base, span, mirror };
}

int recs_find(const struct worker *w, uint64_t base)
{
	int i;

	for (i = w->nrecs - 1; i >= 0; i--)
		if (w->recs[i].base == base)
			return i;
	return -1;
}

void recs_del(struct worker *w, int i)
{
	w->recs[i] = w->recs[--w->nrecs];
}

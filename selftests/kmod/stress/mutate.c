// SPDX-License-Identifier: GPL-2.0
/*
 * mutate.c - mutations of a valid private request: a field, a pointer or
 * the placement changed, most of them against a rule of the header; the
 * solo ones put what is already mapped in the way.
 */
#include "stress.h"

static void set_place(struct kdl_map *m, unsigned int place)
{
	m->flags = (m->flags & ~KDL_MAP_PLACEMENT_MASK) | place;
}

static struct kdl_segment *any_seg(struct mreq *r, struct rng *g)
{
	return &r->seg[rnd(g, r->nseg)];
}

static uint64_t segs_end(const struct mreq *r)
{
	uint64_t end = 0;
	unsigned int i;

	for (i = 0; i < r->nseg; i++)
		if (PAGE_UP(r->seg[i].vaddr + r->seg[i].memsz) > end)
			end = PAGE_UP(r->seg[i].vaddr + r->seg[i].memsz);
	return end;
}

static uint64_t src_size(const struct mreq *r)
{
	return r->file > F_ANON ? S->files[r->file].size : IMG_PAGES * PG;
}

/* Pages of the span a squatter may sit in (the span may be mutated). */
static uint64_t span_pages(const struct kdl_map *m)
{
	return (m->span < PRIV_LEN ? m->span : PRIV_LEN) / PG;
}

/* A squatter in the private window: an anonymous PROT_NONE mapping. */
static void squat(struct worker *w, struct mreq *r, uintptr_t a, size_t len)
{
	void *p = mmap((void *)a, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		fail(w, "squatter at %#lx: %s", (unsigned long)a, ename(errno));
		return;
	}
	r->squat = a;
	r->squat_len = len;
}

#define MUT(_name, _solo, ...)						\
	static void mut_##_name(struct worker *w, struct mreq *r,	\
				struct rng *g)				\
	{								\
		struct kdl_map *m = &r->m;				\
		uint64_t ts = S->task_size;				\
		(void)m; (void)ts; (void)w;				\
		__VA_ARGS__;						\
	}
#define MENT(_name, _solo)	{ #_name, mut_##_name, _solo }

/* struct versioning */
MUT(size_small, 0, m->size = rnd(g, KDL_MAP_SIZE_VER0))
MUT(size_huge, 0, m->size = chance(g, 50) ? PG + 1 + rnd(g, 1 << 20) :
				     UINT32_MAX - rnd(g, 16))
MUT(size_tail_nonzero, 0, {
	m->size = sizeof(*m) + 1 + rnd(g, PG - sizeof(*m));
	r->tail[rnd(g, m->size - sizeof(*m))] = 1 + rnd(g, 255);
})
MUT(size_tail_zero, 0, m->size = sizeof(*m) + 1 + rnd(g, PG - sizeof(*m)))
/* flags, reserved */
MUT(flag_unknown, 0, {
	static const int bits[] = { 4, 5, 6, 7, 11, 12, 13, 16, 20, 24, 31 };
	m->flags |= 1U << PICK(g, bits);
})
MUT(flag_no_placement, 0, m->flags &= ~KDL_MAP_PLACEMENT_MASK)
MUT(flag_two_placements, 0, {
	int cur = __builtin_ctz(m->flags & KDL_MAP_PLACEMENT_MASK);
	m->flags |= 1U << ((cur + 1 + rnd(g, 3)) % 4);
})
MUT(flag_noreplace_alone, 0,
    m->flags = (m->flags & ~KDL_MAP_MIRROR) | KDL_MAP_MIRROR_NOREPLACE)
MUT(reserved_nonzero, 0, m->reserved[rnd(g, 2)] = 1ULL << rnd(g, 64))
MUT(reserved2_nonzero, 0, m->reserved2 = 1U << rnd(g, 32))
/* counts and the segment array */
MUT(nseg_zero, 0, m->nr_segments = 0)
MUT(nseg_too_many, 0, {
	static const uint32_t n[] = { 65, 66, 256, 1 << 16, 0x7fffffff,
				      0xffffffff };
	m->nr_segments = PICK(g, n);
})
MUT(nseg_past_array, 0, {
	m->nr_segments += 1 + rnd(g, 3);
	if (m->nr_segments > MAX_SEGS)
		m->nr_segments = MAX_SEGS;
})
MUT(segs_run_into_fault, 0, {
	if (!m->nr_segments || m->nr_segments > MAX_SEGS)
		m->nr_segments = r->nseg;
	if (m->nr_segments < MAX_SEGS)
		m->nr_segments++;
	r->seg_loc = LOC_STRADDLE;
	r->seg_prefix = (m->nr_segments - 1) * sizeof(struct kdl_segment) +
			rnd(g, sizeof(struct kdl_segment));
	r->nseg = m->nr_segments;
})
MUT(segs_bad_pointer, 0, {
	uintptr_t bad[] = { 0, 16, apage(w, A_HOLE), apage(w, A_NONE) + 40,
			    KERNEL_ADDR, KTEXT_ADDR, NONCANON_ADDR,
			    S->task_size - 40, ~0UL - 39 };
	m->segments = PICK(g, bad);
	r->seg_raw = true;
})
MUT(segs_straddle, 0, {
	r->seg_loc = LOC_STRADDLE;
	r->seg_prefix = rnd(g, r->nseg * sizeof(struct kdl_segment));
})
MUT(segs_read_only, 0, r->seg_loc = LOC_RO)
/* span and alignment */
MUT(span_zero, 0, m->span = 0)
MUT(span_unaligned, 0, m->span += 1 + rnd(g, PG - 1))
MUT(span_huge, 0, {
	uint64_t v[] = { ts + PG, 1UL << 57, ~0UL & ~(PG - 1), 1UL << 63,
			 TOP47 * 2 };
	m->span = PICK(g, v);
})
MUT(span_short, 0, m->span = segs_end(r) - PG)
MUT(span_grow, 0, m->span += (1 + rnd(g, 8)) * PG)
MUT(align_not_pow2, 0, {
	static const uint64_t v[] = { 3 * PG, 5 * PG, PG + PG / 2, 12 * PG,
				      (1UL << 21) + PG };
	m->align = PICK(g, v);
})
MUT(align_below_page, 0, {
	static const uint64_t v[] = { 1, 2, 8, 512, 2048 };
	m->align = PICK(g, v);
})
MUT(align_huge, 0, {
	uint64_t v[] = { ts / 2 + 1, 1UL << 56, 1UL << 62, 1UL << 63,
			 PAGE_UP(ts / 2) * 2 };
	m->align = PICK(g, v);
})
MUT(align_ok, 0, m->align = PG << rnd(g, 10))
MUT(file_base_unaligned, 0, m->file_base += 1 + rnd(g, PG - 1))
MUT(file_base_past_eof, 0,
    m->file_base = PAGE_UP(src_size(r)) + PG * rnd(g, 4))
MUT(file_base_wraps, 0, m->file_base = (~0UL & ~(PG - 1)) - PG * rnd(g, 4))
/* placements */
MUT(window_inverted, 0, {
	set_place(m, KDL_MAP_WINDOW);
	m->window_lo = w->hi;
	m->window_hi = chance(g, 50) ? w->lo : w->hi;
})
MUT(window_beyond, 0, {
	uint64_t v[] = { ts + PG, 1UL << 57, ~0UL & ~(PG - 1) };
	set_place(m, KDL_MAP_WINDOW);
	m->window_lo = w->lo;
	m->window_hi = PICK(g, v);
})
MUT(window_unaligned, 0, {
	set_place(m, KDL_MAP_WINDOW);
	m->window_lo = w->lo;
	m->window_hi = w->hi;
	if (chance(g, 50))
		m->window_lo += 8 + rnd(g, PG - 8);
	else
		m->window_hi -= 8;
})
MUT(window_below_span, 0, {
	set_place(m, KDL_MAP_WINDOW);
	m->window_lo = w->lo;
	m->window_hi = w->lo + m->span - PG;
})
MUT(window_far, 0, {
	set_place(m, KDL_MAP_WINDOW);
	m->window_lo = 1UL << 60;
	m->window_hi = 1UL << 61;
})
MUT(fixed_unaligned, 0, {
	set_place(m, chance(g, 50) ? KDL_MAP_FIXED : KDL_MAP_FIXED_NOREPLACE);
	m->fixed_addr = w->lo + (chance(g, 50) ? 8 : PG / 2);
})
MUT(fixed_misaligned_for_align, 0, {
	set_place(m, chance(g, 50) ? KDL_MAP_FIXED : KDL_MAP_FIXED_NOREPLACE);
	m->align = 2UL << 20;
	m->fixed_addr = w->lo + PG * (1 + rnd(g, 511));
})
MUT(fixed_wraps, 0, {
	set_place(m, chance(g, 50) ? KDL_MAP_FIXED : KDL_MAP_FIXED_NOREPLACE);
	m->fixed_addr = (0 - m->span) + PG * (1 + rnd(g, 2));
	m->align = 0;
})
MUT(fixed_beyond, 0, {
	set_place(m, chance(g, 50) ? KDL_MAP_FIXED : KDL_MAP_FIXED_NOREPLACE);
	m->fixed_addr = ts - m->span + PG;
	m->align = 0;
})
MUT(fixed_noncanonical, 0, {
	set_place(m, chance(g, 50) ? KDL_MAP_FIXED : KDL_MAP_FIXED_NOREPLACE);
	m->fixed_addr = chance(g, 50) ? NONCANON_ADDR : KERNEL_ADDR;
})
MUT(place_anywhere, 0, set_place(m, KDL_MAP_ANYWHERE))
/* segments */
MUT(seg_memsz_zero, 0, {
	struct kdl_segment *s = any_seg(r, g);
	s->memsz = s->filesz = 0;
})
MUT(seg_filesz_above_memsz, 0, {
	struct kdl_segment *s = any_seg(r, g);
	s->filesz = s->memsz + 1 + rnd(g, PG);
})
MUT(seg_offset_incongruent, 0, any_seg(r, g)->offset ^= 8UL << rnd(g, 9))
MUT(seg_beyond_span, 0, any_seg(r, g)->memsz += m->span)
MUT(seg_vaddr_wraps, 0, {
	struct kdl_segment *s = any_seg(r, g);
	s->vaddr = (~0UL & ~(PG - 1)) + s->vaddr % PG;
})
MUT(seg_offset_wraps, 0, {
	struct kdl_segment *s = any_seg(r, g);
	s->offset = (~0UL & ~(PG - 1)) + s->offset % PG;
	if (!s->filesz)
		s->filesz = s->memsz = 1;
})
MUT(seg_unsorted, 0, {
	if (r->nseg < 2) {
		r->seg[1] = r->seg[0];
		r->nseg = m->nr_segments = 2;
	} else {
		unsigned int i = rnd(g, r->nseg - 1);
		struct kdl_segment t = r->seg[i];
		r->seg[i] = r->seg[i + 1];
		r->seg[i + 1] = t;
	}
})
MUT(seg_shares_a_page, 0, {
	if (r->nseg < 2) {
		r->seg[1] = r->seg[0];
		r->nseg = m->nr_segments = 2;
	} else {
		unsigned int i = rnd(g, r->nseg - 1);
		struct kdl_segment *a = &r->seg[i], *b = &r->seg[i + 1];
		b->vaddr = PAGE_UP(a->vaddr + a->memsz) - PG + b->vaddr % PG;
	}
})
MUT(seg_prot_unknown, 0, any_seg(r, g)->prot |= 8U << rnd(g, 28))
MUT(seg_flags_nonzero, 0, any_seg(r, g)->flags = 1U << rnd(g, 32))
/*
 * KDL_SEG_DATA_FD on one segment, or on all with file bytes: its pages
 * from data_fd (mostly the image or the memfd, at times any fd of the
 * pool) at a page of it; at times past its end, unaligned, or in a VER0
 * struct.  Most lose their mirror and their address source, which
 * refuse the flag (an address source becomes the image's fd: its file
 * pages are then the image's at file_base, wherever that lands).
 */
static void data_seg(struct kdl_segment *s, struct rng *g)
{
	uint64_t pages;

	if (!s->filesz)
		s->filesz = 1;
	if (s->memsz < s->filesz)
		s->memsz = s->filesz;
	s->flags |= KDL_SEG_DATA_FD;
	pages = PAGE_UP(s->vaddr % PG + s->filesz) / PG;
	if (pages > IMG_PAGES)
		pages = IMG_PAGES;
	s->offset = PG * rnd(g, IMG_PAGES - pages + 1 + (chance(g, 10) ? 3 : 0));
	if (chance(g, 5))
		s->offset += 1 + rnd(g, PG - 1);
}

MUT(seg_data_fd, 0, {
	unsigned int i;

	if (chance(g, 30)) {
		for (i = 0; i < r->nseg; i++)
			if (r->seg[i].filesz)
				data_seg(&r->seg[i], g);
	} else {
		data_seg(any_seg(r, g), g);
	}
	if (chance(g, 20))
		m->data_fd = S->fds[rnd(g, S->nfds)].fd;
	else
		m->data_fd = chance(g, 50) ? S->sfd_img_ro : S->files[F_MEMFD].fd;
	if (chance(g, 5))
		m->size = KDL_MAP_SIZE_VER0;
	if (chance(g, 80))
		m->flags &= ~(KDL_MAP_MIRROR | KDL_MAP_MIRROR_NOREPLACE);
	if (m->flags & KDL_MAP_SRC_ADDR && chance(g, 80)) {
		m->flags &= ~KDL_MAP_SRC_ADDR;
		m->fd = S->sfd_img_ro;
	}
})
MUT(seg_past_eof, 0, {
	struct kdl_segment *s = any_seg(r, g);
	s->offset = PAGE_UP(src_size(r)) + s->offset % PG + PG * rnd(g, 3);
	if (!s->filesz)
		s->filesz = 1;
	if (s->memsz < s->filesz)
		s->memsz = s->filesz;
})
/* the source */
MUT(fd_from_pool, 0, {
	m->flags &= ~KDL_MAP_SRC_ADDR;
	m->fd = S->fds[rnd(g, S->nfds)].fd;
})
MUT(fd_own_kdl, 0, {
	m->flags &= ~KDL_MAP_SRC_ADDR;
	m->fd = w->fd;
})
MUT(src_from_regions, 0, {
	const struct vma_desc *v = &S->vmas[rnd(g, S->nvmas)];
	uint64_t pages = (v->end - v->start) / PG, k = rnd(g, pages);
	m->flags |= KDL_MAP_SRC_ADDR;
	m->src_addr = v->start + k * PG;
	switch (rnd(g, 4)) {
	case 0: m->src_len = v->end - m->src_addr; break;
	case 1: m->src_len = v->end - m->src_addr + PG * (1 + rnd(g, 4)); break;
	case 2: m->src_len = 1 + rnd(g, 8 * PG); break;
	default: m->src_len = (1 + rnd(g, 2 * IMG_PAGES)) * PG; break;
	}
	m->file_base = 0;
})
MUT(src_unaligned, 0, {
	if (!(m->flags & KDL_MAP_SRC_ADDR)) {
		m->flags |= KDL_MAP_SRC_ADDR;
		m->src_addr = S->vmas[0].start;
		m->src_len = S->vmas[0].end - S->vmas[0].start;
	}
	m->src_addr += 8 << rnd(g, 9);
})
MUT(src_len_zero, 0, {
	if (!(m->flags & KDL_MAP_SRC_ADDR)) {
		m->flags |= KDL_MAP_SRC_ADDR;
		m->src_addr = S->vmas[0].start;
	}
	m->src_len = 0;
})
MUT(src_wraps, 0, {
	if (!(m->flags & KDL_MAP_SRC_ADDR)) {
		m->flags |= KDL_MAP_SRC_ADDR;
		m->src_addr = S->vmas[0].start;
	}
	m->src_len = ~0UL - PG * rnd(g, 4);
})
MUT(src_kernel, 0, {
	m->flags |= KDL_MAP_SRC_ADDR;
	m->src_addr = chance(g, 50) ? KERNEL_ADDR : NONCANON_ADDR;
	m->src_len = PG * (1 + rnd(g, 4));
})
MUT(src_anonymous, 0, {
	m->flags |= KDL_MAP_SRC_ADDR;
	m->src_addr = apage(w, A_BUMP + rnd(g, 4));
	m->src_len = PG * (1 + rnd(g, 4));
})
MUT(src_in_hot_window, 0, {
	m->flags |= KDL_MAP_SRC_ADDR;
	m->src_addr = HOT_LO + rnd(g, HOT_LEN / PG) * PG;
	m->src_len = PG * (1 + rnd(g, 16));
	m->file_base = 0;
})
/* mirrors */
MUT(mirror_below_span, 0, {
	m->flags |= KDL_MAP_MIRROR;
	m->mirror_base = PG * rnd(g, m->span / PG);
})
MUT(mirror_unaligned, 0, {
	m->flags |= KDL_MAP_MIRROR;
	m->mirror_base = PRIV_MOFF + 8 + rnd(g, PG - 8);
})
MUT(mirror_beyond, 0, {
	uint64_t v[] = { ts, ts + PG, 1UL << 57, ~0UL & ~(PG - 1) };
	m->flags |= KDL_MAP_MIRROR;
	m->mirror_base = PICK(g, v);
})
MUT(mirror_top_overflows, 0, {
	m->flags |= KDL_MAP_MIRROR;
	m->mirror_base = PAGE_DOWN(ts - w->lo);
})
MUT(mirror_ok, 0, {
	m->flags |= KDL_MAP_MIRROR;
	if (chance(g, 50))
		m->flags |= KDL_MAP_MIRROR_NOREPLACE;
	m->mirror_base = PRIV_MOFF;
})
/* what is already mapped (alone in the window) */
MUT(busy_fixed_noreplace, 1, {
	set_place(m, KDL_MAP_FIXED_NOREPLACE);
	m->fixed_addr = w->lo;
	m->align = 0;
	squat(w, r, w->lo + PG * rnd(g, span_pages(m)), PG);
})
MUT(busy_mirror_noreplace, 1, {
	set_place(m, chance(g, 50) ? KDL_MAP_FIXED : KDL_MAP_FIXED_NOREPLACE);
	m->fixed_addr = w->lo;
	m->align = 0;
	m->flags |= KDL_MAP_MIRROR | KDL_MAP_MIRROR_NOREPLACE;
	m->mirror_base = PRIV_MOFF;
	squat(w, r, w->lo + PRIV_MOFF + PG * rnd(g, span_pages(m)), PG);
})
MUT(busy_window_full, 1, {
	uint64_t hole = span_pages(m) * PG - PG, at;
	set_place(m, KDL_MAP_WINDOW);
	m->window_lo = w->lo;
	m->window_hi = w->hi;
	squat(w, r, w->lo, PRIV_LEN);
	r->squat_full = true;
	at = w->lo + PG * (1 + rnd(g, PRIV_LEN / PG - span_pages(m) - 2));
	if (hole)
		munmap((void *)at, hole);
})
MUT(busy_fixed_replaces, 1, {
	set_place(m, KDL_MAP_FIXED);
	m->fixed_addr = w->lo;
	m->align = 0;
	squat(w, r, w->lo + PG * rnd(g, span_pages(m)), PG);
})
MUT(busy_mirror_replaces, 1, {
	set_place(m, chance(g, 50) ? KDL_MAP_FIXED : KDL_MAP_FIXED_NOREPLACE);
	m->fixed_addr = w->lo;
	m->align = 0;
	m->flags = (m->flags | KDL_MAP_MIRROR) & ~KDL_MAP_MIRROR_NOREPLACE;
	m->mirror_base = PRIV_MOFF;
	squat(w, r, w->lo + PRIV_MOFF + PG * rnd(g, span_pages(m)), PG);
})
/* where the struct is */
MUT(struct_read_only, 0, r->loc = LOC_RO)
MUT(struct_straddles, 0, {
	r->loc = LOC_STRADDLE;
	r->prefix = chance(g, 20) ? 1 + rnd(g, 3) : 4 + rnd(g, sizeof(*m) - 4);
})
MUT(struct_bad_pointer, 0, {
	static const int v[] = { LOC_NULL, LOC_LOW, LOC_HOLE, LOC_NONEPG,
				 LOC_KERNEL, LOC_KTEXT, LOC_NONCANON, LOC_TOP };
	r->loc = PICK(g, v);
})
MUT(base_garbage, 0, m->base = rnext(g))
MUT(cmd_size_dir_bits, 0,
    r->cmd = _IOC(rnd(g, 4), KDL_IOC_MAGIC, _IOC_NR(KDL_IOC_MAP),
		  rnd(g, 1 << 14)))

const struct mutation mutations[] = {
	MENT(size_small, 0), MENT(size_huge, 0), MENT(size_tail_nonzero, 0),
	MENT(size_tail_zero, 0), MENT(flag_unknown, 0),
	MENT(flag_no_placement, 0), MENT(flag_two_placements, 0),
	MENT(flag_noreplace_alone, 0), MENT(reserved_nonzero, 0),
	MENT(reserved2_nonzero, 0),
	MENT(nseg_zero, 0), MENT(nseg_too_many, 0), MENT(nseg_past_array, 0),
	MENT(segs_run_into_fault, 0), MENT(segs_bad_pointer, 0),
	MENT(segs_straddle, 0), MENT(segs_read_only, 0), MENT(span_zero, 0),
	MENT(span_unaligned, 0), MENT(span_huge, 0), MENT(span_short, 0),
	MENT(span_grow, 0), MENT(align_not_pow2, 0), MENT(align_below_page, 0),
	MENT(align_huge, 0), MENT(align_ok, 0), MENT(file_base_unaligned, 0),
	MENT(file_base_past_eof, 0), MENT(file_base_wraps, 0),
	MENT(window_inverted, 0), MENT(window_beyond, 0),
	MENT(window_unaligned, 0), MENT(window_below_span, 0),
	MENT(window_far, 0), MENT(fixed_unaligned, 0),
	MENT(fixed_misaligned_for_align, 0), MENT(fixed_wraps, 0),
	MENT(fixed_beyond, 0), MENT(fixed_noncanonical, 0),
	MENT(place_anywhere, 0), MENT(seg_memsz_zero, 0),
	MENT(seg_filesz_above_memsz, 0), MENT(seg_offset_incongruent, 0),
	MENT(seg_beyond_span, 0), MENT(seg_vaddr_wraps, 0),
	MENT(seg_offset_wraps, 0), MENT(seg_unsorted, 0),
	MENT(seg_shares_a_page, 0), MENT(seg_prot_unknown, 0),
	MENT(seg_flags_nonzero, 0), MENT(seg_data_fd, 0), MENT(seg_past_eof, 0),
	MENT(fd_from_pool, 0), MENT(fd_own_kdl, 0), MENT(src_from_regions, 0),
	MENT(src_unaligned, 0), MENT(src_len_zero, 0), MENT(src_wraps, 0),
	MENT(src_kernel, 0), MENT(src_anonymous, 0),
	MENT(src_in_hot_window, 0), MENT(mirror_below_span, 0),
	MENT(mirror_unaligned, 0), MENT(mirror_beyond, 0),
	MENT(mirror_top_overflows, 0), MENT(mirror_ok, 0),
	MENT(busy_fixed_noreplace, 1), MENT(busy_mirror_noreplace, 1),
	MENT(busy_window_full, 1), MENT(busy_fixed_replaces, 1),
	MENT(busy_mirror_replaces, 1), MENT(struct_read_only, 0),
	MENT(struct_straddles, 0), MENT(struct_bad_pointer, 0),
	MENT(base_garbage, 0), MENT(cmd_size_dir_bits, 0),
};
#define NMUT	(int)(sizeof(mutations) / sizeof(mutations[0]))
const int nmut = NMUT;

/* Applies 1 to 3 mutations; @solo: the request is alone in its window. */
void mutate(struct worker *w, struct mreq *r, struct rng *g, bool solo,
	    bool ioctl_path)
{
	unsigned int n = chance(g, 70) ? 1 : 2 + rnd(g, 2), i;

	for (i = 0; i < n; i++) {
		int k;

		do {
			k = rnd(g, NMUT);
		} while ((mutations[k].solo && (!solo || r->squat)) ||
			 (!ioctl_path && mutations[k].fn == mut_cmd_size_dir_bits));
		mutations[k].fn(w, r, g);
		r->mut[r->nmut++] = k;
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * gen.c - building valid requests: a source, segments over it, a placement;
 * keeping random and mutated requests off what is not theirs; writing them
 * into the arena.
 */
#include "stress.h"

static const uint32_t prots[] = {
	PROT_READ, PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE,
	PROT_READ | PROT_EXEC, PROT_READ | PROT_EXEC, PROT_NONE,
	PROT_READ | PROT_WRITE | PROT_EXEC, PROT_WRITE, PROT_EXEC,
};

/* Lays out segments over @avail bytes of source; returns the span. */
static uint64_t gen_segments(struct rng *g, struct mreq *r, uint64_t avail,
			     unsigned int maxseg)
{
	uint64_t vp = rnd(g, 2), avail_pages = avail / PG;
	unsigned int i, n = 1 + rnd(g, 4);

	if (chance(g, 3))
		n = 8 + rnd(g, MAX_SEGS - 7);
	if (n > maxseg)
		n = maxseg;
	for (i = 0; i < n; i++) {
		struct kdl_segment *s = &r->seg[i];
		uint64_t pofs = chance(g, 50) ? 0 : rnd(g, PG);
		uint64_t cap = (n > 8 ? 1 : 3) * PG, maxf;

		memset(s, 0, sizeof(*s));
		s->offset = (avail_pages ? rnd(g, avail_pages) : 0) * PG + pofs;
		maxf = avail > s->offset ? avail - s->offset : 0;
		if (maxf > cap)
			maxf = cap;
		s->filesz = chance(g, 15) ? 0 : rnd(g, maxf + 1);
		s->memsz = s->filesz + (chance(g, 50) ? 0 : rnd(g, 2 * PG));
		if (!s->memsz)
			s->memsz = 1 + rnd(g, PG);
		s->vaddr = vp * PG + pofs;
		s->prot = PICK(g, prots);
		vp = PAGE_UP(s->vaddr + s->memsz) / PG +
		     (chance(g, 30) ? rnd(g, 3) : 0);
	}
	r->nseg = n;
	r->m.nr_segments = n;
	return (vp + rnd(g, 2)) * PG;
}

/* A quarter of the placed requests get a mirror @moff above, half of
 * those NOREPLACE. */
static void maybe_mirror(struct rng *g, struct kdl_map *m, uint64_t moff)
{
	if (chance(g, 25)) {
		m->flags |= KDL_MAP_MIRROR;
		if (chance(g, 50))
			m->flags |= KDL_MAP_MIRROR_NOREPLACE;
		m->mirror_base = moff;
	}
}

/* A valid request for @t; @window_only: no FIXED (it shares a window). */
void gen_valid(struct worker *w, struct rng *g, struct mreq *r,
	       int t, bool window_only)
{
	const struct source *src = &S->src[rnd(g, S->nsrc)];
	const struct file_info *f = &S->files[src->file];
	uint64_t fb, avail, sub;

	memset(&r->m, 0, sizeof(r->m));
	r->nseg = 0;
	r->loc = LOC_RW;
	r->seg_loc = chance(g, 10) ? LOC_RO : LOC_RW;
	r->prefix = r->seg_prefix = 0;
	r->seg_raw = false;
	r->squat = r->squat_len = 0;
	r->squat_full = false;
	r->nmut = 0;
	r->edge = -1;
	r->live = 0;
	r->m.size = sizeof(r->m);
	/* ignored until a segment has KDL_SEG_DATA_FD (a random flag may) */
	r->m.data_fd = S->sfd_img_ro;
	r->data_file = F_NONE;
	r->cmd = 0;
	memset(r->tail, 0, sizeof(r->tail));

	/* 1. the source: an fd, or an address range of a mapped file */
	if (src->fd >= 0) {
		avail = f->size;
		r->m.fd = src->fd;
		r->file_off = 0;
	} else {
		uint64_t skip = chance(g, 30) ? rnd(g, 3) * PG : 0;

		if (skip >= src->len)
			skip = 0;
		r->m.flags |= KDL_MAP_SRC_ADDR;
		r->m.src_addr = src->addr + skip;
		r->m.src_len = src->len - skip;
		r->m.fd = chance(g, 50) ? -1 : (int)rnext(g);	/* ignored */
		r->file_off = src->off + skip;
		r->live = src->addr + skip;
		avail = f->size - r->file_off;
		if (avail > r->m.src_len)
			avail = r->m.src_len;
	}
	fb = chance(g, 30) && avail > 2 * PG ? rnd(g, avail / PG / 2) * PG : 0;
	r->m.file_base = fb;
	r->file_off += fb;
	r->file = src->file;
	r->m.span = gen_segments(g, r, avail - fb, MAX_SEGS);
	if (r->m.flags & KDL_MAP_SRC_ADDR && chance(g, 20)) {
		/* src_len just long enough for the last file byte used */
		uint64_t need = 0, e;
		unsigned int i;

		for (i = 0; i < r->nseg; i++) {
			e = fb + r->seg[i].offset + r->seg[i].filesz;
			if (e > need)
				need = e;
		}
		if (need)
			r->m.src_len = need;
	}
	if (chance(g, 30))
		r->m.align = PG << rnd(g, 10);

	/* 2. the placement */
	switch (t) {
	case T_PRIV:
		if (window_only || chance(g, 70)) {
			r->m.flags |= KDL_MAP_WINDOW;
			/* a sub-window only alone: 16 images need the room */
			sub = !window_only && chance(g, 20) ? rnd(g, 32) << 20 : 0;
			r->m.window_lo = w->lo + sub;
			r->m.window_hi = w->hi;
		} else {
			r->m.flags |= chance(g, 50) ? KDL_MAP_FIXED :
						      KDL_MAP_FIXED_NOREPLACE;
			r->m.fixed_addr = w->lo;
		}
		maybe_mirror(g, &r->m, PRIV_MOFF);
		break;
	case T_HOT: {
		uint64_t align = r->m.align ? r->m.align : PG;

		if (align > (64UL << 10))
			r->m.align = align = 64UL << 10;
		if (chance(g, 60)) {
			r->m.flags |= KDL_MAP_WINDOW;
			r->m.window_lo = HOT_LO;
			r->m.window_hi = HOT_HI;
		} else {
			r->m.flags |= chance(g, 50) ? KDL_MAP_FIXED :
						      KDL_MAP_FIXED_NOREPLACE;
			r->m.fixed_addr = (HOT_LO + rnd(g, HOT_LEN / 2)) & ~(align - 1);
		}
		maybe_mirror(g, &r->m, HOT_MOFF);
		break;
	}
	case T_ANY:
	case T_EDGE:
		if (r->m.align > (2UL << 20))
			r->m.align = 2UL << 20;
		r->m.flags |= KDL_MAP_ANYWHERE;
		if (S->la57 && chance(g, 15)) {
			r->m.flags |= KDL_MAP_MIRROR | KDL_MAP_MIRROR_NOREPLACE;
			r->m.mirror_base = FAR_MOFF;
		}
		break;
	}
	if (chance(g, 10))
		r->m.base = rnext(g);		/* an output: ignored */
}

/* Is [a, a + len) inside [lo, lo + wlen)? */
bool inside(uint64_t a, uint64_t len, uint64_t lo, uint64_t wlen)
{
	uint64_t end;

	return !__builtin_add_overflow(a, len, &end) && a >= lo &&
	       end <= lo + wlen;
}

bool meets(uint64_t a, uint64_t len, uint64_t lo, uint64_t hi)
{
	uint64_t end;

	if (__builtin_add_overflow(a, len, &end))
		end = ~0ULL;
	return a < hi && end > lo;
}

/*
 * Does [a, +len) touch what is not the worker's own?  Its own is the GiB
 * around its window and the GiB around its mirror window: a request the
 * header rejects (a mirror below the span, say) may point a bit past the
 * window, and the probes cover the whole GiB.
 */
static bool meets_protected(const struct worker *w, uint64_t a, uint64_t len)
{
	uint64_t own = PRIV_BASE + (uint64_t)w->id * GIB;

	if (!meets(a, len, PROTECTED_LO, PROTECTED_HI))
		return false;
	return !(inside(a, len, own, GIB) || inside(a, len, own + PRIV_MOFF, GIB));
}

/*
 * Keeps random and mutated requests from destroying what is not theirs:
 * replacing placements (FIXED, a MIRROR without NOREPLACE) only inside
 * the hot window or the worker's own private window, and nothing at all
 * in the other workers' windows.  Requests the header rejects anyway are
 * left alone: rejecting them is what is tested.
 */
void make_safe(struct worker *w, struct mreq *r)
{
	struct kdl_map *m = &r->m;
	unsigned int place = m->flags & KDL_MAP_PLACEMENT_MASK;
	uint64_t own = PRIV_BASE + (uint64_t)w->id * GIB, span = m->span;
	uint64_t mlo = 0, mlen = 0;
	bool replace_ok;

	if ((m->flags & ~KDL_MAP_ALL_FLAGS) || __builtin_popcount(place) != 1 ||
	    !span || span % PG)
		return;
	if (place == KDL_MAP_FIXED || place == KDL_MAP_FIXED_NOREPLACE) {
		replace_ok = inside(m->fixed_addr, span, own, GIB) ||
			     inside(m->fixed_addr, span, HOT_LO, HOT_LEN);
		if (place == KDL_MAP_FIXED && !replace_ok)
			m->flags ^= KDL_MAP_FIXED | KDL_MAP_FIXED_NOREPLACE;
		if (meets_protected(w, m->fixed_addr, span))
			m->fixed_addr = HOT_LO;
		mlo = m->fixed_addr;
		mlen = span;
	} else if (place == KDL_MAP_WINDOW) {
		uint64_t align = m->align ? m->align : PG;
		uint64_t first = m->window_lo > 65536 ? m->window_lo : 65536;
		bool above;

		/* the search starts at the first aligned base: above them? */
		above = !(align & (align - 1)) && first + align - 1 > first &&
			((first + align - 1) & ~(align - 1)) >= PROTECTED_HI;
		if (!above && m->window_lo < m->window_hi &&
		    meets_protected(w, m->window_lo, m->window_hi - m->window_lo)) {
			if (m->window_lo < PROTECTED_LO)
				m->window_hi = PROTECTED_LO;
			else
				m->window_lo = PROTECTED_HI;
		}
		mlo = m->window_lo;
		mlen = m->window_hi > m->window_lo ? m->window_hi - m->window_lo : 0;
	}
	if (!(m->flags & KDL_MAP_MIRROR))
		return;
	if (place == KDL_MAP_ANYWHERE) {
		m->flags |= KDL_MAP_MIRROR_NOREPLACE;
		return;
	}
	if (__builtin_add_overflow(mlo, m->mirror_base, &mlo) ||
	    mlo >= S->task_size)
		return;				/* beyond: rejected */
	if (meets_protected(w, mlo, mlen)) {
		m->flags &= ~(KDL_MAP_MIRROR | KDL_MAP_MIRROR_NOREPLACE);
		return;
	}
	if (!(inside(mlo, mlen, own + PRIV_MOFF, GIB) ||
	      inside(mlo, mlen, HOT_LO + HOT_MOFF, HOT_LEN)))
		m->flags |= KDL_MAP_MIRROR_NOREPLACE;
}

/* Writes the request into the arena: segments, then the struct. */
void materialize(struct worker *w, struct mreq *r)
{
	uint8_t buf[sizeof(r->m) + sizeof(r->tail)];
	size_t len = sizeof(r->m);

	if (r->nseg > MAX_SEGS + 4)
		r->nseg = MAX_SEGS + 4;
	if (!r->seg_raw) {
		size_t slen = r->nseg * sizeof(struct kdl_segment);

		r->m.segments = slen || r->seg_loc != LOC_RW ?
			put_obj(w, r->seg, slen, r->seg_loc, r->seg_prefix) :
			apage(w, A_BUMP);
	}
	if (r->m.size > sizeof(r->m) && r->m.size <= PG)
		len = r->m.size;
	memcpy(buf, &r->m, sizeof(r->m));
	memcpy(buf + sizeof(r->m), r->tail, len - sizeof(r->m));
	r->ua = put_obj(w, buf, len, r->loc, r->prefix);
	r->base_in = r->m.base;
}

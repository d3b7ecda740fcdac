// SPDX-License-Identifier: GPL-2.0
/*
 * judge.c - the model of uapi/linux/kdl.h: which rules a request breaks
 * (and so which errnos it must fail with), which errnos a valid one may
 * still get, and the verdict on a result.
 */
#include "stress.h"

/* A broken rule, with the line of the rule for the report (judge.c:N). */
#define V(x, e)		viol((x), (e), __LINE__)

/* Records a broken rule; the first one's line goes into the report. */
static void viol(struct expect *x, int e, int line)
{
	if (es_empty(&x->viol))
		x->line = line;
	es_add(&x->viol, e);
}

bool tail_zero(uintptr_t a, size_t from, size_t to)
{
	const uint8_t *p = (const uint8_t *)a;
	size_t i;

	for (i = from; i < to; i++)
		if (p[i])
			return false;
	return true;
}

/* Can the kernel read [ua, ua + len)?  EFAULT if not, unknown if racing. */
static bool readable(const struct worker *w, uintptr_t ua, uint64_t len,
		     struct expect *x)
{
	enum acc a = mem_access(w, ua, len, false);

	if (a == ACC_YES)
		return true;
	if (a == ACC_NO)
		V(x, EFAULT);
	else
		x->unknown = true;
	return false;
}

/*
 * The size-versioned copy-in (the header's first paragraph): reads the
 * struct at @ua into @out (at most @ksize bytes).  Returns false when the
 * model cannot go on (the struct cannot be read, or its size is wrong).
 */
static bool judge_copy_in(const struct worker *w, uintptr_t ua, size_t ver0,
			  void *out, size_t ksize, bool out_written,
			  size_t out_off, size_t out_len, struct expect *x)
{
	uint32_t usize;

	if (!readable(w, ua, 4, x))
		return false;
	memcpy(&usize, (const void *)ua, sizeof(usize));	/* may be unaligned */
	if (usize < ver0) {
		V(x, EINVAL);
		return false;
	}
	if (usize > PG) {
		V(x, E2BIG);
		return false;
	}
	if (!readable(w, ua, usize, x))
		return false;
	if (usize > ksize && !tail_zero(ua, ksize, usize))
		V(x, E2BIG);
	memset(out, 0, ksize);
	memcpy(out, (const void *)ua, usize < ksize ? usize : ksize);
	/* an output field the kernel cannot write is a bad pointer */
	if (out_written && mem_access(w, ua + out_off, out_len, true) != ACC_YES)
		x->late_efault = true;
	return true;
}

static const struct vma_desc *vma_at(uintptr_t a)
{
	int i;

	for (i = 0; i < S->nvmas; i++)
		if (a >= S->vmas[i].start && a < S->vmas[i].end)
			return &S->vmas[i];
	return NULL;
}

/*
 * KDL_MAP_SRC_ADDR: [src_addr, +src_len) must be one file at consecutive
 * offsets.  Sets the file and the limit for the segment checks.
 */
static void judge_src_addr(const struct worker *w, const struct kdl_map *m,
			   struct expect *x, int *file, uint64_t *off,
			   uint64_t *limit)
{
	uint64_t a = m->src_addr, end;
	const struct vma_desc *v, *first;
	uint64_t next_off;

	if (!m->src_len || a % PG || __builtin_add_overflow(a, m->src_len, &end) ||
	    end > S->task_size) {
		V(x, EINVAL);
		return;
	}
	if (!(a >= SRC_AREA && end <= S->src_hi)) {
		/* the arena and the unused part of the private window are
		 * anonymous or unmapped: known; anything else is not */
		if (page_access(w, PAGE_DOWN(a), false) != ACC_UNKNOWN &&
		    !(a >= SRC_AREA && a < S->src_hi))
			V(x, EINVAL);
		else
			x->unknown = true;
		return;
	}
	first = vma_at(a);
	if (!first || first->file == F_ANON) {
		V(x, EINVAL);
		return;
	}
	if (!S->files[first->file].regular)
		V(x, ENODEV);		/* and maybe not one file either */
	next_off = first->off + (first->end - first->start);
	for (v = first; v->end < end;) {
		const struct vma_desc *n = vma_at(v->end);

		/* the kernel may have merged consecutive VMAs: either way */
		if (!n || n->file != first->file || n->off != next_off) {
			V(x, EINVAL);
			return;
		}
		next_off = n->off + (n->end - n->start);
		v = n;
	}
	if (!S->files[first->file].regular)
		return;
	*file = first->file;
	*off = first->off + (a - first->start);
	*limit = S->files[first->file].size;
	if (*limit > *off + m->src_len)
		*limit = *off + m->src_len;
}

const struct fd_entry *fd_lookup(int fd)
{
	int i;

	for (i = 0; i < S->nfds; i++)
		if (S->fds[i].fd == fd)
			return &S->fds[i];
	return NULL;
}

/* What the segments take from data_fd (KDL_SEG_DATA_FD), once judged. */
struct data_use {
	bool any;			/* a segment has the flag */
	bool any_file;			/* one of them maps data_fd */
	bool limit_known;
	uint64_t limit;			/* data_fd's size */
	int file;			/* F_*, F_NONE: not a known file */
};

/*
 * A KDL_SEG_DATA_FD segment: its whole file pages at the page-aligned
 * absolute offset of data_fd.  The kernel looks at the range only once
 * vaddr + memsz is inside the span; when it is not, that is the
 * violation, and this one may be computed anyway.
 */
static void judge_data_range(const struct kdl_segment *s,
			     const struct data_use *d, struct expect *x)
{
	uint64_t fend, len, end;

	if (!s->filesz || s->offset % PG) {
		V(x, EINVAL);
		return;
	}
	if (!d->limit_known || __builtin_add_overflow(s->vaddr, s->filesz, &fend) ||
	    fend > ~0UL - PG)
		return;
	len = PAGE_UP(fend) - PAGE_DOWN(s->vaddr);
	if (__builtin_add_overflow(s->offset, len, &end) || end > d->limit)
		V(x, EINVAL);
}

static void judge_segments(const struct kdl_map *m,
			   const struct kdl_segment *segs, uint64_t src_off,
			   bool limit_known, uint64_t limit,
			   struct data_use *d, struct expect *x,
			   bool *any_file)
{
	uint64_t prev_end = 0, end, fend;
	unsigned int i;

	for (i = 0; i < m->nr_segments; i++) {
		const struct kdl_segment *s = &segs[i];

		if ((s->flags & ~KDL_SEG_ALL_FLAGS) ||
		    (s->prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)))
			V(x, EINVAL);
		if (!s->memsz || s->filesz > s->memsz)
			V(x, EINVAL);
		if (__builtin_add_overflow(s->vaddr, s->memsz, &end) ||
		    end > m->span)
			V(x, EINVAL);
		if (PAGE_DOWN(s->vaddr) < prev_end)
			V(x, EINVAL);
		prev_end = PAGE_UP(s->vaddr + s->memsz);
		if (s->flags & KDL_SEG_DATA_FD) {
			/* neither file_base nor the source's size apply */
			judge_data_range(s, d, x);
			if (s->filesz)
				d->any_file = true;
			continue;
		}
		if (s->vaddr % PG != s->offset % PG)
			V(x, EINVAL);
		if (limit_known &&
		    (__builtin_add_overflow(s->offset, s->filesz, &fend) ||
		     __builtin_add_overflow(fend, src_off, &fend) ||
		     fend > limit))
			V(x, EINVAL);
		if (s->filesz)
			*any_file = true;
	}
}

/* The errnos an fd gives as the source or as data_fd (the header's). */
static int judge_fd(const struct worker *w, int fd, struct expect *x)
{
	const struct fd_entry *f = fd_lookup(fd);

	if (fd == w->fd) {
		V(x, ENODEV);		/* its own /dev/kdl */
	} else if (!f) {
		if (fd < 0 || fd >= 900)
			V(x, EBADF);
		else
			x->unknown = true;
	} else if (!es_empty(&f->err)) {
		if (es_empty(&x->viol))
			x->line = __LINE__;
		x->viol.w[0] |= f->err.w[0];
		x->viol.w[1] |= f->err.w[1];
		x->viol.w[2] |= f->err.w[2];
	} else {
		return f->file;
	}
	return F_NONE;
}

/*
 * data_fd, when a segment has KDL_SEG_DATA_FD: only a VER1 struct has
 * it, and neither a mirror nor an address source may come with it.
 */
static void judge_data_fd(const struct worker *w, const struct kdl_map *m,
			  const struct kdl_segment *segs, struct data_use *d,
			  struct expect *x)
{
	unsigned int i;

	for (i = 0; i < m->nr_segments; i++)
		if (segs[i].flags & KDL_SEG_DATA_FD)
			d->any = true;
	if (!d->any)
		return;
	if (m->size < KDL_MAP_SIZE_VER1 ||
	    (m->flags & (KDL_MAP_MIRROR | KDL_MAP_SRC_ADDR)))
		V(x, EINVAL);
	d->file = judge_fd(w, m->data_fd, x);
	if (d->file == F_SHRINK) {
		x->unknown = true;		/* its size changes */
		es_add(&x->phase, EINVAL);
		d->file = F_NONE;
	} else if (d->file > F_ANON) {
		d->limit = S->files[d->file].size;
		d->limit_known = true;
	}
}

/*
 * KDL_IOC_MAP at @ua, as it sits in memory now.  @r, when given, learns
 * which file the image comes from.
 */
void judge_map(const struct worker *w, uintptr_t ua, struct expect *x,
	       struct mreq *r)
{
	struct kdl_map m;
	unsigned int place;
	uint64_t ts = S->task_size, top = 0, end, limit = 0, off = 0, src_off;
	uint64_t align;
	bool any_file = false, limit_known = false;
	struct data_use d = { .file = F_NONE };
	int file = F_NONE;
	enum acc a;

	memset(x, 0, sizeof(*x));
	if (!judge_copy_in(w, ua, KDL_MAP_SIZE_VER0, &m, sizeof(m), true,
			   offsetof(struct kdl_map, base), 8, x))
		return;
	place = m.flags & KDL_MAP_PLACEMENT_MASK;
	/* (a size below VER1 leaves reserved2 zero in the copy) */
	if ((m.flags & ~KDL_MAP_ALL_FLAGS) || m.reserved[0] || m.reserved[1] ||
	    m.reserved2)
		V(x, EINVAL);
	if (__builtin_popcount(place) != 1)
		V(x, EINVAL);
	if ((m.flags & KDL_MAP_MIRROR_NOREPLACE) && !(m.flags & KDL_MAP_MIRROR))
		V(x, EINVAL);
	if (!m.nr_segments || m.nr_segments > MAX_SEGS)
		V(x, EINVAL);
	if (!m.span || m.span % PG || m.span > ts)
		V(x, EINVAL);
	if (m.align && ((m.align & (m.align - 1)) || m.align < PG ||
			m.align > ts / 2))
		V(x, EINVAL);
	align = m.align ? m.align : PG;
	if (m.file_base % PG)
		V(x, EINVAL);
	if (place == KDL_MAP_WINDOW) {
		if (m.window_lo >= m.window_hi || m.window_hi > ts ||
		    m.window_lo % PG || m.window_hi % PG ||
		    m.window_hi - m.window_lo < m.span)
			V(x, EINVAL);
		top = m.window_hi;
		es_add(&x->phase, ENOMEM);
		/* below mmap_min_addr: security_mmap_addr() */
		if (m.window_lo < S->mmap_min) {
			es_add(&x->phase, EPERM);
			es_add(&x->phase, EACCES);
		}
	} else if (place == KDL_MAP_FIXED || place == KDL_MAP_FIXED_NOREPLACE) {
		if (m.fixed_addr % PG || m.fixed_addr % align ||
		    __builtin_add_overflow(m.fixed_addr, m.span, &end) ||
		    end > ts)
			V(x, EINVAL);
		else
			top = end;
		if (place == KDL_MAP_FIXED_NOREPLACE)
			es_add(&x->phase, EEXIST);
		es_add(&x->phase, ENOMEM);	/* max_map_count */
		if (m.fixed_addr < S->mmap_min) {
			es_add(&x->phase, EPERM);
			es_add(&x->phase, EACCES);
		}
	} else if (place == KDL_MAP_ANYWHERE) {
		es_add(&x->phase, ENOMEM);
		/* ioctl-abi.md: no address could ever fit span + align */
		if (m.span + align > ts || m.span + align < m.span)
			V(x, EINVAL);
	}
	if (m.flags & KDL_MAP_MIRROR) {
		if (m.mirror_base % PG || m.mirror_base < m.span ||
		    m.mirror_base >= ts)
			V(x, EINVAL);
		else if (top && (__builtin_add_overflow(m.mirror_base, top, &end) ||
				 end > ts))
			V(x, EINVAL);
		else if (!top)		/* ANYWHERE: known once placed */
			es_add(&x->phase, EINVAL);
		if (m.flags & KDL_MAP_MIRROR_NOREPLACE)
			es_add(&x->phase, EEXIST);
	}

	/* the source */
	if (m.flags & KDL_MAP_SRC_ADDR) {
		judge_src_addr(w, &m, x, &file, &off, &limit);
		limit_known = file != F_NONE;
	} else {
		file = judge_fd(w, m.fd, x);
		if (file == F_SHRINK) {
			x->unknown = true;		/* its size changes */
			es_add(&x->phase, EINVAL);
			es_add(&x->phase, EIO);
		} else if (file > F_ANON) {
			limit = S->files[file].size;
			limit_known = true;
		}
	}
	src_off = off + m.file_base;
	if (off + m.file_base < off)
		V(x, EINVAL);

	/* the segments */
	if (m.nr_segments && m.nr_segments <= MAX_SEGS) {
		a = mem_access(w, m.segments,
			       (uint64_t)m.nr_segments * sizeof(struct kdl_segment),
			       false);
		if (a == ACC_NO)
			V(x, EFAULT);
		else if (a == ACC_UNKNOWN)
			x->unknown = true;
		else {
			const struct kdl_segment *segs =
				(const struct kdl_segment *)(uintptr_t)m.segments;

			judge_data_fd(w, &m, segs, &d, x);
			judge_segments(&m, segs, src_off, limit_known, limit,
				       &d, x, &any_file);
		}
	}
	if (file > F_ANON && S->files[file].map_err && any_file) {
		x->unmappable = true;
		es_add(&x->phase, S->files[file].map_err);
		/* sysfs and procfs are SB_I_NOEXEC: PROT_EXEC is EPERM */
		es_add(&x->phase, EPERM);
		/* kdl_shmem_copy() of a file whose i_size is more than it
		 * reads (sysfs, procfs, a file shrinking) */
		es_add(&x->phase, EIO);
	}
	/* data_fd's pages are mapped, never copied: no EIO */
	if (d.file > F_ANON && S->files[d.file].map_err && d.any_file) {
		x->unmappable = true;
		es_add(&x->phase, S->files[d.file].map_err);
		es_add(&x->phase, EPERM);
	}
	if (r) {
		r->file = file > F_ANON && S->files[file].bytes ? file : F_NONE;
		r->file_off = src_off;
		r->data_file = d.file > F_ANON && S->files[d.file].bytes ?
			       d.file : F_NONE;
		if (d.any && r->data_file == F_NONE)
			r->file = F_NONE;	/* the content is not known */
	}
}

/* KDL_IOC_UNMAP on the private fd (@known: its records are modelled). */
void judge_unmap(struct worker *w, uintptr_t ua, struct expect *x, bool known)
{
	struct kdl_unmap u;

	memset(x, 0, sizeof(*x));
	if (!judge_copy_in(w, ua, KDL_UNMAP_SIZE_VER0, &u, sizeof(u), false,
			   0, 0, x))
		return;
	if (u.flags || u.reserved[0] || u.reserved[1])
		V(x, EINVAL);
	if (!es_empty(&x->viol))
		return;
	if (!known || w->recs_unknown) {
		es_add(&x->phase, ENOENT);
		return;
	}
	x->exact = true;
	if (recs_find(w, u.base) < 0)
		V(x, ENOENT);
}

void judge_query(const struct worker *w, uintptr_t ua, struct expect *x)
{
	struct kdl_query q;

	memset(x, 0, sizeof(*x));
	if (!judge_copy_in(w, ua, KDL_QUERY_SIZE_VER0, &q, sizeof(q), true,
			   0, KDL_QUERY_SIZE_VER0, x))
		return;
	if (q.reserved[0] || q.reserved[1] || q.reserved[2] || q.reserved[3])
		V(x, EINVAL);
	/* uapi/linux/kdl.h: the outputs must be zero on input */
	if (q.abi_version || q.features || q.max_segments || q.max_batch)
		V(x, EINVAL);
	x->exact = es_empty(&x->viol) && !x->note;
}

/*
 * The verdict on one result (@err: 0 or an errno).  Returns true when it
 * agrees with the model.
 */
bool judge(struct worker *w, const struct expect *x, int err, const char *what)
{
	char want[160];

	/* an undocumented rule of the module may come first */
	if (x->note && err == EINVAL && es_has(&x->phase, err)) {
		note(w, x->note, err);
		return !S->strict;
	}
	if (!es_empty(&x->viol)) {
		if (!err) {
			es_str(&x->viol, want, sizeof(want));
			fail(w, "%s: invalid request accepted (it breaks rules "
			     "giving %s, first: judge.c:%d)", what, want,
			     x->line);
			return false;
		}
		if (x->unknown || es_has(&x->viol, err))
			return true;
		es_str(&x->viol, want, sizeof(want));
		fail(w, "%s: %s, expected one of %s (the rules it breaks, "
		     "first: judge.c:%d)", what, ename(err), want, x->line);
		return false;
	}
	if (x->late_efault) {
		if (!err) {
			fail(w, "%s: accepted though its output cannot be written",
			     what);
			return false;
		}
		if (err == EFAULT || (x->exact ? err == x->must :
				      es_has(&x->phase, err) || x->unknown))
			return true;
		fail(w, "%s: %s, expected EFAULT (its output cannot be written)",
		     what, ename(err));
		return false;
	}
	if (x->exact) {
		if (err == x->must)
			return true;
		if (!x->must)
			fail(w, "%s: valid request refused with %s", what,
			     ename(err));
		else
			fail(w, "%s: %s, expected %s", what, ename(err),
			     ename(x->must));
		return false;
	}
	if (!err || es_has(&x->phase, err))
		return true;
	if (x->unknown &&
	    (err == EBADF || err == ENODEV || err == EACCES || err == EINVAL ||
	     err == E2BIG ||
	     err == EFAULT || err == ENOMEM || err == EIO || err == EPERM ||
	     err == EEXIST))
		return true;
	es_str(&x->phase, want, sizeof(want));
	fail(w, "%s: %s for a request that breaks no rule of the header "
	     "(allowed here: OK|%s)", what, ename(err), want);
	return false;
}

/*
 * KDL_IOC_MAP_BATCH (flow_batch() in flow_private.c builds it, 1., and
 * checks what it left, 3.).
 * 2. The model: the struct, then each request in order; the batch stops
 * at the first that breaks a rule, with that one's errno and done = its
 * index.  A request the model cannot call exact (not in a free window)
 * may stop it earlier: then only "some failure" is checked.
 */
void judge_batch(struct worker *w, struct batch *bt)
{
	struct expect *x = &bt->x;
	struct kdl_map_batch b;
	const uint64_t *mp;
	enum acc a;
	int i, j;

	memset(x, 0, sizeof(*x));
	bt->want_done = -1;
	bt->early = true;
	if (!judge_copy_in(w, bt->ua, KDL_MAP_BATCH_SIZE_VER0, &b, sizeof(b),
			   false, 0, 0, x))
		return;
	if (!es_empty(&x->viol))
		return;				/* E2BIG: a non-zero tail */
	if (b.flags || b.done || b.reserved[0] || b.reserved[1] || !b.count ||
	    b.count > MAX_BATCH) {
		V(x, EINVAL);
		return;
	}
	a = mem_access(w, b.maps, (uint64_t)b.count * 8, false);
	if (a != ACC_YES) {
		if (a == ACC_NO)
			V(x, EFAULT);
		else
			x->unknown = true;
		return;
	}
	bt->early = false;
	mp = (const uint64_t *)(uintptr_t)b.maps;
	for (i = 0; i < (int)b.count; i++) {
		struct mreq *r = NULL;
		struct expect xi;

		for (j = 0; j < bt->n; j++)
			if (w->req[j].ua == mp[i])
				r = &w->req[j];
		if (r) {
			judge_map(w, r->ua, &r->x, r);
			set_exact(w, r, bt->n == 1);
			xi = r->x;
		} else {
			judge_map(w, mp[i], &xi, NULL);
		}
		if (!es_empty(&xi.viol) || xi.unknown || xi.late_efault) {
			/* a request it cannot write base back into is mapped,
			 * rolled back, and stops the batch with EFAULT */
			x->viol = xi.viol;
			if (xi.late_efault)
				es_add(&x->viol, EFAULT);
			x->line = xi.line;
			x->unknown = x->unknown || xi.unknown;
			bt->want_done = i;
			break;
		}
		if (!r || !r->x.exact)
			x->unknown = true;
	}
	if (bt->want_done < 0)
		bt->want_done = b.count;
	x->exact = !x->unknown && es_empty(&x->viol);
	if (mem_access(w, bt->ua + offsetof(struct kdl_map_batch, done), 4,
		       true) != ACC_YES)
		x->late_efault = true;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * send.c - sending requests (ioctl, io_uring), and checking what a success
 * mapped: placement, content byte by byte, private writes, the layout in
 * /proc/self/maps; the exact verdict of a private request.
 */
#include "stress.h"

int do_ioctl(int fd, unsigned long cmd, uintptr_t arg)
{
	return ioctl(fd, cmd, (void *)arg) ? errno : 0;
}

/* Sends @n commands in one submission; err[i]: 0 or the CQE's -res. */
int uring_run(struct worker *w, struct io_uring *ring,
	      const struct usqe *u, int n, int *err)
{
	struct io_uring_cqe *cqe;
	int i, ret;

	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		struct kdl_uring_cmd *c;

		if (!sqe)
			return ENOSPC;
		io_uring_prep_rw(IORING_OP_URING_CMD, sqe, u[i].fd, NULL, 0, 0);
		sqe->cmd_op = u[i].op;
		c = (struct kdl_uring_cmd *)sqe->cmd;
		c->addr = u[i].addr;
		c->reserved = u[i].reserved;
		sqe->flags = u[i].flags;
		sqe->user_data = i;
		err[i] = -1;
	}
	ret = io_uring_submit_and_wait(ring, n);
	if (ret < 0)
		return -ret;
	for (i = 0; i < n; i++) {
		ret = io_uring_wait_cqe(ring, &cqe);
		if (ret)
			return -ret;
		if (cqe->user_data < (uint64_t)n)
			err[cqe->user_data] = cqe->res < 0 ? -cqe->res :
					      cqe->res ? 1000 : 0;
		io_uring_cqe_seen(ring, cqe);
	}
	return 0;
}

uint64_t read_base(const struct worker *w, const struct mreq *r)
{
	if (mem_access(w, r->ua, sizeof(struct kdl_map), false) != ACC_YES)
		return r->base_in;
	return ((const struct kdl_map *)r->ua)->base;
}

/* The kdl_map as the module read it (our copy, or the arena's). */
static const struct kdl_segment *sent_segments(const struct mreq *r)
{
	return (const struct kdl_segment *)(uintptr_t)r->m.segments;
}

uint64_t mirror_of(const struct mreq *r, uint64_t base)
{
	return r->m.flags & KDL_MAP_MIRROR ? base + r->m.mirror_base : 0;
}

/* Compares one view of an image with the source; false on a difference. */
bool check_view(struct worker *w, const struct mreq *r, uintptr_t view,
		const char *which)
{
	static const uint8_t zero[4 * PG];
	const struct kdl_segment *segs = sent_segments(r);
	unsigned int i;

	for (i = 0; i < r->m.nr_segments; i++) {
		const struct kdl_segment *s = &segs[i];
		const struct file_info *f = &S->files[r->file];
		uint64_t pstart = PAGE_DOWN(s->vaddr);
		uint64_t fend = s->filesz ? s->vaddr + s->filesz : pstart;
		uint64_t mend = PAGE_UP(s->vaddr + s->memsz);
		uint64_t foff = r->file_off + s->offset - (s->vaddr - pstart);
		const uint8_t *p = (const uint8_t *)(view + pstart);
		uint64_t j, n;

		if (!(s->prot & PROT_READ))
			continue;
		/* KDL_SEG_DATA_FD: whole pages of data_fd, tail included */
		if (s->flags & KDL_SEG_DATA_FD) {
			f = &S->files[r->data_file];
			foff = s->offset;
			fend = PAGE_UP(fend);
		}
		if (memcmp(p, f->bytes + foff, fend - pstart)) {
			for (j = 0; p[j] == f->bytes[foff + j]; j++)
				;
			fail(w, "%s view at %#lx: segment %u (prot %u) byte %#lx "
			     "is %#x, file %s offset %#lx has %#x", which,
			     (unsigned long)view, i, s->prot,
			     (unsigned long)(pstart + j), p[j], f->name,
			     (unsigned long)(foff + j), f->bytes[foff + j]);
			return false;
		}
		/* past filesz reads as zero when memsz is larger; with memsz
		 * == filesz the rest of the page is the file's, as in ld.so */
		if (s->memsz == s->filesz || fend >= mend)
			continue;
		for (j = fend - pstart; j < mend - pstart; j += n) {
			n = mend - pstart - j < sizeof(zero) ? mend - pstart - j :
			    sizeof(zero);
			if (!memcmp(p + j, zero, n))
				continue;
			while (!p[j])
				j++;
			fail(w, "%s view at %#lx: segment %u (prot %u, filesz %#lx "
			     "memsz %#lx) byte %#lx past filesz is %#x, not 0",
			     which, (unsigned long)view, i, s->prot,
			     (unsigned long)s->filesz, (unsigned long)s->memsz,
			     (unsigned long)(pstart + j), p[j]);
			return false;
		}
	}
	return true;
}

/* Writable segments: private copies, or (mirrored) shared by both views. */
static void check_writes(struct worker *w, const struct mreq *r, uintptr_t base)
{
	const struct kdl_segment *segs = sent_segments(r);
	uint64_t mirror = mirror_of(r, base);
	unsigned int i;

	for (i = 0; i < r->m.nr_segments; i++) {
		const struct kdl_segment *s = &segs[i];
		const struct file_info *f = &S->files[r->file];
		volatile uint8_t *p = (volatile uint8_t *)(base + s->vaddr);
		uint64_t foff = r->file_off + s->offset;
		uint8_t old, b;

		if ((s->prot & (PROT_READ | PROT_WRITE)) !=
		    (PROT_READ | PROT_WRITE))
			continue;
		if (s->flags & KDL_SEG_DATA_FD) {
			f = &S->files[r->data_file];
			foff = s->offset + s->vaddr % PG;
		}
		old = *p;
		*p = ~old;
		if (mirror && *(volatile uint8_t *)(mirror + s->vaddr) != (uint8_t)~old)
			fail(w, "mirror at %#lx: a store to segment %u is not seen "
			     "through the other view", (unsigned long)mirror, i);
		if (s->filesz && f->fd >= 0 &&
		    (pread(f->fd, &b, 1, foff) != 1 || b != f->bytes[foff]))
			fail(w, "image at %#lx: a store to segment %u reached the "
			     "file %s", (unsigned long)base, i, f->name);
		*p = old;
	}
}

/* Reads /proc/self/maps into the worker's buffer. */
static size_t worker_maps(struct worker *w)
{
	return read_maps(w->maps, 1 << 20);
}

/*
 * /proc/self/maps over one view: every page mapped, segment pages with
 * the segment's prot, the rest PROT_NONE, none of them /dev/kdl.
 */
static void check_layout(struct worker *w, const struct mreq *r, uintptr_t view,
			 bool mirror_view)
{
	const struct kdl_segment *segs = sent_segments(r);
	uint64_t span = r->m.span, covered = 0;
	char *line, *save = NULL;

	worker_maps(w);
	for (line = strtok_r(w->maps, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long lo, hi, p;
		char perms[8], path[256] = "";

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi, perms,
			   path) < 3 || hi <= view || lo >= view + span)
			continue;
		if (!strcmp(path, "/dev/kdl"))
			fail(w, "image at %#lx: a VMA of /dev/kdl is left: %s",
			     (unsigned long)view, line);
		for (p = lo > view ? lo : view; p < hi && p < view + span; p += PG) {
			uint64_t off = p - view;
			unsigned int i, prot = 0;
			char want[4];

			for (i = 0; i < r->m.nr_segments; i++)
				if (off >= PAGE_DOWN(segs[i].vaddr) &&
				    off < PAGE_UP(segs[i].vaddr + segs[i].memsz))
					prot = segs[i].prot;
			want[0] = prot & PROT_READ ? 'r' : '-';
			want[1] = prot & PROT_WRITE ? 'w' : '-';
			want[2] = prot & PROT_EXEC ? 'x' : '-';
			want[3] = 0;
			if (strncmp(perms, want, 3)) {
				fail(w, "%s at %#lx: page %#lx is %s, expected %s "
				     "(%s)", mirror_view ? "mirror" : "image",
				     (unsigned long)view, (unsigned long)off,
				     perms, want, line);
				return;
			}
			covered++;
		}
	}
	if (covered != span / PG)
		fail(w, "image at %#lx: %lu of %lu pages mapped",
		     (unsigned long)view, (unsigned long)covered,
		     (unsigned long)(span / PG));
	w->layouts_checked++;
}

/* A successful map: where it went, and what it mapped. */
void check_image(struct worker *w, const struct mreq *r, uint64_t base,
		 bool content)
{
	uint64_t align = r->m.align ? r->m.align : PG, mirror;
	unsigned int place = r->m.flags & KDL_MAP_PLACEMENT_MASK;

	if (base % align)
		fail(w, "base %#lx not aligned to %#lx", (unsigned long)base,
		     (unsigned long)align);
	if (place == KDL_MAP_WINDOW &&
	    (base < r->m.window_lo || base + r->m.span > r->m.window_hi))
		fail(w, "base %#lx outside the window [%#lx, %#lx)",
		     (unsigned long)base, (unsigned long)r->m.window_lo,
		     (unsigned long)r->m.window_hi);
	if ((place == KDL_MAP_FIXED || place == KDL_MAP_FIXED_NOREPLACE) &&
	    base != r->m.fixed_addr)
		fail(w, "base %#lx, fixed address %#lx", (unsigned long)base,
		     (unsigned long)r->m.fixed_addr);
	mirror = mirror_of(r, base);
	/* the racers and FIXED requests of other workers change the hot
	 * window: its content proves nothing; and segments a random pointer
	 * found in someone else's memory may be gone by now */
	if (!content || r->file == F_NONE || r->m.span > (64UL << 20) ||
	    mem_access(w, r->m.segments, (uint64_t)r->m.nr_segments *
		       sizeof(struct kdl_segment), false) != ACC_YES || meets(base, r->m.span, HOT_LO, HOT_HI) ||
	    (mirror && meets(mirror, r->m.span, HOT_LO + HOT_MOFF,
			     HOT_HI + HOT_MOFF)))
		return;
	w->images_checked++;
	if (!check_view(w, r, base, "image"))
		return;
	if (mirror) {
		w->images_mirrored++;
		if (!check_view(w, r, mirror, "mirror"))
			return;
	}
	check_writes(w, r, base);
	if (rnd(&(struct rng){ base ^ w->iter }, 16) == 0) {
		check_layout(w, r, base, false);
		if (mirror)
			check_layout(w, r, mirror, true);
	}
}

bool range_empty(uintptr_t lo, size_t len)
{
	void *p = mmap((void *)lo, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return false;
	munmap(p, len);
	return p == (void *)lo;
}

/* The private windows must be empty between flows. */
void probe_private(struct worker *w, const char *after)
{
	uintptr_t win[2] = { w->lo, w->lo + PRIV_MOFF };
	int i;

	for (i = 0; i < 2; i++) {
		char *line, *save = NULL;
		char found[512] = "";
		size_t n = 0;

		if (range_empty(win[i], GIB))
			continue;
		worker_maps(w);
		for (line = strtok_r(w->maps, "\n", &save); line && n < 400;
		     line = strtok_r(NULL, "\n", &save)) {
			unsigned long lo, hi;

			if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
			    hi > win[i] && lo < win[i] + GIB)
				n += snprintf(found + n, sizeof(found) - n,
					      " [%s]", line);
		}
		fail(w, "after %s: the private %s window is not empty:%s", after,
		     i ? "mirror" : "image", found);
		munmap((void *)win[i], GIB);
	}
}

/*
 * A private request is exact when it breaks no rule, is placed (with its
 * mirror) inside the worker's free window: it must succeed, or give
 * exactly what a squatter arranged.  With siblings (a burst, a batch)
 * only a request that may use the whole window is: one narrowed by a
 * mutation can meet a sibling placed first and get ENOMEM.
 */
void set_exact(struct worker *w, struct mreq *r, bool alone)
{
	const struct kdl_map *m = &r->m;
	unsigned int place = m->flags & KDL_MAP_PLACEMENT_MASK;
	uint64_t lo, len, sq_end = r->squat + r->squat_len;
	bool fixed = place == KDL_MAP_FIXED || place == KDL_MAP_FIXED_NOREPLACE;

	if (!es_empty(&r->x.viol) || r->x.unknown || r->x.unmappable ||
	    (r->loc != LOC_RW && r->loc != LOC_RO))
		return;
	if (place == KDL_MAP_WINDOW) {
		lo = m->window_lo;
		len = m->window_hi - m->window_lo;
	} else if (fixed) {
		lo = m->fixed_addr;
		len = m->span;
	} else {
		return;
	}
	if (!inside(lo, len, w->lo, PRIV_LEN))
		return;
	if (!alone && (fixed || lo != w->lo || len != PRIV_LEN))
		return;
	if (m->flags & KDL_MAP_MIRROR &&
	    !inside(lo + m->mirror_base, len, w->lo + PRIV_MOFF, PRIV_LEN))
		return;
	r->x.exact = true;
	r->x.must = 0;
	if (!r->squat)
		goto out;
	if (r->squat_full && place == KDL_MAP_WINDOW)
		r->x.must = ENOMEM;
	else if (r->squat_full)
		r->x.exact = false;
	else if (place == KDL_MAP_FIXED_NOREPLACE &&
		 meets(m->fixed_addr, m->span, r->squat, sq_end))
		r->x.must = EEXIST;
	else if (m->flags & KDL_MAP_MIRROR_NOREPLACE && fixed &&
		 meets(m->fixed_addr + m->mirror_base, m->span, r->squat, sq_end))
		r->x.must = EEXIST;
	else if (m->flags & KDL_MAP_MIRROR_NOREPLACE && !fixed)
		r->x.exact = false;	/* the base decides */
out:
	if (r->x.exact && !r->x.must && r->x.late_efault)
		r->x.must = EFAULT;
}

/* One line about a request, for the report of a failure. */
void describe(struct worker *w, const struct mreq *r)
{
	const struct kdl_map *m = &r->m;
	char muts[160] = "", segs[400] = "";
	unsigned int i;
	size_t n = 0;

	for (i = 0; i < r->nmut; i++)
		n += snprintf(muts + n, sizeof(muts) - n, " %s",
			      mutations[r->mut[i]].name);
	for (i = 0, n = 0; i < r->nseg && i < 6 && n < sizeof(segs); i++)
		n += snprintf(segs + n, sizeof(segs) - n,
			      " {v %#lx o %#lx f %#lx m %#lx p %u fl %u}",
			      (unsigned long)r->seg[i].vaddr,
			      (unsigned long)r->seg[i].offset,
			      (unsigned long)r->seg[i].filesz,
			      (unsigned long)r->seg[i].memsz, r->seg[i].prot,
			      r->seg[i].flags);
	fail(w, "  request: size %u flags %#x fd %d data_fd %d nr %u file_base "
	     "%#lx src %#lx+%#lx span %#lx align %#lx window [%#lx, %#lx) "
	     "fixed %#lx mirror %#lx segments %#lx loc %d/%d rsvd %#lx/%#lx/%#x "
	     "edge %d; mutations:%s; segs:%s", m->size, m->flags, m->fd,
	     m->data_fd, m->nr_segments,
	     (unsigned long)m->file_base, (unsigned long)m->src_addr,
	     (unsigned long)m->src_len, (unsigned long)m->span,
	     (unsigned long)m->align, (unsigned long)m->window_lo,
	     (unsigned long)m->window_hi, (unsigned long)m->fixed_addr,
	     (unsigned long)m->mirror_base, (unsigned long)m->segments, r->loc,
	     r->seg_loc, (unsigned long)m->reserved[0],
	     (unsigned long)m->reserved[1], m->reserved2, r->edge, muts, segs);
}

/* After a MAP (ioctl or uring, @fd): judge, count, record, check. */
bool after_map(struct worker *w, struct mreq *r, int fd, int c, bool content)
{
	char what[64];
	bool ok;

	snprintf(what, sizeof(what), "%s on fd %d", cnt_name[c], fd);
	count(w, c, r->err);
	ok = judge(w, &r->x, r->err, what);
	if (!ok)
		describe(w, r);
	if (r->nmut == 1)
		w->mstat[r->mut[0]][eidx(r->err)]++;
	if (r->edge >= 0)
		w->estat[r->edge][eidx(r->err)]++;
	if (r->err) {
		if (read_base(w, r) != r->base_in)
			fail(w, "%s failed with %s but wrote base %#lx", what,
			     ename(r->err), (unsigned long)read_base(w, r));
		r->base = 0;
		return ok;
	}
	r->base = read_base(w, r);
	if (!r->base || r->base % PG || r->base >= S->task_size) {
		fail(w, "%s succeeded with base %#lx", what,
		     (unsigned long)r->base);
		r->base = 0;
		return false;
	}
	if (fd == w->fd)
		recs_add(w, r->base, r->m.span, mirror_of(r, r->base));
	check_image(w, r, r->base, content);
	return ok;
}

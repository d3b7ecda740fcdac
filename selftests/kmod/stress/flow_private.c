// SPDX-License-Identifier: GPL-2.0
/*
 * flow_private.c - the flows on a worker's own fd and private window:
 * single and burst maps, MAP_BATCH, QUERY, unmaps of garbage; and how a
 * private image is taken back.
 */
#include "stress.h"

void reopen_private(struct worker *w)
{
	close(w->fd);
	w->fd = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (w->fd < 0)
		fail(w, "reopen /dev/kdl: %s", ename(errno));
	w->nrecs = 0;
	w->recs_unknown = false;
}

/* Mutated unmaps of a recorded image, then the real one. */
int unmap_private(struct worker *w, struct rng *g, uint64_t base,
		  uint64_t mirror, bool *gone, bool mutate_ok)
{
	struct kdl_unmap u;
	struct expect x;
	uintptr_t ua;
	int err, c = C_IOC_UNMAP;
	bool uring = w->have_ring && chance(g, 35);
	uint8_t buf[PG];
	size_t len = sizeof(u);
	int loc = LOC_RW;

	memset(&u, 0, sizeof(u));
	u.size = sizeof(u);
	u.base = base;
	memset(buf, 0, sizeof(buf));
	if (mutate_ok && chance(g, 30)) {
		switch (rnd(g, 11)) {
		case 0: u.flags = 1U << rnd(g, 32); break;
		case 1: u.reserved[rnd(g, 2)] = 1ULL << rnd(g, 64); break;
		case 2: u.size = rnd(g, KDL_UNMAP_SIZE_VER0); break;
		case 3: u.size = PG + 1 + rnd(g, 1 << 16); break;
		case 4:
			u.size = len = sizeof(u) + 1 + rnd(g, 64);
			buf[sizeof(u) + rnd(g, len - sizeof(u))] = 1;
			break;
		case 5: u.size = len = sizeof(u) + 1 + rnd(g, PG - sizeof(u));
			break;
		case 6: u.base = base + PG * (1 + rnd(g, 4)); break;
		case 7: u.base = mirror ? mirror : base - PG; break;
		case 8: loc = LOC_RO; break;
		case 9: loc = LOC_STRADDLE; break;
		default: loc = LOC_NULL + rnd(g, NLOC - LOC_NULL); break;
		}
	}
	/* a wrong base that is another live image's would unmap that one */
	if (u.base != base && recs_find(w, u.base) >= 0)
		u.base = base + 8;
	memcpy(buf, &u, sizeof(u));
	ua = put_obj(w, buf, len, loc, 4 + rnd(g, sizeof(u) - 4));
	judge_unmap(w, ua, &x, true);
	if (uring) {
		struct usqe q = { w->fd, KDL_URING_CMD_UNMAP, ua, 0, 0 };

		c = C_URING_UNMAP;
		if (uring_run(w, &w->ring, &q, 1, &err))
			fail(w, "io_uring submit failed");
	} else {
		err = do_ioctl(w->fd, KDL_IOC_UNMAP, ua);
	}
	count(w, c, err);
	judge(w, &x, err, uring ? "uring UNMAP" : "ioctl UNMAP");
	if (!err) {
		int i = recs_find(w, u.base);

		if (i >= 0)
			recs_del(w, i);
		if (u.base == base)
			*gone = true;
	}
	return err;
}

/* Takes a checked private image away by one of the ways a user would. */
void release_image(struct worker *w, struct rng *g, struct mreq *r)
{
	uint64_t base = r->base, mirror = mirror_of(r, base);
	bool gone = false;
	int i, how = rnd(g, 20), err = 0;

	/* a stale record outside the window could later unmap what the
	 * process put there meanwhile (records are advisory) */
	if (!inside(base, r->m.span, w->lo, GIB) && how < 4)
		how = 4;

	if (how < 2) {
		/* the shared fd never recorded it */
		struct kdl_unmap u = { .size = sizeof(u), .base = base };
		struct expect x;
		uintptr_t ua = put_obj(w, &u, sizeof(u), LOC_RW, 0);
		int err;

		judge_unmap(w, ua, &x, false);
		err = do_ioctl(S->dev, KDL_IOC_UNMAP, ua);
		count(w, C_IOC_UNMAP, err);
		judge(w, &x, err, "ioctl UNMAP of a private image on the shared fd");
	}
	if (how < 4) {
		munmap((void *)base, r->m.span);
		if (mirror)
			munmap((void *)mirror, r->m.span);
		return;			/* the record stays, stale */
	}
	for (i = 0; i < 3 && !gone; i++)
		err = unmap_private(w, g, base, mirror, &gone, i < 2);
	if (!gone) {
		fail(w, "UNMAP of %#lx did not succeed (%s, recorded: %d)",
		     (unsigned long)base, ename(err), recs_find(w, base) >= 0);
		munmap((void *)base, r->m.span);
		if (mirror)
			munmap((void *)mirror, r->m.span);
	}
}

/*
 * @k requests into the private window, each mutated with @mut_pct
 * percent, sent one by one or in one io_uring submission; what succeeds
 * is checked byte by byte and taken back, then the windows must be empty.
 */
static void run_private(struct worker *w, struct rng *g, int k, int mut_pct)
{
	bool uring = w->have_ring && chance(g, 35), close_after;
	struct usqe q[MAX_MULTI];
	int err[MAX_MULTI], i, j;

	for (i = 0; i < k; i++) {
		struct mreq *r = &w->req[i];

		gen_valid(w, g, r, T_PRIV, k > 1);
		if (chance(g, mut_pct))
			mutate(w, r, g, k == 1, !uring);
		make_safe(w, r);
		materialize(w, r);
		judge_map(w, r->ua, &r->x, r);
		set_exact(w, r, k == 1);
		if (w->verbose)
			printf("# private[%d]: fd %d flags %#x span %#lx nseg %u "
			       "ua %#lx muts %u\n", i, w->fd, r->m.flags,
			       (unsigned long)r->m.span, r->m.nr_segments,
			       (unsigned long)r->ua, r->nmut);
		q[i] = (struct usqe){ w->fd, KDL_URING_CMD_MAP, r->ua, 0,
				      chance(g, 20) ? IOSQE_ASYNC : 0 };
	}
	if (uring) {
		if (uring_run(w, &w->ring, q, k, err))
			fail(w, "io_uring submit failed");
	} else {
		for (i = 0; i < k; i++)
			err[i] = do_ioctl(w->fd, w->req[i].cmd ? w->req[i].cmd :
					  KDL_IOC_MAP, w->req[i].ua);
	}
	for (i = 0; i < k; i++) {
		w->req[i].err = err[i];
		after_map(w, &w->req[i], w->fd, uring ? C_URING_MAP : C_IOC_MAP,
			  true);
	}
	for (i = 0; i < k; i++)
		for (j = 0; j < i; j++)
			if (w->req[i].base && w->req[j].base &&
			    meets(w->req[i].base, w->req[i].m.span, w->req[j].base,
				  w->req[j].base + w->req[j].m.span))
				fail(w, "images at %#lx and %#lx overlap",
				     (unsigned long)w->req[i].base,
				     (unsigned long)w->req[j].base);
	close_after = chance(g, 4);
	if (close_after) {
		/* records go with the fd; the images stay */
		reopen_private(w);
		for (i = 0; i < k; i++)
			if (w->req[i].base && w->req[i].file != F_NONE) {
				check_view(w, &w->req[i], w->req[i].base,
					   "image after close");
				munmap((void *)w->req[i].base, w->req[i].m.span);
				if (mirror_of(&w->req[i], w->req[i].base))
					munmap((void *)mirror_of(&w->req[i],
						w->req[i].base), w->req[i].m.span);
			}
	}
	for (i = 0; i < k; i++) {
		struct mreq *r = &w->req[i];

		if (r->base && !close_after)
			release_image(w, g, r);
		else if (r->base && r->file == F_NONE) {
			munmap((void *)r->base, r->m.span);
			if (mirror_of(r, r->base))
				munmap((void *)mirror_of(r, r->base), r->m.span);
		}
		if (r->squat)
			munmap((void *)r->squat, r->squat_len);
	}
	probe_private(w, k > 8 ? "a burst" : "a private map");
}

void flow_private(struct worker *w, struct rng *g)
{
	w->flow = "private map";
	run_private(w, g, chance(g, 20) ? 2 + rnd(g, 7) : 1, 55);
}

/* Mutated requests in a row: most fail in validation, which is cheap. */
void flow_burst(struct worker *w, struct rng *g)
{
	w->flow = "burst";
	run_private(w, g, BURST, 100);
}

/* 1. Private requests, the array of pointers, the struct; mutated. */
static void build_batch(struct worker *w, struct rng *g, struct batch *bt)
{
	struct kdl_map_batch *b = &bt->b;
	uint8_t buf[PG];
	size_t len = sizeof(*b);
	bool bad_maps = false;
	int i;

	memset(bt, 0, sizeof(*bt));
	bt->n = 1 + rnd(g, MAX_BATCH_N);
	bt->loc = LOC_RW;
	for (i = 0; i < bt->n; i++) {
		struct mreq *r = &w->req[i];

		gen_valid(w, g, r, T_PRIV, true);
		if (chance(g, 25))
			mutate(w, r, g, false, false);
		make_safe(w, r);
		materialize(w, r);
		bt->ptr[i] = r->ua;
	}
	memset(buf, 0, sizeof(buf));
	b->size = sizeof(*b);
	b->count = bt->n;
	if (chance(g, 10)) {
		uintptr_t bad[] = { 0, 16, apage(w, A_HOLE), KERNEL_ADDR,
				    NONCANON_ADDR, apage(w, A_NONE) };

		bt->ptr[rnd(g, bt->n)] = PICK(g, bad);
	}
	if (chance(g, 30)) {
		switch (rnd(g, 12)) {
		case 0: b->size = rnd(g, KDL_MAP_BATCH_SIZE_VER0); break;
		case 1: b->size = PG + 1 + rnd(g, 1 << 16); break;
		case 2:
			b->size = len = sizeof(*b) + 1 + rnd(g, 100);
			buf[sizeof(*b) + rnd(g, len - sizeof(*b))] = 1;
			break;
		case 3: b->size = len = sizeof(*b) + 1 + rnd(g, PG - sizeof(*b));
			break;
		case 4: b->flags = 1U << rnd(g, 32); break;
		case 5: b->done = 1 + rnd(g, bt->n); break;
		case 6: b->reserved[rnd(g, 2)] = 1ULL << rnd(g, 64); break;
		case 7: b->count = chance(g, 50) ? 0 : MAX_BATCH + 1 + rnd(g, 1000);
			break;
		case 8: b->count = bt->n + 1 + rnd(g, 4); break;   /* runs on */
		case 9: bt->loc = LOC_RO; break;
		case 10: bt->loc = chance(g, 50) ? LOC_STRADDLE :
				   LOC_NULL + rnd(g, NLOC - LOC_NULL);
			break;
		default: bad_maps = true; break;
		}
	}
	if (bad_maps) {
		uintptr_t bad[] = { 0, apage(w, A_HOLE), KERNEL_ADDR,
				    apage(w, A_NONE) - 8 * rnd(g, bt->n) };

		b->maps = PICK(g, bad);
	} else {
		/* count may run past the n pointers: zeros, or a fault */
		size_t plen = b->count > (uint32_t)bt->n &&
			      b->count <= (uint32_t)bt->n + 4 ?
			      (size_t)b->count * 8 : (size_t)bt->n * 8;

		b->maps = put_obj(w, bt->ptr, plen, chance(g, 50) ?
				  LOC_STRADDLE : LOC_RW, bt->n * 8);
	}
	memcpy(buf, b, sizeof(*b));
	bt->ua = put_obj(w, buf, len, bt->loc, 4 + rnd(g, sizeof(*b) - 4));
}

/*
 * 3. What it left: [0, done) mapped with base set, the rest untouched;
 * nothing at all when done could not be written (the batch is undone).
 */
static void check_batch(struct worker *w, struct batch *bt, int err)
{
	uint32_t done = 0;
	int i, left = 0;

	if (!bt->early && bt->loc != LOC_RO &&
	    mem_access(w, bt->ua, sizeof(bt->b), false) == ACC_YES) {
		done = ((const struct kdl_map_batch *)bt->ua)->done;
		if (!bt->x.unknown && done != (uint32_t)bt->want_done) {
			fail(w, "MAP_BATCH: done %u, expected %d (%s); maps %#lx "
			     "count %u", done, bt->want_done, ename(err),
			     (unsigned long)bt->b.maps, bt->b.count);
			for (i = 0; i < bt->n; i++) {
				struct expect *xi = &w->req[i].x;
				char vs[64];

				es_str(&xi->viol, vs, sizeof(vs));
				fail(w, "  entry %d at %#lx%s: model %s line %d "
				     "exact %d unknown %d", i,
				     (unsigned long)bt->ptr[i],
				     bt->ptr[i] == w->req[i].ua ? "" :
				     " (a bad pointer)", vs, xi->line,
				     xi->exact, xi->unknown);
				if (bt->ptr[i] == w->req[i].ua)
					describe(w, &w->req[i]);
			}
		}
		if (done < bt->b.count)
			w->batches_partial++;
	}
	for (i = 0; i < bt->n; i++) {
		struct mreq *r = &w->req[i];
		uint64_t base = read_base(w, r);

		r->base = 0;
		if (bt->ptr[i] != r->ua || base == r->base_in)
			continue;		/* not mapped */
		if (bt->loc == LOC_RO && !bt->early) {
			/* base was written, then the batch undone; the
			 * records it replaced are gone all the same */
			uint64_t mb = mirror_of(r, base);

			recs_forget(w, base, r->m.span, mb);

			if (!range_empty(base, r->m.span) ||
			    (mb && !range_empty(mb, r->m.span))) {
				fail(w, "MAP_BATCH whose done field cannot be "
				     "written (%s) left request %d mapped at "
				     "%#lx", ename(err), i, (unsigned long)base);
				left++;
				munmap((void *)base, r->m.span);
				if (mb)
					munmap((void *)mb, r->m.span);
			}
			continue;
		}
		if (bt->early)
			fail(w, "MAP_BATCH failed before the requests (%s) yet "
			     "mapped request %d", ename(err), i);
		else if ((uint32_t)i >= done)
			fail(w, "MAP_BATCH: request %d mapped, done %u", i, done);
		r->base = base;
		recs_add(w, base, r->m.span, mirror_of(r, base));
		check_image(w, r, base, true);
	}
	w->ro_batch_left += left;
}

/* KDL_IOC_MAP_BATCH of private requests, and its partial-failure rule. */
void flow_batch(struct worker *w, struct rng *g)
{
	static __thread struct batch bt;
	bool uring = w->have_ring && chance(g, 35);
	int err, i;

	w->flow = "batch";
	build_batch(w, g, &bt);
	judge_batch(w, &bt);
	if (uring) {
		struct usqe q = { w->fd, KDL_URING_CMD_MAP_BATCH, bt.ua, 0,
				  chance(g, 20) ? IOSQE_ASYNC : 0 };

		if (uring_run(w, &w->ring, &q, 1, &err))
			fail(w, "io_uring submit failed");
	} else {
		err = do_ioctl(w->fd, KDL_IOC_MAP_BATCH, bt.ua);
	}
	count(w, uring ? C_URING_BATCH : C_IOC_BATCH, err);
	judge(w, &bt.x, err, uring ? "uring MAP_BATCH" : "ioctl MAP_BATCH");
	check_batch(w, &bt, err);
	for (i = 0; i < bt.n; i++)
		if (w->req[i].base)
			release_image(w, g, &w->req[i]);
	probe_private(w, "a batch");
}

void flow_query(struct worker *w, struct rng *g)
{
	struct { struct kdl_query q; uint8_t tail[PG]; } big;
	struct expect x;
	int loc = LOC_RW, err;
	size_t len = sizeof(big.q);
	uintptr_t ua;

	w->flow = "query";
	memset(&big, 0, sizeof(big));
	big.q.size = sizeof(big.q);
	if (chance(g, 60)) {
		switch (rnd(g, 9)) {
		case 0: big.q.size = rnd(g, KDL_QUERY_SIZE_VER0); break;
		case 1: big.q.size = PG + 1 + rnd(g, 1 << 20); break;
		case 2:
			big.q.size = len = sizeof(big.q) + 1 + rnd(g, 200);
			big.tail[rnd(g, len - sizeof(big.q))] = 1;
			break;
		case 3: big.q.size = len = sizeof(big.q) + 1 +
					  rnd(g, PG - sizeof(big.q));
			break;
		case 4: big.q.reserved[rnd(g, 4)] = 1ULL << rnd(g, 64); break;
		case 5:
			switch (rnd(g, 4)) {
			case 0: big.q.abi_version = 1; break;
			case 1: big.q.features = 1; break;
			case 2: big.q.max_segments = 64; break;
			default: big.q.max_batch = 256; break;
			}
			break;
		case 6: loc = LOC_RO; break;
		case 7: loc = LOC_STRADDLE; break;
		default: loc = LOC_NULL + rnd(g, NLOC - LOC_NULL); break;
		}
	}
	ua = put_obj(w, &big, len, loc, 4 + rnd(g, sizeof(big.q) - 4));
	judge_query(w, ua, &x);
	err = do_ioctl(chance(g, 50) ? S->dev : w->fd, KDL_IOC_QUERY, ua);
	count(w, C_IOC_QUERY, err);
	judge(w, &x, err, "ioctl QUERY");
	if (!err && mem_access(w, ua, sizeof(struct kdl_query), false) == ACC_YES) {
		const struct kdl_query *q = (const void *)ua;
		uint64_t want = KDL_FEAT_MAP | KDL_FEAT_MIRROR |
				KDL_FEAT_SRC_ADDR | KDL_FEAT_BATCH;

		if (q->abi_version != KDL_ABI_VERSION ||
		    (q->features & want) != want || q->max_segments != MAX_SEGS ||
		    q->max_batch != MAX_BATCH || q->size != big.q.size ||
		    (len > sizeof(*q) && !tail_zero(ua, sizeof(*q), len)))
			fail(w, "QUERY answered abi %u features %#lx max %u/%u "
			     "size %u", q->abi_version,
			     (unsigned long)q->features, q->max_segments,
			     q->max_batch, q->size);
	}
}

/* KDL_IOC_UNMAP of bases the private fd never mapped, or stale ones. */
void flow_unmap_garbage(struct worker *w, struct rng *g)
{
	uint64_t base;
	bool gone = false;

	w->flow = "unmap garbage";
	if (w->nrecs && chance(g, 50))
		base = w->recs[rnd(g, w->nrecs)].base;	/* stale: munmapped */
	else if (chance(g, 50))
		base = w->lo + PG * rnd(g, 64);
	else
		base = rnext(g);
	unmap_private(w, g, base, 0, &gone, true);
	probe_private(w, "unmap garbage");
}

// SPDX-License-Identifier: GPL-2.0
/*
 * flow_random.c - the flows of random requests: every field anything,
 * unknown ioctl commands and io_uring ops, kdl commands on files that are
 * not kdl.
 */
#include "stress.h"

/* A u64 an attacker would try. */
static uint64_t pool_u64(struct worker *w, struct rng *g)
{
	uint64_t ts = S->task_size;
	uint64_t v[] = {
		0, 1, 8, PG - 1, PG, PG + 1, 2 * PG, 1UL << 21, GIB, 1UL << 32,
		TOP47 - PG, TOP47, ts, ts + PG, 1UL << 56, 1UL << 57, 1UL << 63,
		~0UL, ~0UL - PG + 1, NONCANON_ADDR, KERNEL_ADDR, rnext(g),
		rnext(g) & (ts - 1) & ~(PG - 1), w->lo, w->lo + PRIV_LEN, HOT_LO,
		HOT_HI, S->mmap_min, S->mmap_min - 1, SRC_AREA, PRIV_MOFF,
		HOT_MOFF, (1 + rnd(g, 64)) * PG,
	};

	return PICK(g, v);
}

static uintptr_t pool_ptr(struct worker *w, struct rng *g)
{
	uintptr_t v[] = {
		0, 16, apage(w, A_HOLE), apage(w, A_NONE), apage(w, A_NONE) - 8,
		apage(w, A_RO), apage(w, A_BUMP) + 8 * rnd(g, 512), KERNEL_ADDR,
		KTEXT_ADDR, NONCANON_ADDR, S->task_size - 8, ~0UL - 7,
		SRC_AREA, HOT_LO, w->lo,
	};

	return PICK(g, v);
}

/* A kdl_map whose every field may be anything. */
static void gen_random(struct worker *w, struct rng *g, struct mreq *r)
{
	struct kdl_map *m = &r->m;
	unsigned int i;

	gen_valid(w, g, r, chance(g, 50) ? T_HOT : T_ANY, false);
	if (chance(g, 20))
		m->size = (uint32_t)pool_u64(w, g);
	if (chance(g, 30))
		m->flags = chance(g, 50) ? (uint32_t)rnext(g) :
			   (uint32_t)(rnext(g) & (KDL_MAP_ALL_FLAGS | 0x30));
	if (chance(g, 30))
		m->fd = chance(g, 50) ? S->fds[rnd(g, S->nfds)].fd : (int)rnext(g);
	if (chance(g, 20))
		m->nr_segments = chance(g, 50) ? rnd(g, 70) : (uint32_t)rnext(g);
	if (chance(g, 20))
		m->file_base = pool_u64(w, g);
	if (chance(g, 20))
		m->src_addr = pool_u64(w, g);
	if (chance(g, 20))
		m->src_len = pool_u64(w, g);
	if (chance(g, 20))
		m->span = pool_u64(w, g);
	if (chance(g, 20))
		m->align = pool_u64(w, g);
	if (chance(g, 20))
		m->window_lo = pool_u64(w, g);
	if (chance(g, 20))
		m->window_hi = pool_u64(w, g);
	if (chance(g, 20))
		m->fixed_addr = pool_u64(w, g);
	if (chance(g, 20))
		m->mirror_base = pool_u64(w, g);
	if (chance(g, 10))
		m->reserved[rnd(g, 2)] = pool_u64(w, g);
	if (chance(g, 15)) {
		m->segments = pool_ptr(w, g);
		r->seg_raw = true;
	}
	for (i = 0; i < r->nseg; i++) {
		struct kdl_segment *s = &r->seg[i];

		if (!chance(g, 10))
			continue;
		switch (rnd(g, 6)) {
		case 0: s->vaddr = pool_u64(w, g); break;
		case 1: s->offset = pool_u64(w, g); break;
		case 2: s->filesz = pool_u64(w, g); break;
		case 3: s->memsz = pool_u64(w, g); break;
		case 4: s->prot = (uint32_t)rnext(g); break;
		default: s->flags = (uint32_t)rnext(g); break;
		}
	}
	if (chance(g, 15))
		r->loc = rnd(g, NLOC);
	r->prefix = rnd(g, sizeof(*m));
}

/* Takes back an image a random request mapped on @fd. */
static void undo_random(struct worker *w, struct rng *g, struct mreq *r, int fd)
{
	uint64_t mirror = mirror_of(r, r->base);
	int err;

	if (fd == w->fd) {
		bool gone = false;

		unmap_private(w, g, r->base, mirror, &gone, false);
		if (gone)
			return;
	} else if (fd == S->dev || fd == atomic_load(&S->churn_fd)) {
		err = unmap_shared(w, g, fd, r->base);
		if (!err)
			return;
	}
	munmap((void *)r->base, r->m.span);
	if (mirror)
		munmap((void *)mirror, r->m.span);
}

void flow_random(struct worker *w, struct rng *g)
{
	struct mreq *r = &w->req[0];
	int c, fd, pick = rnd(g, 10);
	bool kdl = true;

	w->flow = "random";
	gen_random(w, g, r);
	make_safe(w, r);
	materialize(w, r);
	judge_map(w, r->ua, &r->x, r);
	es_add(&r->x.phase, EFAULT);	/* it may be placed in the hot window */
	if (pick < 5) {
		fd = S->dev;
	} else if (pick < 8) {
		fd = w->fd;
	} else if (pick < 9) {
		fd = atomic_load(&S->churn_fd);
		r->x.unknown = true;
		es_add(&r->x.phase, EBADF);
		es_add(&r->x.phase, ENOTTY);
	} else {
		const struct fd_entry *f = &S->fds[rnd(g, S->nfds)];

		fd = f->fd;
		kdl = fd == S->dev;
	}
	send_map(w, g, r, fd, &c);
	if (!kdl) {
		count(w, c == C_IOC_MAP ? C_IOC_FOREIGN : C_URING_FOREIGN, r->err);
		/* /dev/null has a uring_cmd of its own that returns 0 */
		if (!r->err && !(c == C_URING_MAP &&
				 !strcmp(fd_lookup(fd)->name, "/dev/null")))
			fail(w, "MAP on a non-kdl fd %d succeeded", fd);
		return;
	}
	after_map(w, r, fd, c, true);
	if (!r->err)
		undo_random(w, g, r, fd);
	if (fd == w->fd)
		probe_private(w, "a random request on the private fd");
}

/* Unknown command numbers, and kdl commands on files that are not kdl. */
void flow_badcmd(struct worker *w, struct rng *g)
{
	struct kdl_query q = { .size = sizeof(q) };
	uintptr_t ua = put_obj(w, &q, sizeof(q), LOC_RW, 0);
	unsigned long cmd;
	int err, type, nr;

	w->flow = "bad command";
	if (chance(g, 50)) {
		/* not the types fs/ioctl.c serves for every file (FIONBIO,
		 * FIOCLEX, FIGETBSZ, FS_IOC_*, FICLONE, FIFREEZE) */
		do {
			type = chance(g, 50) ? KDL_IOC_MAGIC : (int)rnd(g, 256);
		} while (type == 0 || type == 'T' || type == 'X' || type == 'f' ||
			 type == 0x94);
		/* commands 0..KDL_IOC_SEGMENT_FD are served */
		nr = type == KDL_IOC_MAGIC ? 5 + rnd(g, 251) : rnd(g, 256);
		if (type == KDL_IOC_MAGIC && chance(g, 50))
			nr = 0x80 + rnd(g, 0x80);
		cmd = _IOC(rnd(g, 4), type, nr, rnd(g, 1 << 14));
		if (_IOC_TYPE(cmd) == KDL_IOC_MAGIC &&
		    _IOC_NR(cmd) <= _IOC_NR(KDL_IOC_SEGMENT_FD))
			cmd = _IOC(_IOC_READ | _IOC_WRITE, KDL_IOC_MAGIC, 0x7f, 56);
		err = do_ioctl(chance(g, 50) ? S->dev : w->fd, cmd,
			       chance(g, 50) ? ua : pool_ptr(w, g));
		count(w, C_IOC_BADCMD, err);
		if (err != ENOTTY)
			fail(w, "ioctl %#lx: %s, expected ENOTTY", cmd, ename(err));
	} else {
		static const unsigned long cmds[] = { KDL_IOC_QUERY, KDL_IOC_MAP,
			KDL_IOC_UNMAP, KDL_IOC_MAP_BATCH, KDL_IOC_SEGMENT_FD };
		const struct fd_entry *f = &S->fds[rnd(g, S->nfds)];

		if (f->fd == S->dev)
			return;
		err = do_ioctl(f->fd, PICK(g, cmds), ua);
		count(w, C_IOC_FOREIGN, err);
		if (!err)
			fail(w, "kdl ioctl on %s (fd %d) succeeded", f->name, f->fd);
	}
}

/* io_uring: unknown cmd_op, non-zero reserved bytes, files not kdl. */
void flow_uring_bad(struct worker *w, struct rng *g)
{
	struct mreq *r = &w->req[0];
	struct usqe q;
	int err;

	w->flow = "uring bad";
	if (!w->have_ring)
		return;
	gen_valid(w, g, r, T_PRIV, false);
	materialize(w, r);
	q = (struct usqe){ w->fd, KDL_URING_CMD_MAP, r->ua, 0,
			   chance(g, 30) ? IOSQE_ASYNC : 0 };
	if (chance(g, 60)) {
		static const uint32_t ops[] = { 0, 4, 5, 0x80, 0xffff, 0x80000000,
						0xffffffff, KDL_IOC_MAP };
		struct eset want = { { 0 } };
		char ws[64];

		if (chance(g, 60))
			q.op = PICK(g, ops);
		if (q.op == KDL_URING_CMD_MAP || chance(g, 30))
			q.reserved = chance(g, 50) ? 1 : rnext(g) | 1;
		if (q.op != KDL_URING_CMD_MAP)
			es_add(&want, ENOTTY);
		if (q.reserved)
			es_add(&want, EINVAL);
		if (uring_run(w, &w->ring, &q, 1, &err))
			fail(w, "io_uring submit failed");
		count(w, C_URING_BADOP, err);
		if (!es_has(&want, err)) {
			es_str(&want, ws, sizeof(ws));
			fail(w, "uring cmd_op %#x reserved %#lx: %s, expected %s",
			     q.op, (unsigned long)q.reserved, ename(err), ws);
		}
		if (!err) {
			/* accepted: take it back */
			r->base = read_base(w, r);
			recs_add(w, r->base, r->m.span, mirror_of(r, r->base));
			release_image(w, g, r);
		}
	} else {
		const struct fd_entry *f = &S->fds[rnd(g, S->nfds)];

		if (f->fd == S->dev)
			return;
		q.fd = f->fd;
		if (uring_run(w, &w->ring, &q, 1, &err))
			fail(w, "io_uring submit failed");
		count(w, C_URING_FOREIGN, err);
		/* /dev/null has a uring_cmd of its own that returns 0 */
		if (!err && strcmp(f->name, "/dev/null"))
			fail(w, "uring MAP on %s (fd %d) succeeded", f->name, f->fd);
	}
	probe_private(w, "a bad uring command");
}

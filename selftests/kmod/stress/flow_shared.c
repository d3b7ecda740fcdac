// SPDX-License-Identifier: GPL-2.0
/*
 * flow_shared.c - the flows on the shared fd: images in the hot window the
 * racers work on, and the edges of the address space.
 */
#include "stress.h"

/* Sends one MAP through ioctl or io_uring on @fd. */
void send_map(struct worker *w, struct rng *g, struct mreq *r, int fd, int *c)
{
	if (w->have_ring && chance(g, 30)) {
		struct usqe q = { fd, KDL_URING_CMD_MAP, r->ua, 0,
				  chance(g, 20) ? IOSQE_ASYNC : 0 };

		*c = C_URING_MAP;
		if (uring_run(w, &w->ring, &q, 1, &r->err))
			fail(w, "io_uring submit failed");
	} else {
		*c = C_IOC_MAP;
		r->err = do_ioctl(fd, r->cmd ? r->cmd : KDL_IOC_MAP, r->ua);
	}
}

/* An UNMAP on a shared fd: 0, or ENOENT when the record went away. */
int unmap_shared(struct worker *w, struct rng *g, int fd, uint64_t base)
{
	struct kdl_unmap u = { .size = sizeof(u), .base = base };
	uintptr_t ua = put_obj(w, &u, sizeof(u), LOC_RW, 0);
	struct expect x;
	int err, c = C_IOC_UNMAP;

	judge_unmap(w, ua, &x, false);
	if (w->have_ring && chance(g, 30)) {
		struct usqe q = { fd, KDL_URING_CMD_UNMAP, ua, 0, 0 };

		c = C_URING_UNMAP;
		if (uring_run(w, &w->ring, &q, 1, &err))
			fail(w, "io_uring submit failed");
	} else {
		err = do_ioctl(fd, KDL_IOC_UNMAP, ua);
	}
	count(w, c, err);
	if (fd == S->dev)
		judge(w, &x, err, "UNMAP on the shared fd");
	return err;
}

/* Images in the shared hot window, which the racers work on. */
void flow_hot(struct worker *w, struct rng *g)
{
	struct mreq *r = &w->req[0];
	int fd = S->dev, c;
	bool churn = chance(g, 20);

	w->flow = "hot";
	if (w->nhot && chance(g, 35)) {
		int i = rnd(g, w->nhot);

		unmap_shared(w, g, churn ? atomic_load(&S->churn_fd) : S->dev,
			     w->hot[i]);
		w->hot[i] = w->hot[--w->nhot];
		return;
	}
	gen_valid(w, g, r, T_HOT, false);
	if (chance(g, 20))
		mutate(w, r, g, false, true);
	make_safe(w, r);
	materialize(w, r);
	judge_map(w, r->ua, &r->x, r);
	/* a racer may munmap or mprotect the span before clear_user() */
	es_add(&r->x.phase, EFAULT);
	if (churn) {
		/* the number may be closed, or reused by another file */
		fd = atomic_load(&S->churn_fd);
		r->x.unknown = true;
		es_add(&r->x.phase, EBADF);
		es_add(&r->x.phase, ENOTTY);
	}
	send_map(w, g, r, fd, &c);
	after_map(w, r, fd, c, false);
	if (!r->err) {
		uint64_t mirror = mirror_of(r, r->base);

		if (!inside(r->base, r->m.span, HOT_LO, HOT_LEN) ||
		    (mirror && !inside(mirror, r->m.span, HOT_LO + HOT_MOFF,
				       HOT_LEN))) {
			/* a mutation sent it elsewhere: take it back now */
			if (unmap_shared(w, g, fd, r->base)) {
				munmap((void *)r->base, r->m.span);
				if (mirror_of(r, r->base))
					munmap((void *)mirror_of(r, r->base),
					       r->m.span);
			}
		} else if (w->nhot < HOT_KEEP) {
			w->hot[w->nhot++] = r->base;
		}
	}
}

/* The edges of the address space (computed for a span). */
const char *const edge_name[NEDGE] = {
	"window [0, 4K)", "window [0, mmap_min+span)",
	"window [mmap_min-4K, +span)", "window lo mmap_min-1",
	"fixed_noreplace 0", "fixed_noreplace mmap_min-4K",
	"fixed_noreplace mmap_min", "fixed_noreplace 2^47-span",
	"fixed_noreplace 0x7ffffffff000", "window [0x7fff00000000, 2^47)",
	"window [2^47-span, 2^47+span)", "window [2^47, 2^47+1G)",
	"window [TASK_SIZE-1G, TASK_SIZE)", "window hi TASK_SIZE+4K",
	"fixed_noreplace TASK_SIZE-span", "fixed_noreplace TASK_SIZE-span+4K",
	"fixed_noreplace non-canonical", "fixed_noreplace 0xffff888000000000",
	"fixed_noreplace -span (wraps)", "window [~0-1G, ~0)",
	"window [0, TASK_SIZE) align 2^54", "anywhere align 1T",
	"anywhere align TASK_SIZE/4", "window [mmap_min, mmap_min+span)",
	"fixed_noreplace 2^47", "window below 2^47, mirror +2^52",
	"window [0, 2G), mirror TASK_SIZE-4K",
};

static void set_edge(struct mreq *r, int e)
{
	struct kdl_map *m = &r->m;
	uint64_t ts = S->task_size, span = m->span, mm = S->mmap_min;

	m->flags &= ~(KDL_MAP_PLACEMENT_MASK | KDL_MAP_MIRROR |
		      KDL_MAP_MIRROR_NOREPLACE);
	m->align = 0;
	switch (e) {
	case 0: case 1: case 2: case 3: case 9: case 10: case 11: case 12:
	case 13: case 19: case 20: case 23: case 25: case 26:
		m->flags |= KDL_MAP_WINDOW;
		break;
	case 21: case 22:
		m->flags |= KDL_MAP_ANYWHERE;
		break;
	default:
		m->flags |= KDL_MAP_FIXED_NOREPLACE;
		break;
	}
	switch (e) {
	case 0: m->window_lo = 0; m->window_hi = PG; break;
	case 1: m->window_lo = 0; m->window_hi = mm + span; break;
	case 2: m->window_lo = mm - PG; m->window_hi = mm - PG + span; break;
	case 3: m->window_lo = mm - 1; m->window_hi = mm + GIB; break;
	case 4: m->fixed_addr = 0; break;
	case 5: m->fixed_addr = mm - PG; break;
	case 6: m->fixed_addr = mm; break;
	case 7: m->fixed_addr = TOP47 - span; break;
	case 8: m->fixed_addr = 0x7ffffffff000UL; break;
	case 9: m->window_lo = 0x7fff00000000UL; m->window_hi = TOP47; break;
	case 10: m->window_lo = TOP47 - span; m->window_hi = TOP47 + span; break;
	case 11: m->window_lo = TOP47; m->window_hi = TOP47 + GIB; break;
	case 12: m->window_lo = ts - GIB; m->window_hi = ts; break;
	case 13: m->window_lo = ts - GIB; m->window_hi = ts + PG; break;
	case 14: m->fixed_addr = ts - span; break;
	case 15: m->fixed_addr = ts - span + PG; break;
	case 16: m->fixed_addr = NONCANON_ADDR; break;
	case 17: m->fixed_addr = KERNEL_ADDR; break;
	case 18: m->fixed_addr = 0 - span; break;
	case 19: m->window_lo = (~0UL & ~(PG - 1)) - GIB;
		m->window_hi = ~0UL & ~(PG - 1); break;
	case 20: m->window_lo = 0; m->window_hi = ts; m->align = 1UL << 54;
		break;
	case 21: m->align = 1UL << 40; break;
	case 22: m->align = 1UL << (63 - __builtin_clzl(ts) - 2); break;
	case 23: m->window_lo = mm; m->window_hi = mm + span; break;
	case 24: m->fixed_addr = TOP47; break;
	case 25: m->window_lo = TOP47 - GIB; m->window_hi = TOP47;
		m->flags |= KDL_MAP_MIRROR | KDL_MAP_MIRROR_NOREPLACE;
		m->mirror_base = FAR_MOFF; break;
	case 26: m->window_lo = 0; m->window_hi = 2 * GIB;
		m->flags |= KDL_MAP_MIRROR | KDL_MAP_MIRROR_NOREPLACE;
		m->mirror_base = ts - PG; break;
	}
	r->edge = e;
}

void flow_edge(struct worker *w, struct rng *g)
{
	struct mreq *r = &w->req[0];
	int c, e = rnd(g, NEDGE);

	w->flow = "edge";
	gen_valid(w, g, r, T_EDGE, false);
	set_edge(r, e);
	make_safe(w, r);
	materialize(w, r);
	judge_map(w, r->ua, &r->x, r);
	send_map(w, g, r, S->dev, &c);
	r->edge = e;
	after_map(w, r, S->dev, c, true);
	if (!r->err && unmap_shared(w, g, S->dev, r->base)) {
		fail(w, "edge %s: UNMAP of the image at %#lx failed",
		     edge_name[e], (unsigned long)r->base);
		munmap((void *)r->base, r->m.span);
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * threads.c - the threads: workers running their flows, racers working on
 * the hot window, and the forker with its children.
 */
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include "stress.h"

const struct flow flows[NFLOW] = {
	{ "burst", flow_burst, 30 },
	{ "private map", flow_private, 15 },
	{ "batch", flow_batch, 6 },
	{ "query", flow_query, 4 },
	{ "unmap garbage", flow_unmap_garbage, 3 },
	{ "hot", flow_hot, 14 },
	{ "edge", flow_edge, 5 },
	{ "random", flow_random, 13 },
	{ "bad command", flow_badcmd, 5 },
	{ "uring bad", flow_uring_bad, 5 },
};

static void run_iteration(struct worker *w, uint64_t i)
{
	struct rng g = rng_for(S->seed, w->id, i);
	unsigned int p = rnd(&g, 100), f = 0, acc = flows[0].pct;
	uint64_t n0 = w->nreq;
	struct timespec t0, t1;

	while (p >= acc && f < NFLOW - 1)
		acc += flows[++f].pct;
	w->iter = i;
	arena_reset(w);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	flows[f].fn(w, &g);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	w->flow_ns[f] += (t1.tv_sec - t0.tv_sec) * 1000000000LL +
			 t1.tv_nsec - t0.tv_nsec;
	w->flow_n[f]++;
	w->flow_req[f] += w->nreq - n0;
}

void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t i;

	w->have_ring = S->have_uring &&
		       !io_uring_queue_init(64, &w->ring, 0);
	if (S->replay) {
		w->verbose = true;
		run_iteration(w, S->replay_iter);
	} else {
		for (i = w->iter; w->nreq < w->quota; i++) {
			if (now_ms() > S->deadline_ms) {
				S->budget_hit = true;
				break;
			}
			run_iteration(w, i);
		}
		w->iter = i;
	}
	w->flow = "done";
	if (w->have_ring)
		io_uring_queue_exit(&w->ring);
	w->have_ring = false;
	return NULL;
}

static int sys_err(long r)
{
	return r < 0 || r == (long)MAP_FAILED ? errno : 0;
}

/*
 * A racer: munmap, mprotect, mremap, madvise the hot window and its
 * mirror, touch it through process_vm_*v (a fault in a reservation is
 * SIGBUS, which GUP turns into EFAULT), squat in it, and try to mmap
 * /dev/kdl itself, which must always fail.
 */
void *racer_main(void *arg)
{
	struct racer *rc = arg;
	uint64_t i = 0;
	char buf[4 * PG];

	while (!atomic_load(&S->stop)) {
		struct rng g = rng_for(S->seed, 1000 + rc->id, i++);
		uintptr_t win = chance(&g, 70) ? HOT_LO : HOT_LO + HOT_MOFF;
		uint64_t pages = 1 + rnd(&g, 16);
		uintptr_t a = win + rnd(&g, HOT_LEN / PG - pages) * PG;
		uintptr_t to = win + rnd(&g, HOT_LEN / PG - pages) * PG;
		size_t len = pages * PG;
		int err;

		switch (rnd(&g, 12)) {
		case 0: case 1:
			err = sys_err(munmap((void *)a, len));
			rc->cnt[C_R_MUNMAP][eidx(err)]++;
			break;
		case 2: case 3:
			err = sys_err(mprotect((void *)a, len, rnd(&g, 8)));
			rc->cnt[C_R_MPROTECT][eidx(err)]++;
			break;
		case 4: {
			static const int fl[] = { MREMAP_MAYMOVE | MREMAP_FIXED,
				MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
				0, MREMAP_MAYMOVE };
			int f = PICK(&g, fl);
			size_t nlen = f & MREMAP_DONTUNMAP ? len :
				      (1 + rnd(&g, 16)) * PG;
			void *p;

			if (f == MREMAP_MAYMOVE)
				nlen = len > PG ? len - PG : len;   /* shrink */
			/* what grows stays inside the window */
			if (!(f & MREMAP_FIXED) && a + nlen > win + HOT_LEN)
				nlen = win + HOT_LEN - a;
			if (f & MREMAP_FIXED && to + nlen > win + HOT_LEN)
				nlen = win + HOT_LEN - to;
			if (f & MREMAP_DONTUNMAP)
				nlen = len;
			p = mremap((void *)a, len, nlen, f, (void *)to);
			err = p == MAP_FAILED ? errno : 0;
			rc->cnt[C_R_MREMAP][eidx(err)]++;
			if (!err && ((uintptr_t)p < HOT_LO ||
				     (uintptr_t)p + nlen > HOT_HI + HOT_MOFF)) {
				munmap(p, nlen);	/* moved out: not ours */
			}
			break;
		}
		case 5: {
			static const int adv[] = { MADV_DONTNEED, MADV_DOFORK,
				MADV_DONTFORK, MADV_WIPEONFORK, MADV_FREE,
				MADV_REMOVE, MADV_COLD, MADV_PAGEOUT,
				MADV_WILLNEED, MADV_KEEPONFORK };
			err = sys_err(madvise((void *)a, len, PICK(&g, adv)));
			rc->cnt[C_R_MADVISE][eidx(err)]++;
			break;
		}
		case 6: case 7: {
			struct iovec local = { buf, len < sizeof(buf) ? len :
					       sizeof(buf) };
			struct iovec remote = { (void *)a, local.iov_len };
			long n = chance(&g, 70) ?
				process_vm_readv(getpid(), &local, 1, &remote, 1, 0) :
				process_vm_writev(getpid(), &local, 1, &remote, 1, 0);

			err = n < 0 ? errno : 0;
			rc->cnt[C_R_TOUCH][eidx(err)]++;
			break;
		}
		case 8: {
			void *p = mmap((void *)a, len, PROT_NONE,
				       MAP_PRIVATE | MAP_ANONYMOUS |
				       MAP_FIXED_NOREPLACE, -1, 0);

			err = p == MAP_FAILED ? errno : 0;
			rc->cnt[C_R_SQUAT][eidx(err)]++;
			break;
		}
		default: {
			/* /dev/kdl maps only its own reservations */
			static const int prot[] = { PROT_NONE, PROT_READ,
						    PROT_READ | PROT_WRITE };
			int fd = chance(&g, 50) ? S->dev : atomic_load(&S->churn_fd);
			int fl = MAP_PRIVATE | (chance(&g, 50) ? MAP_FIXED : 0);
			off_t pgoff = rnd(&g, 16);
			void *p = mmap(fl & MAP_FIXED ? (void *)a : NULL, len,
				       PICK(&g, prot), fl, fd, pgoff << 12);

			err = p == MAP_FAILED ? errno : 0;
			rc->cnt[C_R_MMAP_KDL][eidx(err)]++;
			if (!err) {
				char path[64], link[64] = "";

				snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
				if (readlink(path, link, sizeof(link) - 1) > 0 &&
				    !strcmp(link, KDL_DEVICE_PATH))
					fail(NULL, "racer %d: mmap of /dev/kdl "
					     "(fd %d, pgoff %ld) succeeded at %p",
					     rc->id, fd, (long)pgoff, p);
				munmap(p, len);
			}
			break;
		}
		}
	}
	return NULL;
}

/*
 * A forked child: the inherited fd belongs to the parent's mm, so every
 * command fails with EPERM (ENOTTY first for an unknown one), through
 * ioctl and through io_uring, on a ring of its own or on the parent's
 * ring; mmap of the fd fails; a device the child opens itself works.
 * Returns 0, or the number of the step that went wrong.  No malloc here.
 */
static int child_body(uint64_t seed, uint64_t n)
{
	struct rng g = rng_for(seed, 2000, n);
	struct kdl_query q = { .size = sizeof(q) };
	struct kdl_unmap u = { .size = sizeof(u), .base = HOT_LO };
	struct kdl_segment seg[STD_NSEGS];
	struct kdl_map m;
	struct io_uring ring, *rp = &ring;
	struct usqe sq;
	int err, dev = S->dev;
	void *p;

	std_segments(seg);
	std_map(&m, S->sfd_img_ro, seg, KDL_MAP_ANYWHERE);
	if (do_ioctl(dev, KDL_IOC_QUERY, (uintptr_t)&q) != EPERM)
		return 1;
	if (do_ioctl(dev, KDL_IOC_MAP, (uintptr_t)&m) != EPERM)
		return 2;
	if (do_ioctl(dev, KDL_IOC_UNMAP, (uintptr_t)&u) != EPERM)
		return 3;
	if (do_ioctl(dev, _IOWR(KDL_IOC_MAGIC, 0x7f, struct kdl_query),
		     (uintptr_t)&q) != ENOTTY)
		return 4;
	p = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE, dev, PG);
	if (p != MAP_FAILED)
		return 5;
	if (S->have_uring && chance(&g, 50)) {
		if (chance(&g, 50)) {
			/* the parent's ring, inherited: resync its SQ tail */
			rp = &S->child_ring;
			rp->sq.sqe_head = rp->sq.sqe_tail =
				io_uring_smp_load_acquire(rp->sq.ktail);
		} else if (io_uring_queue_init(8, rp, 0)) {
			return 6;
		}
		sq = (struct usqe){ dev, KDL_URING_CMD_MAP, (uintptr_t)&m, 0,
				    chance(&g, 50) ? IOSQE_ASYNC : 0 };
		if (uring_run(NULL, rp, &sq, 1, &err) || err != EPERM)
			return 7;
	}
	if (chance(&g, 25)) {
		/* its own open works, and exit cleans it up */
		int own = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);

		if (own < 0)
			return 8;
		if (do_ioctl(own, KDL_IOC_MAP, (uintptr_t)&m))
			return 9;
		if (std_check(m.base, 0) != -1)
			return 10;
		if (chance(&g, 50))
			return 0;		/* exit with it mapped and open */
		close(own);
	}
	close(dev);
	return 0;
}

void *forker_main(void *arg)
{
	struct worker *w = arg;		/* a worker struct for counts only */
	uint64_t n = 0;

	while (!atomic_load(&S->stop)) {
		struct rng g = rng_for(S->seed, 3000, n);
		int status, code;
		pid_t pid;

		usleep(5000 + rnd(&g, 25000));
		if (chance(&g, 30)) {
			/* reopen the churn fd while workers may be using it */
			int nfd = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);
			int old = atomic_exchange(&S->churn_fd, nfd);

			w->cnt[C_F_CHURN][eidx(nfd < 0 ? errno : 0)]++;
			if (old >= 0)
				close(old);
		}
		pid = fork();
		if (pid == 0)
			_exit(child_body(S->seed, n));
		n++;
		if (pid < 0) {
			w->cnt[C_F_CHILD][eidx(errno)]++;
			continue;
		}
		if (waitpid(pid, &status, 0) != pid) {
			fail(w, "waitpid: %s", ename(errno));
			continue;
		}
		code = WIFEXITED(status) ? WEXITSTATUS(status) :
		       200 + WTERMSIG(status);
		w->cnt[C_F_CHILD][code ? EIO : 0]++;
		if (code)
			fail(w, "forked child %lu failed at step %d (200+: signal)",
			     (unsigned long)n - 1, code);
	}
	return NULL;
}

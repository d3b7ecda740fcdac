// SPDX-License-Identifier: GPL-2.0
/*
 * stress_test.c - randomized stress of /dev/kdl (issue 9): 8 threads send
 * random and mutated KDL_IOC_* requests and io_uring commands, mixed with
 * valid maps and unmaps, while racers munmap/mprotect/mremap/madvise the
 * range the images occupy and a thread forks children that use and close
 * the inherited fd.  Each request is judged against a model of the rules
 * of uapi/linux/kdl.h: a request that breaks a rule must fail with one of
 * the errnos of the rules it breaks, a valid one in a free private window
 * must succeed and map exactly the image.  Afterwards no VMA, no page and
 * no module reference may be left.
 *
 *   KDL_STRESS_SEED=N       seed (printed; default: from the clock)
 *   KDL_STRESS_REQUESTS=N   requests in total, ioctls + io_uring commands
 *                           (default 100000; 10000 on a kernel booted with
 *                           kasan_*, as tools/vm/debug-kernel.sh's is)
 *   KDL_STRESS_SECONDS=S    time budget of the run (default 480; 1200 on
 *                           KASAN): when it runs out first, the test says
 *                           so and checks what was done
 *   KDL_STRESS_REPLAY=T:I   run only iteration I of worker T, alone, and
 *                           print what it sends (the other threads' state
 *                           is missing, so a race does not replay)
 *   KDL_STRESS_STRICT=1     notes (documented gray areas) fail the test too
 *   KDL_STRESS_HANG=S       no progress for S seconds is a hang (default 120)
 *   KDL_STRESS_RACERS=0..2, KDL_STRESS_FORK=0|1   for measurements
 *
 * Layout (fixed addresses, so that a seed replays the same pointers):
 *   PRIV_BASE + t GiB       worker t's private window; only t maps there,
 *                           through its own fd, so results are exact
 *   + PRIV_MOFF             their mirrors
 *   ARENA_BASE + t*16 MiB   worker t's request structs: RW, RO alias,
 *                           PROT_NONE and unmapped pages for bad pointers
 *   SRC_AREA                the KDL_MAP_SRC_ADDR sources (read-only)
 *   HOT_LO                  the shared window: images of every worker on
 *                           one fd, and the racers; never checked for content
 */
#include <linux/capability.h>
#include <dirent.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "kdl_test.h"

/* ---- 1. Layout and limits ------------------------------------------- */

#define NWORKERS	8
#define NRACERS		2
#define MAX_SEGS	64		/* max_segments of KDL_IOC_QUERY */
#define MAX_BATCH	256
#define MAX_MULTI	16		/* requests of one flow */
#define MAX_BATCH_N	8		/* requests of one MAP_BATCH */
#define BURST		16		/* mutated requests of a burst */

#define PRIV_BASE	0x5c0000000000UL
#define PRIV_LEN	(64UL << 20)
#define PRIV_MOFF	0x8000000000UL
#define ARENA_BASE	0x5d0000000000UL
#define ARENA_STRIDE	(16UL << 20)
#define SRC_AREA	0x5d8000000000UL
#define PROTECTED_LO	PRIV_BASE
#define PROTECTED_HI	0x5e0000000000UL
#define HOT_LO		0x5e0000000000UL
#define HOT_LEN		(8UL << 20)
#define HOT_HI		(HOT_LO + HOT_LEN)
#define HOT_MOFF	0x10000000000UL
#define FAR_MOFF	(1UL << 52)	/* mirrors of images placed elsewhere */
#define KERNEL_ADDR	0xffff888000000000UL
#define KTEXT_ADDR	0xffffffff81000000UL
#define NONCANON_ADDR	0x8000000000000000UL
#define TOP47		0x800000000000UL

#define IMG_PAGES	32		/* the pattern file */
#define SHORT_SIZE	(PG + 100)	/* a file ending inside a page */

/* Pages of a worker's arena. */
enum {
	A_BUMP = 0, A_BUMP_PAGES = 40,	/* request structs, bump-allocated */
	A_PRE_NONE = 40,		/* RW, then */
	A_NONE = 41,			/* PROT_NONE */
	A_HOLE = 42,			/* unmapped */
	A_RO = 43,			/* 2 pages, read-only alias of */
	A_ROW = 45,			/* these 2 writable pages (a memfd) */
	A_PRE_HOLE = 47,		/* RW, then */
	A_HOLE2 = 48,			/* unmapped */
	A_PAGES = 49,
};

#define NERR		134		/* errno 1..133; 0 is success */
#define PAGE_UP(x)	(((x) + PG - 1) & ~(PG - 1))
#define PAGE_DOWN(x)	((x) & ~(PG - 1))

/* ---- 2. Random numbers: one stream per (worker, iteration) ----------- */

struct rng {
	uint64_t s;
};

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnext(struct rng *g)
{
	g->s += 0x9e3779b97f4a7c15ULL;
	return mix64(g->s);
}

static uint64_t rnd(struct rng *g, uint64_t n)
{
	return n ? rnext(g) % n : 0;
}

static bool chance(struct rng *g, unsigned int pct)
{
	return rnd(g, 100) < pct;
}

/* Iteration @idx of stream @stream draws the same numbers whatever the
 * other threads did: a failure names (worker, iteration) to replay. */
static struct rng rng_for(uint64_t seed, uint64_t stream, uint64_t idx)
{
	struct rng g = { mix64(seed ^ mix64((stream << 40) ^ idx)) };

	return g;
}

#define PICK(g, arr)	((arr)[rnd(g, sizeof(arr) / sizeof((arr)[0]))])

/* ---- 3. Sets of errnos ------------------------------------------------ */

struct eset {
	uint64_t w[3];			/* bit 0: success, bit e: errno e */
};

static int eidx(int e)
{
	return e < 0 || e >= NERR ? NERR - 1 : e;
}

static void es_add(struct eset *s, int e)
{
	e = eidx(e);
	s->w[e / 64] |= 1ULL << (e % 64);
}

static bool es_has(const struct eset *s, int e)
{
	e = eidx(e);
	return s->w[e / 64] & (1ULL << (e % 64));
}

static bool es_empty(const struct eset *s)
{
	return !(s->w[0] | s->w[1] | s->w[2]);
}

static const char *ename(int e)
{
	static const char *const names[NERR] = {
		[0] = "OK", [EPERM] = "EPERM", [ENOENT] = "ENOENT",
		[EINTR] = "EINTR", [EIO] = "EIO", [E2BIG] = "E2BIG",
		[EBADF] = "EBADF", [EAGAIN] = "EAGAIN", [ENOMEM] = "ENOMEM",
		[EACCES] = "EACCES", [EFAULT] = "EFAULT", [EBUSY] = "EBUSY",
		[EEXIST] = "EEXIST", [ENODEV] = "ENODEV", [EINVAL] = "EINVAL",
		[ENOTTY] = "ENOTTY", [ENOSPC] = "ENOSPC", [ESRCH] = "ESRCH",
		[EOPNOTSUPP] = "EOPNOTSUPP", [EOVERFLOW] = "EOVERFLOW",
		[ECANCELED] = "ECANCELED", [ENXIO] = "ENXIO",
		[ENOSYS] = "ENOSYS", [ETXTBSY] = "ETXTBSY",
	};
	static char other[NERR][8];

	e = eidx(e);
	if (names[e])
		return names[e];
	if (!other[e][0])
		snprintf(other[e], sizeof(other[e]), "E%d", e);
	return other[e];
}

static void es_str(const struct eset *s, char *buf, size_t len)
{
	size_t n = 0;
	int e;

	buf[0] = 0;
	for (e = 0; e < NERR && n < len; e++)
		if (es_has(s, e))
			n += snprintf(buf + n, len - n, "%s%s", n ? "|" : "",
				      ename(e));
	if (!n)
		snprintf(buf, len, "-");
}

/* ---- 4. What the process is made of ----------------------------------- */

/* Files a source can be; content is known for the regular ones. */
enum {
	F_NONE = -1, F_ANON = 0, F_IMG, F_MEMFD, F_EXE, F_SHORT, F_SHANON,
	F_DEVZERO, F_PROC, F_SYSFS, F_SHRINK, NFILES,
};

struct file_info {
	const char *name;
	const uint8_t *bytes;		/* content from offset 0, or NULL */
	uint64_t size;			/* i_size; ~0: it changes */
	bool regular;
	int fd;				/* a readable fd, for pread checks */
	int map_err;			/* errno mmap gives (not mmapable) */
};

/* One VMA of the SRC_ADDR area. */
struct vma_desc {
	uintptr_t start, end;
	int file;
	uint64_t off;			/* file offset of @start */
	int prot;
};

/* An fd a request can name as its source. */
struct fd_entry {
	int fd;
	int file;			/* F_* when regular and readable */
	struct eset err;		/* the errnos the header gives it */
	const char *name;
};

/* A valid source of the generator: by fd, or by address. */
struct source {
	const char *name;
	int file;
	int fd;				/* -1: by address */
	uintptr_t addr;
	uint64_t off, len;		/* file offset of @addr, bytes there */
};

#define MAX_FDS		32
#define MAX_VMAS	32
#define MAX_SOURCES	16

enum cnt {
	C_IOC_QUERY, C_IOC_MAP, C_IOC_UNMAP, C_IOC_BATCH, C_IOC_BADCMD,
	C_IOC_FOREIGN, C_URING_MAP, C_URING_UNMAP, C_URING_BATCH,
	C_URING_BADOP, C_URING_FOREIGN, C_REQUESTS,	/* the requests */
	C_R_MUNMAP = C_REQUESTS, C_R_MPROTECT, C_R_MREMAP, C_R_MADVISE,
	C_R_TOUCH, C_R_MMAP_KDL, C_R_SQUAT, C_F_CHILD, C_F_CHURN, NCNT,
};

static const char *const cnt_name[NCNT] = {
	"ioctl QUERY", "ioctl MAP", "ioctl UNMAP", "ioctl MAP_BATCH",
	"ioctl unknown cmd", "ioctl on non-kdl fd", "uring MAP",
	"uring UNMAP", "uring MAP_BATCH", "uring unknown op/rsvd",
	"uring on non-kdl fd", "racer munmap", "racer mprotect",
	"racer mremap", "racer madvise", "racer touch (process_vm_*v)",
	"racer mmap(/dev/kdl)", "racer squat (NOREPLACE)", "fork child",
	"fd churn",
};

struct worker;

struct stress {
	uint64_t seed;
	uint64_t requests;		/* total over the workers */
	uint64_t task_size;		/* TASK_SIZE of x86-64: 47 or 56 bit */
	uint64_t mmap_min;
	bool la57;
	bool strict;
	bool ready;			/* the fixture is set up (not skipped) */
	bool replay;
	int replay_worker;
	uint64_t replay_iter;
	int hang_secs;
	int nracers;			/* KDL_STRESS_RACERS (default 2) */
	bool debug_kernel;		/* KASAN: fewer requests by default */
	uint64_t budget_s;		/* KDL_STRESS_SECONDS for the stress */
	long long deadline_ms;
	bool budget_hit;
	bool fork;			/* KDL_STRESS_FORK (default 1) */
	int dev;			/* the shared fd: hot, edges, random */
	atomic_int churn_fd;		/* reopened by the forker */
	struct io_uring child_ring;	/* children submit on it */
	bool have_uring;
	char img_path[128], short_path[128], shrink_path[128];
	char exe_path[512];
	struct file_info files[NFILES];
	struct fd_entry fds[MAX_FDS];
	int nfds;
	struct vma_desc vmas[MAX_VMAS];
	int nvmas;
	uintptr_t src_hi;
	struct source src[MAX_SOURCES];
	int nsrc;
	int sfd_img_ro;
	atomic_int stop;		/* racers and forker */
	atomic_long progress;
	long moved_reservations;	/* /dev/kdl VMAs left in the hot window */
	int kmsg;			/* /dev/kmsg, read from the start */
	struct worker *w[NWORKERS];
	/* failures */
	pthread_mutex_t log_lock;
	atomic_long fails, notes;
	char log[32768];
	size_t log_len;
	char notes_log[8192];
	size_t notes_len;
	uint32_t cnt[NCNT][NERR];	/* totals, summed at the end */
};

static struct stress *S;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* ---- 5. A worker and its request buffers ------------------------------ */

/* Where an object of a request is put. */
enum loc {
	LOC_RW, LOC_RO, LOC_STRADDLE, LOC_NULL, LOC_LOW, LOC_HOLE,
	LOC_NONEPG, LOC_KERNEL, LOC_KTEXT, LOC_NONCANON, LOC_TOP, NLOC,
};

/* What the model says about one request. */
struct expect {
	struct eset viol;		/* errnos of the rules it breaks */
	struct eset phase;		/* errnos a valid one may still get */
	bool unknown;			/* part of it the model cannot judge */
	bool exact;			/* alone in a free private window:
					 * the result must be @must */
	int must;			/* 0, or the errno a squatter arranged */
	const char *note;		/* a documented gray area it touches */
	int line;			/* of the model: the first rule broken */
	bool unmappable;		/* the source has no mmap: ENODEV */
	bool late_efault;		/* an output field cannot be written:
					 * EFAULT, after what mapping gives */
};

/* A KDL_IOC_MAP request being built, sent and checked. */
struct mreq {
	struct kdl_map m;
	uint8_t tail[PG];		/* bytes after the struct */
	struct kdl_segment seg[MAX_SEGS + 4];
	unsigned int nseg;		/* entries laid out at m.segments */
	int loc, seg_loc;
	unsigned int prefix, seg_prefix; /* readable bytes, LOC_STRADDLE */
	bool seg_raw;			/* m.segments set by a mutation */
	int file;			/* content of the image, F_NONE: unknown */
	uint64_t file_off;		/* file offset of image file_base 0 */
	uintptr_t live;			/* the source as mapped (SRC_ADDR) */
	uintptr_t squat, squat_len;
	bool squat_full;		/* the window, but for a short hole */
	unsigned int nmut;
	int mut[4];
	int edge;			/* edge case index, -1 */
	unsigned long cmd;		/* ioctl number, 0: KDL_IOC_MAP */
	/* set when sent */
	uintptr_t ua;
	uint64_t base_in;
	struct expect x;
	int err;
	uint64_t base;
};

struct rec {
	uint64_t base, span, mirror;
};

#define NFLOW		10
#define MAX_RECS	2048
#define HOT_KEEP	32
#define NMUT_MAX	96
#define NEDGE_MAX	32

struct worker {
	int id;
	uint64_t quota;			/* requests to send */
	uint64_t nreq;			/* requests sent */
	uint64_t iter;
	const char *flow;		/* what it is doing, for a hang report */
	int fd;				/* its own /dev/kdl: the private window */
	struct io_uring ring;
	bool have_ring;
	uintptr_t lo, hi;		/* the private window */
	uintptr_t arena;
	int ro_memfd;
	size_t bump, bump_hwm, ro_used;
	unsigned int straddles;		/* boundaries used by this request */
	/* what the private fd has recorded, as the header describes it */
	struct rec recs[MAX_RECS];
	int nrecs;
	bool recs_unknown;
	uint64_t hot[HOT_KEEP];
	int nhot;
	struct mreq req[MAX_MULTI];
	char *maps;			/* /proc/self/maps, read by this thread */
	bool verbose;			/* replay: print every request */
	uint32_t cnt[NCNT][NERR];
	uint32_t mstat[NMUT_MAX][NERR];	/* single mutations: results */
	uint32_t estat[NEDGE_MAX][NERR];
	uint64_t images_checked, images_mirrored, layouts_checked;
	uint64_t batches_partial, ro_batch_left;
	uint64_t flow_ns[NFLOW], flow_n[NFLOW], flow_req[NFLOW];
};

static void count(struct worker *w, int c, int err)
{
	w->cnt[c][eidx(err)]++;
	if (c < C_REQUESTS) {
		w->nreq++;
		atomic_fetch_add_explicit(&S->progress, 1,
					  memory_order_relaxed);
	}
}

static void log_append(char *buf, size_t cap, size_t *len, const char *fmt,
		       va_list ap)
{
	if (*len < cap - 1)
		*len += vsnprintf(buf + *len, cap - *len, fmt, ap);
	if (*len >= cap)
		*len = cap - 1;
}

/* A finding: kept (the first few, with the request), counted, failed. */
static void __attribute__((format(printf, 2, 3)))
fail(struct worker *w, const char *fmt, ...)
{
	long n = atomic_fetch_add(&S->fails, 1);
	va_list ap;
	char head[160];

	if (n >= 40)
		return;
	snprintf(head, sizeof(head), "FAIL worker %d iteration %lu (%s): ",
		 w ? w->id : -1, w ? (unsigned long)w->iter : 0UL,
		 w ? w->flow : "main");
	pthread_mutex_lock(&S->log_lock);
	if (S->log_len < sizeof(S->log) - 1)
		S->log_len += snprintf(S->log + S->log_len,
				       sizeof(S->log) - S->log_len, "%s", head);
	va_start(ap, fmt);
	log_append(S->log, sizeof(S->log), &S->log_len, fmt, ap);
	va_end(ap);
	if (S->log_len < sizeof(S->log) - 2)
		S->log[S->log_len++] = '\n';
	pthread_mutex_unlock(&S->log_lock);
}

/* A documented gray area hit (not a failure unless KDL_STRESS_STRICT). */
static void note(struct worker *w, const char *what, int err)
{
	static const char *seen[32];
	static int nseen;
	int i;

	atomic_fetch_add(&S->notes, 1);
	pthread_mutex_lock(&S->log_lock);
	for (i = 0; i < nseen; i++)
		if (seen[i] == what)
			break;
	if (i == nseen && nseen < 32) {
		seen[nseen++] = what;
		if (S->notes_len < sizeof(S->notes_log) - 1)
			S->notes_len += snprintf(S->notes_log + S->notes_len,
				sizeof(S->notes_log) - S->notes_len,
				"NOTE (first: worker %d iteration %lu, %s): %s\n",
				w ? w->id : -1,
				w ? (unsigned long)w->iter : 0UL, ename(err),
				what);
	}
	pthread_mutex_unlock(&S->log_lock);
}

/* The arena: bump allocation, a read-only alias, two fault boundaries. */
static uintptr_t apage(const struct worker *w, int page)
{
	return w->arena + (uintptr_t)page * PG;
}

static void arena_reset(struct worker *w)
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
static uintptr_t put_obj(struct worker *w, const void *obj, size_t len,
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

/* ---- 6. The memory model: can the kernel read/write [a, a + len)? ---- */

enum acc { ACC_NO, ACC_YES, ACC_UNKNOWN };

static enum acc page_access(const struct worker *w, uintptr_t page, bool wr)
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

static enum acc mem_access(const struct worker *w, uintptr_t a, uint64_t len,
			   bool wr)
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

/* ---- 7. The records of the private fd (Documentation/ioctl-abi.md) --- */

static bool ranges_meet(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a && b && a < b + blen && b < a + alen;
}

/* A new image drops the records whose ranges it now occupies. */
static void recs_add(struct worker *w, uint64_t base, uint64_t span,
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
	if (n == MAX_RECS) {
		w->recs_unknown = true;
		return;
	}
	w->recs[w->nrecs++] = (struct rec){ base, span, mirror };
}

static int recs_find(const struct worker *w, uint64_t base)
{
	int i;

	for (i = w->nrecs - 1; i >= 0; i--)
		if (w->recs[i].base == base)
			return i;
	return -1;
}

static void recs_del(struct worker *w, int i)
{
	w->recs[i] = w->recs[--w->nrecs];
}

/* ---- 8. The model of uapi/linux/kdl.h --------------------------------- */

#define V(x, e)		viol((x), (e), __LINE__)

/* Records a broken rule; the first one's line goes into the report. */
static void viol(struct expect *x, int e, int line)
{
	if (es_empty(&x->viol))
		x->line = line;
	es_add(&x->viol, e);
}

static bool tail_zero(uintptr_t a, size_t from, size_t to)
{
	const uint8_t *p = (const uint8_t *)a;
	size_t i;

	for (i = from; i < to; i++)
		if (p[i])
			return false;
	return true;
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
	enum acc a = mem_access(w, ua, 4, false);
	uint32_t usize;

	if (a != ACC_YES) {
		if (a == ACC_NO)
			V(x, EFAULT);
		else
			x->unknown = true;
		return false;
	}
	usize = *(const uint32_t *)ua;
	if (usize < ver0) {
		V(x, EINVAL);
		return false;
	}
	if (usize > PG) {
		V(x, E2BIG);
		return false;
	}
	a = mem_access(w, ua, usize, false);
	if (a != ACC_YES) {
		if (a == ACC_NO)
			V(x, EFAULT);
		else
			x->unknown = true;
		return false;
	}
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

static const struct fd_entry *fd_lookup(int fd)
{
	int i;

	for (i = 0; i < S->nfds; i++)
		if (S->fds[i].fd == fd)
			return &S->fds[i];
	return NULL;
}

static void judge_segments(const struct kdl_map *m,
			   const struct kdl_segment *segs, uint64_t src_off,
			   bool limit_known, uint64_t limit, struct expect *x,
			   bool *any_file)
{
	uint64_t prev_end = 0, end, fend;
	unsigned int i;

	for (i = 0; i < m->nr_segments; i++) {
		const struct kdl_segment *s = &segs[i];

		if (s->flags || (s->prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)))
			V(x, EINVAL);
		if (!s->memsz || s->filesz > s->memsz)
			V(x, EINVAL);
		if (s->vaddr % PG != s->offset % PG)
			V(x, EINVAL);
		if (__builtin_add_overflow(s->vaddr, s->memsz, &end) ||
		    end > m->span)
			V(x, EINVAL);
		if (PAGE_DOWN(s->vaddr) < prev_end)
			V(x, EINVAL);
		if (limit_known &&
		    (__builtin_add_overflow(s->offset, s->filesz, &fend) ||
		     __builtin_add_overflow(fend, src_off, &fend) ||
		     fend > limit))
			V(x, EINVAL);
		if (s->filesz)
			*any_file = true;
		prev_end = PAGE_UP(s->vaddr + s->memsz);
	}
}

/*
 * KDL_IOC_MAP at @ua, as it sits in memory now.  @r, when given, learns
 * which file the image comes from.
 */
static void judge_map(const struct worker *w, uintptr_t ua, struct expect *x,
		      struct mreq *r)
{
	struct kdl_map m;
	unsigned int place;
	uint64_t ts = S->task_size, top = 0, end, limit = 0, off = 0, src_off;
	uint64_t align;
	bool any_file = false, limit_known = false;
	int file = F_NONE;
	enum acc a;

	memset(x, 0, sizeof(*x));
	if (!judge_copy_in(w, ua, KDL_MAP_SIZE_VER0, &m, sizeof(m), true,
			   offsetof(struct kdl_map, base), 8, x))
		return;
	place = m.flags & KDL_MAP_PLACEMENT_MASK;
	if ((m.flags & ~KDL_MAP_ALL_FLAGS) || m.reserved[0] || m.reserved[1])
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
		/* kdl_validate.c asks for span + align of room: no rule of
		 * the header says so (a doc gap, see the report) */
		if (m.span + align > ts || m.span + align < m.span) {
			es_add(&x->phase, EINVAL);
			x->note = "ANYWHERE with span + align above TASK_SIZE is "
				  "EINVAL (not a rule of the header; ENOMEM?)";
		}
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
		const struct fd_entry *f = fd_lookup(m.fd);

		if (m.fd == w->fd) {
			V(x, ENODEV);		/* its own /dev/kdl */
		} else if (!f) {
			if (m.fd < 0 || m.fd >= 900)
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
			file = f->file;
		}
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
		else
			judge_segments(&m, (const struct kdl_segment *)(uintptr_t)
				       m.segments, src_off, limit_known, limit, x,
				       &any_file);
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
	if (r) {
		r->file = file > F_ANON && S->files[file].bytes ? file : F_NONE;
		r->file_off = src_off;
	}
}

/* KDL_IOC_UNMAP on the private fd (@known: its records are modelled). */
static void judge_unmap(struct worker *w, uintptr_t ua, struct expect *x,
			bool known)
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

static void judge_query(const struct worker *w, uintptr_t ua, struct expect *x)
{
	struct kdl_query q;

	memset(x, 0, sizeof(*x));
	if (!judge_copy_in(w, ua, KDL_QUERY_SIZE_VER0, &q, sizeof(q), true,
			   0, KDL_QUERY_SIZE_VER0, x))
		return;
	if (q.reserved[0] || q.reserved[1] || q.reserved[2] || q.reserved[3])
		V(x, EINVAL);
	if (q.abi_version || q.features || q.max_segments || q.max_batch) {
		/* kdl_dev.c also wants the out fields zero on input */
		es_add(&x->phase, EINVAL);
		x->note = "QUERY rejects non-zero out fields (abi_version, "
			  "features, max_*) on input: not in the header";
	}
	x->exact = es_empty(&x->viol) && !x->note;
}

/*
 * The verdict on one result (@err: 0 or an errno).  Returns true when it
 * agrees with the model.
 */
static bool judge(struct worker *w, const struct expect *x, int err,
		  const char *what)
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
			     "giving %s, first: stress_test.c:%d)", what, want,
			     x->line);
			return false;
		}
		if (x->unknown || es_has(&x->viol, err))
			return true;
		es_str(&x->viol, want, sizeof(want));
		fail(w, "%s: %s, expected one of %s (the rules it breaks, "
		     "first: stress_test.c:%d)", what, ename(err), want, x->line);
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

/* ---- 9. Building valid requests --------------------------------------- */

enum target { T_PRIV, T_HOT, T_ANY, T_EDGE };

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

/* A valid request for @t; @window_only: no FIXED (it shares a window). */
static void gen_valid(struct worker *w, struct rng *g, struct mreq *r,
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
		if (chance(g, 25)) {
			r->m.flags |= KDL_MAP_MIRROR;
			if (chance(g, 50))
				r->m.flags |= KDL_MAP_MIRROR_NOREPLACE;
			r->m.mirror_base = PRIV_MOFF;
		}
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
		if (chance(g, 25)) {
			r->m.flags |= KDL_MAP_MIRROR;
			if (chance(g, 50))
				r->m.flags |= KDL_MAP_MIRROR_NOREPLACE;
			r->m.mirror_base = HOT_MOFF;
		}
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
static bool inside(uint64_t a, uint64_t len, uint64_t lo, uint64_t wlen)
{
	uint64_t end;

	return !__builtin_add_overflow(a, len, &end) && a >= lo &&
	       end <= lo + wlen;
}

static bool meets(uint64_t a, uint64_t len, uint64_t lo, uint64_t hi)
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
static void make_safe(struct worker *w, struct mreq *r)
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
static void materialize(struct worker *w, struct mreq *r)
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

/* ---- 10. Mutations of a valid private request -------------------------- */

typedef void (*mut_fn)(struct worker *w, struct mreq *r, struct rng *g);

struct mutation {
	const char *name;
	mut_fn fn;
	bool solo;		/* squats or replaces: alone in the window */
};

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

static const struct mutation mutations[] = {
	MENT(size_small, 0), MENT(size_huge, 0), MENT(size_tail_nonzero, 0),
	MENT(size_tail_zero, 0), MENT(flag_unknown, 0),
	MENT(flag_no_placement, 0), MENT(flag_two_placements, 0),
	MENT(flag_noreplace_alone, 0), MENT(reserved_nonzero, 0),
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
	MENT(seg_flags_nonzero, 0), MENT(seg_past_eof, 0),
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

/* Applies 1 to 3 mutations; @solo: the request is alone in its window. */
static void mutate(struct worker *w, struct mreq *r, struct rng *g, bool solo,
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

/* ---- 11. Sending, and checking what a success mapped ------------------ */

static int do_ioctl(int fd, unsigned long cmd, uintptr_t arg)
{
	return ioctl(fd, cmd, (void *)arg) ? errno : 0;
}

struct usqe {
	int fd;
	uint32_t op;
	uint64_t addr, reserved;
	uint8_t flags;
};

/* Sends @n commands in one submission; err[i]: 0 or the CQE's -res. */
static int uring_run(struct worker *w, struct io_uring *ring,
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

static uint64_t read_base(const struct worker *w, const struct mreq *r)
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

static uint64_t mirror_of(const struct mreq *r, uint64_t base)
{
	return r->m.flags & KDL_MAP_MIRROR ? base + r->m.mirror_base : 0;
}

/* Compares one view of an image with the source; false on a difference. */
static bool check_view(struct worker *w, const struct mreq *r, uintptr_t view,
		       const char *which)
{
	static const uint8_t zero[4 * PG];
	const struct file_info *f = &S->files[r->file];
	const struct kdl_segment *segs = sent_segments(r);
	unsigned int i;

	for (i = 0; i < r->m.nr_segments; i++) {
		const struct kdl_segment *s = &segs[i];
		uint64_t pstart = PAGE_DOWN(s->vaddr);
		uint64_t fend = s->filesz ? s->vaddr + s->filesz : pstart;
		uint64_t mend = PAGE_UP(s->vaddr + s->memsz);
		uint64_t foff = r->file_off + s->offset - (s->vaddr - pstart);
		const uint8_t *p = (const uint8_t *)(view + pstart);
		uint64_t j, n;

		if (!(s->prot & PROT_READ))
			continue;
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
		if (s->memsz == s->filesz)
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
	const struct file_info *f = &S->files[r->file];
	const struct kdl_segment *segs = sent_segments(r);
	uint64_t mirror = mirror_of(r, base);
	unsigned int i;

	for (i = 0; i < r->m.nr_segments; i++) {
		const struct kdl_segment *s = &segs[i];
		volatile uint8_t *p = (volatile uint8_t *)(base + s->vaddr);
		uint8_t old, b;

		if ((s->prot & (PROT_READ | PROT_WRITE)) !=
		    (PROT_READ | PROT_WRITE))
			continue;
		old = *p;
		*p = ~old;
		if (mirror && *(volatile uint8_t *)(mirror + s->vaddr) != (uint8_t)~old)
			fail(w, "mirror at %#lx: a store to segment %u is not seen "
			     "through the other view", (unsigned long)mirror, i);
		if (s->filesz && f->fd >= 0 &&
		    (pread(f->fd, &b, 1, r->file_off + s->offset) != 1 ||
		     b != f->bytes[r->file_off + s->offset]))
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
static void check_image(struct worker *w, const struct mreq *r, uint64_t base,
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

static bool range_empty(uintptr_t lo, size_t len)
{
	void *p = mmap((void *)lo, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return false;
	munmap(p, len);
	return p == (void *)lo;
}

/* The private windows must be empty between flows. */
static void probe_private(struct worker *w, const char *after)
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
 * exactly what a squatter arranged.
 */
static void set_exact(struct worker *w, struct mreq *r)
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
static void describe(struct worker *w, const struct mreq *r)
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
	fail(w, "  request: size %u flags %#x fd %d nr %u file_base %#lx src "
	     "%#lx+%#lx span %#lx align %#lx window [%#lx, %#lx) fixed %#lx "
	     "mirror %#lx segments %#lx loc %d/%d rsvd %#lx/%#lx edge %d; "
	     "mutations:%s; segs:%s", m->size, m->flags, m->fd, m->nr_segments,
	     (unsigned long)m->file_base, (unsigned long)m->src_addr,
	     (unsigned long)m->src_len, (unsigned long)m->span,
	     (unsigned long)m->align, (unsigned long)m->window_lo,
	     (unsigned long)m->window_hi, (unsigned long)m->fixed_addr,
	     (unsigned long)m->mirror_base, (unsigned long)m->segments, r->loc,
	     r->seg_loc, (unsigned long)m->reserved[0],
	     (unsigned long)m->reserved[1], r->edge, muts, segs);
}

/* After a MAP (ioctl or uring, @fd): judge, count, record, check. */
static bool after_map(struct worker *w, struct mreq *r, int fd, int c,
		      bool content)
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
	if (fd == w->fd)
		recs_add(w, r->base, r->m.span, mirror_of(r, r->base));
	check_image(w, r, r->base, content);
	return ok;
}

/* ---- 12. Flows: what one iteration of a worker does ------------------- */

static void reopen_private(struct worker *w)
{
	close(w->fd);
	w->fd = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (w->fd < 0)
		fail(w, "reopen /dev/kdl: %s", ename(errno));
	w->nrecs = 0;
	w->recs_unknown = false;
}

/* Mutated unmaps of a recorded image, then the real one. */
static int unmap_private(struct worker *w, struct rng *g, uint64_t base,
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
static void release_image(struct worker *w, struct rng *g, struct mreq *r)
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
		set_exact(w, r);
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

static void flow_private(struct worker *w, struct rng *g)
{
	w->flow = "private map";
	run_private(w, g, chance(g, 20) ? 2 + rnd(g, 7) : 1, 55);
}

/* Mutated requests in a row: most fail in validation, which is cheap. */
static void flow_burst(struct worker *w, struct rng *g)
{
	w->flow = "burst";
	run_private(w, g, BURST, 100);
}

/* A KDL_IOC_MAP_BATCH being built, judged and checked. */
struct batch {
	struct kdl_map_batch b;		/* as built (the arena has the copy) */
	uint64_t ptr[MAX_BATCH_N + 8];	/* the maps array: req[i].ua or bad */
	int n;				/* requests built */
	int loc;			/* where the struct went */
	uintptr_t ua;
	bool early;			/* fails before looking at a request */
	int want_done;
	struct expect x;
};

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
 * 2. The model: the struct, then each request in order; the batch stops
 * at the first that breaks a rule, with that one's errno and done = its
 * index.  A request the model cannot call exact (not in a free window)
 * may stop it earlier: then only "some failure" is checked.
 */
static void judge_batch(struct worker *w, struct batch *bt)
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
			set_exact(w, r);
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

/* 3. What it left: [0, done) mapped with base set, the rest untouched. */
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
		if (bt->early)
			fail(w, "MAP_BATCH failed before the requests (%s) yet "
			     "mapped request %d", ename(err), i);
		else if (bt->loc != LOC_RO && (uint32_t)i >= done)
			fail(w, "MAP_BATCH: request %d mapped, done %u", i, done);
		if (bt->loc == LOC_RO)
			left++;
		r->base = base;
		recs_add(w, base, r->m.span, mirror_of(r, base));
		check_image(w, r, base, true);
	}
	if (left) {
		w->ro_batch_left += left;
		note(w, "MAP_BATCH whose done field cannot be written returns "
		     "EFAULT yet leaves its requests mapped (KDL_IOC_MAP rolls "
		     "back in the same case)", err);
	}
}

/* KDL_IOC_MAP_BATCH of private requests, and its partial-failure rule. */
static void flow_batch(struct worker *w, struct rng *g)
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

static void flow_query(struct worker *w, struct rng *g)
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
static void flow_unmap_garbage(struct worker *w, struct rng *g)
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

/* Sends one MAP through ioctl or io_uring on @fd. */
static void send_map(struct worker *w, struct rng *g, struct mreq *r, int fd,
		     int *c)
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
static int unmap_shared(struct worker *w, struct rng *g, int fd, uint64_t base)
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
static void flow_hot(struct worker *w, struct rng *g)
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
#define NEDGE	27
static const char *const edge_name[NEDGE] = {
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

static void flow_edge(struct worker *w, struct rng *g)
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

static void flow_random(struct worker *w, struct rng *g)
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
static void flow_badcmd(struct worker *w, struct rng *g)
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
		nr = type == KDL_IOC_MAGIC ? 4 + rnd(g, 252) : rnd(g, 256);
		if (type == KDL_IOC_MAGIC && chance(g, 50))
			nr = 0x80 + rnd(g, 0x80);
		cmd = _IOC(rnd(g, 4), type, nr, rnd(g, 1 << 14));
		if (_IOC_TYPE(cmd) == KDL_IOC_MAGIC && _IOC_NR(cmd) < 4)
			cmd = _IOC(_IOC_READ | _IOC_WRITE, KDL_IOC_MAGIC, 0x7f, 56);
		err = do_ioctl(chance(g, 50) ? S->dev : w->fd, cmd,
			       chance(g, 50) ? ua : pool_ptr(w, g));
		count(w, C_IOC_BADCMD, err);
		if (err != ENOTTY)
			fail(w, "ioctl %#lx: %s, expected ENOTTY", cmd, ename(err));
	} else {
		static const unsigned long cmds[] = { KDL_IOC_QUERY, KDL_IOC_MAP,
			KDL_IOC_UNMAP, KDL_IOC_MAP_BATCH };
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
static void flow_uring_bad(struct worker *w, struct rng *g)
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

/* ---- 13. The threads --------------------------------------------------- */

static const struct {
	const char *name;
	void (*fn)(struct worker *w, struct rng *g);
	unsigned int pct;
} flows[NFLOW] = {
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

static void *worker_main(void *arg)
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

/*
 * A racer: munmap, mprotect, mremap, madvise the hot window and its
 * mirror, touch it through process_vm_*v (a fault in a reservation is
 * SIGBUS, which GUP turns into EFAULT), squat in it, and try to mmap
 * /dev/kdl itself, which must always fail.
 */
struct racer {
	int id;
	pthread_t th;
	uint32_t cnt[NCNT][NERR];
	long fails;
};

static int sys_err(long r)
{
	return r < 0 || r == (long)MAP_FAILED ? errno : 0;
}

static void *racer_main(void *arg)
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

static void *forker_main(void *arg)
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

/* ---- 14. Setting the process up --------------------------------------- */

static void drop_rawio(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	/* as an ordinary process: no mappings below mmap_min_addr */
	if (syscall(SYS_capget, &h, d))
		return;
	d[0].effective &= ~(1U << CAP_SYS_RAWIO);
	d[0].permitted &= ~(1U << CAP_SYS_RAWIO);
	d[0].inheritable &= ~(1U << CAP_SYS_RAWIO);
	syscall(SYS_capset, &h, d);
}

static void *map_at(uintptr_t a, size_t len, int prot, int flags, int fd,
		    off_t off)
{
	void *p = mmap((void *)a, len, prot, flags | MAP_FIXED_NOREPLACE, fd, off);

	return p == (void *)a ? p : NULL;
}

static void add_vma(uintptr_t start, size_t len, int file, uint64_t off, int prot)
{
	S->vmas[S->nvmas++] = (struct vma_desc){ start, start + len, file, off,
						 prot };
}

static void add_fd(int fd, int file, int err1, int err2, const char *name)
{
	struct fd_entry *f = &S->fds[S->nfds++];

	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->file = file;
	f->name = name;
	if (err1)
		es_add(&f->err, err1);
	if (err2)
		es_add(&f->err, err2);
}

static void add_source(const char *name, int file, int fd, uintptr_t addr,
		       uint64_t off, uint64_t len)
{
	S->src[S->nsrc++] = (struct source){ name, file, fd, addr, off, len };
}

static int write_file(const char *path, const uint8_t *bytes, size_t len)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);

	if (fd < 0 || pwrite(fd, bytes, len, 0) != (ssize_t)len)
		return -1;
	return fd;
}

static uint8_t *slurp(int fd, uint64_t *len)
{
	struct stat st;
	uint8_t *buf;

	if (fstat(fd, &st))
		return NULL;
	buf = malloc(st.st_size + PG);
	if (!buf || pread(fd, buf, st.st_size, 0) != st.st_size)
		return NULL;
	*len = st.st_size;
	return buf;
}

/* Files, fds, the SRC_ADDR area. Returns NULL or what failed. */
static const char *setup_files(void)
{
	struct file_info *f = S->files;
	uint64_t img_len = IMG_PAGES * PG, exe_len;
	uint8_t *img = malloc(img_len);
	static const char *const sysfs[] = {
		"/sys/kernel/mm/transparent_hugepage/enabled",
		"/sys/kernel/uevent_seqnum", "/sys/kernel/profiling" };
	int fd, p[2], sv[2], i, exe_fd, memfd;
	uint8_t *exe;
	ssize_t n;

	fill_pattern(img, 0, img_len);
	snprintf(S->img_path, sizeof(S->img_path), "/tmp/kdl-stress-%d.so",
		 getpid());
	snprintf(S->short_path, sizeof(S->short_path),
		 "/tmp/kdl-stress-short-%d", getpid());
	snprintf(S->shrink_path, sizeof(S->shrink_path),
		 "/tmp/kdl-stress-shrink-%d", getpid());
	fd = write_file(S->img_path, img, img_len);
	if (fd < 0)
		return "image file";
	close(fd);
	S->sfd_img_ro = open(S->img_path, O_RDONLY | O_CLOEXEC);
	memfd = memfd_create("kdl-stress-img", MFD_CLOEXEC);
	if (S->sfd_img_ro < 0 || memfd < 0 ||
	    pwrite(memfd, img, img_len, 0) != (ssize_t)img_len)
		return "memfd";
	n = readlink("/proc/self/exe", S->exe_path, sizeof(S->exe_path) - 1);
	exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	exe = exe_fd >= 0 ? slurp(exe_fd, &exe_len) : NULL;
	if (n <= 0 || !exe)
		return "/proc/self/exe";
	S->exe_path[n] = 0;

	f[F_ANON] = (struct file_info){ "anonymous", NULL, 0, false, -1, 0 };
	f[F_IMG] = (struct file_info){ "image", img, img_len, true,
				       S->sfd_img_ro, 0 };
	f[F_MEMFD] = (struct file_info){ "memfd", img, img_len, true, memfd, 0 };
	f[F_EXE] = (struct file_info){ "exe (9p in the VM)", exe, exe_len, true,
				       exe_fd, 0 };
	fd = write_file(S->short_path, img, SHORT_SIZE);
	if (fd < 0)
		return "short file";
	f[F_SHORT] = (struct file_info){ "short", img, SHORT_SIZE, true, fd, 0 };
	f[F_SHANON] = (struct file_info){ "shared anonymous", img, img_len, true,
					  -1, 0 };
	f[F_DEVZERO] = (struct file_info){ "/dev/zero", NULL, 0, false, -1, 0 };
	f[F_PROC] = (struct file_info){ "/proc/self/status", NULL, 0, true,
					-1, ENODEV };
	f[F_SYSFS] = (struct file_info){ "sysfs attribute", NULL, PG, true, -1,
					 ENODEV };
	f[F_SHRINK] = (struct file_info){ "shrinking file", NULL, ~0UL, true,
					  -1, 0 };

	/* 1. the fds a request can name */
	add_fd(S->sfd_img_ro, F_IMG, 0, 0, "image O_RDONLY");
	add_fd(open(S->img_path, O_RDWR | O_CLOEXEC), F_IMG, 0, 0,
	       "image O_RDWR");
	add_fd(open(S->img_path, O_WRONLY | O_CLOEXEC), F_NONE, EACCES, 0,
	       "image O_WRONLY");
	add_fd(memfd, F_MEMFD, 0, 0, "memfd");
	add_fd(exe_fd, F_EXE, 0, 0, "exe");
	add_fd(f[F_SHORT].fd, F_SHORT, 0, 0, "short file");
	fd = write_file(S->shrink_path, img, 8 * PG);
	f[F_SHRINK].fd = fd;
	add_fd(fd, F_SHRINK, 0, 0, "shrinking file");
	add_fd(open(S->img_path, O_PATH | O_CLOEXEC), F_NONE, EBADF, 0,
	       "image O_PATH");
	add_fd(open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC), F_NONE, EBADF, 0,
	       "directory O_PATH");
	if (pipe2(p, O_CLOEXEC) || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
					      0, sv))
		return "pipe/socket";
	add_fd(p[0], F_NONE, ENODEV, 0, "pipe read end");
	add_fd(p[1], F_NONE, ENODEV, EACCES, "pipe write end");
	add_fd(sv[0], F_NONE, ENODEV, 0, "unix socket");
	add_fd(open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC), F_NONE, ENODEV,
	       0, "directory");
	add_fd(open("/dev/null", O_RDONLY | O_CLOEXEC), F_NONE, ENODEV, 0,
	       "/dev/null");
	add_fd(open("/dev/zero", O_RDONLY | O_CLOEXEC), F_NONE, ENODEV, 0,
	       "/dev/zero");
	add_fd(eventfd(0, EFD_CLOEXEC), F_NONE, ENODEV, 0, "eventfd");
	add_fd(S->dev, F_NONE, ENODEV, 0, "/dev/kdl (shared)");
	if (S->have_uring)
		add_fd(S->child_ring.ring_fd, F_NONE, ENODEV, 0, "io_uring");
	f[F_PROC].fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	add_fd(f[F_PROC].fd, F_PROC, 0, 0, "/proc/self/status");
	for (i = 0; i < 3 && f[F_SYSFS].fd < 0; i++)
		f[F_SYSFS].fd = open(sysfs[i], O_RDONLY | O_CLOEXEC);
	if (f[F_SYSFS].fd >= 0)
		add_fd(f[F_SYSFS].fd, F_SYSFS, 0, 0, "sysfs attribute");
	add_fd(900, F_NONE, EBADF, 0, "closed (900)");
	add_fd(-1, F_NONE, EBADF, 0, "-1");
	add_fd(INT32_MIN, F_NONE, EBADF, 0, "INT_MIN");
	add_fd(INT32_MAX, F_NONE, EBADF, 0, "INT_MAX");
	for (i = 0; i < S->nfds; i++)
		if (S->fds[i].fd == -1 && strcmp(S->fds[i].name, "-1"))
			return S->fds[i].name;

	/* 2. the SRC_ADDR area: files mapped, and what is not one file */
#define AT(pg)	(SRC_AREA + (uintptr_t)(pg) * PG)
	fd = S->sfd_img_ro;
	if (!map_at(AT(0), img_len, PROT_READ, MAP_SHARED, fd, 0) ||
	    !map_at(AT(64), img_len, PROT_READ, MAP_PRIVATE, fd, 0) ||
	    !map_at(AT(128), img_len - 4 * PG, PROT_READ, MAP_SHARED, fd, 4 * PG) ||
	    !map_at(AT(192), img_len, PROT_READ, MAP_SHARED, memfd, 0) ||
	    !map_at(AT(256), img_len, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0) ||
	    !map_at(AT(320), 8 * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ||
	    !map_at(AT(384), 8 * PG, PROT_READ, MAP_PRIVATE,
		    open("/dev/zero", O_RDONLY | O_CLOEXEC), 0) ||
	    !map_at(AT(448), img_len, PROT_NONE, MAP_SHARED, fd, 0) ||
	    !map_at(AT(512), 4 * PG, PROT_READ, MAP_SHARED, fd, 0) ||
	    !map_at(AT(516), 4 * PG, PROT_READ, MAP_SHARED, memfd, 0) ||
	    !map_at(AT(576), 4 * PG, PROT_READ, MAP_SHARED, fd, 0) ||
	    !map_at(AT(580), 4 * PG, PROT_READ, MAP_SHARED, fd, 8 * PG) ||
	    !map_at(AT(640), 4 * PG, PROT_READ, MAP_SHARED, fd, 0) ||
	    !map_at(AT(644), 4 * PG, PROT_READ, MAP_SHARED, fd, 4 * PG) ||
	    !map_at(AT(704), PAGE_UP(exe_len), PROT_READ, MAP_PRIVATE, exe_fd, 0))
		return "the SRC_ADDR area";
	memcpy((void *)AT(256), img, img_len);
	mprotect((void *)AT(256), img_len, PROT_READ);
	memcpy((void *)AT(320), img, 8 * PG);
	mprotect((void *)AT(320), 8 * PG, PROT_READ);
	add_vma(AT(0), img_len, F_IMG, 0, PROT_READ);
	add_vma(AT(64), img_len, F_IMG, 0, PROT_READ);
	add_vma(AT(128), img_len - 4 * PG, F_IMG, 4 * PG, PROT_READ);
	add_vma(AT(192), img_len, F_MEMFD, 0, PROT_READ);
	add_vma(AT(256), img_len, F_SHANON, 0, PROT_READ);
	add_vma(AT(320), 8 * PG, F_ANON, 0, PROT_READ);
	add_vma(AT(384), 8 * PG, F_DEVZERO, 0, PROT_READ);
	add_vma(AT(448), img_len, F_IMG, 0, PROT_NONE);
	add_vma(AT(512), 4 * PG, F_IMG, 0, PROT_READ);
	add_vma(AT(516), 4 * PG, F_MEMFD, 0, PROT_READ);
	add_vma(AT(576), 4 * PG, F_IMG, 0, PROT_READ);
	add_vma(AT(580), 4 * PG, F_IMG, 8 * PG, PROT_READ);
	add_vma(AT(640), 4 * PG, F_IMG, 0, PROT_READ);
	add_vma(AT(644), 4 * PG, F_IMG, 4 * PG, PROT_READ);
	add_vma(AT(704), PAGE_UP(exe_len), F_EXE, 0, PROT_READ);
	S->src_hi = AT(704) + PAGE_UP(exe_len) + PG;

	/* 3. the valid sources of the generator */
	add_source("image fd", F_IMG, S->sfd_img_ro, 0, 0, 0);
	add_source("image fd O_RDWR", F_IMG, S->fds[1].fd, 0, 0, 0);
	add_source("memfd", F_MEMFD, memfd, 0, 0, 0);
	add_source("exe", F_EXE, exe_fd, 0, 0, 0);
	add_source("short file", F_SHORT, f[F_SHORT].fd, 0, 0, 0);
	add_source("image mapped shared", F_IMG, -1, AT(0), 0, img_len);
	add_source("image mapped private", F_IMG, -1, AT(64), 0, img_len);
	add_source("image mapped from 4 pages", F_IMG, -1, AT(128), 4 * PG,
		   img_len - 4 * PG);
	add_source("memfd mapped", F_MEMFD, -1, AT(192), 0, img_len);
	add_source("shared anonymous", F_SHANON, -1, AT(256), 0, img_len);
	add_source("image mapped PROT_NONE", F_IMG, -1, AT(448), 0, img_len);
	add_source("image mapped twice, consecutive", F_IMG, -1, AT(640), 0,
		   8 * PG);
	add_source("exe mapped", F_EXE, -1, AT(704), 0, exe_len);
#undef AT
	return NULL;
}

static const char *setup_worker(struct worker *w, int id)
{
	uintptr_t a = ARENA_BASE + (uintptr_t)id * ARENA_STRIDE;

	w->id = id;
	w->lo = PRIV_BASE + (uintptr_t)id * GIB;
	w->hi = w->lo + PRIV_LEN;
	w->arena = a;
	w->iter = 0;
	w->flow = "idle";
	w->maps = malloc(1 << 20);
	w->fd = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	w->ro_memfd = memfd_create("kdl-stress-ro", MFD_CLOEXEC);
	if (!w->maps || w->fd < 0 || w->ro_memfd < 0 ||
	    ftruncate(w->ro_memfd, 2 * PG))
		return "worker fds";
	if (!map_at(a, (A_PRE_NONE + 1) * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ||
	    !map_at(apage(w, A_NONE), PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0) ||
	    !map_at(apage(w, A_RO), 2 * PG, PROT_READ, MAP_SHARED, w->ro_memfd, 0) ||
	    !map_at(apage(w, A_ROW), 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		    w->ro_memfd, 0) ||
	    !map_at(apage(w, A_PRE_HOLE), PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
		return "worker arena";
	return NULL;
}

/* ---- 15. Before and after: mappings, memory, the module --------------- */

struct snap {
	long memfree, shmem, anon, slab_unrecl, pagetables;	/* kB */
	long free_pcp;			/* kB free: buddy + per-cpu lists */
	long slab, kstack;
	char meminfo[4096];
	int nmaps;
	char *lines;			/* the interesting mappings, sorted */
	int nlines;
};

static long meminfo(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* The mappings that can only come from this test or the module. */
static bool interesting(unsigned long lo, unsigned long hi, const char *path)
{
	if (strstr(path, "kdl-stress") || strstr(path, "kdl-mirror") ||
	    !strcmp(path, KDL_DEVICE_PATH) || !strcmp(path, S->exe_path))
		return true;
	if (meets(lo, hi - lo, PROTECTED_LO, 0x600000000000UL) ||
	    meets(lo, hi - lo, 0, 16UL << 20))
		return true;
	return lo >= 0x7fff00000000UL && strcmp(path, "[stack]") &&
	       strcmp(path, "[vvar]") && strcmp(path, "[vdso]") &&
	       strcmp(path, "[vsyscall]");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void take_snap(struct snap *s, char *buf, size_t cap)
{
	char *line, *save = NULL, **v;
	size_t n = 0;
	int fd, i, cnt = 0;

	memset(s, 0, sizeof(*s));
	/* page cache and reclaimable slab out of the way, RCU frees done */
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		sync();
		if (write(fd, "3", 1) != 1)
			(void)0;
		close(fd);
	}
	usleep(500000);
	fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, buf, cap - 1);

		buf[r > 0 ? r : 0] = 0;
		close(fd);
		memcpy(s->meminfo, buf, sizeof(s->meminfo) - 1);
		s->memfree = meminfo(buf, "MemFree:");
		s->shmem = meminfo(buf, "Shmem:");
		s->anon = meminfo(buf, "AnonPages:");
		s->slab_unrecl = meminfo(buf, "SUnreclaim:");
		s->pagetables = meminfo(buf, "PageTables:");
		s->slab = meminfo(buf, "Slab:");
		s->kstack = meminfo(buf, "KernelStack:");
	}
	/* MemFree leaves out the pages parked on per-cpu lists, which
	 * come and go with the load: /proc/zoneinfo counts both */
	fd = open("/proc/zoneinfo", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, buf, cap - 1);
		char *p;
		long v1;

		buf[r > 0 ? r : 0] = 0;
		close(fd);
		for (p = buf; (p = strstr(p, "nr_free_pages ")); p++)
			if (sscanf(p, "nr_free_pages %ld", &v1) == 1)
				s->free_pcp += v1 * (PG / 1024);
		for (p = buf; (p = strstr(p, "count: ")); p++)
			if (sscanf(p, "count: %ld", &v1) == 1)
				s->free_pcp += v1 * (PG / 1024);
	}
	read_maps(buf, cap);
	v = calloc(8192, sizeof(*v));
	for (line = strtok_r(buf, "\n", &save); line && cnt < 8192;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long lo, hi;
		char path[512] = "";

		s->nmaps++;
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %511s", &lo, &hi,
			   path) >= 2 && interesting(lo, hi, path))
			v[cnt++] = line;
	}
	qsort(v, cnt, sizeof(*v), cmp_str);
	for (i = 0; i < cnt; i++)
		n += strlen(v[i]) + 1;
	s->lines = calloc(n + 1, 1);
	for (i = 0, n = 0; i < cnt; i++)
		n += sprintf(s->lines + n, "%s\n", v[i]);
	s->nlines = cnt;
	free(v);
}

/* Lines of @a missing from @b, printed with @tag; returns how many. */
static int snap_missing(const struct snap *a, const struct snap *b,
			const char *tag)
{
	char *copy = strdup(a->lines), *line, *save = NULL;
	int n = 0;

	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *p = strstr(b->lines, line);

		if (p && (p == b->lines || p[-1] == '\n') &&
		    p[strlen(line)] == '\n')
			continue;
		if (n++ < 20)
			printf("#   %s %s\n", tag, line);
	}
	free(copy);
	return n;
}

static int module_refcnt(void)
{
	char buf[32] = "";
	int fd = open("/sys/module/kdl/refcnt", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -1;
}

/* What is left in the shared windows after a phase goes. */
static void clean_shared(void)
{
	static char buf[1 << 20];
	char *line, *save = NULL;
	int n = 0;

	/* reservations a racer moved away mid-call stay, holding the device */
	read_maps(buf, sizeof(buf));
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, KDL_DEVICE_PATH))
			n++;
	S->moved_reservations += n;
	munmap((void *)HOT_LO, HOT_LEN);
	munmap((void *)(HOT_LO + HOT_MOFF), HOT_LEN);
}

/* ---- 16. Running a phase: workers, racers, forker, a watchdog --------- */

static void dump_hang(void)
{
	char path[300], buf[4096];
	int i, fd;
	ssize_t n;
	DIR *d;
	struct dirent *e;

	printf("# HANG: no request finished for %d s\n", S->hang_secs);
	for (i = 0; i < NWORKERS; i++)
		printf("#   worker %d: iteration %lu, %s, %lu requests\n", i,
		       (unsigned long)S->w[i]->iter, S->w[i]->flow,
		       (unsigned long)S->w[i]->nreq);
	d = opendir("/proc/self/task");
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stack", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = 0;
			printf("#   task %s kernel stack:\n%s", e->d_name, buf);
		}
	}
	if (d)
		closedir(d);
	fflush(stdout);
}

static void shrinker_tick(uint64_t i)
{
	/* the file a source names shrinks and grows under the requests */
	if (i % 16 == 0)
		if (ftruncate(S->files[F_SHRINK].fd, (i / 16) % 2 ? PG : 8 * PG))
			(void)0;
}

static void run_phase(uint64_t per_worker, struct worker *forker_w,
		      struct racer *rc)
{
	pthread_t th[NWORKERS], fth;
	long last = -1, stalled = 0;
	int i;

	for (i = 0; i < NWORKERS; i++) {
		S->w[i]->quota = S->w[i]->nreq + per_worker;
		pthread_create(&th[i], NULL, worker_main, S->w[i]);
	}
	atomic_store(&S->stop, 0);
	for (i = 0; i < S->nracers; i++) {
		rc[i].id = i;
		pthread_create(&rc[i].th, NULL, racer_main, &rc[i]);
	}
	if (S->fork)
		pthread_create(&fth, NULL, forker_main, forker_w);
	for (;;) {
		long p = atomic_load(&S->progress);
		bool done = true;

		for (i = 0; i < NWORKERS; i++)
			if (strcmp(S->w[i]->flow, "done"))
				done = false;
		if (done)
			break;
		usleep(250000);
		shrinker_tick(p);
		if (p == last) {
			if (++stalled >= S->hang_secs * 4) {
				dump_hang();
				fail(NULL, "hang: no progress for %d s",
				     S->hang_secs);
				printf("%s", S->log);
				fflush(stdout);
				abort();
			}
		} else {
			stalled = 0;
			last = p;
		}
	}
	for (i = 0; i < NWORKERS; i++)
		pthread_join(th[i], NULL);
	atomic_store(&S->stop, 1);
	for (i = 0; i < S->nracers; i++)
		pthread_join(rc[i].th, NULL);
	if (S->fork)
		pthread_join(fth, NULL);
	clean_shared();
	/* the shrinking file back to 8 written pages, for Shmem */
	if (ftruncate(S->files[F_SHRINK].fd, 8 * PG) ||
	    pwrite(S->files[F_SHRINK].fd, S->files[F_IMG].bytes, 8 * PG, 0) !=
	    (ssize_t)(8 * PG))
		fail(NULL, "restoring the shrinking file");
	for (i = 0; i < NWORKERS; i++) {
		S->w[i]->nhot = 0;
		probe_private(S->w[i], "the phase");
	}
}

/* ---- 17. The tables of the closing note ------------------------------- */

static void print_table(const char *title, uint32_t (*c)[NERR], int from,
			int to)
{
	bool used[NERR] = { false };
	char line[1024];
	int r, e, n;

	for (r = from; r < to; r++)
		for (e = 0; e < NERR; e++)
			if (c[r][e])
				used[e] = true;
	n = snprintf(line, sizeof(line), "# %-28s", title);
	for (e = 0; e < NERR; e++)
		if (used[e])
			n += snprintf(line + n, sizeof(line) - n, " %9s", ename(e));
	printf("%s\n", line);
	for (r = from; r < to; r++) {
		uint64_t tot = 0;

		for (e = 0; e < NERR; e++)
			tot += c[r][e];
		if (!tot)
			continue;
		n = snprintf(line, sizeof(line), "# %-28s", cnt_name[r]);
		for (e = 0; e < NERR; e++)
			if (used[e])
				n += snprintf(line + n, sizeof(line) - n, " %9u",
					      c[r][e]);
		printf("%s\n", line);
	}
}

static void print_dist(const char *name, const uint32_t *c)
{
	char line[512];
	int e, n = snprintf(line, sizeof(line), "#   %-36s", name);

	for (e = 0; e < NERR; e++)
		if (c[e])
			n += snprintf(line + n, sizeof(line) - n, " %s %u",
				      ename(e), c[e]);
	printf("%s\n", line);
}

static void print_summary(struct worker *fw, struct racer *rc, long long ms)
{
	static uint32_t mstat[NMUT_MAX][NERR], estat[NEDGE_MAX][NERR];
	uint64_t req = 0, img = 0, mir = 0, lay = 0, part = 0, rob = 0;
	int i, r, e;

	memset(S->cnt, 0, sizeof(S->cnt));
	memset(mstat, 0, sizeof(mstat));
	memset(estat, 0, sizeof(estat));
	for (i = 0; i < NWORKERS + 1 + NRACERS; i++) {
		uint32_t (*c)[NERR] = i < NWORKERS ? S->w[i]->cnt :
				      i == NWORKERS ? fw->cnt :
				      rc[i - NWORKERS - 1].cnt;

		for (r = 0; r < NCNT; r++)
			for (e = 0; e < NERR; e++)
				S->cnt[r][e] += c[r][e];
	}
	for (i = 0; i < NWORKERS; i++) {
		struct worker *w = S->w[i];

		req += w->nreq;
		img += w->images_checked;
		mir += w->images_mirrored;
		lay += w->layouts_checked;
		part += w->batches_partial;
		rob += w->ro_batch_left;
		for (r = 0; r < NMUT; r++)
			for (e = 0; e < NERR; e++)
				mstat[r][e] += w->mstat[r][e];
		for (r = 0; r < NEDGE; r++)
			for (e = 0; e < NERR; e++)
				estat[r][e] += w->estat[r][e];
	}
	printf("# seed %#lx: %lu requests in %.1f s (%.0f/s), %d workers, "
	       "%d racers, %d forker\n", (unsigned long)S->seed,
	       (unsigned long)req, ms / 1000.0, req * 1000.0 / (ms ? ms : 1),
	       NWORKERS, S->nracers, S->fork);
	for (r = 0; r < NFLOW; r++) {
		uint64_t ns = 0, cnt = 0, rq = 0;

		for (i = 0; i < NWORKERS; i++) {
			ns += S->w[i]->flow_ns[r];
			cnt += S->w[i]->flow_n[r];
			rq += S->w[i]->flow_req[r];
		}
		printf("#   flow %-14s %7lu times, %7lu requests, %8.1f s thread "
		       "time, %6.0f us/request\n", flows[r].name,
		       (unsigned long)cnt, (unsigned long)rq, ns / 1e9,
		       rq ? ns / 1e3 / rq : 0.0);
	}
	printf("# /dev/kdl VMAs found in the hot window after a phase (racers "
	       "moved reservations mid-call): %ld\n", S->moved_reservations);
	printf("# images checked byte by byte %lu (mirrored %lu), layouts "
	       "checked in /proc/self/maps %lu, partial batches %lu, images a "
	       "read-only batch left %lu\n", (unsigned long)img,
	       (unsigned long)mir, (unsigned long)lay, (unsigned long)part,
	       (unsigned long)rob);
	print_table("requests", S->cnt, 0, C_REQUESTS);
	print_table("racers, forker", S->cnt, C_REQUESTS, NCNT);
	printf("# single mutations of a valid private request:\n");
	for (r = 0; r < NMUT; r++)
		print_dist(mutations[r].name, mstat[r]);
	printf("# edges of the address space (TASK_SIZE %#lx, mmap_min_addr "
	       "%#lx):\n", (unsigned long)S->task_size,
	       (unsigned long)S->mmap_min);
	for (r = 0; r < NEDGE; r++)
		print_dist(edge_name[r], estat[r]);
}

/* ---- 18. The tests ------------------------------------------------------ */

FIXTURE(stress) {
	int unused;
};

/* The debug kernel of tools/vm/debug-kernel.sh boots with kasan_multi_shot. */
static bool kernel_is_debug(void)
{
	char buf[1024] = "";
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(fd);
	}
	return strstr(buf, "kasan") != NULL;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

FIXTURE_SETUP(stress)
{
	const char *what;
	char buf[64];
	int i, fd;
	void *p;

	S = calloc(1, sizeof(*S));
	ASSERT_NE(NULL, S);
	pthread_mutex_init(&S->log_lock, NULL);
	OPEN_DEV_OR_SKIP(S->dev);
	drop_rawio();
	S->seed = env_u64("KDL_STRESS_SEED", (uint64_t)time(NULL) ^
			  ((uint64_t)getpid() << 32));
	S->debug_kernel = kernel_is_debug();
	S->requests = env_u64("KDL_STRESS_REQUESTS", S->debug_kernel ? 10000 :
			      100000);
	S->budget_s = env_u64("KDL_STRESS_SECONDS", S->debug_kernel ? 1200 : 480);
	S->strict = env_u64("KDL_STRESS_STRICT", 0);
	S->hang_secs = env_u64("KDL_STRESS_HANG", 120);
	S->nracers = env_u64("KDL_STRESS_RACERS", NRACERS);
	if (S->nracers > NRACERS)
		S->nracers = NRACERS;
	S->fork = env_u64("KDL_STRESS_FORK", 1);
	if (getenv("KDL_STRESS_REPLAY")) {
		unsigned long t, it;

		ASSERT_EQ(2, sscanf(getenv("KDL_STRESS_REPLAY"), "%lu:%lu", &t, &it));
		ASSERT_GT(NWORKERS, t);
		S->replay = true;
		S->replay_worker = t;
		S->replay_iter = it;
	}
	/* 5-level paging (QEMU -cpu max) makes TASK_SIZE 2^56 - 4K */
	p = mmap((void *)(1UL << 50), PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_FIXED_NOREPLACE, -1, 0);
	S->la57 = p == (void *)(1UL << 50);
	if (p != MAP_FAILED)
		munmap(p, PG);
	S->task_size = (S->la57 ? 1UL << 56 : 1UL << 47) - PG;
	S->mmap_min = 65536;
	fd = open("/proc/sys/vm/mmap_min_addr", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0)
		S->mmap_min = strtoul(buf, NULL, 10);
	if (fd >= 0)
		close(fd);
	if (S->mmap_min < PG)
		S->mmap_min = PG;
	S->have_uring = !io_uring_queue_init(8, &S->child_ring, 0);
	S->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (S->kmsg >= 0)
		lseek(S->kmsg, 0, SEEK_END);
	atomic_init(&S->churn_fd, open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC));
	what = setup_files();
	ASSERT_EQ(NULL, what) {
		TH_LOG("setup of %s failed: %s", what, strerror(errno));
	}
	for (i = 0; i < NWORKERS; i++) {
		S->w[i] = calloc(1, sizeof(struct worker));
		ASSERT_NE(NULL, S->w[i]);
		what = setup_worker(S->w[i], i);
		ASSERT_EQ(NULL, what) {
			TH_LOG("setup of %s failed: %s", what, strerror(errno));
		}
		ASSERT_TRUE(range_empty(S->w[i]->lo, GIB));
		ASSERT_TRUE(range_empty(S->w[i]->lo + PRIV_MOFF, GIB));
	}
	ASSERT_TRUE(range_empty(HOT_LO, HOT_LEN));
	printf("# seed %#lx (KDL_STRESS_SEED), %lu requests (KDL_STRESS_REQUESTS%s),"
	       " at most %lu s (KDL_STRESS_SECONDS), TASK_SIZE %#lx, "
	       "mmap_min_addr %#lx, io_uring %s\n", (unsigned long)S->seed,
	       (unsigned long)S->requests, S->debug_kernel ?
	       "; 10000 by default on a KASAN kernel" : "",
	       (unsigned long)S->budget_s, (unsigned long)S->task_size,
	       (unsigned long)S->mmap_min, S->have_uring ? "yes" : "no");
	fflush(stdout);
	S->ready = true;
}

FIXTURE_TEARDOWN(stress)
{
	if (!S)
		return;
	unlink(S->img_path);
	unlink(S->short_path);
	unlink(S->shrink_path);
}

#define KO_PATH		"/tmp/kdl.ko"

/*
 * With every fd closed the module must unload (the suite's later tests
 * then get it loaded again from /tmp/kdl.ko, as unload_test does).
 */
static void unload_and_reload(struct __test_metadata *_metadata)
{
	struct kdl_query q = { .size = sizeof(q) };
	int fd, dev = -1, i;

	if (geteuid() != 0 || access(KO_PATH, R_OK)) {
		printf("# unload: skipped (needs root and %s, as in the VM)\n",
		       KO_PATH);
		return;
	}
	ASSERT_EQ(0, syscall(SYS_delete_module, "kdl", O_NONBLOCK)) {
		TH_LOG("delete_module: %s (refcnt %d)", strerror(errno),
		       module_refcnt());
	}
	fd = open(KO_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, syscall(SYS_finit_module, fd, "", 0)) {
		TH_LOG("finit_module: %s", strerror(errno));
	}
	close(fd);
	for (i = 0; i < 50 && dev < 0; i++) {
		dev = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);
		if (dev < 0)
			usleep(20000);
	}
	ASSERT_LE(0, dev);
	EXPECT_EQ(0, ioctl(dev, KDL_IOC_QUERY, &q));
	close(dev);
	printf("# unload: rmmod kdl and insmod %s again: ok\n", KO_PATH);
}

/* Kernel log records since the setup that name kdl (the header: bad
 * input prints nothing). */
static int kmsg_kdl_lines(void)
{
	char rec[2048];
	int n = 0;
	ssize_t r;

	if (S->kmsg < 0)
		return 0;
	while ((r = read(S->kmsg, rec, sizeof(rec) - 1)) > 0 || errno == EPIPE) {
		if (r <= 0)
			continue;
		rec[r] = 0;
		if (strstr(rec, "kdl")) {
			if (n++ < 10)
				printf("#   kernel log: %s", rec);
		}
	}
	return n;
}

static void close_everything(void)
{
	int i, fd;

	for (i = 0; i < NWORKERS; i++)
		if (S->w[i]->fd >= 0)
			close(S->w[i]->fd);
	fd = atomic_exchange(&S->churn_fd, -1);
	if (fd >= 0)
		close(fd);
	if (S->have_uring)
		io_uring_queue_exit(&S->child_ring);
	S->have_uring = false;
	close(S->dev);
}

/*
 * The stress, twice: a short warm-up brings glibc's thread stacks and
 * malloc arenas, io_uring's workers and the kernel's caches to where they
 * stay; then the real run, between two snapshots that must agree.
 */
TEST_F_TIMEOUT(stress, random_requests_accept_nothing_invalid_and_leak_nothing,
	       1800)
{
	static char buf[4 << 20];
	struct worker *fw = calloc(1, sizeof(*fw));
	struct racer rc[NRACERS];
	uint64_t per = (S->requests + NWORKERS - 1) / NWORKERS, warm;
	struct snap a, b;
	long long t0, ms;
	int leaked, vanished, refcnt = -1, i;
	long d_shmem, lost;

	if (!S || !S->ready)
		return;			/* skipped in the setup */
	ASSERT_NE(NULL, fw);
	fw->id = -1;
	fw->flow = "forker";
	memset(rc, 0, sizeof(rc));
	if (S->replay) {
		struct worker *w = S->w[S->replay_worker];

		worker_main(w);
		printf("# replayed worker %d iteration %lu: %lu requests\n", w->id,
		       (unsigned long)S->replay_iter, (unsigned long)w->nreq);
		print_table("requests", w->cnt, 0, C_REQUESTS);
		printf("%s%s", S->notes_log, S->log);
		EXPECT_EQ(0, atomic_load(&S->fails));
		return;
	}

	/* 1. warm up, then the state to come back to */
	warm = per / 20 < 50 ? 50 : per / 20 > 500 ? 500 : per / 20;
	t0 = now_ms();
	S->deadline_ms = t0 + S->budget_s * 1000;
	run_phase(warm, fw, rc);
	ms = now_ms() - t0;
	printf("# warm-up: %lu requests per worker in %.1f s\n",
	       (unsigned long)warm, ms / 1000.0);
	fflush(stdout);
	take_snap(&a, buf, sizeof(buf));

	/* 2. the stress */
	t0 = now_ms();
	S->deadline_ms = t0 + S->budget_s * 1000;
	run_phase(per, fw, rc);
	printf("# stress: %lu requests per worker in %.1f s\n",
	       (unsigned long)per, (now_ms() - t0) / 1000.0);
	if (S->budget_hit)
		printf("# the time budget (KDL_STRESS_SECONDS=%lu) ran out first: "
		       "fewer requests than asked for\n",
		       (unsigned long)S->budget_s);
	ms += now_ms() - t0;
	take_snap(&b, buf, sizeof(buf));

	/* 3. nothing of it left: VMAs, pages, the module's references */
	printf("# /proc/self/maps: %d mappings before, %d after; of this test "
	       "or the module: %d before, %d after\n", a.nmaps, b.nmaps,
	       a.nlines, b.nlines);
	leaked = snap_missing(&b, &a, "left behind:");
	vanished = snap_missing(&a, &b, "gone:");
	d_shmem = b.shmem - a.shmem;
	/* pages neither free nor in a counter that moves for good reasons:
	 * slab objects kept in partial slabs, the process's own heap */
	lost = (a.free_pcp - b.free_pcp) - (b.slab - a.slab) - (b.anon - a.anon) -
	       (b.pagetables - a.pagetables) - d_shmem - (b.kstack - a.kstack);
	printf("# free pages + per-cpu lists (zoneinfo) before/after: %ld/%ld kB "
	       "(%+ld); not explained by Slab, AnonPages, PageTables, Shmem, "
	       "KernelStack: %ld kB\n", a.free_pcp, b.free_pcp,
	       b.free_pcp - a.free_pcp, lost);
	printf("# meminfo before/after (kB): MemFree %ld/%ld (%+ld), Shmem "
	       "%ld/%ld (%+ld), AnonPages %ld/%ld, SUnreclaim %ld/%ld, "
	       "PageTables %ld/%ld\n", a.memfree, b.memfree, b.memfree - a.memfree,
	       a.shmem,
	       b.shmem, d_shmem, a.anon, b.anon, a.slab_unrecl, b.slab_unrecl,
	       a.pagetables, b.pagetables);
	{
		/* every /proc/meminfo field that moved by more than 256 kB */
		char *line, *save = NULL, key[64];

		for (line = strtok_r(a.meminfo, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			long va, vb;

			if (sscanf(line, "%63s %ld", key, &va) != 2)
				continue;
			vb = meminfo(b.meminfo, key);
			if (labs(vb - va) > 256)
				printf("#   meminfo %-16s %8ld -> %8ld kB (%+ld)\n",
				       key, va, vb, vb - va);
		}
	}
	close_everything();
	for (i = 0; i < 100; i++) {
		refcnt = module_refcnt();
		if (refcnt <= 0)
			break;
		usleep(50000);
	}
	printf("# /sys/module/kdl/refcnt after closing every fd: %d\n", refcnt);
	i = kmsg_kdl_lines();
	printf("# kernel log records naming kdl during the stress: %d\n", i);
	EXPECT_EQ(0, i);
	print_summary(fw, rc, ms);
	printf("%s", S->notes_log);
	if (S->log_len)
		printf("%s", S->log);
	fflush(stdout);

	EXPECT_EQ(0, leaked);
	EXPECT_EQ(0, vanished);
	/*
	 * Pages.  MemFree itself swings by 5-25 MB between identical states:
	 * it leaves out the per-cpu free lists, which hold more or fewer
	 * pages as the load comes and goes.  Counted with them (zoneinfo),
	 * free memory comes back to within 0.7 MB after 10^5 requests, and
	 * Slab and AnonPages (partial slabs, this process's heap) explain
	 * all but 0.1 MB of that.  A leak worth the name is bigger: one page
	 * per mirrored image would be 12 MB here.  So 1 MB unexplained, and
	 * Shmem (the mirrors and zero-tail copies live there; the test's own
	 * files are the same size in both snapshots) back within 16 kB.
	 */
	EXPECT_GE(16, labs(d_shmem));
	EXPECT_GE(1024, lost);
	EXPECT_EQ(0, refcnt);
	unload_and_reload(_metadata);
	EXPECT_EQ(0, atomic_load(&S->fails));
	if (S->strict)
		EXPECT_EQ(0, atomic_load(&S->notes));
}

TEST_HARNESS_MAIN

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stress.h - the randomized stress of /dev/kdl (stress_test.c): its layout
 * and limits, the state of the run, a worker and its requests, the model's
 * verdicts, and the functions the files of stress/ share.
 */
#ifndef KDL_STRESS_H
#define KDL_STRESS_H

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kdl_util.h"

/* ---- Layout and limits ------------------------------------------------ */

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

/* ---- Random numbers (rng.c), sets of errnos (errset.c) ---------------- */

struct rng {
	uint64_t s;
};

#define PICK(g, arr)	((arr)[rnd(g, sizeof(arr) / sizeof((arr)[0]))])

struct eset {
	uint64_t w[3];			/* bit 0: success, bit e: errno e */
};

/* ---- What the process is made of -------------------------------------- */

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

extern const char *const cnt_name[NCNT];

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
	long moved_reservations;	/* reservation VMAs left after a phase */
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

extern struct stress *S;		/* setup.c */

/* ---- A worker and its request buffers --------------------------------- */

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
	int data_file;			/* of data_fd (KDL_SEG_DATA_FD), F_NONE */
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

/* What the kernel can do with a range of a worker's memory (model.c). */
enum acc { ACC_NO, ACC_YES, ACC_UNKNOWN };

/* What a valid request is built for (gen.c). */
enum target { T_PRIV, T_HOT, T_ANY, T_EDGE };

/* ---- Mutations (mutate.c) --------------------------------------------- */

typedef void (*mut_fn)(struct worker *w, struct mreq *r, struct rng *g);

struct mutation {
	const char *name;
	mut_fn fn;
	bool solo;		/* squats or replaces: alone in the window */
};

extern const struct mutation mutations[];
extern const int nmut;			/* entries of mutations[] */

/* ---- Sending (send.c), and what is sent ------------------------------- */

/* One io_uring command (uring_run()). */
struct usqe {
	int fd;
	uint32_t op;
	uint64_t addr, reserved;
	uint8_t flags;
};

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

/* The edges of the address space (flow_shared.c). */
#define NEDGE	27
extern const char *const edge_name[NEDGE];

/* ---- The threads (threads.c) ------------------------------------------ */

/* What one iteration of a worker does: the flows, drawn by @pct. */
struct flow {
	const char *name;
	void (*fn)(struct worker *w, struct rng *g);
	unsigned int pct;
};

extern const struct flow flows[NFLOW];

/* A racer thread and its counts. */
struct racer {
	int id;
	pthread_t th;
	uint32_t cnt[NCNT][NERR];
	long fails;
};

/* ---- Before and after (snap.c) ---------------------------------------- */

struct snap {
	long memfree, shmem, anon, slab_unrecl, pagetables;	/* kB */
	long free_pcp;			/* kB free: buddy + per-cpu lists */
	long slab, kstack;
	char meminfo[4096];
	int nmaps;
	char *lines;			/* the interesting mappings, sorted */
	int nlines;
};

/* rng.c */
uint64_t rnext(struct rng *g);
uint64_t rnd(struct rng *g, uint64_t n);
bool chance(struct rng *g, unsigned int pct);
struct rng rng_for(uint64_t seed, uint64_t stream, uint64_t idx);

/* errset.c */
int eidx(int e);
void es_add(struct eset *s, int e);
bool es_has(const struct eset *s, int e);
bool es_empty(const struct eset *s);
const char *ename(int e);
void es_str(const struct eset *s, char *buf, size_t len);

/* log.c */
void count(struct worker *w, int c, int err);
void __attribute__((format(printf, 2, 3)))
fail(struct worker *w, const char *fmt, ...);
void note(struct worker *w, const char *what, int err);

/* model.c */
uintptr_t apage(const struct worker *w, int page);
void arena_reset(struct worker *w);
uintptr_t put_obj(struct worker *w, const void *obj, size_t len,
		  int loc, unsigned int prefix);
enum acc page_access(const struct worker *w, uintptr_t page, bool wr);
enum acc mem_access(const struct worker *w, uintptr_t a, uint64_t len, bool wr);
void recs_forget(struct worker *w, uint64_t base, uint64_t span,
		 uint64_t mirror);
void recs_add(struct worker *w, uint64_t base, uint64_t span, uint64_t mirror);
int recs_find(const struct worker *w, uint64_t base);
void recs_del(struct worker *w, int i);

/* judge.c */
bool tail_zero(uintptr_t a, size_t from, size_t to);
const struct fd_entry *fd_lookup(int fd);
void judge_map(const struct worker *w, uintptr_t ua, struct expect *x,
	       struct mreq *r);
void judge_unmap(struct worker *w, uintptr_t ua, struct expect *x, bool known);
void judge_query(const struct worker *w, uintptr_t ua, struct expect *x);
bool judge(struct worker *w, const struct expect *x, int err, const char *what);
void judge_batch(struct worker *w, struct batch *bt);

/* gen.c */
void gen_valid(struct worker *w, struct rng *g, struct mreq *r,
	       int t, bool window_only);
bool inside(uint64_t a, uint64_t len, uint64_t lo, uint64_t wlen);
bool meets(uint64_t a, uint64_t len, uint64_t lo, uint64_t hi);
void make_safe(struct worker *w, struct mreq *r);
void materialize(struct worker *w, struct mreq *r);

/* mutate.c */
void mutate(struct worker *w, struct mreq *r, struct rng *g, bool solo,
	    bool ioctl_path);

/* send.c */
int do_ioctl(int fd, unsigned long cmd, uintptr_t arg);
int uring_run(struct worker *w, struct io_uring *ring,
	      const struct usqe *u, int n, int *err);
uint64_t read_base(const struct worker *w, const struct mreq *r);
uint64_t mirror_of(const struct mreq *r, uint64_t base);
bool check_view(struct worker *w, const struct mreq *r, uintptr_t view,
		const char *which);
void check_image(struct worker *w, const struct mreq *r, uint64_t base,
		 bool content);
bool range_empty(uintptr_t lo, size_t len);
void probe_private(struct worker *w, const char *after);
void set_exact(struct worker *w, struct mreq *r, bool alone);
void describe(struct worker *w, const struct mreq *r);
bool after_map(struct worker *w, struct mreq *r, int fd, int c, bool content);

/* flow_private.c */
void reopen_private(struct worker *w);
int unmap_private(struct worker *w, struct rng *g, uint64_t base,
		  uint64_t mirror, bool *gone, bool mutate_ok);
void release_image(struct worker *w, struct rng *g, struct mreq *r);
void flow_private(struct worker *w, struct rng *g);
void flow_burst(struct worker *w, struct rng *g);
void flow_batch(struct worker *w, struct rng *g);
void flow_query(struct worker *w, struct rng *g);
void flow_unmap_garbage(struct worker *w, struct rng *g);

/* flow_shared.c */
void send_map(struct worker *w, struct rng *g, struct mreq *r, int fd, int *c);
int unmap_shared(struct worker *w, struct rng *g, int fd, uint64_t base);
void flow_hot(struct worker *w, struct rng *g);
void flow_edge(struct worker *w, struct rng *g);

/* flow_random.c */
void flow_random(struct worker *w, struct rng *g);
void flow_badcmd(struct worker *w, struct rng *g);
void flow_uring_bad(struct worker *w, struct rng *g);

/* threads.c */
void *worker_main(void *arg);
void *racer_main(void *arg);
void *forker_main(void *arg);

/* setup.c */
void drop_rawio(void);
const char *setup_files(void);
const char *setup_worker(struct worker *w, int id);
bool kernel_is_debug(void);
uint64_t env_u64(const char *name, uint64_t def);
void close_everything(void);

/* snap.c */
long meminfo(const char *buf, const char *key);
void take_snap(struct snap *s, char *buf, size_t cap);
int snap_missing(const struct snap *a, const struct snap *b, const char *tag);
int module_refcnt(void);
void clean_shared(void);
void drop_records(void);
int kmsg_kdl_lines(void);

/* phase.c */
long long now_ms(void);
void run_phase(uint64_t per_worker, struct worker *forker_w, struct racer *rc);

/* report.c */
void print_table(const char *title, uint32_t (*c)[NERR], int from, int to);
void print_summary(struct worker *fw, struct racer *rc, long long ms);

#endif /* KDL_STRESS_H */

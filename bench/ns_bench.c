/*
 * ns_bench.c - namespaces at scale (not a test): does a load, a lookup and
 * a destroy cost the same with 10 namespaces as with 10000?  Against
 * glibc's dlmopen(LM_ID_NEWLM), which stops at about a dozen.
 *
 * Every row runs in a fresh process (this program re-executed).  A kdl row
 * of N: create N namespaces (kdl_ns_create, a name each) and in each
 * kdl_open(LIB, RTLD_NOW, &{ .ns = ns }) -- libpng16 brings its own libz
 * into every namespace, two objects each.  Then, over the last W
 * namespaces (W = 10: loads 1..10, 91..100, 991..1000, 9991..10000), so
 * with N of them in existence:
 *   load     wall time of each namespace's kdl_open, median and p90 (µs);
 *   create   kdl_ns_create, median (µs);
 *   Minsn    user-space instructions of each kdl_open (perf_event_open,
 *            PERF_COUNT_HW_INSTRUCTIONS), median and p90; "n/a" without a
 *            hardware counter (most VMs), with the reason below the table;
 *   lookup   kdl_open(LIB, RTLD_NOW) again in the same namespace (returns
 *            the loaded handle) + its kdl_close, the open timed, median (µs);
 *   sym      kdl_sym(handle, "png_get_libpng_ver"), ns per call (median
 *            over the namespaces of 1000 calls each);
 *   destroy  kdl_close + kdl_ns_destroy of each, the last first, median
 *            and p90 (µs);
 *   dirty    Private_Dirty of the whole process from /proc/self/smaps_rollup
 *            after the N loads minus before, divided by the namespaces
 *            loaded (kB): the objects' pages plus the loader's bookkeeping
 *            (at small N also kdl's one-time set-up; glibc's includes the
 *            libc each of its namespaces gets);
 *   maps     mappings (/proc/self/maps lines) added per namespace;
 *   total    wall time of all N creates+loads (s).
 * The glibc row: dlmopen(LM_ID_NEWLM, LIB, RTLD_NOW) until it fails (each
 * namespace gets its own libc, libz and libpng; glibc has DL_NNS = 16 and a
 * static TLS surplus that runs out first), the same figures over its last
 * W, "destroy" being dlclose; a kdl row at the N glibc reached is added,
 * like for like.
 *
 * A phase (loading, destroying) that runs longer than -t seconds (60) stops
 * and the row says how far it got; a child is killed after 3x that.
 *
 * Each kdl namespace costs about ten mappings; N = 10000 passes the kernel's
 * vm.max_map_count (65530 by default).  When it would, and the bench runs
 * as root with /proc/sys/vm/max_map_count writable, the bench raises it for
 * the run and says so; a watchdog process writes the old value back when
 * the bench ends, however it ends (the pipe to it closes).  -k keeps the
 * limit: the row of N then shows kdl's error.
 *
 * The relocation cache is off (KDL_CACHE=0, unless set) and pointed at a
 * private directory, removed at exit: every load is a cold one.
 *
 *   ns_bench [-n N[,N...]] [-w W] [-t SECONDS] [-k] [-l LIB]
 *
 * Child modes (internal): --kdl N W T LIB, --glibc MAX W T LIB print
 * "key value..." lines (see child_report()).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kdl.h"
#include "bench_util.h"

#define MAX_ROWS 16
#define SYM "png_get_libpng_ver"
#define SYM_CALLS 1000
#define GLIBC_MAX 64	/* tries; glibc stops well before */
#define MAP_CEILING "/proc/sys/vm/max_map_count"

static uint64_t pct(uint64_t *v, int n, int p)
{
	int i;

	if (n <= 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	i = (n * p + 99) / 100 - 1;
	return v[i < 0 ? 0 : i];
}

/* ---- child: one row, in this fresh process */

/* What a child measures; per-namespace arrays hold one entry per load. */
struct run {
	int want, window, limit_s, loaded, insn_fd, insn_errno;
	uint64_t *load_ns, *create_ns, *insn;
	long dirty0, dirty1, maps0, maps1;
	double total_s;
	char stop[1024];
};

static int run_alloc(struct run *r, int n)
{
	r->load_ns = calloc(n, sizeof(uint64_t));
	r->create_ns = calloc(n, sizeof(uint64_t));
	r->insn = calloc(n, sizeof(uint64_t));
	if (!r->load_ns || !r->create_ns || !r->insn)
		return -1;
	/* Touched now, so that their pages are dirty before the first
	 * snapshot and not counted as the loads'. */
	memset(r->load_ns, 0, n * sizeof(uint64_t));
	memset(r->create_ns, 0, n * sizeof(uint64_t));
	memset(r->insn, 0, n * sizeof(uint64_t));
	r->insn_fd = insn_counter_open();
	r->insn_errno = r->insn_fd < 0 ? errno : 0;
	return 0;
}

/* The window's slice [lo, loaded) of @v, copied (pct sorts). */
static uint64_t window_pct(const struct run *r, const uint64_t *v, int p)
{
	uint64_t w[r->window];
	int lo = r->loaded - r->window;

	memcpy(w, v + lo, r->window * sizeof(*w));
	return pct(w, r->window, p);
}

static void child_report(struct run *r, uint64_t lookup, double sym, uint64_t *destroy,
			 int ndestroy)
{
	printf("loaded %d %d\n", r->loaded, r->want);
	printf("total %.3f\n", r->total_s);
	if (r->loaded > 0) {
		printf("load %llu %llu\n", (unsigned long long)window_pct(r, r->load_ns, 50),
		       (unsigned long long)window_pct(r, r->load_ns, 90));
		printf("create %llu\n", (unsigned long long)window_pct(r, r->create_ns, 50));
		if (r->insn_fd >= 0)
			printf("insn %llu %llu\n", (unsigned long long)window_pct(r, r->insn, 50),
			       (unsigned long long)window_pct(r, r->insn, 90));
		else
			printf("noinsn %s\n", strerror(r->insn_errno));
		printf("window %d\n", r->window);
		if (r->dirty0 >= 0 && r->dirty1 >= 0)
			printf("dirty %.1f\n", (double)(r->dirty1 - r->dirty0) / r->loaded);
		if (r->maps0 >= 0 && r->maps1 >= 0)
			printf("maps %.1f\n", (double)(r->maps1 - r->maps0) / r->loaded);
		printf("lookup %llu\n", (unsigned long long)lookup);
		printf("sym %.1f\n", sym);
	}
	if (ndestroy > 0)
		printf("destroy %d %llu %llu\n", ndestroy,
		       (unsigned long long)pct(destroy, ndestroy, 50),
		       (unsigned long long)pct(destroy, ndestroy, 90));
	if (r->stop[0])
		printf("stop %s\n", r->stop);
	fflush(stdout);
}

/* Step 1 of a kdl row: N namespaces, LIB loaded into each, timed. */
static void kdl_load_all(struct run *r, const char *lib, struct kdl_ns **ns, void **h)
{
	uint64_t start = now_ns(), limit = (uint64_t)r->limit_s * 1000000000u;

	for (int i = 0; i < r->want; i++) {
		struct kdl_ns_config cfg = { .size = sizeof(cfg) };
		struct kdl_load_args a = { .size = sizeof(a) };
		char name[32];
		uint64_t t0, t1, t2, t3, i0, i1;

		if (now_ns() - start > limit) {
			snprintf(r->stop, sizeof(r->stop),
				 "loading stopped at the -t limit (%d s) after %d of %d namespaces",
				 r->limit_s, i, r->want);
			break;
		}
		snprintf(name, sizeof(name), "bench-%d", i);
		cfg.name = name;
		t0 = now_ns();
		ns[i] = kdl_ns_create(&cfg);
		t1 = now_ns();
		if (!ns[i]) {
			snprintf(r->stop, sizeof(r->stop), "kdl_ns_create #%d failed: %s", i + 1,
				 kdl_error());
			break;
		}
		a.ns = ns[i];
		i0 = insn_counter_read(r->insn_fd);
		t2 = now_ns();
		h[i] = kdl_open(lib, RTLD_NOW, &a);
		t3 = now_ns();
		i1 = insn_counter_read(r->insn_fd);
		if (!h[i]) {
			snprintf(r->stop, sizeof(r->stop), "kdl_open #%d failed (%ld mappings): %s",
				 i + 1, maps_count(), kdl_error());
			kdl_ns_destroy(ns[i]);
			break;
		}
		r->create_ns[i] = t1 - t0;
		r->load_ns[i] = t3 - t2;
		r->insn[i] = i1 - i0;
		r->loaded = i + 1;
	}
	r->total_s = (now_ns() - start) / 1e9;
}

static int child_kdl(int n, int window, int limit_s, const char *lib)
{
	static uint64_t destroy[1000];
	struct run r = { .want = n, .limit_s = limit_s };
	struct kdl_ns **ns = calloc(n, sizeof(*ns));
	void **h = calloc(n, sizeof(*h));
	uint64_t lookup_v[1000], start, limit = (uint64_t)limit_s * 1000000000u;
	double sym_v[1000];
	int nd = 0;

	if (!ns || !h || run_alloc(&r, n) || window < 1 || window > 1000) {
		printf("stop out of memory or bad window\n");
		return 1;
	}
	memset(ns, 0, n * sizeof(*ns));
	memset(h, 0, n * sizeof(*h));
	r.dirty0 = rollup_private_dirty_kb();
	r.maps0 = maps_count();
	kdl_load_all(&r, lib, ns, h);
	r.dirty1 = rollup_private_dirty_kb();
	r.maps1 = maps_count();
	r.window = r.loaded < window ? r.loaded : window;
	if (r.loaded == 0) {
		child_report(&r, 0, 0, destroy, 0);
		return 1;
	}

	/* Step 2: lookups in the last W, with all N loaded. */
	for (int j = 0; j < r.window; j++) {
		int i = r.loaded - r.window + j;
		struct kdl_load_args a = { .size = sizeof(a), .ns = ns[i] };
		uint64_t t0 = now_ns(), t1;
		void *again = kdl_open(lib, RTLD_NOW, &a);

		t1 = now_ns();
		if (again != h[i]) {
			snprintf(r.stop, sizeof(r.stop),
				 "lookup in namespace #%d gave %p, not %p: %s", i + 1, again,
				 h[i], again ? "a second copy" : kdl_error());
			child_report(&r, 0, 0, destroy, 0);
			return 1;
		}
		kdl_close(again);
		lookup_v[j] = t1 - t0;
		t0 = now_ns();
		for (int k = 0; k < SYM_CALLS; k++)
			if (!kdl_sym(h[i], SYM)) {
				snprintf(r.stop, sizeof(r.stop), "kdl_sym(%s): %s", SYM,
					 kdl_error());
				child_report(&r, 0, 0, destroy, 0);
				return 1;
			}
		sym_v[j] = (double)(now_ns() - t0) / SYM_CALLS;
	}

	/* Step 3: destroy the last W, the newest first, N still there. */
	start = now_ns();
	for (int i = r.loaded - 1; i >= r.loaded - r.window; i--) {
		uint64_t t0 = now_ns();

		if (kdl_close(h[i]) || kdl_ns_destroy(ns[i])) {
			snprintf(r.stop, sizeof(r.stop), "destroy of namespace #%d: %s", i + 1,
				 kdl_error());
			break;
		}
		destroy[nd++] = now_ns() - t0;
		if (now_ns() - start > limit) {
			snprintf(r.stop, sizeof(r.stop),
				 "destroy stopped at the -t limit (%d s) after %d", limit_s, nd);
			break;
		}
	}
	{
		uint64_t sv[1000];

		for (int j = 0; j < r.window; j++)
			sv[j] = (uint64_t)(sym_v[j] * 10);	/* tenths of ns */
		child_report(&r, pct(lookup_v, r.window, 50), pct(sv, r.window, 50) / 10.0,
			     destroy, nd);
	}
	/* The rest is not timed: leave without tearing N namespaces down. */
	_exit(0);
}

static int child_glibc(int max, int window, const char *lib)
{
	static uint64_t destroy[GLIBC_MAX];
	struct run r = { .want = max };
	void *h[GLIBC_MAX];
	uint64_t lookup_v[GLIBC_MAX], sv[GLIBC_MAX], start;
	int nd = 0;

	if (max > GLIBC_MAX || run_alloc(&r, max))
		return 1;
	r.dirty0 = rollup_private_dirty_kb();
	r.maps0 = maps_count();
	start = now_ns();
	for (int i = 0; i < max; i++) {
		uint64_t t0, t1, i0, i1;
		const char *e;

		i0 = insn_counter_read(r.insn_fd);
		t0 = now_ns();
		h[i] = dlmopen(LM_ID_NEWLM, lib, RTLD_NOW);
		t1 = now_ns();
		i1 = insn_counter_read(r.insn_fd);
		if (!h[i]) {
			e = dlerror();
			snprintf(r.stop, sizeof(r.stop), "dlmopen #%d failed: %s", i + 1,
				 e ? e : "(no message)");
			break;
		}
		r.load_ns[i] = t1 - t0;
		r.insn[i] = i1 - i0;
		r.loaded = i + 1;
	}
	r.total_s = (now_ns() - start) / 1e9;
	r.dirty1 = rollup_private_dirty_kb();
	r.maps1 = maps_count();
	r.window = r.loaded < window ? r.loaded : window;
	for (int j = 0; j < r.window; j++) {
		int i = r.loaded - r.window + j;
		Lmid_t lm;
		void *again;
		uint64_t t0, t1;

		if (dlinfo(h[i], RTLD_DI_LMID, &lm)) {
			snprintf(r.stop, sizeof(r.stop), "dlinfo(RTLD_DI_LMID): %s", dlerror());
			child_report(&r, 0, 0, destroy, 0);
			return 1;
		}
		t0 = now_ns();
		again = dlmopen(lm, lib, RTLD_NOW);
		t1 = now_ns();
		if (again != h[i]) {
			snprintf(r.stop, sizeof(r.stop), "lookup in namespace #%d gave %p, not %p",
				 i + 1, again, h[i]);
			child_report(&r, 0, 0, destroy, 0);
			return 1;
		}
		dlclose(again);
		lookup_v[j] = t1 - t0;
		t0 = now_ns();
		for (int k = 0; k < SYM_CALLS; k++)
			if (!dlsym(h[i], SYM)) {
				snprintf(r.stop, sizeof(r.stop), "dlsym(%s): %s", SYM, dlerror());
				child_report(&r, 0, 0, destroy, 0);
				return 1;
			}
		sv[j] = (now_ns() - t0) * 10 / SYM_CALLS;
	}
	for (int i = r.loaded - 1; i >= r.loaded - r.window; i--) {
		uint64_t t0 = now_ns();

		dlclose(h[i]);
		destroy[nd++] = now_ns() - t0;
	}
	child_report(&r, pct(lookup_v, r.window, 50), pct(sv, r.window, 50) / 10.0, destroy,
		     nd);
	_exit(0);
}

/* ---- parent */

struct row {
	const char *who;	/* "kdl" or "glibc" */
	int n, ran, status, loaded, want, window, ndestroy, has_insn;
	double total, dirty, maps, sym;
	unsigned long long load50, load90, create, insn50, insn90, lookup, d50, d90;
	int has_dirty, has_maps, has_load;
	char stop[1100], noinsn[128];
};

static char self[PATH_MAX];

/* Runs a child row, all of its stdout read. */
static void run_row(struct row *rw, int window, int limit_s, const char *lib)
{
	char n[16], w[16], t[16], buf[65536];
	char *argv[] = { self, rw->who[0] == 'k' ? "--kdl" : "--glibc", n, w, t, (char *)lib,
			 NULL };
	size_t len = 0;
	ssize_t got;
	int pfd[2];
	pid_t pid;

	snprintf(n, sizeof(n), "%d", rw->n);
	snprintf(w, sizeof(w), "%d", window);
	snprintf(t, sizeof(t), "%d", limit_s);
	fflush(stdout);
	if (pipe2(pfd, O_CLOEXEC) || (pid = fork()) < 0) {
		snprintf(rw->stop, sizeof(rw->stop), "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		alarm(3 * limit_s + 30);	/* the hard limit: SIGALRM kills it */
		execv(self, argv);
		_exit(127);
	}
	close(pfd[1]);
	while (len < sizeof(buf) - 1 && (got = read(pfd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += got;
	buf[len] = '\0';
	close(pfd[0]);
	waitpid(pid, &rw->status, 0);
	rw->ran = 1;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (sscanf(line, "loaded %d %d", &rw->loaded, &rw->want) == 2 ||
		    sscanf(line, "total %lf", &rw->total) == 1 ||
		    sscanf(line, "create %llu", &rw->create) == 1 ||
		    sscanf(line, "window %d", &rw->window) == 1 ||
		    sscanf(line, "lookup %llu", &rw->lookup) == 1 ||
		    sscanf(line, "sym %lf", &rw->sym) == 1)
			continue;
		if (sscanf(line, "load %llu %llu", &rw->load50, &rw->load90) == 2)
			rw->has_load = 1;
		else if (sscanf(line, "insn %llu %llu", &rw->insn50, &rw->insn90) == 2)
			rw->has_insn = 1;
		else if (sscanf(line, "dirty %lf", &rw->dirty) == 1)
			rw->has_dirty = 1;
		else if (sscanf(line, "maps %lf", &rw->maps) == 1)
			rw->has_maps = 1;
		else if (sscanf(line, "destroy %d %llu %llu", &rw->ndestroy, &rw->d50,
				&rw->d90) == 3)
			continue;
		else if (!strncmp(line, "noinsn ", 7))
			snprintf(rw->noinsn, sizeof(rw->noinsn), "%s", line + 7);
		else if (!strncmp(line, "stop ", 5))
			snprintf(rw->stop, sizeof(rw->stop), "%s", line + 5);
	}
	if (WIFSIGNALED(rw->status) && !rw->stop[0])
		snprintf(rw->stop, sizeof(rw->stop), "child killed by signal %d (%s)%s",
			 WTERMSIG(rw->status), strsignal(WTERMSIG(rw->status)),
			 WTERMSIG(rw->status) == SIGALRM ? ": the hard time limit" : "");
}

static void print_row(const struct row *rw)
{
	char name[32], insn[32], destroy[32], dirty[16], maps[16], create[16];

	snprintf(name, sizeof(name), "%s", rw->who[0] == 'g' ? "glibc dlmopen" : "kdl");
	if (!rw->has_load) {
		printf("%-13s %6d %6d  (nothing loaded)\n", name, rw->n, rw->loaded);
		return;
	}
	if (rw->has_insn)
		snprintf(insn, sizeof(insn), "%6.2f %6.2f", rw->insn50 / 1e6, rw->insn90 / 1e6);
	else
		snprintf(insn, sizeof(insn), "%6s %6s", "n/a", "n/a");
	if (rw->ndestroy)
		snprintf(destroy, sizeof(destroy), "%7.1f %7.1f", rw->d50 / 1e3, rw->d90 / 1e3);
	else
		snprintf(destroy, sizeof(destroy), "%7s %7s", "-", "-");
	snprintf(dirty, sizeof(dirty), rw->has_dirty ? "%.1f" : "?", rw->dirty);
	snprintf(maps, sizeof(maps), rw->has_maps ? "%.1f" : "?", rw->maps);
	if (rw->who[0] == 'g')
		snprintf(create, sizeof(create), "%7s", "-");
	else
		snprintf(create, sizeof(create), "%7.1f", rw->create / 1e3);
	printf("%-13s %6d %6d %8.1f %8.1f %s %s %7.1f %6.1f %s %10s %5s %7.2f\n", name,
	       rw->who[0] == 'g' ? rw->loaded : rw->n, rw->loaded, rw->load50 / 1e3,
	       rw->load90 / 1e3, create, insn, rw->lookup / 1e3, rw->sym, destroy, dirty, maps,
	       rw->total);
}

/* vm.max_map_count: raised for the run by a watchdog that writes the old
 * value back when its pipe closes, i.e. when this process ends, however. */
static int ceiling_pipe = -1;
static pid_t ceiling_pid;

static long read_ceiling(void)
{
	FILE *f = fopen(MAP_CEILING, "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int write_ceiling(long v)
{
	FILE *f = fopen(MAP_CEILING, "we");
	int ok;

	if (!f)
		return -1;
	ok = fprintf(f, "%ld\n", v) > 0;
	ok = !fclose(f) && ok;
	return ok && read_ceiling() == v ? 0 : -1;
}

static int raise_ceiling(long old, long want)
{
	int pfd[2];
	char c;

	if (geteuid() != 0 || access(MAP_CEILING, W_OK) || pipe2(pfd, O_CLOEXEC))
		return -1;
	ceiling_pid = fork();
	if (ceiling_pid < 0)
		return -1;
	if (ceiling_pid == 0) {
		/* The watchdog: outlives ^C and a kill of the bench. */
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		close(pfd[1]);
		while (read(pfd[0], &c, 1) > 0)
			;
		_exit(write_ceiling(old) ? 1 : 0);
	}
	close(pfd[0]);
	ceiling_pipe = pfd[1];
	if (write_ceiling(want)) {
		close(ceiling_pipe);
		ceiling_pipe = -1;
		waitpid(ceiling_pid, NULL, 0);
		return -1;
	}
	return 0;
}

/* 0 when the old value is back. */
static int restore_ceiling(long old)
{
	int status;

	if (ceiling_pipe < 0)
		return 0;
	close(ceiling_pipe);
	ceiling_pipe = -1;
	if (waitpid(ceiling_pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return read_ceiling() == old ? 0 : -1;
}

static int usage(void)
{
	fprintf(stderr, "usage: ns_bench [-n N[,N...]] [-w W] [-t SECONDS] [-k] [-l LIB]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct row rows[MAX_ROWS + 2];
	static char tmpdir[] = "/tmp/kdl-ns-bench-XXXXXX";
	int ns_list[MAX_ROWS], nn = 0, window = 10, limit_s = 60, keep = 0, opt, nrows = 0,
	    maxn = 0, raised = 0;
	const char *lib = "libpng16.so.16", *noinsn = NULL;
	char list[256] = "10,100,1000,10000";
	long ceiling, want = 0;

	if (argc == 6 && !strcmp(argv[1], "--kdl"))
		return child_kdl(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), argv[5]);
	if (argc == 6 && !strcmp(argv[1], "--glibc"))
		return child_glibc(atoi(argv[2]), atoi(argv[3]), argv[5]);
	while ((opt = getopt(argc, argv, "n:w:t:kl:")) != -1) {
		switch (opt) {
		case 'n': snprintf(list, sizeof(list), "%s", optarg); break;
		case 'w': window = atoi(optarg); break;
		case 't': limit_s = atoi(optarg); break;
		case 'k': keep = 1; break;
		case 'l': lib = optarg; break;
		default: return usage();
		}
	}
	for (char *s = strtok(list, ","); s; s = strtok(NULL, ",")) {
		if (nn == MAX_ROWS || atoi(s) < 1)
			return usage();
		ns_list[nn++] = atoi(s);
		if (ns_list[nn - 1] > maxn)
			maxn = ns_list[nn - 1];
	}
	if (optind != argc || !nn || window < 1 || window > 1000 || limit_s < 1)
		return usage();
	if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
		return 1;
	if (bench_private_dir(tmpdir))
		return 1;
	setenv("XDG_CACHE_HOME", tmpdir, 1);
	setenv("KDL_CACHE", getenv("KDL_CACHE") ? getenv("KDL_CACHE") : "0", 1);

	printf("ns_bench: %s in N namespaces, each N in a fresh process; figures over the last "
	       "%d namespaces loaded (N existing); -t %d s per phase; KDL_CACHE=%s; "
	       "KDL_BACKEND=%s\n", lib, window, limit_s, getenv("KDL_CACHE"),
	       getenv("KDL_BACKEND") ? getenv("KDL_BACKEND") : "(auto)");

	/* The map ceiling: about 10 mappings a namespace; room for 20. */
	ceiling = read_ceiling();
	if (ceiling > 0 && (long)maxn * 20 + 1000 > ceiling) {
		want = (long)maxn * 20 + ceiling;
		if (!keep && !raise_ceiling(ceiling, want)) {
			raised = 1;
			printf("vm.max_map_count raised from %ld to %ld for this run (N = %d needs "
			       "about %d); the old value is written back at the end\n",
			       ceiling, want, maxn, maxn * 10);
		} else {
			printf("vm.max_map_count = %ld, kept (%s): N = %d needs about %d mappings, "
			       "so its row goes as far as kdl can\n", ceiling,
			       keep ? "-k" : geteuid() ? "not root" : "not writable", maxn,
			       maxn * 10);
		}
	}
	fflush(stdout);

	rows[nrows] = (struct row){ .who = "glibc", .n = GLIBC_MAX };
	run_row(&rows[nrows++], window, limit_s, lib);
	if (rows[0].loaded > 0) {
		rows[nrows] = (struct row){ .who = "kdl", .n = rows[0].loaded };
		run_row(&rows[nrows++], window, limit_s, lib);
	}
	for (int i = 0; i < nn; i++) {
		rows[nrows] = (struct row){ .who = "kdl", .n = ns_list[i] };
		run_row(&rows[nrows++], window, limit_s, lib);
	}
	if (raised && restore_ceiling(ceiling))
		raised = -1;

	printf("\n%-13s %6s %6s %17s %7s %13s %7s %6s %15s %10s %5s %7s\n", "", "", "",
	       "load us/ns", "create", "Minsn/load", "lookup", "sym", "destroy us/ns",
	       "Priv_Dirty", "maps", "total");
	printf("%-13s %6s %6s %8s %8s %7s %6s %6s %7s %6s %7s %7s %10s %5s %7s\n", "loader",
	       "N", "loaded", "median", "p90", "us", "median", "p90", "us", "ns", "median",
	       "p90", "kB/ns", "/ns", "load s");
	for (int i = 0; i < nrows; i++) {
		print_row(&rows[i]);
		if (i == 1)
			printf("\n");
		if (!rows[i].has_insn && rows[i].noinsn[0])
			noinsn = rows[i].noinsn;
	}
	printf("\n");
	for (int i = 0; i < nrows; i++) {
		if (rows[i].stop[0])
			printf("%s N=%d: %s\n", rows[i].who[0] == 'g' ? "glibc" : "kdl",
			       rows[i].who[0] == 'g' ? rows[i].loaded : rows[i].n, rows[i].stop);
		if (rows[i].ran && WIFEXITED(rows[i].status) && WEXITSTATUS(rows[i].status) &&
		    !rows[i].stop[0])
			printf("%s N=%d: child exited %d without a reason\n", rows[i].who,
			       rows[i].n, WEXITSTATUS(rows[i].status));
	}
	if (rows[0].loaded > 0)
		printf("glibc reached %d namespaces (of %d tries); the kdl row below it is kdl "
		       "at that N, like for like\n", rows[0].loaded, GLIBC_MAX);
	if (raised)
		printf(raised > 0 ? "vm.max_map_count was %ld for the run, restored to %ld\n" :
		       "WARNING: vm.max_map_count was %ld for the run and could not be restored "
		       "to %ld\n", want, ceiling);
	if (noinsn)
		printf("Minsn: no user-space instruction counter (perf_event_open: %s)\n", noinsn);
	printf("load/create/lookup/destroy: median (p90) over the last %d namespaces, with N "
	       "in existence; sym: ns per kdl_sym/dlsym(%s) call; Priv_Dirty: smaps_rollup "
	       "Private_Dirty after the loads minus before, / namespaces loaded; maps: "
	       "/proc/self/maps lines added per namespace; glibc's destroy is dlclose\n",
	       window, SYM);
	return 0;
}

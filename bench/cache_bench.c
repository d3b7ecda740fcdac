/*
 * cache_bench.c - the relocation cache (issue 10) against glibc's loader
 * and kdl without it, on real libraries (not a test), side by side:
 *   g  glibc dlopen(LIB, RTLD_NOW | RTLD_LOCAL)
 *   c  kdl_open, KDL_CACHE=0 (cold)
 *   w  kdl_open, KDL_CACHE=ro (warm), after one priming kdl_open with
 *      KDL_CACHE=1 that writes the entries
 * Every child gets XDG_CACHE_HOME = a private mkdtemp directory, so the
 * user's own cache is never touched; it is removed at exit (and on SIGINT,
 * SIGTERM, SIGHUP).  Per library and config:
 *   us   wall time of the open alone (CLOCK_MONOTONIC in the child), median
 *        of RUNS fresh processes (this program re-executed, the configs
 *        interleaved run by run);
 *   flt  minor faults of the open (getrusage delta in the child), median;
 *   MIr  millions of instructions of the open: one run per config under
 *        valgrind --tool=callgrind --collect-atstart=no, collection toggled
 *        around the open only, as cold_load.c does (-I: off; skipped with a
 *        note without valgrind).  '*': that run's root was not from the
 *        cache (valgrind may hold the cache's preferred bases);
 *   kB   Private_Dirty, after the open, of the mappings overlapping the
 *        load's objects (median).  For every library, not only ICU, it is
 *        summed over ALL objects the open brought in -- the root and its
 *        new dependencies -- so both loaders count the same set:
 *        the objects new in glibc's dl_iterate_phdr list since just before
 *        the open ([l_addr + first PT_LOAD, l_addr + end of the last)), which
 *        for kdl are the runtime group (libstdc++, libm, libgcc_s) it takes
 *        from the process through glibc, plus, for kdl, what kdl mapped
 *        itself: the root's KDL_INFO_DEP tree without KDL_INFO_SYSTEM
 *        objects, each KDL_INFO_RANGE.  "objs" is that count, glibc/kdl;
 *   cached  KDL_INFO_CACHED of the warm runs' root (yes: every run, no: none,
 *        k/N: some, ?: the request fails), then the objects kdl mapped from
 *        the cache / the objects kdl mapped (fewest over the runs).
 * Ratios (c/g, w/g) are to glibc.
 *
 *   cache_bench [-n RUNS] [-I] [LIB...]
 *
 * Child mode (internal): --open glibc|kdl LIB prints "NS FLT KB NOBJS CACHED
 * NCACHED NKDL" (CACHED, NCACHED -1: unknown) or "ERR message", exit 1.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kdl.h"
#include "bench_util.h"

#define MAX_RUNS 101
#define MAX_OBJS 64

/* LIB@PRE: PRE is dlopen()ed by the program before the timed open, in
 * every configuration -- ICU in a C++ program, whose libstdc++ is there
 * already (kdl takes it from the process; glibc need not load it), and
 * libpython in a program linked with libm, as most are. */
static const char *const default_libs[] = {
	"libcrypto.so.3", "libpython3.11.so.1.0", "libicui18n.so.72", "libz.so.1",
	"libsqlite3.so.0", "libicui18n.so.72@libstdc++.so.6", "libpython3.11.so.1.0@libm.so.6",
};
#define NDEFAULT (sizeof(default_libs) / sizeof(default_libs[0]))

/* ---- child */

/* The load's objects: those new in glibc's list since just before the open
 * (the glibc load; for kdl, the runtime group it takes from the process),
 * then for kdl what it mapped itself. */
struct objset {
	int n, nkdl, ncached;
	struct bench_range r[MAX_OBJS];
};

static uintptr_t before[MAX_OBJS];
static int nbefore;

static int snap_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size, (void)data;
	if (nbefore < MAX_OBJS)
		before[nbefore++] = info->dlpi_addr;
	return 0;
}

static int new_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct objset *s = data;

	(void)size;
	for (int i = 0; i < nbefore; i++)
		if (before[i] == info->dlpi_addr)
			return 0;
	if (s->n < MAX_OBJS && !phdr_range(info, &s->r[s->n]))
		s->n++;
	return 0;
}

/* kdl: what it mapped itself, the root's KDL_INFO_DEP tree without the
 * process's (KDL_INFO_SYSTEM) objects. */
static void kdl_objs(void *h, void **seen, struct objset *s)
{
	uintptr_t v[2];
	size_t nd = 0;
	int sys = 1, c;

	if (!h || kdl_info(h, KDL_INFO_SYSTEM, &sys) || sys || s->n == MAX_OBJS ||
	    kdl_info(h, KDL_INFO_RANGE, v))
		return;
	for (int i = 0; i < s->nkdl; i++)
		if (seen[i] == h)
			return;
	seen[s->nkdl++] = h;
	s->r[s->n++] = (struct bench_range){ v[0], v[1] };
	if (kdl_info(h, KDL_INFO_CACHED, &c) || s->ncached < 0)
		s->ncached = -1;
	else
		s->ncached += c == 1;
	kdl_info(h, KDL_INFO_NDEPS, &nd);
	for (size_t i = 0; i < nd; i++) {
		struct kdl_info_dep d = { .index = i };

		if (!kdl_info(h, KDL_INFO_DEP, &d))
			kdl_objs(d.handle, seen, s);
	}
}

static int child_open(int use_kdl, const char *arg)
{
	static struct objset s;
	void *seen[MAX_OBJS], *h;
	int cached = -1, c;
	uint64_t t0, t1;
	long f0, f1, kb;
	const char *e, *pre = strchr(arg, '@');
	char lib[256];

	snprintf(lib, sizeof(lib), "%.*s", pre ? (int)(pre - arg) : (int)strlen(arg), arg);
	if (pre && !dlopen(pre + 1, RTLD_NOW | RTLD_GLOBAL)) {
		printf("ERR %s: %s\n", pre + 1, dlerror());
		return 1;
	}
	dl_iterate_phdr(snap_cb, NULL);
	f0 = minor_faults();
	t0 = now_ns();
	CALLGRIND_START_INSTRUMENTATION;
	CALLGRIND_TOGGLE_COLLECT;
	h = use_kdl ? kdl_open(lib, RTLD_NOW | RTLD_LOCAL, NULL) :
		      dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	CALLGRIND_TOGGLE_COLLECT;
	CALLGRIND_STOP_INSTRUMENTATION;
	t1 = now_ns();
	f1 = minor_faults();
	if (!h) {
		e = use_kdl ? kdl_error() : dlerror();
		printf("ERR %s\n", e ? e : "(no message)");
		return 1;
	}
	dl_iterate_phdr(new_cb, &s);
	if (use_kdl) {
		kdl_objs(h, seen, &s);
		cached = kdl_info(h, KDL_INFO_CACHED, &c) ? -1 : c == 1;
		if (!s.nkdl) {
			printf("ERR %s: kdl mapped nothing (the process's own copy?)\n", lib);
			return 1;
		}
	}
	if (s.n == 0 || s.n == MAX_OBJS) {
		printf("ERR %s: %d objects found for the load\n", lib, s.n);
		return 1;
	}
	kb = smaps_private_dirty_kb(s.r, s.n);
	if (kb < 0) {
		printf("ERR /proc/self/smaps unreadable\n");
		return 1;
	}
	printf("%llu %ld %ld %d %d %d %d\n", (unsigned long long)(t1 - t0), f1 - f0, kb, s.n,
	       cached, use_kdl ? s.ncached : -1, s.nkdl);
	return 0;
}

/* ---- parent */

enum { G, C, W, NCFG };
static const char *const cfg_name[NCFG] = { "glibc", "kdl cold", "kdl warm" };
static const char *const cfg_cache[NCFG] = { NULL, "0", "ro" };

struct sample {
	unsigned long long ns;
	long flt, kb;
	int nobjs, cached, ncached, nkdl;
};

struct result {
	int ok, yes, no, unk, ncached, nobjs, nkdl, ir_ok, ir_cached;
	double ns, flt, kb, ir;
	char err[600], cgerr[600];
};

static char self[PATH_MAX], tmpdir[] = "/tmp/kdl-cache-bench-XXXXXX", cglog[PATH_MAX + 16];


/* One child of config @cfg (prime: KDL_CACHE=1), under callgrind if @cg;
 * 0, or -1 with the reason in @err. */
static int run_child(int cfg, int prime, int cg, const char *lib, struct sample *s,
		     char *err, size_t errlen)
{
	char logarg[PATH_MAX + 32], *loader = cfg == G ? "glibc" : "kdl";
	char *argv[] = { self, "--open", loader, (char *)lib, NULL };
	char *vg[] = { "valgrind", "--tool=callgrind", "--collect-atstart=no",
		       "--callgrind-out-file=/dev/null", logarg, self, "--open", loader,
		       (char *)lib, NULL };
	const char *out;

	if (prime)
		setenv("KDL_CACHE", "1", 1);
	else if (cfg_cache[cfg])
		setenv("KDL_CACHE", cfg_cache[cfg], 1);
	else
		unsetenv("KDL_CACHE");
	snprintf(logarg, sizeof(logarg), "--log-file=%s", cglog);
	unlink(cglog);	/* no count from an earlier run */
	out = cg ? spawn_prog("valgrind", vg) : spawn(argv);
	if (out && sscanf(out, "%llu %ld %ld %d %d %d %d", &s->ns, &s->flt, &s->kb, &s->nobjs,
			  &s->cached, &s->ncached, &s->nkdl) == 7)
		return 0;
	snprintf(err, errlen, "%s%s", prime ? "priming: " : "",
		 out && *out ? out : "child failed without a message");
	return -1;
}

/* Instructions callgrind collected in the last run, from its log. */
static double cg_collected(void)
{
	FILE *f = fopen(cglog, "r");
	char line[512], *p;
	double v = -1;

	while (f && fgets(line, sizeof(line), f))
		if ((p = strstr(line, "Collected :")))
			v = strtod(p + 11, NULL);
	if (f)
		fclose(f);
	return v;
}

static void measure(const char *lib, int runs, int cg, struct result *r)
{
	static uint64_t v[NCFG][3][MAX_RUNS];
	struct sample s;

	memset(r, 0, NCFG * sizeof(*r));
	for (int c = 0; c < NCFG; c++)
		r[c].ok = 1, r[c].ncached = INT_MAX;
	if (run_child(W, 1, 0, lib, &s, r[W].err, sizeof(r[W].err)))
		r[W].ok = 0;
	{	/* the entries just written: clean page-cache pages, as installed */
		int fd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd >= 0) {
			syncfs(fd);
			close(fd);
		}
	}
	for (int i = 0; i < runs; i++) {
		for (int c = 0; c < NCFG; c++) {
			if (!r[c].ok)
				continue;
			if (run_child(c, 0, 0, lib, &s, r[c].err, sizeof(r[c].err))) {
				r[c].ok = 0;
				continue;
			}
			v[c][0][i] = s.ns;
			v[c][1][i] = s.flt;
			v[c][2][i] = s.kb;
			r[c].nobjs = s.nobjs;
			r[c].nkdl = s.nkdl;
			r[c].yes += s.cached == 1;
			r[c].no += s.cached == 0;
			r[c].unk += s.cached < 0;
			if (s.ncached >= 0 && s.ncached < r[c].ncached)
				r[c].ncached = s.ncached;
			if (s.ncached < 0)
				r[c].ncached = -1;
		}
	}
	for (int c = 0; c < NCFG; c++) {
		if (!r[c].ok)
			continue;
		r[c].ns = median(v[c][0], runs);
		r[c].flt = median(v[c][1], runs);
		r[c].kb = median(v[c][2], runs);
		if (!cg)
			continue;
		if (run_child(c, 0, 1, lib, &s, r[c].cgerr, sizeof(r[c].cgerr)) == 0) {
			r[c].ir = cg_collected();
			r[c].ir_ok = r[c].ir >= 0;
			r[c].ir_cached = s.cached;
			if (!r[c].ir_ok)
				snprintf(r[c].cgerr, sizeof(r[c].cgerr), "no count in its log");
		}
	}
}

static void col(double v, int ok, int w, int prec)
{
	if (ok)
		printf(" %*.*f", w, prec, v);
	else
		printf(" %*s", w, "-");
}

static void col_ratio(double a, int aok, double g, int gok)
{
	col(g > 0 ? a / g : 0, aok && gok && g > 0, 5, 2);
}

static void report(const char *lib, const struct result *r)
{
	const struct result *g = &r[G], *c = &r[C], *w = &r[W];
	char cached[32], objs[32], nc[16];

	printf("%-31s", lib);
	for (int i = 0; i < NCFG; i++)
		col(r[i].ns / 1e3, r[i].ok, 8, 1);
	col_ratio(c->ns, c->ok, g->ns, g->ok);
	col_ratio(w->ns, w->ok, g->ns, g->ok);
	for (int i = 0; i < NCFG; i++)
		col(r[i].flt, r[i].ok, 6, 0);
	for (int i = 0; i < NCFG; i++)
		col(r[i].ir / 1e6, r[i].ir_ok, 7, 2);
	printf("%c", w->ir_ok && w->ir_cached == 0 ? '*' : ' ');
	col_ratio(c->ir, c->ir_ok, g->ir, g->ir_ok);
	col_ratio(w->ir, w->ir_ok, g->ir, g->ir_ok);
	for (int i = 0; i < NCFG; i++)
		col(r[i].kb, r[i].ok, 6, 0);
	col_ratio(w->kb, w->ok, g->kb, g->ok);
	snprintf(objs, sizeof(objs), g->ok || c->ok || w->ok ? "%d/%d" : "-", g->nobjs,
		 c->ok ? c->nobjs : w->nobjs);
	printf(" %5s", objs);
	if (!w->ok || w->unk || (w->yes && w->no))
		snprintf(cached, sizeof(cached), !w->ok || w->unk ? "?" : "%d/%d", w->yes,
			 w->yes + w->no);
	else
		snprintf(cached, sizeof(cached), w->no ? "no" : "yes");
	snprintf(nc, sizeof(nc), w->ok && w->ncached >= 0 ? "%d" : "?", w->ncached);
	printf(" %s %s/%d\n", cached, nc, w->nkdl);
	for (int i = 0; i < NCFG; i++)
		if (!r[i].ok)
			printf("  %s: failed: %s\n", cfg_name[i], r[i].err);
		else if (r[i].cgerr[0])
			printf("  %s: callgrind run failed: %s\n", cfg_name[i], r[i].cgerr);
	if (c->ok && c->yes)
		printf("  kdl cold: %d run(s) came from the cache despite KDL_CACHE=0\n", c->yes);
}

static int usage(void)
{
	fprintf(stderr, "usage: cache_bench [-n RUNS] [-I] [LIB...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	int runs = 21, cg = 1, opt;
	ssize_t len;

	if (argc == 4 && !strcmp(argv[1], "--open"))
		return child_open(!strcmp(argv[2], "kdl"), argv[3]);
	while ((opt = getopt(argc, argv, "n:I")) != -1) {
		switch (opt) {
		case 'n': runs = atoi(optarg); break;
		case 'I': cg = 0; break;
		default: return usage();
		}
	}
	if (runs < 1 || runs > MAX_RUNS)
		return usage();
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0 || bench_private_dir(tmpdir)) {
		perror("cache_bench: setup");
		return 1;
	}
	self[len] = '\0';
	setenv("XDG_CACHE_HOME", tmpdir, 1);
	snprintf(cglog, sizeof(cglog), "%s/cg.log", tmpdir);
	if (cg && system("valgrind --version >/dev/null 2>&1")) {
		printf("note: valgrind not found: no instruction counts\n");
		cg = 0;
	}
	printf("cache_bench: median of %d fresh processes per figure; instructions: %s; "
	       "XDG_CACHE_HOME=%s (removed at exit); KDL_BACKEND=%s\n", runs,
	       cg ? "callgrind, 1 run per config" : "off", tmpdir,
	       getenv("KDL_BACKEND") ? getenv("KDL_BACKEND") : "(auto)");
	printf("goals: warm <= 0.30x glibc (libcrypto, libpython), <= 0.50x (ICU); "
	       "cold <= 0.80x; Private_Dirty warm <= 0.30x glibc\n");
	printf("g = glibc dlopen NOW|LOCAL, c = kdl KDL_CACHE=0, w = kdl KDL_CACHE=ro "
	       "(primed once with =1); c/g, w/g: ratio to glibc\n");
	printf("us: wall of the open; flt: its minor faults; MIr: its instructions (M); "
	       "kB: Private_Dirty of the load's objects (objs: glibc/kdl)\n");
	printf("cached: warm root from the cache (yes/no/k of N runs/?), then objects "
	       "from the cache/objects; *: not from the cache under callgrind\n");
	printf("%-31s %8s %8s %8s %5s %5s %6s %6s %6s %7s %7s %7s  %5s %5s %6s %6s %6s %5s %5s %s\n",
	       "library", "g_us", "c_us", "w_us", "c/g", "w/g", "g_flt", "c_flt", "w_flt",
	       "g_MIr", "c_MIr", "w_MIr", "c/g", "w/g", "g_kB", "c_kB", "w_kB", "w/g",
	       "objs", "cached");
	fflush(stdout);
	for (int i = optind; i < argc || (optind == argc && i - optind < (int)NDEFAULT); i++) {
		const char *lib = optind == argc ? default_libs[i - optind] : argv[i];
		struct result r[NCFG];

		measure(lib, runs, cg, r);
		report(lib, r);
		fflush(stdout);
	}
	return 0;
}

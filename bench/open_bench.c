/*
 * open_bench.c - times libkdl against glibc's loader on real libraries
 * (not a test):
 *   - first load: kdl_open+kdl_close vs dlopen(RTLD_NOW|RTLD_LOCAL)+dlclose,
 *     each in a fresh process (this program re-executed), median of N runs;
 *   - warm: the same pair repeated in one process, median per iteration;
 *   - kdl_sym vs dlsym in a tight loop, ns per call (hits and a miss).
 *
 *   open_bench [-n RUNS] [-w WARM_ITERS] [-s SYM_ITERS] [LIB...]
 *
 * Child modes (used internally): --first kdl|glibc LIB, --warm kdl|glibc
 * LIB ITERS, --sym kdl|glibc LIB ITERS.  A child prints one line of numbers
 * (ns) or "ERR message" and exits non-zero.
 *
 * Build with -DKDL_TEST_WITH_GLIBC -Iselftests/lib to check the harness
 * itself with both columns on glibc (ratios near 1.0).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef KDL_TEST_WITH_GLIBC
#include "kdl_glibc_shim.h"
#else
#include "kdl.h"
#include "bench_util.h"
#endif

#define MAX_RUNS 101

struct bench_lib {
	const char *soname;
	const char *syms[6];	/* looked up in the kdl_sym/dlsym loop */
};

static const struct bench_lib default_libs[] = {
	{ "libcrypto.so.3", { "EVP_Digest", "SHA256", "OPENSSL_init_crypto",
			      "EVP_sha256", "BN_new", NULL } },
	{ "libpython3.11.so.1.0", { "Py_Initialize", "PyLong_FromLong",
				    "PyDict_New", "PyUnicode_FromString",
				    "PyObject_GetAttr", NULL } },
	{ "libicui18n.so.72", { "ucol_open_72", "udat_format_72",
				"unum_formatDouble_72", "ucal_open_72", NULL } },
	{ "libz.so.1", { "compress2", "uncompress", "crc32", "inflate", NULL } },
	{ "libsqlite3.so.0", { "sqlite3_open", "sqlite3_exec", "sqlite3_step",
			       "sqlite3_prepare_v2", NULL } },
};
#define NDEFAULT (sizeof(default_libs) / sizeof(default_libs[0]))

/* Loader under test: kdl or glibc, behind one face. */
struct loader {
	int kdl;
};

static void *ld_open(const struct loader *l, const char *lib)
{
	return l->kdl ? kdl_open(lib, RTLD_NOW | RTLD_LOCAL, NULL)
		      : dlopen(lib, RTLD_NOW | RTLD_LOCAL);
}

static int ld_close(const struct loader *l, void *h)
{
	return l->kdl ? kdl_close(h) : dlclose(h);
}

static void *ld_sym(const struct loader *l, void *h, const char *name)
{
	return l->kdl ? kdl_sym(h, name) : dlsym(h, name);
}

static const char *ld_error(const struct loader *l)
{
	const char *e = l->kdl ? kdl_error() : dlerror();

	return e ? e : "(no message)";
}

static const struct bench_lib *find_lib(const char *soname)
{
	static struct bench_lib custom;

	for (size_t i = 0; i < NDEFAULT; i++)
		if (strcmp(default_libs[i].soname, soname) == 0)
			return &default_libs[i];
	custom.soname = soname;
	return &custom;
}

/* --first: one open and one close in this fresh process. */
static int child_first(const struct loader *l, const char *lib)
{
	uint64_t t0, t1, t2;
	void *h;

	t0 = now_ns();
	h = ld_open(l, lib);
	t1 = now_ns();
	if (!h) {
		printf("ERR %s\n", ld_error(l));
		return 1;
	}
	if (ld_close(l, h)) {
		printf("ERR close: %s\n", ld_error(l));
		return 1;
	}
	t2 = now_ns();
	printf("%llu %llu\n", (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1));
	return 0;
}

/* --warm: open+close repeated; the first (cold) round is not counted. */
static int child_warm(const struct loader *l, const char *lib, int iters)
{
	uint64_t *v = calloc(iters, sizeof(*v));
	void *h;

	if (!v || iters < 1)
		return 1;
	h = ld_open(l, lib);
	if (!h || ld_close(l, h)) {
		printf("ERR %s\n", ld_error(l));
		return 1;
	}
	for (int i = 0; i < iters; i++) {
		uint64_t t0 = now_ns();

		h = ld_open(l, lib);
		if (!h || ld_close(l, h)) {
			printf("ERR %s\n", ld_error(l));
			return 1;
		}
		v[i] = now_ns() - t0;
	}
	printf("%llu\n", (unsigned long long)median(v, iters));
	free(v);
	return 0;
}

/* --sym: ns per lookup over the library's symbol list, and per miss. */
static int child_sym(const struct loader *l, const struct bench_lib *b, int iters)
{
	const char *miss = "kdl_bench_no_such_symbol";
	int nsyms = 0;
	uint64_t t0, hit, missed;
	void *h = ld_open(l, b->soname);

	if (!h) {
		printf("ERR %s\n", ld_error(l));
		return 1;
	}
	while (nsyms < 6 && b->syms[nsyms])
		nsyms++;
	for (int i = 0; i < nsyms; i++)
		if (!ld_sym(l, h, b->syms[i])) {
			printf("ERR %s\n", ld_error(l));
			return 1;
		}
	if (!nsyms) {
		printf("0 0\n");
		return 0;
	}
	t0 = now_ns();
	for (int i = 0; i < iters; i++)
		if (!ld_sym(l, h, b->syms[i % nsyms]))
			return 1;
	hit = now_ns() - t0;
	t0 = now_ns();
	for (int i = 0; i < iters / 4; i++) {
		ld_sym(l, h, miss);
		ld_error(l);	/* dlsym's miss builds a message; drain both */
	}
	missed = now_ns() - t0;
	printf("%.1f %.1f\n", (double)hit / iters, (double)missed / (iters / 4));
	ld_close(l, h);
	return 0;
}

struct result {
	int ok;
	char err[512];
	double first_open, first_close, warm, sym_hit, sym_miss;
};

static void measure(const char *self, const char *who, const struct bench_lib *b,
		    int runs, int warm, int syms, struct result *r)
{
	uint64_t open_v[MAX_RUNS], close_v[MAX_RUNS];
	char iters[32];
	const char *out;

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < runs; i++) {
		char *argv[] = { (char *)self, "--first", (char *)who, (char *)b->soname, NULL };
		unsigned long long o, c;

		out = spawn(argv);
		if (!out || sscanf(out, "%llu %llu", &o, &c) != 2) {
			snprintf(r->err, sizeof(r->err), "%s", out ? out : "spawn failed");
			return;
		}
		open_v[i] = o;
		close_v[i] = c;
	}
	r->first_open = median(open_v, runs);
	r->first_close = median(close_v, runs);

	snprintf(iters, sizeof(iters), "%d", warm);
	{
		char *argv[] = { (char *)self, "--warm", (char *)who, (char *)b->soname, iters, NULL };
		unsigned long long w;

		out = spawn(argv);
		if (!out || sscanf(out, "%llu", &w) != 1) {
			snprintf(r->err, sizeof(r->err), "%s", out ? out : "spawn failed");
			return;
		}
		r->warm = w;
	}
	snprintf(iters, sizeof(iters), "%d", syms);
	{
		char *argv[] = { (char *)self, "--sym", (char *)who, (char *)b->soname, iters, NULL };

		out = spawn(argv);
		if (!out || sscanf(out, "%lf %lf", &r->sym_hit, &r->sym_miss) != 2) {
			snprintf(r->err, sizeof(r->err), "%s", out ? out : "spawn failed");
			return;
		}
	}
	r->ok = 1;
}

static double ratio(double k, double g)
{
	return g > 0 ? k / g : 0;
}

static void report(const struct bench_lib *b, const struct result *g, const struct result *k)
{
	printf("\n%s\n", b->soname);
	if (!g->ok)
		printf("  glibc: failed: %s\n", g->err);
	if (!k->ok)
		printf("  kdl:   failed: %s\n", k->err);
	if (!g->ok || !k->ok)
		return;
	printf("  %-28s %12s %12s %8s\n", "", "glibc", "kdl", "kdl/glibc");
	printf("  %-28s %10.1f us %10.1f us %8.2f\n", "first open (fresh process)",
	       g->first_open / 1e3, k->first_open / 1e3, ratio(k->first_open, g->first_open));
	printf("  %-28s %10.1f us %10.1f us %8.2f\n", "first close",
	       g->first_close / 1e3, k->first_close / 1e3, ratio(k->first_close, g->first_close));
	printf("  %-28s %10.1f us %10.1f us %8.2f\n", "open+close (warm, median)",
	       g->warm / 1e3, k->warm / 1e3, ratio(k->warm, g->warm));
	if (g->sym_hit > 0)
		printf("  %-28s %10.1f ns %10.1f ns %8.2f\n", "sym lookup (hit)",
		       g->sym_hit, k->sym_hit, ratio(k->sym_hit, g->sym_hit));
	printf("  %-28s %10.1f ns %10.1f ns %8.2f\n", "sym lookup (miss)",
	       g->sym_miss, k->sym_miss, ratio(k->sym_miss, g->sym_miss));
}

static int usage(void)
{
	fprintf(stderr, "usage: open_bench [-n RUNS] [-w WARM_ITERS] [-s SYM_ITERS] [LIB...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	int runs = 11, warm = 200, syms = 200000, opt;

	if (argc >= 4 && argv[1][0] == '-' && argv[1][1] == '-') {
		struct loader l = { .kdl = strcmp(argv[2], "kdl") == 0 };
		int iters = argc >= 5 ? atoi(argv[4]) : 0;

		if (strcmp(argv[1], "--first") == 0)
			return child_first(&l, argv[3]);
		if (strcmp(argv[1], "--warm") == 0)
			return child_warm(&l, argv[3], iters);
		if (strcmp(argv[1], "--sym") == 0)
			return child_sym(&l, find_lib(argv[3]), iters);
		return usage();
	}
	while ((opt = getopt(argc, argv, "n:w:s:")) != -1) {
		switch (opt) {
		case 'n': runs = atoi(optarg); break;
		case 'w': warm = atoi(optarg); break;
		case 's': syms = atoi(optarg); break;
		default: return usage();
		}
	}
	if (runs < 1 || runs > MAX_RUNS || warm < 1 || syms < 4)
		return usage();
	printf("open_bench: %d fresh processes per first-load figure (median), "
	       "%d warm rounds, %d lookups; KDL_BACKEND=%s\n", runs, warm, syms,
	       getenv("KDL_BACKEND") ? getenv("KDL_BACKEND") : "(auto)");
#ifdef KDL_TEST_WITH_GLIBC
	printf("NOTE: built with the glibc shim: both columns are glibc\n");
#endif
	for (int i = optind; i < argc || (optind == argc && i - optind < (int)NDEFAULT); i++) {
		const struct bench_lib *b = optind == argc ? &default_libs[i - optind]
							  : find_lib(argv[i]);
		struct result g, k;

		measure(argv[0], "glibc", b, runs, warm, syms, &g);
		measure(argv[0], "kdl", b, runs, warm, syms, &k);
		report(b, &g, &k);
		fflush(stdout);
	}
	return 0;
}

/*
 * sources_bench.c - times libkdl's non-file sources against the usual
 * workarounds with glibc (not a test):
 *   - container: kdl_open("c.zip!/lib/x86_64/LIB") + kdl_close, twice:
 *       cold    KDL_CACHE=0, no relocation cache;
 *       cached  KDL_CACHE=ro, after one priming child with KDL_CACHE=1 that
 *               writes the entries, and a syncfs of the cache directory (the
 *               entries then are clean page-cache pages, as installed);
 *     both vs. the same baseline: extracting the entry to a file in /tmp
 *     (pread from the zip + write), dlopen (RTLD_NOW|RTLD_LOCAL), dlclose,
 *     unlink;
 *   - memory: kdl_memopen of a file mapping and of a malloc'd copy, vs. the
 *     memfd trick (memfd_create + write + dlopen("/proc/self/fd/N") +
 *     dlclose + close) from the same buffers.  These run with KDL_CACHE=0:
 *     kdl_memopen (like kdl_fdopen) is never cached, only files opened by
 *     path and stored zip entries are.
 * Every child gets KDL_CACHE_DIR = a private mkdtemp directory, so the
 * user's own cache (~/.cache/kdl) is never read nor written; it is removed
 * at exit (and on SIGINT, SIGTERM, SIGHUP) with the container.  The kdl
 * rows say how many loads came from the cache (KDL_INFO_CACHED).
 * Each figure is the median over fresh processes (this program re-executed)
 * of the first load, plus the median of warm rounds in one process (where
 * kdl may reuse what it still holds: compare first loads).  The container is
 * written by "kdl pack" into a temporary directory.
 *
 *   sources_bench [-n RUNS] [-w WARM] [-k KDL_TOOL] [LIB...]
 *
 * Child mode (internal): --child CASE ARGS...; prints "FIRST WARM ZEROCOPY
 * BYTES CACHED WCACHED" (ns, ns, 0/1, bytes written per load, KDL_INFO_CACHED
 * of the first load: 0/1, -1 for a glibc case or when unknown, and the
 * number of warm rounds from the cache, -1 likewise) or "ERR message".
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kdl.h"
#include "bench_util.h"

#define MAX_RUNS 101
#define LIBDIR "/lib/x86_64-linux-gnu"

static const char *const default_libs[] = { "libcrypto.so.3", "libz.so.1" };
#define NDEFAULT (sizeof(default_libs) / sizeof(default_libs[0]))

static int write_all(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t r = write(fd, (const char *)buf + done, len - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += r;
	}
	return 0;
}

/* ---- the cases, one load + unload each; 0 or -1 with a message in err */

struct ctx {
	const char *zip, *entry;	/* container cases */
	uint64_t off, size;		/* the entry's data, for extraction */
	const void *buf;		/* memory cases */
	size_t len;
	int zero_copy;
	int cached;			/* KDL_INFO_CACHED of the last kdl load; -1 */
	uint64_t written;
	char err[256];
};

static int kdl_fail(struct ctx *c)
{
	snprintf(c->err, sizeof(c->err), "%s", kdl_error());
	return -1;
}

static int dl_fail(struct ctx *c)
{
	snprintf(c->err, sizeof(c->err), "%s", dlerror());
	return -1;
}

static int sys_fail(struct ctx *c, const char *what)
{
	snprintf(c->err, sizeof(c->err), "%s: %s", what, strerror(errno));
	return -1;
}

static int close_kdl(struct ctx *c, void *h)
{
	kdl_info(h, KDL_INFO_ZERO_COPY, &c->zero_copy);
	if (kdl_info(h, KDL_INFO_CACHED, &c->cached))
		c->cached = -1;
	return kdl_close(h) ? kdl_fail(c) : 0;
}

static int zip_kdl(struct ctx *c)
{
	char path[PATH_MAX];
	void *h;

	snprintf(path, sizeof(path), "%s!/%s", c->zip, c->entry);
	h = kdl_open(path, RTLD_NOW | RTLD_LOCAL, NULL);
	if (!h)
		return kdl_fail(c);
	c->written = 0;
	return close_kdl(c, h);
}

/* Extract: pread from the zip, write to a fresh /tmp file, dlopen it. */
static int zip_extract(struct ctx *c)
{
	char path[] = "/tmp/kdl-bench-XXXXXX", buf[1 << 16];
	int zfd = open(c->zip, O_RDONLY | O_CLOEXEC), fd;
	void *h;

	if (zfd < 0)
		return sys_fail(c, c->zip);
	fd = mkstemp(path);
	if (fd < 0) {
		close(zfd);
		return sys_fail(c, "mkstemp");
	}
	for (uint64_t done = 0; done < c->size;) {
		size_t n = c->size - done < sizeof(buf) ? c->size - done : sizeof(buf);
		ssize_t r = pread(zfd, buf, n, c->off + done);

		if (r <= 0 || write_all(fd, buf, r)) {
			close(zfd);
			close(fd);
			unlink(path);
			return sys_fail(c, "extract");
		}
		done += r;
	}
	close(zfd);
	close(fd);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	unlink(path);
	if (!h)
		return dl_fail(c);
	c->written = c->size;
	return dlclose(h) ? dl_fail(c) : 0;
}

static int mem_kdl(struct ctx *c)
{
	void *h = kdl_memopen(c->buf, c->len, RTLD_NOW | RTLD_LOCAL, NULL);

	if (!h)
		return kdl_fail(c);
	if (close_kdl(c, h))
		return -1;
	c->written = c->zero_copy ? 0 : c->len;
	return 0;
}

static int mem_memfd(struct ctx *c)
{
	char path[64];
	int fd = memfd_create("bench", MFD_CLOEXEC);
	void *h;

	if (fd < 0)
		return sys_fail(c, "memfd_create");
	if (write_all(fd, c->buf, c->len)) {
		close(fd);
		return sys_fail(c, "write");
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		close(fd);
		return dl_fail(c);
	}
	c->written = c->len;
	if (dlclose(h)) {
		close(fd);
		return dl_fail(c);
	}
	close(fd);
	return 0;
}

/* ---- child setup: untimed preparation of the inputs */

static int map_file(struct ctx *c, const char *lib)
{
	int fd = open(lib, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *p;

	if (fd < 0 || fstat(fd, &st))
		return sys_fail(c, lib);
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return sys_fail(c, "mmap");
	c->buf = p;
	c->len = st.st_size;
	return 0;
}

static int copy_file(struct ctx *c, const char *lib)
{
	void *p;

	if (map_file(c, lib))
		return -1;
	p = malloc(c->len);
	if (!p)
		return sys_fail(c, "malloc");
	memcpy(p, c->buf, c->len);
	munmap((void *)c->buf, c->len);
	c->buf = p;
	return 0;
}

static int child(int argc, char **argv)
{
	const char *cs = argv[2];
	int warm = atoi(argv[3]), (*fn)(struct ctx *);
	struct ctx c = { .cached = -1 };
	uint64_t first, *v = calloc(warm + 1, sizeof(*v));
	int cached, wcached = 0;

	if (!strcmp(cs, "zip-kdl") || !strcmp(cs, "zip-extract")) {
		if (argc < 8)
			return 2;
		c.zip = argv[4];
		c.entry = argv[5];
		c.off = strtoull(argv[6], NULL, 0);
		c.size = strtoull(argv[7], NULL, 0);
		fn = cs[4] == 'k' ? zip_kdl : zip_extract;
	} else {
		int anon = strstr(cs, "anon") != NULL;

		if (argc < 5)
			return 2;
		if (anon ? copy_file(&c, argv[4]) : map_file(&c, argv[4]))
			goto fail;
		fn = !strncmp(cs, "mem-kdl", 7) ? mem_kdl : mem_memfd;
	}
	first = now_ns();
	if (fn(&c))
		goto fail;
	first = now_ns() - first;
	cached = c.cached;
	for (int i = 0; i < warm; i++) {
		uint64_t t0 = now_ns();

		if (fn(&c))
			goto fail;
		v[i] = now_ns() - t0;
		if (c.cached < 0 || wcached < 0)
			wcached = -1;
		else
			wcached += c.cached;
	}
	printf("%llu %llu %d %llu %d %d\n", (unsigned long long)first,
	       (unsigned long long)(warm ? median(v, warm) : 0), c.zero_copy,
	       (unsigned long long)c.written, cached, cached < 0 ? -1 : wcached);
	return 0;
fail:
	printf("ERR %s: %s\n", cs, c.err);
	return 1;
}

/* ---- parent */

struct result {
	int ok, zero_copy, kdl;
	int yes, no, unk;	/* first loads from the cache, not, unknown */
	long wyes, wtot;	/* warm rounds from the cache, of all */
	double first, warm;
	unsigned long long written;
	char err[512];
};

/* The private directory: the container, and the cache (KDL_CACHE_DIR) in
 * it; removed at exit and on SIGINT/TERM/HUP, as cache_bench does. */
static char tmpdir[] = "/tmp/kdl-sources-bench.XXXXXX", cachedir[sizeof(tmpdir) + 16];


/* One child of case @cs with KDL_CACHE=@cache; its line, or NULL with the
 * reason in @r->err. */
static const char *run_child(const char *self, const char *cs, char *const args[4],
			     const char *cache, const char *w, struct result *r)
{
	char *argv[] = { (char *)self, "--child", (char *)cs, (char *)w, args[0], args[1],
			 args[2], args[3], NULL };
	const char *out;

	setenv("KDL_CACHE", cache, 1);
	out = spawn(argv);
	if (out && strncmp(out, "ERR", 3))
		return out;
	snprintf(r->err, sizeof(r->err), "%s", out && *out ? out : "spawn failed");
	return NULL;
}

/* @runs fresh processes of case @cs with KDL_CACHE=@cache; medians into @r. */
static void measure(const char *self, const char *cs, char *const args[4], const char *cache,
		    int runs, int warm, struct result *r)
{
	uint64_t first[MAX_RUNS], wv[MAX_RUNS];
	char w[16];

	memset(r, 0, sizeof(*r));
	snprintf(w, sizeof(w), "%d", warm);
	r->kdl = strstr(cs, "kdl") != NULL;
	for (int i = 0; i < runs; i++) {
		unsigned long long f, m;
		int cached, wcached;
		const char *out = run_child(self, cs, args, cache, w, r);

		if (!out)
			return;
		if (sscanf(out, "%llu %llu %d %llu %d %d", &f, &m, &r->zero_copy, &r->written,
			   &cached, &wcached) != 6) {
			snprintf(r->err, sizeof(r->err), "bad child output: %s", out);
			return;
		}
		first[i] = f;
		wv[i] = m;
		r->unk += r->kdl && cached < 0;
		r->yes += cached == 1;
		r->no += cached == 0;
		if (wcached >= 0) {
			r->wyes += wcached;
			r->wtot += warm;
		}
	}
	r->first = median(first, runs);
	r->warm = median(wv, runs);
	r->ok = 1;
}

/* The priming child of the cached case (KDL_CACHE=1: it writes the
 * entries), then a syncfs of the cache: an installed cache has clean
 * page-cache pages, not the dirty ones of files just written.  0, or -1
 * with the reason in @r->err. */
static int prime(const char *self, char *const args[4], struct result *r)
{
	int fd;

	memset(r, 0, sizeof(*r));
	if (!run_child(self, "zip-kdl", args, "1", "0", r)) {
		char e[sizeof(r->err)];

		snprintf(e, sizeof(e), "%s", r->err);
		snprintf(r->err, sizeof(r->err), "priming: %.500s", e);
		return -1;
	}
	fd = open(cachedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		syncfs(fd);
		close(fd);
	}
	return 0;
}

static uint16_t le16(const unsigned char *p) { return p[0] | p[1] << 8; }
static uint32_t le32(const unsigned char *p) { return le16(p) | (uint32_t)le16(p + 2) << 16; }

/* Data offset and size of @name in @zip, a plain zip without a comment as
 * "kdl pack" writes it (the extraction baseline needs no more). */
static int find_entry(const char *zip, const char *name, uint64_t *off, uint64_t *size)
{
	int fd = open(zip, O_RDONLY | O_CLOEXEC), ret = -1;
	unsigned char end[22], *cd = NULL, loc[30];
	struct stat st;
	uint32_t cd_size, cd_off, pos = 0;

	if (fd < 0 || fstat(fd, &st) || st.st_size < 22 ||
	    pread(fd, end, 22, st.st_size - 22) != 22 || le32(end) != 0x06054b50)
		goto out;
	cd_size = le32(end + 12);
	cd_off = le32(end + 16);
	cd = malloc(cd_size);
	if (!cd || pread(fd, cd, cd_size, cd_off) != (ssize_t)cd_size)
		goto out;
	while (pos + 46 <= cd_size && le32(cd + pos) == 0x02014b50) {
		uint16_t nlen = le16(cd + pos + 28);

		if (nlen == strlen(name) && !memcmp(cd + pos + 46, name, nlen)) {
			uint32_t lho = le32(cd + pos + 42);

			*size = le32(cd + pos + 20);
			if (pread(fd, loc, 30, lho) != 30)
				goto out;
			*off = lho + 30 + le16(loc + 26) + le16(loc + 28);
			ret = 0;
			break;
		}
		pos += 46 + nlen + le16(cd + pos + 30) + le16(cd + pos + 32);
	}
out:
	free(cd);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Copies LIBDIR's libraries into @dir/lib/x86_64 and packs them into
 * @dir/c.zip with the kdl tool, then syncs them: an installed container
 * has clean page-cache pages, not the dirty ones of a file just written. */
static int make_container(const char *kdl, const char *dir, char **libs, int nlibs)
{
	char cmd[8192];
	int n = snprintf(cmd, sizeof(cmd), "mkdir -p '%s/lib/x86_64' && cd '%s' && ", dir, dir);

	for (int i = 0; i < nlibs; i++)
		n += snprintf(cmd + n, sizeof(cmd) - n, "cp -L '%s/%s' lib/x86_64/ && ",
			      LIBDIR, libs[i]);
	n += snprintf(cmd + n, sizeof(cmd) - n, "'%s' pack c.zip", kdl);
	for (int i = 0; i < nlibs; i++)
		n += snprintf(cmd + n, sizeof(cmd) - n, " 'lib/x86_64/%s'", libs[i]);
	n += snprintf(cmd + n, sizeof(cmd) - n, " && '%s' pack --check c.zip >/dev/null && sync",
		      kdl);
	if (n >= (int)sizeof(cmd))
		return -1;
	return system(cmd) ? -1 : 0;
}

static double ratio(const struct result *slow, const struct result *fast, int warm)
{
	double s = warm ? slow->warm : slow->first, f = warm ? fast->warm : fast->first;

	return f > 0 ? s / f : 0;
}

static void row(const char *what, const struct result *r)
{
	char note[96] = "";
	int n = 0;

	if (!r->ok) {
		printf("  %-30s failed: %s\n", what, r->err);
		return;
	}
	if (r->zero_copy)
		n += snprintf(note + n, sizeof(note) - n, "zero-copy");
	if (r->kdl && r->unk)
		n += snprintf(note + n, sizeof(note) - n, "%scache ?", n ? ", " : "");
	else if (r->kdl)
		n += snprintf(note + n, sizeof(note) - n, "%scache %d/%d", n ? ", " : "", r->yes,
			      r->yes + r->no);
	if (r->kdl && !r->unk && r->wtot)
		snprintf(note + n, sizeof(note) - n, " (warm %ld/%ld)", r->wyes, r->wtot);
	printf("  %-30s %10.1f us %10.1f us %10llu B %s\n", what, r->first / 1e3, r->warm / 1e3,
	       r->written, note);
}

/* The ratios, then whether the first load's meets @goal (0: none). */
static void speedup(const char *what, const struct result *base, const struct result *kdl,
		    double goal)
{
	double f;

	if (!base->ok || !kdl->ok)
		return;
	f = ratio(base, kdl, 0);
	printf("  %-30s %10.2fx %13.2fx", what, f, ratio(base, kdl, 1));
	if (goal > 0)
		printf("   goal >= %.1fx: %s", goal, f >= goal ? "met" : "MISSED");
	printf("\n");
}

static void bench_lib(const char *self, const char *dir, const char *lib, int runs, int warm)
{
	char zip[PATH_MAX], entry[PATH_MAX], file[2 * PATH_MAX + 2], off[32], size[32];
	struct result zk, zc, ze, mf, mff, ma, mfa;
	uint64_t o, s;

	snprintf(zip, sizeof(zip), "%s/c.zip", dir);
	snprintf(entry, sizeof(entry), "lib/x86_64/%s", lib);
	snprintf(file, sizeof(file), "%s/%s", dir, entry);
	if (find_entry(zip, entry, &o, &s)) {
		printf("\n%s: not found in %s\n", lib, zip);
		return;
	}
	snprintf(off, sizeof(off), "%llu", (unsigned long long)o);
	snprintf(size, sizeof(size), "%llu", (unsigned long long)s);
	{
		char *za[4] = { zip, entry, off, size }, *fa[4] = { file, NULL, NULL, NULL };

		measure(self, "zip-kdl", za, "0", runs, warm, &zk);
		if (!prime(self, za, &zc))
			measure(self, "zip-kdl", za, "ro", runs, warm, &zc);
		measure(self, "zip-extract", za, "0", runs, warm, &ze);
		measure(self, "mem-kdl-file", fa, "0", runs, warm, &mf);
		measure(self, "mem-memfd-file", fa, "0", runs, warm, &mff);
		measure(self, "mem-kdl-anon", fa, "0", runs, warm, &ma);
		measure(self, "mem-memfd-anon", fa, "0", runs, warm, &mfa);
	}
	printf("\n%s (%llu bytes)\n", lib, (unsigned long long)s);
	printf("  %-30s %13s %13s %12s\n", "", "first load", "warm", "written");
	row("kdl_open(c.zip!/...), cold", &zk);
	row("kdl_open(c.zip!/...), cached", &zc);
	row("extract + dlopen", &ze);
	row("kdl_memopen(file mapping)", &mf);
	row("memfd trick (file mapping)", &mff);
	row("kdl_memopen(malloc copy)", &ma);
	row("memfd trick (malloc copy)", &mfa);
	printf("  %-30s %11s %14s\n", "speed-up (baseline / kdl)", "first", "warm");
	speedup("container, cold vs extract", &ze, &zk, 5.0);
	speedup("container, cached vs extract", &ze, &zc, 5.0);
	speedup("memopen file vs memfd", &mff, &mf, 2.0);
	speedup("memopen anon vs memfd", &mfa, &ma, 1.0);
	fflush(stdout);
}

static int usage(void)
{
	fprintf(stderr, "usage: sources_bench [-n RUNS] [-w WARM] [-k KDL_TOOL] [LIB...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	char self_dir[PATH_MAX], kdl_default[PATH_MAX + 16];
	const char *kdl = NULL;
	char **libs = (char **)default_libs;
	int runs = 11, warm = 20, nlibs = NDEFAULT, opt;
	ssize_t n;

	if (argc >= 4 && !strcmp(argv[1], "--child"))
		return child(argc, argv);
	while ((opt = getopt(argc, argv, "n:w:k:")) != -1) {
		switch (opt) {
		case 'n': runs = atoi(optarg); break;
		case 'w': warm = atoi(optarg); break;
		case 'k': kdl = optarg; break;
		default: return usage();
		}
	}
	if (runs < 1 || runs > MAX_RUNS || warm < 0)
		return usage();
	if (optind < argc) {
		libs = argv + optind;
		nlibs = argc - optind;
	}
	n = readlink("/proc/self/exe", self_dir, sizeof(self_dir) - 1);
	if (!kdl && n > 0) {
		self_dir[n] = '\0';
		*strrchr(self_dir, '/') = '\0';
		snprintf(kdl_default, sizeof(kdl_default), "%s/../tools/kdl", self_dir);
		kdl = kdl_default;
	}
	if (bench_private_dir(tmpdir)) {
		perror("sources_bench: mkdtemp");
		return 1;
	}
	snprintf(cachedir, sizeof(cachedir), "%s/cache.XXXXXX", tmpdir);
	if (!mkdtemp(cachedir)) {
		perror("sources_bench: mkdtemp");
		return 1;
	}
	/* Every child, and the kdl tool, sees only the private cache; the
	 * tool runs with it off. */
	setenv("KDL_CACHE_DIR", cachedir, 1);
	setenv("KDL_CACHE", "0", 1);
	if (!kdl || make_container(kdl, tmpdir, libs, nlibs)) {
		fprintf(stderr, "sources_bench: could not build the container with %s\n",
			kdl ? kdl : "kdl");
		return 1;
	}
	printf("sources_bench: median of %d fresh processes (first load) and of %d warm "
	       "rounds per process; KDL_CACHE_DIR=%s (removed at exit); KDL_BACKEND=%s\n",
	       runs, warm, cachedir, getenv("KDL_BACKEND") ? getenv("KDL_BACKEND") : "(auto)");
	printf("goals (first load): container >= 5x faster than extract + dlopen (libcrypto, "
	       "libz); memopen of a malloc'd\n"
	       "(anonymous) buffer no slower than the memfd trick (>= 1.0x); memopen of a file "
	       "mapping >= 2x faster\n");
	printf("cold: KDL_CACHE=0; cached: KDL_CACHE=ro, primed once with =1 (then syncfs); "
	       "memopen and the baselines:\n"
	       "KDL_CACHE=0 (kdl_memopen is never cached).  cache k/N: first loads from the "
	       "cache (KDL_INFO_CACHED),\n"
	       "warm rounds in ()\n");
	fflush(stdout);
	for (int i = 0; i < nlibs; i++)
		bench_lib(argv[0], tmpdir, libs[i], runs, warm);
	printf("\nwarm: kdl recognises an object it already holds (same file, same buffer)\n"
	       "and NODELETE libraries (libcrypto) stay loaded, so warm kdl rounds can be\n"
	       "reference bumps; the baselines load a new file each round.  Compare first loads.\n");
	return 0;
}

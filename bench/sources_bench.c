/*
 * sources_bench.c - times libkdl's non-file sources against the usual
 * workarounds with glibc (not a test):
 *   - container: kdl_open("c.zip!/lib/x86_64/LIB") + kdl_close, vs. extracting
 *     the entry to a file in /tmp (pread from the zip + write), dlopen
 *     (RTLD_NOW|RTLD_LOCAL), dlclose, unlink;
 *   - memory: kdl_memopen of a file mapping and of a malloc'd copy, vs. the
 *     memfd trick (memfd_create + write + dlopen("/proc/self/fd/N") +
 *     dlclose + close) from the same buffers.
 * Each figure is the median over fresh processes (this program re-executed)
 * of the first load, plus the median of warm rounds in one process (where
 * kdl may reuse what it still holds: compare first loads).  The container is
 * written by "kdl pack" into a temporary directory.
 *
 *   sources_bench [-n RUNS] [-w WARM] [-k KDL_TOOL] [LIB...]
 *
 * Child mode (internal): --child CASE ARGS...; prints "FIRST WARM ZEROCOPY
 * BYTES" (ns, ns, 0/1, bytes written per load) or "ERR message".
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
	struct ctx c = { 0 };
	uint64_t first, *v = calloc(warm + 1, sizeof(*v));

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
	for (int i = 0; i < warm; i++) {
		uint64_t t0 = now_ns();

		if (fn(&c))
			goto fail;
		v[i] = now_ns() - t0;
	}
	printf("%llu %llu %d %llu\n", (unsigned long long)first,
	       (unsigned long long)(warm ? median(v, warm) : 0), c.zero_copy,
	       (unsigned long long)c.written);
	return 0;
fail:
	printf("ERR %s: %s\n", cs, c.err);
	return 1;
}

/* ---- parent */

struct result {
	int ok, zero_copy;
	double first, warm;
	unsigned long long written;
	char err[512];
};

/* @runs fresh processes of case @cs; medians into @r. */
static void measure(const char *self, const char *cs, char *const args[4], int runs,
		    int warm, struct result *r)
{
	uint64_t first[MAX_RUNS], wv[MAX_RUNS];
	char w[16];

	memset(r, 0, sizeof(*r));
	snprintf(w, sizeof(w), "%d", warm);
	for (int i = 0; i < runs; i++) {
		char *argv[] = { (char *)self, "--child", (char *)cs, w, args[0], args[1],
				 args[2], args[3], NULL };
		unsigned long long f, m;
		const char *out = spawn(argv);

		if (!out || sscanf(out, "%llu %llu %d %llu", &f, &m, &r->zero_copy,
				   &r->written) != 4) {
			snprintf(r->err, sizeof(r->err), "%s", out ? out : "spawn failed");
			return;
		}
		first[i] = f;
		wv[i] = m;
	}
	r->first = median(first, runs);
	r->warm = median(wv, runs);
	r->ok = 1;
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
	if (!r->ok) {
		printf("  %-30s failed: %s\n", what, r->err);
		return;
	}
	printf("  %-30s %10.1f us %10.1f us %10llu B %s\n", what, r->first / 1e3, r->warm / 1e3,
	       r->written, r->zero_copy ? "zero-copy" : "");
}

static void speedup(const char *what, const struct result *base, const struct result *kdl)
{
	if (base->ok && kdl->ok)
		printf("  %-30s %10.2fx %13.2fx\n", what, ratio(base, kdl, 0), ratio(base, kdl, 1));
}

static void bench_lib(const char *self, const char *dir, const char *lib, int runs, int warm)
{
	char zip[PATH_MAX], entry[PATH_MAX], file[2 * PATH_MAX + 2], off[32], size[32];
	struct result zk, ze, mf, mff, ma, mfa;
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

		measure(self, "zip-kdl", za, runs, warm, &zk);
		measure(self, "zip-extract", za, runs, warm, &ze);
		measure(self, "mem-kdl-file", fa, runs, warm, &mf);
		measure(self, "mem-memfd-file", fa, runs, warm, &mff);
		measure(self, "mem-kdl-anon", fa, runs, warm, &ma);
		measure(self, "mem-memfd-anon", fa, runs, warm, &mfa);
	}
	printf("\n%s (%llu bytes)\n", lib, (unsigned long long)s);
	printf("  %-30s %13s %13s %12s\n", "", "first load", "warm", "written");
	row("kdl_open(c.zip!/...)", &zk);
	row("extract + dlopen", &ze);
	row("kdl_memopen(file mapping)", &mf);
	row("memfd trick (file mapping)", &mff);
	row("kdl_memopen(malloc copy)", &ma);
	row("memfd trick (malloc copy)", &mfa);
	printf("  %-30s %11s %14s\n", "speed-up (baseline / kdl)", "first", "warm");
	speedup("container vs extract", &ze, &zk);
	speedup("memopen file vs memfd", &mff, &mf);
	speedup("memopen anon vs memfd", &mfa, &ma);
	fflush(stdout);
}

static int usage(void)
{
	fprintf(stderr, "usage: sources_bench [-n RUNS] [-w WARM] [-k KDL_TOOL] [LIB...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	char self_dir[PATH_MAX], kdl_default[PATH_MAX + 16], dir[] = "/tmp/kdl-sources-bench.XXXXXX";
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
	if (!kdl || !mkdtemp(dir) || make_container(kdl, dir, libs, nlibs)) {
		fprintf(stderr, "sources_bench: could not build the container with %s\n",
			kdl ? kdl : "kdl");
		return 1;
	}
	printf("sources_bench: median of %d fresh processes (first load) and of %d warm "
	       "rounds per process; KDL_BACKEND=%s\n", runs, warm,
	       getenv("KDL_BACKEND") ? getenv("KDL_BACKEND") : "(auto)");
	for (int i = 0; i < nlibs; i++)
		bench_lib(argv[0], dir, libs[i], runs, warm);
	printf("\nwarm: kdl recognises an object it already holds (same file, same buffer)\n"
	       "and NODELETE libraries (libcrypto) stay loaded, so warm kdl rounds can be\n"
	       "reference bumps; the baselines load a new file each round.  Compare first loads.\n");
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			fprintf(stderr, "sources_bench: could not remove %s\n", dir);
	}
	return 0;
}

/*
 * kdl_test.h - helpers shared by the library tests: where the fixtures are,
 * what /proc/self/maps says, and a child-process runner.  With
 * -DKDL_TEST_WITH_GLIBC the kdl_* calls map onto glibc (kdl_glibc_shim.h)
 * so the tests can be validated before the loader exists; KDL_TEST_GLIBC
 * tells a test which world it runs in, for SKIPs of kdl-only checks.
 */
#ifndef KDL_TEST_H
#define KDL_TEST_H

#include "../kdl_harness_main.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef KDL_TEST_WITH_GLIBC
#include "kdl_glibc_shim.h"
#define KDL_TEST_GLIBC 1
#else
#include "kdl.h"
#define KDL_TEST_GLIBC 0
#endif

/*
 * The fixtures directory: $KDL_FIXTURES_DIR, else <exe dir>/../../fixtures
 * (build/selftests/lib/X -> build/fixtures/).
 */
static inline const char *fx_dir(void)
{
	static char dir[PATH_MAX + 32];
	char exe[PATH_MAX];
	const char *env = getenv("KDL_FIXTURES_DIR");
	ssize_t n;
	char *slash;

	if (dir[0])
		return dir;
	if (env && *env) {
		snprintf(dir, sizeof(dir), "%s", env);
		return dir;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return ".";
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(dir, sizeof(dir), "%s/../../fixtures", exe);
	if (!realpath(dir, exe))
		return dir;
	snprintf(dir, sizeof(dir), "%s", exe);
	return dir;
}

/* Absolute path of a fixture; the string is never freed (tests are short). */
static inline const char *fx_path(const char *rel)
{
	char *p;

	if (asprintf(&p, "%s/%s", fx_dir(), rel) < 0)
		abort();
	return p;
}

static inline int str_ends_with(const char *s, const char *suffix)
{
	size_t n, m;

	if (!s || !suffix)
		return 0;
	n = strlen(s);
	m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* One parsed line of /proc/self/maps. */
struct map_line {
	uintptr_t lo, hi;
	char perms[5];
	char path[PATH_MAX];
};

/*
 * Calls cb for every mapping; stops when cb returns non-zero and returns
 * that value.  Reads with stdio into a private buffer: no allocation in
 * the callback path.
 */
static inline int maps_each(int (*cb)(const struct map_line *, void *), void *data)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[PATH_MAX + 128];
	struct map_line m;
	int ret = 0;

	if (!f)
		return -1;
	while (!ret && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		int off = 0;

		m.path[0] = '\0';
		if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &lo, &hi, m.perms, &off) < 3)
			continue;
		m.lo = lo;
		m.hi = hi;
		if (off > 0) {
			snprintf(m.path, sizeof(m.path), "%s", line + off);
			m.path[strcspn(m.path, "\n")] = '\0';
		}
		ret = cb(&m, data);
	}
	fclose(f);
	return ret;
}

struct maps_query {
	uintptr_t lo, hi;
	const char *path;
	struct map_line found;
	int count;
};

static inline int maps_find_addr_cb(const struct map_line *m, void *data)
{
	struct maps_query *q = data;

	if (q->lo >= m->lo && q->lo < m->hi) {
		q->found = *m;
		return 1;
	}
	return 0;
}

/* Protection of the mapping holding addr ("r-xp"...); 0 if found, -1 if not. */
static inline int maps_prot(const void *addr, char perms[5])
{
	struct maps_query q = { .lo = (uintptr_t)addr };

	if (maps_each(maps_find_addr_cb, &q) != 1)
		return -1;
	memcpy(perms, q.found.perms, 5);
	return 0;
}

static inline int maps_overlap_cb(const struct map_line *m, void *data)
{
	struct maps_query *q = data;

	if (m->lo < q->hi && q->lo < m->hi)
		q->count++;
	return 0;
}

/* Number of mappings overlapping [lo, hi). */
static inline int maps_count_overlap(uintptr_t lo, uintptr_t hi)
{
	struct maps_query q = { .lo = lo, .hi = hi };

	maps_each(maps_overlap_cb, &q);
	return q.count;
}

static inline int maps_path_cb(const struct map_line *m, void *data)
{
	struct maps_query *q = data;

	if (m->path[0] && (strcmp(m->path, q->path) == 0 ||
			   (q->path[0] != '/' && str_ends_with(m->path, q->path))))
		q->count++;
	return 0;
}

/*
 * Number of mappings backed by path (an absolute path, or a "/name"
 * suffix such as "/libc.so.6").
 */
static inline int maps_count_path(const char *path)
{
	struct maps_query q = { .path = path };

	maps_each(maps_path_cb, &q);
	return q.count;
}

static inline int maps_exec_path_cb(const struct map_line *m, void *data)
{
	struct maps_query *q = data;

	if (m->perms[2] == 'x' && m->path[0] &&
	    (strcmp(m->path, q->path) == 0 || str_ends_with(m->path, q->path)))
		q->count++;
	return 0;
}

/* Number of executable mappings backed by a file whose path ends in suffix. */
static inline int maps_count_exec(const char *suffix)
{
	struct maps_query q = { .path = suffix };

	maps_each(maps_exec_path_cb, &q);
	return q.count;
}

/*
 * Runs fn(arg) in a forked child whose stdout is a pipe; copies what it
 * wrote (NUL-terminated) into out.  Returns the child's wait status, or -1.
 */
static inline int run_in_child(void (*fn)(int fd, void *arg), void *arg,
			       char *out, size_t outsz)
{
	int pfd[2], status = -1;
	size_t len = 0;
	pid_t pid;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(pfd[0]);
		fn(pfd[1], arg);
		_exit(0);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t n = read(pfd[0], out + len, outsz - 1 - len);

		if (n <= 0)
			break;
		len += n;
		if (len == outsz - 1)
			break;
	}
	out[len] = '\0';
	close(pfd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static inline void write_str(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= w;
	}
}

/* Loads with kdl, failing the test with kdl_error() if it cannot. */
#define KDL_OPEN_OK(path, mode) ({					\
	const char *_p = (path);					\
	void *_h = kdl_open(_p, (mode), NULL);				\
	if (!_h)							\
		TH_LOG("kdl_open(%s): %s", _p, kdl_error());		\
	ASSERT_NE(NULL, _h);						\
	_h; })

/* Looks a symbol up, failing the test with kdl_error() if it is absent. */
#define KDL_SYM_OK(h, name) ({						\
	const char *_n = (name);					\
	void *_s = kdl_sym((h), _n);					\
	if (!_s)							\
		TH_LOG("kdl_sym(%s): %s", _n, kdl_error());		\
	ASSERT_NE(NULL, _s);						\
	_s; })

/*
 * Binding a real library's API through function pointers, from either
 * loader: a test lists the functions once, X-macro style,
 *	#define ZAPI(X) X(compress2) X(uncompress)
 *	struct zapi { ZAPI(KT_API_FIELD) };
 *	static int zbind(struct zapi *api, void *h, kt_lookup_fn lookup,
 *			 const char **missing) { ZAPI(KT_API_BIND) return 0; }
 * and binds it with kt_kdl_lookup (kdl_sym) or kt_dl_lookup (dlsym).
 */
typedef void *(*kt_lookup_fn)(void *h, const char *name);

static inline void *kt_kdl_lookup(void *h, const char *name)
{
	return kdl_sym(h, name);
}

static inline void *kt_dl_lookup(void *h, const char *name)
{
	return dlsym(h, name);
}

#define KT_API_FIELD(n) __typeof__(&n) n;
#define KT_API_BIND(n)							\
	if (!(api->n = (__typeof__(&n))lookup(h, #n))) {		\
		*missing = #n;						\
		return -1;						\
	}

/* Binds an API or fails the test naming the first missing function. */
#define KT_BIND_OK(bind, api, h, lookup) do {				\
	const char *_missing = NULL;					\
	if ((bind)((api), (h), (lookup), &_missing))			\
		TH_LOG("%s: missing %s", #lookup, _missing);		\
	ASSERT_EQ(NULL, _missing);					\
} while (0)

/* Opens a real library by name with glibc, for comparison. */
#define DL_OPEN_OK(name) ({						\
	void *_g = dlopen((name), RTLD_NOW | RTLD_LOCAL);		\
	if (!_g)							\
		TH_LOG("dlopen(%s): %s", (name), dlerror());		\
	ASSERT_NE(NULL, _g);						\
	_g; })

/*
 * Deterministic sample data that compresses like text: words from a small
 * dictionary picked by a xorshift generator, with some raw noise mixed in.
 */
static inline void fill_sample(unsigned char *buf, size_t n, uint32_t seed)
{
	static const char *const words[] = {
		"loader ", "segment ", "relocation ", "symbol ", "version ",
		"kdl ", "namespace ", "mirror ", "window ", "ELF ", "\n",
	};
	uint32_t x = seed ? seed : 0x9e3779b9u;
	size_t i = 0;

	while (i < n) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		if ((x & 15) == 0) {
			buf[i++] = (unsigned char)(x >> 8);
			continue;
		}
		for (const char *w = words[(x >> 4) % 11]; *w && i < n; w++)
			buf[i++] = (unsigned char)*w;
	}
}

static inline void hex_string(const unsigned char *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
	out[2 * n] = '\0';
}

/*
 * kdl must have loaded its own copy: the same function found through kdl
 * and through glibc lives at two addresses (not checked under the shim,
 * where both are glibc's).
 */
#define EXPECT_SEPARATE_COPY(kdl_fn, dl_fn) do {			\
	if (!KDL_TEST_GLIBC)						\
		EXPECT_NE((void *)(kdl_fn), (void *)(dl_fn));		\
} while (0)

#endif /* KDL_TEST_H */

/* search.c - find the file for a DT_NEEDED or kdl_open name, in glibc's order. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "obj.h"
#include "source.h"

static const char *const default_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
	"/lib", "/usr/lib",
};

/* Expand $ORIGIN, $LIB and $PLATFORM (also in ${} form).  $LIB is the
 * Debian multiarch directory glibc uses for x86-64. */
char *kdl_expand_dst(const char *s, const char *origin)
{
	const char *platform = (const char *)getauxval(AT_PLATFORM);
	size_t cap = strlen(s) + 1, n = 0;
	char *out;

	if (!platform)
		platform = "x86_64";
	cap += 8 * (strlen(origin ? origin : "") + 32);
	out = malloc(cap);
	if (!out)
		return NULL;
	while (*s) {
		static const struct { const char *name; size_t len; } tok[] = {
			{ "ORIGIN", 6 }, { "LIB", 3 }, { "PLATFORM", 8 },
		};
		const char *val = NULL;
		size_t used = 0;

		if (*s == '$') {
			for (unsigned t = 0; t < 3 && !val; t++) {
				bool brace = s[1] == '{';
				const char *p = s + 1 + brace;

				if (strncmp(p, tok[t].name, tok[t].len))
					continue;
				if (brace && p[tok[t].len] != '}')
					continue;
				if (!brace && (p[tok[t].len] == '_' ||
					       (p[tok[t].len] >= 'A' && p[tok[t].len] <= 'Z') ||
					       (p[tok[t].len] >= 'a' && p[tok[t].len] <= 'z') ||
					       (p[tok[t].len] >= '0' && p[tok[t].len] <= '9')))
					continue;
				val = t == 0 ? origin : t == 1 ? "lib/x86_64-linux-gnu" : platform;
				used = 1 + brace + tok[t].len + brace;
				if (!val) {
					free(out);
					errno = ENOENT;
					return NULL;
				}
			}
		}
		if (val) {
			size_t l = strlen(val);

			if (n + l + 1 > cap) {
				char *no = realloc(out, cap = (n + l + 1) * 2 + strlen(s));

				if (!no) {
					free(out);
					return NULL;
				}
				out = no;
			}
			memcpy(out + n, val, l);
			n += l;
			s += used;
		} else {
			if (n + 2 > cap) {
				char *no = realloc(out, cap *= 2);

				if (!no) {
					free(out);
					return NULL;
				}
				out = no;
			}
			out[n++] = *s++;
		}
	}
	out[n] = '\0';
	return out;
}

/* What a search of an isolated namespace refused, for its error. */
struct search {
	const struct kdl_ns *ns;
	struct kdl_head *head;
	char refused[PATH_MAX];
};

/* The file @fd is open on, by its canonical path. */
static bool fd_path(int fd, char *buf, size_t len)
{
	char proc[32];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, buf, len - 1);
	if (n <= 0 || (size_t)n >= len - 1)
		return false;
	buf[n] = '\0';
	return true;
}

/* Whether an isolated namespace may load what @fd holds (named @path
 * when its canonical path cannot be read); a refusal is remembered. */
static bool permitted(struct search *s, int fd, const char *path)
{
	char real[PATH_MAX];

	if (!s->ns || !s->ns->isolated)
		return true;
	if (!fd_path(fd, real, sizeof(real)))
		snprintf(real, sizeof(real), "%s", path);
	if (kdl_ns_permits(s->ns, real))
		return true;
	if (!s->refused[0])
		snprintf(s->refused, sizeof(s->refused), "%s", real);
	return false;
}

/* Open @path if it holds a 64-bit x86-64 ELF object the namespace may
 * load; else -1. */
static int try_open(const char *path, struct search *s)
{
	struct kdl_head local, *h = s->head ? s->head : &local;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	/* As much as the load reads first (kdl_source_read takes it from
	 * here): one read for the check and the headers. */
	n = pread(fd, h->buf, s->head ? sizeof(h->buf) : EI_NIDENT + 4, 0);
	h->len = n > 0 ? (size_t)n : 0;
	if (n < EI_NIDENT + 4 || memcmp(h->buf, ELFMAG, SELFMAG) || h->buf[EI_CLASS] != ELFCLASS64 ||
	    (h->buf[18] | h->buf[19] << 8) != EM_X86_64 || !permitted(s, fd, path)) {
		h->len = 0;
		close(fd);
		return -1;
	}
	return fd;
}

/* Try each directory of the ':'-separated @list. */
static int try_list(const char *list, const char *name, const char *origin, char **path,
		    struct search *s)
{
	char *exp, *save = NULL;
	int fd = -1;

	if (!list || !*list)
		return -1;
	exp = kdl_expand_dst(list, origin);
	if (!exp)
		return -1;
	for (char *dir = strtok_r(exp, ":;", &save); dir && fd < 0; dir = strtok_r(NULL, ":;", &save)) {
		char buf[PATH_MAX];

		if (!kdl_path_join(buf, sizeof(buf), *dir ? dir : ".", name))
			continue;
		fd = try_open(buf, s);
		if (fd >= 0 && !(*path = strdup(buf))) {
			close(fd);
			fd = -1;
			break;
		}
	}
	free(exp);
	return fd;
}

/*
 * The search of glibc's ld.so for a name without a slash:
 *  1. DT_RPATH of the loader (only when it has no DT_RUNPATH);
 *  2. LD_LIBRARY_PATH, unless the process is set-id;
 *  3. DT_RUNPATH of the loader;
 *  4. the namespace's library_path (kdl's addition);
 *  5. /etc/ld.so.cache;
 *  6. the default directories.
 * An isolated namespace skips every file outside its paths (judged by
 * the canonical path of the file opened, so no link leads out) and,
 * when nothing else is found, names the first it refused.
 * Returns an open fd with *path set, or -1 with the error set.
 */
int kdl_search(const char *name, const struct kdl_obj *loader, struct kdl_ns *ns, char **path,
	       struct kdl_head *head)
{
	const char *origin = loader ? loader->origin : NULL;
	struct search s = { .ns = ns, .head = head };
	const char *c;
	int fd;

	*path = NULL;
	if (head)
		head->len = 0;
	if (strchr(name, '/')) {
		char *exp = kdl_expand_dst(name, origin);

		if (!exp) {
			kdl_set_error("%s: cannot expand", name);
			return -1;
		}
		/* An explicit path is taken as is: the intake names what is wrong. */
		fd = open(exp, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			kdl_set_error("%s: cannot open: %s", exp, strerror(errno));
			free(exp);
			return -1;
		}
		if (!permitted(&s, fd, exp)) {
			kdl_ns_refuse(ns, loader ? loader->name : name, s.refused);
			close(fd);
			free(exp);
			return -1;
		}
		*path = exp;
		return fd;
	}
	if (loader && loader->rpath && (fd = try_list(loader->rpath, name, origin, path, &s)) >= 0)
		return fd;
	if (!getauxval(AT_SECURE) &&
	    (fd = try_list(getenv("LD_LIBRARY_PATH"), name, origin, path, &s)) >= 0)
		return fd;
	if (loader && loader->runpath && (fd = try_list(loader->runpath, name, origin, path, &s)) >= 0)
		return fd;
	if (ns && ns->library_path && (fd = try_list(ns->library_path, name, origin, path, &s)) >= 0)
		return fd;
	c = kdl_ldcache_find(name);
	if (c && (fd = try_open(c, &s)) >= 0) {
		if (!(*path = strdup(c))) {
			close(fd);
			return -1;
		}
		return fd;
	}
	for (size_t i = 0; i < sizeof(default_dirs) / sizeof(default_dirs[0]); i++)
		if ((fd = try_list(default_dirs[i], name, NULL, path, &s)) >= 0)
			return fd;
	if (s.refused[0]) {
		char what[PATH_MAX + 64];

		snprintf(what, sizeof(what), "%s%s%s", name, loader ? " needed by " : "",
			 loader ? loader->name : "");
		kdl_ns_refuse(ns, what, s.refused);
	} else if (loader) {
		kdl_set_error("%s: cannot find %s (needed by %s)", name, name, loader->name);
	} else {
		kdl_set_error("%s: cannot find the library in LD_LIBRARY_PATH, ld.so.cache or the default directories",
			      name);
	}
	return -1;
}

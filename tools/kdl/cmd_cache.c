/* cmd_cache.c - "kdl cache build|list|verify|clear|dir [--system]": the
 * relocation cache's entries (Documentation/reloc-cache.md, kdl(1)).
 *
 * build loads each library in a child process of its own, so one
 * library's objects never change another's scope, then loads it again
 * in a second child that only reads the cache, to tell what the next
 * process gets.  The other subcommands read the directory with the
 * checks of lib/cache_entry.c, which this tool links. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kdl.h"
#include "cli.h"
#include "../../lib/cache_entry.h"

#define PAGE 4096ULL
#define LIBKDL_SONAME "libkdl.so.0"

enum status { ST_OK, ST_STALE, ST_CORRUPT, ST_FOREIGN, ST_TEMP };

static const char *const status_names[] = {
	[ST_OK] = "ok", [ST_STALE] = "stale", [ST_CORRUPT] = "corrupt",
	[ST_FOREIGN] = "foreign", [ST_TEMP] = "temp",
};

/* What list and verify found for one name of the directory. */
struct finding {
	enum status st;
	const char *why;	/* NULL for ok and temp */
	bool opened;		/* ce holds the entry */
	struct kdl_ce ce;
	struct kdl_ce_key key;
	dev_t dev;
	ino_t ino;
};

static int usage(void)
{
	fprintf(stderr, "usage: kdl cache build [--system] LIB...\n"
			"       kdl cache list|verify|clear|dir [--system]\n");
	return 2;
}

/* The directory a subcommand works on; NULL after a message. */
static const char *cache_dir(bool system)
{
	const char *dir = kdl_ce_dir(system ? KDL_CE_SYSTEM : KDL_CE_USER);

	if (!dir)
		fprintf(stderr, "kdl cache: no user cache directory: set KDL_CACHE_DIR, "
				"XDG_CACHE_HOME or HOME\n");
	return dir;
}

/* ---- the directory's names ---- */

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The entry and temp names in @dir, sorted: 0, -1 after a message.  A
 * missing directory has none. */
static int scan(const char *dir, char ***out, size_t *count)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	*out = NULL;
	*count = 0;
	if (!d) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "kdl cache: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (!kdl_ce_is_name(de->d_name) && !kdl_ce_is_temp_name(de->d_name))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nn = realloc(names, nc * sizeof(*nn));

			if (!nn)
				goto oom;
			names = nn;
			cap = nc;
		}
		if (!(names[n] = strdup(de->d_name)))
			goto oom;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), compare_names);
	*out = names;
	*count = n;
	return 0;
oom:
	closedir(d);
	free_names(names, n);
	fprintf(stderr, "kdl cache: out of memory\n");
	return -1;
}

/* Whether the loader reads @dir at all; says so when it does not. */
static bool dir_trusted(const char *dir, bool system)
{
	const char *why;

	if (kdl_ce_dir_ok(dir, system, &why))
		return true;
	if (strcmp(why, "no such directory"))
		fprintf(stderr, "kdl cache: warning: %s: %s: kdl ignores its entries\n", dir, why);
	return false;
}

/* ---- list and verify ---- */

/* The file an entry's object was mapped from: its path, or for a
 * container entry (ZIP!/ENTRY) the zip's. */
static int stat_object(const char *path, struct stat *st)
{
	const char *bang = strstr(path, "!/");
	char zip[PATH_MAX];

	if (!stat(path, st))
		return 0;
	if (!bang || (size_t)(bang - path) >= sizeof(zip))
		return -1;
	memcpy(zip, path, bang - path);
	zip[bang - path] = 0;
	return stat(zip, st);
}

/* The path of the libkdl this tool runs with, by its link map: the
 * address of kdl_open may be a PLT stub of the executable's. */
static const char *libkdl_path(void)
{
	static char path[PATH_MAX];
	void *h = dlopen(LIBKDL_SONAME, RTLD_LAZY | RTLD_NOLOAD);
	struct link_map *lm = NULL;
	Dl_info info;

	if (h && !dlinfo(h, RTLD_DI_LINKMAP, &lm) && lm && lm->l_name[0] == '/')
		snprintf(path, sizeof(path), "%s", lm->l_name);
	else if (dladdr((void *)kdl_open, &info) && info.dli_fname)
		snprintf(path, sizeof(path), "%s", info.dli_fname);
	if (h)
		dlclose(h);
	return path[0] == '/' ? path : NULL;
}

/* libkdl's own file as the loader names it in every key it makes. */
static const struct kdl_ce_id *libkdl_id(void)
{
	static struct kdl_ce_id id;
	static int known;	/* 0 not looked up, 1 found, -1 unknown */
	const char *path;
	struct stat st;

	if (!known) {
		void *h = dlopen(LIBKDL_SONAME, RTLD_LAZY | RTLD_NOLOAD);
		void *in_kdl = h ? dlsym(h, "kdl_open") : NULL;

		known = -1;
		/* As libkdl names itself: by build-id, else by its file. */
		if (in_kdl && kdl_ce_self_id(in_kdl, &id))
			known = 1;
		else if ((path = libkdl_path()) && !stat(path, &st)) {
			kdl_ce_id_from_stat(&id, &st, 0);
			known = 1;
		}
		if (h)
			dlclose(h);
	}
	return known > 0 ? &id : NULL;
}

/* Why the entry can no longer be used although it is intact. */
static const char *why_stale(const struct finding *f)
{
	const struct kdl_ce_id *kdl = libkdl_id();
	struct kdl_ce_id now;
	struct stat st;

	if (!f->ce.path[0] || stat_object(f->ce.path, &st))
		return "object file gone";
	kdl_ce_id_from_stat(&now, &st, f->key.id.offset);
	if (now.dev != f->key.id.dev || now.ino != f->key.id.ino)
		return "object file replaced";
	if (memcmp(&now, &f->key.id, sizeof(now)))
		return "object file modified";
	if (kdl && memcmp(kdl, &f->key.kdl, sizeof(*kdl)))
		return "written by another libkdl";
	return NULL;
}

/* The checks past kdl_ce_open: the key's shape, and that @name is one
 * of the two names the loader gives the entry (its key's digest, or
 * its key's and scope's). */
static const char *why_corrupt(struct finding *f, const char *name, bool hash)
{
	char want[KDL_CE_NAME_LEN + 1], alt[KDL_CE_NAME_LEN + 1];
	uint64_t h;

	if (f->ce.h.key_len != sizeof(f->key))
		return "key of an unknown size";
	memcpy(&f->key, f->ce.key, sizeof(f->key));
	if (f->key.version != KDL_CE_VERSION)
		return "key of another version";
	if (f->key.base != f->ce.h.base)
		return "base differs from its key's";
	kdl_ce_name(f->ce.key, f->ce.h.key_len, NULL, 0, want);
	kdl_ce_name(f->ce.key, f->ce.h.key_len, f->ce.scope, f->ce.h.scope_len, alt);
	if (strcmp(name, want) && strcmp(name, alt))
		return "file name is not its key's";
	if (hash && kdl_ce_file_data_hash(&f->ce, &h))
		return "cannot read its pages";
	if (hash && h != f->ce.h.data_hash)
		return "checksum mismatch in its pages";
	return NULL;
}

/* Classify @name of @dir; the caller closes f->ce when f->opened. */
static void examine(const char *dir, bool system, const char *name, bool hash, struct finding *f)
{
	char path[PATH_MAX];
	struct stat st;

	memset(f, 0, sizeof(*f));
	f->ce.fd = -1;
	if (kdl_ce_is_temp_name(name)) {
		f->st = ST_TEMP;
		return;
	}
	f->st = ST_FOREIGN;
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    lstat(path, &st)) {
		f->st = ST_CORRUPT;
		f->why = "cannot stat";
		return;
	}
	if (S_ISLNK(st.st_mode)) {
		f->why = "a symbolic link (not followed)";
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		f->why = "not a regular file";
		return;
	}
	if ((f->why = kdl_ce_untrusted(&st, system)))
		return;
	f->st = ST_CORRUPT;
	if (kdl_ce_open(dir, system, name, NULL, 0, &f->ce, &f->why))
		return;
	f->opened = true;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	if ((f->why = why_corrupt(f, name, hash)))
		return;
	f->st = (f->why = why_stale(f)) ? ST_STALE : ST_OK;
}

/* The earlier name of the same file, when the entry has two. */
static const char *other_name(const struct finding *f, char **names, const struct finding *seen,
			      size_t i)
{
	for (size_t j = 0; f->opened && j < i; j++)
		if (seen[j].opened && seen[j].dev == f->dev && seen[j].ino == f->ino)
			return names[j];
	return NULL;
}

/* NAME STATUS [base B pages P fixups F OBJECT] [(WHY)] */
static void print_finding(const char *name, const struct finding *f, const char *same)
{
	printf("%-32s  %s", name, status_names[f->st]);
	if (f->opened || f->why)
		printf("%*s", 7 - (int)strlen(status_names[f->st]), "");
	if (f->opened)
		printf("  base 0x%llx  pages %llu  fixups %u  %s", (unsigned long long)f->ce.h.base,
		       (unsigned long long)(f->ce.h.data_len / PAGE), f->ce.h.nfix,
		       f->ce.path[0] ? f->ce.path : "?");
	if (f->why)
		printf(f->opened ? " (%s)" : "  %s", f->why);
	if (same)
		printf("  [same file as %s]", same);
	putchar('\n');
}

/* list and verify: 0 when every entry is ok (or @hash is off), else 1;
 * -1 when the directory cannot be read. */
static int examine_dir(const char *dir, bool system, bool hash)
{
	bool trusted = dir_trusted(dir, system);
	struct finding *seen;
	size_t n, bad = 0, entries = 0;
	char **names;

	if (scan(dir, &names, &n))
		return -1;
	seen = calloc(n ? n : 1, sizeof(*seen));
	if (!seen) {
		free_names(names, n);
		fprintf(stderr, "kdl cache: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct finding *f = &seen[i];

		examine(dir, system, names[i], hash, f);
		print_finding(names[i], f, other_name(f, names, seen, i));
		kdl_ce_close(&f->ce);
		entries += f->st != ST_TEMP;
		bad += f->st != ST_TEMP && f->st != ST_OK;
	}
	free(seen);
	free_names(names, n);
	if (hash)
		printf("%zu entries, %zu not ok%s\n", entries, bad,
		       trusted || !entries ? "" : " (and the directory is not trusted)");
	return bad || (entries && !trusted) ? 1 : 0;
}

static int cache_list(const char *dir, bool system)
{
	return examine_dir(dir, system, false) < 0 ? 1 : 0;
}

static int cache_verify(const char *dir, bool system)
{
	return examine_dir(dir, system, true) ? 1 : 0;
}

/* ---- clear ---- */

/* Removes entries and temp files by name, relative to the directory:
 * unlinkat() removes a symlink itself, never what it points to, and
 * anything not named as an entry is left alone. */
static int cache_clear(const char *dir)
{
	size_t n, entries = 0, temps = 0, kept = 0;
	int dfd, rc = 0;
	char **names;
	struct stat st;

	if (scan(dir, &names, &n))
		return 1;
	if (!n) {
		printf("%s: removed 0 entries, 0 temp files\n", dir);
		return 0;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		fprintf(stderr, "kdl cache clear: %s: %s\n", dir, strerror(errno));
		free_names(names, n);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) || S_ISDIR(st.st_mode)) {
			kept++;
			continue;
		}
		if (unlinkat(dfd, names[i], 0)) {
			fprintf(stderr, "kdl cache clear: %s/%s: %s\n", dir, names[i], strerror(errno));
			rc = 1;
			continue;
		}
		if (kdl_ce_is_temp_name(names[i]))
			temps++;
		else
			entries++;
	}
	close(dfd);
	free_names(names, n);
	printf("%s: removed %zu entr%s, %zu temp file%s", dir, entries, entries == 1 ? "y" : "ies",
	       temps, temps == 1 ? "" : "s");
	if (kept)
		printf(" (%zu not files, left alone)", kept);
	putchar('\n');
	return rc;
}

/* ---- build ---- */

/* @h and the objects kdl loaded for it, each once, with what the cache
 * gave it; the process's own objects are never cached and not shown. */
static void report_tree(void *h, struct kdl_seen *s)
{
	const char *file = "?";
	int sys = 0, cached = 0;
	size_t n = 0;

	if (!h || kdl_seen(s, h))
		return;
	if (kdl_info(h, KDL_INFO_SYSTEM, &sys) || sys)
		return;
	kdl_info(h, KDL_INFO_FILE, &file);
	kdl_info(h, KDL_INFO_CACHED, &cached);
	printf("  %s: %s\n", file, cached ? "cached" :
	       "not cached (KDL_CACHE_LOG=1 tells why; an object of fewer than\n"
	       "    KDL_CACHE_MIN_PAGES writable pages is relocated in each process)");
	kdl_info(h, KDL_INFO_NDEPS, &n);
	for (size_t i = 0; i < n; i++) {
		struct kdl_info_dep d = { .index = i };

		if (!kdl_info(h, KDL_INFO_DEP, &d))
			report_tree(d.handle, s);
	}
}

/* In the child: load @lib (and, when @report, tell what came from the
 * cache).  The exit status. */
static int child_load(const char *lib, bool report)
{
	static struct kdl_seen s;
	const char *file = "?";
	void *h = kdl_open(lib, RTLD_NOW, NULL);
	int sys = 0;

	if (!h) {
		fprintf(stderr, "kdl cache build: %s\n", kdl_error());
		return 1;
	}
	if (report) {
		printf("%s\n", lib);
		kdl_info(h, KDL_INFO_SYSTEM, &sys);
		kdl_info(h, KDL_INFO_FILE, &file);
		if (sys)
			printf("  %s: the process's own copy, not loaded by kdl (never cached)\n",
			       file);
		report_tree(h, &s);
	}
	return 0;
}

/* Load @lib in a child with KDL_CACHE=@mode (and KDL_CACHE_DIR=@dir
 * unless NULL); 0 when it loaded. */
static int load_in_child(const char *lib, const char *mode, const char *dir, bool report)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "kdl cache build: fork: %s\n", strerror(errno));
		return -1;
	}
	if (!pid) {
		int rc;

		if (setenv("KDL_CACHE", mode, 1) || (dir && setenv("KDL_CACHE_DIR", dir, 1)))
			_exit(1);
		rc = child_load(lib, report);
		fflush(NULL);
		/* Not exit(): the library's destructors and atexit handlers
		 * are no business of the cache. */
		_exit(rc);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(status))
		fprintf(stderr, "kdl cache build: %s: the loading process died of signal %d\n", lib,
			WTERMSIG(status));
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

/* The directory build writes (NULL after a message), and for --system
 * what the children's KDL_CACHE_DIR must say. */
static const char *build_dir(bool system, const char **child_dir)
{
	const char *dir = cache_dir(system), *why;
	struct stat st;

	*child_dir = NULL;
	if (!dir)
		return NULL;
	if (system) {
		if (geteuid()) {
			fprintf(stderr, "kdl cache build --system: only root may write the system "
					"cache (%s)\n", dir);
			return NULL;
		}
		if (kdl_ce_make_dir(dir, 0755)) {
			fprintf(stderr, "kdl cache build: %s: %s\n", dir, strerror(errno));
			return NULL;
		}
		*child_dir = dir;
	} else if (lstat(dir, &st)) {
		return dir;	/* the loader makes it, 0700 */
	}
	if (!kdl_ce_dir_ok(dir, system, &why)) {
		fprintf(stderr, "kdl cache build: %s: %s: kdl would neither read nor write it\n",
			dir, why);
		return NULL;
	}
	return dir;
}

static int cache_build(bool system, char **libs, int nlibs)
{
	const char *child_dir, *dir;
	int failed = 0;

	if (!nlibs)
		return usage();
	if (!(dir = build_dir(system, &child_dir)))
		return 1;
	for (int i = 0; i < nlibs; i++) {
		if (load_in_child(libs[i], "1", child_dir, false) ||
		    load_in_child(libs[i], "ro", child_dir, true))
			failed = 1;
	}
	return failed;
}

/* ---- dispatch ---- */

int cmd_cache(int argc, char **argv)
{
	const char *sub, *dir;
	bool system = false;
	int i = 2;

	if (argc < 2)
		return usage();
	sub = argv[1];
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--system"))
			return usage();
		system = true;
	}
	if (!strcmp(sub, "build"))
		return cache_build(system, argv + i, argc - i);
	if (i != argc)
		return usage();
	if (strcmp(sub, "list") && strcmp(sub, "verify") && strcmp(sub, "clear") &&
	    strcmp(sub, "dir"))
		return usage();
	if (!(dir = cache_dir(system)))
		return 1;
	if (!strcmp(sub, "dir"))
		return printf("%s\n", dir) < 0;
	if (!strcmp(sub, "list"))
		return cache_list(dir, system);
	if (!strcmp(sub, "verify"))
		return cache_verify(dir, system);
	return cache_clear(dir);
}

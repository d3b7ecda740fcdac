/*
 * reloc_cache_test.c - the relocation cache (Documentation/reloc-cache.md)
 * seen from fresh processes: an entry is used by the next process and
 * gives what a full relocation gives; a stale, corrupted, truncated or
 * foreign entry is never used and the load still succeeds; a taken base
 * falls back.  Each probe is a forked child that has not loaded anything
 * with kdl yet, with its own KDL_CACHE and KDL_CACHE_DIR.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <dirent.h>
#include <elf.h>

#include "kdl_test.h"
#include "../../lib/cache_entry.h"

#define PAGE 4096UL

struct probe_args {
	const char *lib;		/* path */
	const char *mode;		/* KDL_CACHE */
	const char *glibc_first;	/* dlopen()ed by glibc before kdl_open */
	uintptr_t squat;		/* mapped before kdl_open */
	const struct kdl_load_args *args;
	bool in_ns;			/* into a namespace of its own */
};

struct probe {
	int ok;
	char err[256];
	int cached, dep_cached;
	uintptr_t start, end, dep_start;
	int relative, self, dep, proc, weak_null, weak, libc_ok, tls, ifunc;
	unsigned long anon_kb;		/* Anonymous of [start, end): the
					   process's own copies of pages */
};

static unsigned long anonymous_kb(uintptr_t lo, uintptr_t hi)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	unsigned long s, e, kb, sum = 0;
	int in = 0;

	if (!f)
		return ~0ul;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2)
			in = s < hi && e > lo;
		else if (in && sscanf(line, "Anonymous: %lu kB", &kb) == 1)
			sum += kb;
	}
	fclose(f);
	return sum;
}

static void *dep_handle(void *h, const char *needed)
{
	size_t n = 0;

	kdl_info(h, KDL_INFO_NDEPS, &n);
	for (size_t i = 0; i < n; i++) {
		struct kdl_info_dep d = { .index = i };

		if (!kdl_info(h, KDL_INFO_DEP, &d) && !strcmp(d.needed, needed))
			return d.handle;
	}
	return NULL;
}

static void probe_child(const char *cache, const struct probe_args *a, struct probe *p)
{
	void *h, *d;
	int **ip;

	setenv("KDL_CACHE_DIR", cache, 1);
	setenv("KDL_CACHE", a->mode ? a->mode : "1", 1);
	if (a->glibc_first && !dlopen(a->glibc_first, RTLD_NOW | RTLD_GLOBAL)) {
		snprintf(p->err, sizeof(p->err), "dlopen: %s", dlerror());
		return;
	}
	if (a->squat && mmap((void *)a->squat, PAGE, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED) {
		snprintf(p->err, sizeof(p->err), "squat: %m");
		return;
	}
	if (a->in_ns) {
		struct kdl_ns_config cfg = { .size = sizeof(cfg), .name = "cache-test" };
		static struct kdl_load_args ns_args = { .size = sizeof(ns_args) };

		if (a->args)
			ns_args = *a->args;
		ns_args.ns = kdl_ns_create(&cfg);
		if (!ns_args.ns) {
			snprintf(p->err, sizeof(p->err), "kdl_ns_create: %s", kdl_error());
			return;
		}
		h = kdl_open(a->lib, RTLD_NOW, &ns_args);
	} else {
		h = kdl_open(a->lib, RTLD_NOW, a->args);
	}
	if (!h) {
		snprintf(p->err, sizeof(p->err), "kdl_open: %s", kdl_error());
		return;
	}
	uintptr_t r[2];
	kdl_info(h, KDL_INFO_RANGE, r);
	p->start = r[0];
	p->end = r[1];
	kdl_info(h, KDL_INFO_CACHED, &p->cached);
	d = dep_handle(h, "libfx_cache_dep.so");
	if (d) {
		kdl_info(d, KDL_INFO_CACHED, &p->dep_cached);
		kdl_info(d, KDL_INFO_RANGE, r);
		p->dep_start = r[0];
	}
	p->anon_kb = anonymous_kb(r[0], r[1]);
	if ((ip = kdl_sym(h, "fx_cache_relative"))) {
		p->relative = **ip;
		p->self = **(int **)kdl_sym(h, "fx_cache_self");
		p->dep = **(int **)kdl_sym(h, "fx_cache_dep");
		p->proc = **(int **)kdl_sym(h, "fx_cache_proc");
		p->weak_null = *(int **)kdl_sym(h, "fx_cache_weak") == NULL;
		p->weak = p->weak_null ? 0 : **(int **)kdl_sym(h, "fx_cache_weak");
		p->libc_ok = *(void **)kdl_sym(h, "fx_cache_libc") == (void *)strlen;
		p->tls = ((int (*)(void))kdl_sym(h, "fx_cache_tls_value"))();
		p->ifunc = (*(int (**)(void))kdl_sym(h, "fx_cache_ifunc_ptr"))();
	}
	p->ok = 1;
}

static struct probe run_probe(const char *cache, const struct probe_args *a)
{
	struct probe p = { 0 };
	int fd[2];
	pid_t pid;

	if (pipe(fd))
		abort();
	pid = fork();
	if (pid == 0) {
		close(fd[0]);
		probe_child(cache, a, &p);
		if (write(fd[1], &p, sizeof(p)) != sizeof(p))
			_exit(2);
		_exit(0);
	}
	close(fd[1]);
	if (read(fd[0], &p, sizeof(p)) != sizeof(p))
		snprintf(p.err, sizeof(p.err), "probe child died");
	close(fd[0]);
	waitpid(pid, NULL, 0);
	return p;
}

static void copy_file(const char *from, const char *to)
{
	char tmp[PATH_MAX], buf[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	snprintf(tmp, sizeof(tmp), "%s.new", to);
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (in < 0 || out < 0)
		abort();
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			abort();
	close(in);
	close(out);
	if (rename(tmp, to))
		abort();
}

FIXTURE(cache) {
	char dir[64];		/* the libraries, copied */
	char cache[96];		/* KDL_CACHE_DIR */
	char lib[128], dep[128], proc[128];
	struct probe_args a;
};

FIXTURE_SETUP(cache)
{
	if (KDL_TEST_GLIBC)
		SKIP(return, "kdl only");
	/* The fixtures' dependencies have two writable pages: cached here
	 * too, as these tests are about entries (but the one on the
	 * threshold, which sets its own). */
	setenv("KDL_CACHE_MIN_PAGES", "1", 1);
	strcpy(self->dir, "/tmp/kdl-cache-test-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->cache, sizeof(self->cache), "%s/cache", self->dir);
	snprintf(self->lib, sizeof(self->lib), "%s/libfx_cache.so", self->dir);
	snprintf(self->dep, sizeof(self->dep), "%s/libfx_cache_dep.so", self->dir);
	snprintf(self->proc, sizeof(self->proc), "%s/libfx_cache_proc.so", self->dir);
	copy_file(fx_path("cache/v1/libfx_cache.so"), self->lib);
	copy_file(fx_path("cache/v1/libfx_cache_dep.so"), self->dep);
	copy_file(fx_path("cache/v1/libfx_cache_proc.so"), self->proc);
	self->a = (struct probe_args){ .lib = self->lib };
}

FIXTURE_TEARDOWN(cache)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (self->dir[0] && system(cmd))
		TH_LOG("cannot remove %s", self->dir);
}

/* What v1 (or v2 for the parts a test replaced) must read as. */
#define EXPECT_VALUES(p, lib_v, dep_v, proc_v) do {			\
	ASSERT_TRUE((p).ok) TH_LOG("%s", (p).err);			\
	EXPECT_EQ(lib_v, (p).relative);					\
	EXPECT_EQ((lib_v) * 10, (p).self);				\
	EXPECT_EQ(dep_v, (p).dep);					\
	EXPECT_EQ((proc_v) * 100, (p).proc);				\
	EXPECT_TRUE((p).weak_null);					\
	EXPECT_TRUE((p).libc_ok);					\
	EXPECT_EQ((lib_v) + 1, (p).tls);				\
	EXPECT_EQ(42, (p).ifunc);					\
} while (0)

/* Objects with entries: an entry has two names (its object's and its
 * scope's), and racing builders may leave them on two files, both
 * valid -- so entries are counted by the object they are for. */
static int count_entries(const char *dir, int *tmp)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t seen[64];
	int n = 0;

	if (tmp)
		*tmp = 0;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		struct kdl_ce_header h;
		int known = 0, fd;

		if (strlen(e->d_name) != KDL_CE_NAME_LEN) {
			if (tmp && strstr(e->d_name, ".tmp"))
				(*tmp)++;
			continue;
		}
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW);
		if (fd < 0 || pread(fd, &h, sizeof(h), 0) != sizeof(h)) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		close(fd);
		for (int i = 0; i < n; i++)
			known |= seen[i] == h.base;
		if (!known && n < 64)
			seen[n++] = h.base;
	}
	closedir(d);
	return n;
}

/* The path of the entry whose object starts at @base. */
static int entry_of(const char *dir, uintptr_t base, char *out, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	while (d && (e = readdir(d))) {
		struct kdl_ce_header h;
		int fd;

		if (strlen(e->d_name) != KDL_CE_NAME_LEN)
			continue;
		snprintf(out, len, "%s/%s", dir, e->d_name);
		fd = open(out, O_RDONLY | O_NOFOLLOW);
		if (fd >= 0 && pread(fd, &h, sizeof(h), 0) == sizeof(h) && h.base == base)
			found = 1;
		if (fd >= 0)
			close(fd);
		if (found)
			break;
	}
	if (d)
		closedir(d);
	return found ? 0 : -1;
}

static void poke(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	unsigned char c;

	if (fd < 0 || pread(fd, &c, 1, off) != 1)
		abort();
	c ^= 0x5a;
	if (pwrite(fd, &c, 1, off) != 1)
		abort();
	close(fd);
}

static struct kdl_ce_header header_of(const char *path)
{
	struct kdl_ce_header h = { 0 };
	int fd = open(path, O_RDONLY);

	if (fd < 0 || pread(fd, &h, sizeof(h), 0) != sizeof(h))
		abort();
	close(fd);
	return h;
}

static uint64_t data_start(const char *path)
{
	return header_of(path).data_start;
}

TEST_F(cache, the_next_process_maps_the_entry_and_reads_the_same)
{
	struct probe p1 = run_probe(self->cache, &self->a), p2, p3, off;

	EXPECT_VALUES(p1, 1, 1, 1);
	EXPECT_FALSE(p1.cached);
	EXPECT_EQ(3, count_entries(self->cache, NULL));	/* lib, dep, proc */
	p2 = run_probe(self->cache, &self->a);
	EXPECT_VALUES(p2, 1, 1, 1);
	EXPECT_TRUE(p2.cached);
	EXPECT_TRUE(p2.dep_cached);
	EXPECT_EQ(p1.start, p2.start);
	/* Negative control: KDL_CACHE=0 never maps the entry. */
	self->a.mode = "0";
	off = run_probe(self->cache, &self->a);
	EXPECT_VALUES(off, 1, 1, 1);
	EXPECT_FALSE(off.cached);
	EXPECT_NE(p1.start, off.start);
	self->a.mode = "ro";
	p3 = run_probe(self->cache, &self->a);
	EXPECT_TRUE(p3.cached);
	EXPECT_VALUES(p3, 1, 1, 1);
}

/* The entries of a load, by base: the object's .dynsym count (its
 * section header, which the loader never reads) and the entry's. */
static size_t dynsym_count(const char *path)
{
	int fd = open(path, O_RDONLY);
	Elf64_Ehdr eh;
	Elf64_Shdr sh;
	size_t n = 0;

	if (fd < 0 || pread(fd, &eh, sizeof(eh), 0) != sizeof(eh))
		abort();
	for (unsigned int i = 0; i < eh.e_shnum; i++)
		if (pread(fd, &sh, sizeof(sh), eh.e_shoff + i * sizeof(sh)) == sizeof(sh) &&
		    sh.sh_type == SHT_DYNSYM)
			n = sh.sh_size / sizeof(Elf64_Sym);
	close(fd);
	return n;
}

/* An entry saves the next process the walk over the hash buckets that
 * counts the symbols: the count it records is the symbol table's. */
TEST_F(cache, an_entry_records_the_objects_symbol_count)
{
	const char *libs[] = { self->lib, "/lib/x86_64-linux-gnu/libcrypto.so.3" };

	for (size_t i = 0; i < 2; i++) {
		struct probe_args a = { .lib = libs[i] };
		struct probe p;
		struct kdl_ce_header h;
		char entry[PATH_MAX];

		if (access(libs[i], R_OK))
			continue;
		p = run_probe(self->cache, &a);
		ASSERT_TRUE(p.ok) TH_LOG("%s", p.err);
		ASSERT_EQ(0, entry_of(self->cache, p.start, entry, sizeof(entry)));
		h = header_of(entry);
		EXPECT_NE(0, h.nsyms);
		EXPECT_EQ(dynsym_count(libs[i]), h.nsyms) TH_LOG("%s", libs[i]);
		p = run_probe(self->cache, &a);
		EXPECT_TRUE(p.cached);
	}
}

TEST_F(cache, ro_uses_entries_but_never_writes_them)
{
	struct probe p;
	int tmp;

	self->a.mode = "ro";
	p = run_probe(self->cache, &self->a);
	EXPECT_VALUES(p, 1, 1, 1);
	EXPECT_FALSE(p.cached);
	EXPECT_EQ(0, count_entries(self->cache, &tmp));
	EXPECT_EQ(0, tmp);
	/* With no entry to map or write, no preferred base either: the
	 * object keeps the address mmap picks (ASLR as usual), not the one
	 * a process that may write gets. */
	self->a.mode = "1";
	EXPECT_NE(run_probe(self->cache, &self->a).start, p.start);
}

TEST_F(cache, a_rebuilt_object_is_never_used)
{
	struct probe p;
	struct stat st;
	struct timespec ts[2];

	run_probe(self->cache, &self->a);
	copy_file(fx_path("cache/v2/libfx_cache.so"), self->lib);
	p = run_probe(self->cache, &self->a);
	EXPECT_FALSE(p.cached);
	EXPECT_VALUES(p, 2, 1, 1);
	/* Rewritten in place with its own bytes, its mtime put back: only
	 * the ctime tells, and it is enough. */
	p = run_probe(self->cache, &self->a);
	ASSERT_TRUE(p.cached);
	ASSERT_EQ(0, stat(self->lib, &st));
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	{
		int in = open(fx_path("cache/v2/libfx_cache.so"), O_RDONLY);
		int out = open(self->lib, O_WRONLY);
		char buf[65536];
		ssize_t n;

		ASSERT_GE(in, 0);
		ASSERT_GE(out, 0);
		while ((n = read(in, buf, sizeof(buf))) > 0)
			ASSERT_EQ(n, write(out, buf, n));
		close(in);
		close(out);
	}
	ASSERT_EQ(0, utimensat(AT_FDCWD, self->lib, ts, 0));
	p = run_probe(self->cache, &self->a);
	EXPECT_FALSE(p.cached);
	EXPECT_VALUES(p, 2, 1, 1);
}

TEST_F(cache, a_replaced_dependency_makes_its_users_entry_stale)
{
	struct probe p;

	run_probe(self->cache, &self->a);
	copy_file(fx_path("cache/v2/libfx_cache_dep.so"), self->dep);
	p = run_probe(self->cache, &self->a);
	EXPECT_FALSE(p.cached);
	EXPECT_FALSE(p.dep_cached);
	EXPECT_VALUES(p, 1, 2, 1);
	p = run_probe(self->cache, &self->a);
	EXPECT_TRUE(p.cached);
	EXPECT_VALUES(p, 1, 2, 1);
}

TEST_F(cache, a_process_object_at_another_version_makes_the_entry_stale)
{
	struct probe p;

	self->a.glibc_first = self->proc;
	run_probe(self->cache, &self->a);
	p = run_probe(self->cache, &self->a);
	EXPECT_TRUE(p.cached);
	EXPECT_VALUES(p, 1, 1, 1);
	copy_file(fx_path("cache/v2/libfx_cache_proc.so"), self->proc);
	p = run_probe(self->cache, &self->a);
	EXPECT_FALSE(p.cached);
	EXPECT_VALUES(p, 1, 1, 2);
}

/*
 * The entry bound fx_cache_proc_value into libfx_cache_proc, and left
 * fx_cache_missing undefined.  A later process has an object glibc loaded
 * just before that library, defining both: the lookup order finds it
 * first (glibc's would too), so the entry's pages serve but not those two
 * bindings.
 */
TEST_F(cache, a_process_object_searched_first_overrides_the_recorded_bindings)
{
	char interposer[160];
	struct probe p;

	snprintf(interposer, sizeof(interposer), "%s/libfx_cache_interpose.so", self->dir);
	copy_file(fx_path("cache/libfx_cache_interpose.so"), interposer);
	self->a.glibc_first = self->proc;
	run_probe(self->cache, &self->a);
	p = run_probe(self->cache, &self->a);
	EXPECT_TRUE(p.cached);
	EXPECT_VALUES(p, 1, 1, 1);
	self->a.glibc_first = interposer;
	p = run_probe(self->cache, &self->a);
	ASSERT_TRUE(p.ok) TH_LOG("%s", p.err);
	EXPECT_TRUE(p.cached);
	EXPECT_EQ(300, p.proc);
	EXPECT_FALSE(p.weak_null);
	EXPECT_EQ(7, p.weak);
	EXPECT_EQ(10, p.self);
	EXPECT_EQ(1, p.dep);
}

/* Each way an entry can go bad: ignored, the load as without it, and the
 * entry written again (a user cache repairs itself). */
static void spoil_and_probe(struct __test_metadata *_metadata, FIXTURE_DATA(cache) *self,
			    const char *what, void (*spoil)(const char *entry, const char *lib))
{
	struct probe p = run_probe(self->cache, &self->a);
	char entry[PATH_MAX];

	ASSERT_TRUE(p.ok);
	ASSERT_EQ(0, entry_of(self->cache, p.start, entry, sizeof(entry)));
	spoil(entry, self->lib);
	p = run_probe(self->cache, &self->a);
	EXPECT_FALSE(p.cached) TH_LOG("%s: the entry was used", what);
	EXPECT_VALUES(p, 1, 1, 1);
	p = run_probe(self->cache, &self->a);
	EXPECT_TRUE(p.cached) TH_LOG("%s: the entry was not rebuilt", what);
	EXPECT_VALUES(p, 1, 1, 1);
}

static void spoil_page(const char *e, const char *lib)
{
	(void)lib;
	poke(e, data_start(e) + 0x10);
}

static void spoil_table(const char *e, const char *lib)
{
	(void)lib;
	poke(e, sizeof(struct kdl_ce_header) + 3);
}

static void spoil_version(const char *e, const char *lib)
{
	(void)lib;
	poke(e, offsetof(struct kdl_ce_header, version));
}

static void spoil_truncate(const char *e, const char *lib)
{
	(void)lib;
	if (truncate(e, data_start(e) + PAGE - 1))
		abort();
}

static void spoil_owner(const char *e, const char *lib)
{
	(void)lib;
	if (chown(e, 65534, 65534))
		abort();
}

static void spoil_mode(const char *e, const char *lib)
{
	(void)lib;
	if (chmod(e, 0666))
		abort();
}

/* Every name of the entry becomes a symlink to a good copy of it. */
static void spoil_symlink(const char *e, const char *lib)
{
	char moved[PATH_MAX], dir[PATH_MAX], other[2 * PATH_MAX];
	struct stat want, st;
	DIR *d;
	struct dirent *de;

	snprintf(moved, sizeof(moved), "%s.moved", lib);
	snprintf(dir, sizeof(dir), "%s", e);
	*strrchr(dir, '/') = 0;
	if (stat(e, &want) || link(e, moved) || !(d = opendir(dir)))
		abort();
	while ((de = readdir(d))) {
		snprintf(other, sizeof(other), "%s/%s", dir, de->d_name);
		if (!lstat(other, &st) && S_ISREG(st.st_mode) && st.st_ino == want.st_ino &&
		    (unlink(other) || symlink(moved, other)))
			abort();
	}
	closedir(d);
}

TEST_F(cache, a_corrupted_page_is_ignored) { spoil_and_probe(_metadata, self, "page", spoil_page); }
TEST_F(cache, a_corrupted_table_is_ignored) { spoil_and_probe(_metadata, self, "table", spoil_table); }
TEST_F(cache, another_format_version_is_ignored) { spoil_and_probe(_metadata, self, "version", spoil_version); }
TEST_F(cache, a_truncated_entry_is_ignored) { spoil_and_probe(_metadata, self, "truncated", spoil_truncate); }
TEST_F(cache, another_users_entry_is_ignored) { spoil_and_probe(_metadata, self, "owner", spoil_owner); }
TEST_F(cache, a_world_writable_entry_is_ignored) { spoil_and_probe(_metadata, self, "mode", spoil_mode); }
TEST_F(cache, a_symlinked_entry_is_ignored) { spoil_and_probe(_metadata, self, "symlink", spoil_symlink); }

TEST_F(cache, a_group_writable_cache_directory_is_neither_read_nor_written)
{
	struct probe p = run_probe(self->cache, &self->a);
	char entry[PATH_MAX];
	struct stat st;

	ASSERT_EQ(0, entry_of(self->cache, p.start, entry, sizeof(entry)));
	ASSERT_EQ(0, stat(entry, &st));
	ASSERT_EQ(0, chmod(self->cache, 0770));
	ASSERT_EQ(0, unlink(entry));
	p = run_probe(self->cache, &self->a);
	EXPECT_VALUES(p, 1, 1, 1);
	EXPECT_FALSE(p.dep_cached);	/* its entry is there, unread */
	EXPECT_EQ(-1, access(entry, F_OK));
}

TEST_F(cache, a_taken_base_falls_back_to_a_normal_load)
{
	struct probe p = run_probe(self->cache, &self->a);

	self->a.squat = p.start + 2 * PAGE;
	p = run_probe(self->cache, &self->a);
	EXPECT_VALUES(p, 1, 1, 1);
	EXPECT_FALSE(p.cached);
	/* (Its dependency's entry does not hold either: the root comes
	 * first in its lookups, and the root moved.) */
	EXPECT_TRUE(p.start + 2 * PAGE < self->a.squat || p.start > self->a.squat);
	/* The next process without the squatter gets both entries back. */
	self->a.squat = 0;
	p = run_probe(self->cache, &self->a);
	EXPECT_TRUE(p.cached);
	EXPECT_TRUE(p.dep_cached);
	EXPECT_VALUES(p, 1, 1, 1);
}

TEST_F(cache, builders_racing_leave_valid_entries_and_no_temp_files)
{
	pid_t kids[4];
	struct probe p;
	int tmp;

	for (int i = 0; i < 4; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			p = run_probe(self->cache, &self->a);
			_exit(p.ok ? 0 : 1);
		}
	}
	for (int i = 0; i < 4; i++) {
		int st;

		waitpid(kids[i], &st, 0);
		EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	EXPECT_EQ(3, count_entries(self->cache, &tmp));
	EXPECT_EQ(0, tmp);
	p = run_probe(self->cache, &self->a);
	EXPECT_TRUE(p.cached);
	EXPECT_VALUES(p, 1, 1, 1);
}

TEST_F(cache, a_window_load_is_cached_inside_its_window)
{
	/* High enough for every sanitizer's layout (ASan's shadow gap, TSan's
	 * application ranges). */
	struct kdl_load_args args = { .size = sizeof(args), .flags = KDL_LOAD_WINDOW,
				      .window_lo = 0x7ea000000000ull, .window_hi = 0x7ea100000000ull };
	struct probe p1, p2;

	self->a.args = &args;
	p1 = run_probe(self->cache, &self->a);
	p2 = run_probe(self->cache, &self->a);
	EXPECT_VALUES(p2, 1, 1, 1);
	EXPECT_TRUE(p2.cached);
	EXPECT_EQ(p1.start, p2.start);
	EXPECT_GE(p2.start, args.window_lo);
	EXPECT_LE(p2.end, args.window_hi);
}

/*
 * KDL_CACHE_MIN_PAGES (default 4): the fixture (6 writable pages) is
 * cached, its dependency (2) is relocated in each process, at the address
 * mmap gives it -- and the fixture's entry still holds, its bindings into
 * the dependency applied again in each process.  The control: with the
 * threshold at 1 the dependency is cached too, at its preferred base.
 */
TEST_F(cache, a_small_dependency_is_relocated_in_each_process_and_its_users_entry_holds)
{
	struct probe first, small, placed;

	unsetenv("KDL_CACHE_MIN_PAGES");
	first = run_probe(self->cache, &self->a);
	ASSERT_TRUE(first.ok) TH_LOG("%s", first.err);
	/* Where the writer had the dependency is taken: a binding into it
	 * kept in the entry (not applied again) would read the wrong one. */
	self->a.mode = "ro";
	self->a.squat = first.dep_start;
	small = run_probe(self->cache, &self->a);
	self->a.squat = 0;
	ASSERT_TRUE(small.ok) TH_LOG("%s", small.err);
	EXPECT_NE(first.dep_start, small.dep_start);
	TH_LOG("dep at 0x%lx, then 0x%lx; root 0x%lx", first.dep_start, small.dep_start, small.start);
	EXPECT_VALUES(small, 1, 1, 1);
	EXPECT_TRUE(small.cached);
	EXPECT_FALSE(small.dep_cached);
	EXPECT_EQ(1, count_entries(self->cache, NULL));

	setenv("KDL_CACHE_MIN_PAGES", "1", 1);
	self->a.mode = "1";
	first = run_probe(self->cache, &self->a);
	self->a.mode = "ro";
	placed = run_probe(self->cache, &self->a);
	ASSERT_TRUE(first.ok && placed.ok) TH_LOG("%s%s", first.err, placed.err);
	EXPECT_VALUES(placed, 1, 1, 1);
	EXPECT_TRUE(placed.dep_cached);
	/* Siblings forked from one process get the same mmap addresses:
	 * what differs is the preferred base. */
	EXPECT_NE(small.dep_start, placed.dep_start);
}

TEST_F(cache, a_namespace_load_is_cached_for_its_scope)
{
	struct probe def, p1, p2;

	def = run_probe(self->cache, &self->a);
	self->a.in_ns = true;
	p1 = run_probe(self->cache, &self->a);
	EXPECT_VALUES(p1, 1, 1, 1);
	/* Another scope (an isolated namespace): not the default one's entry. */
	EXPECT_FALSE(p1.cached);
	p2 = run_probe(self->cache, &self->a);
	EXPECT_VALUES(p2, 1, 1, 1);
	EXPECT_TRUE(p2.cached);
	EXPECT_TRUE(p2.dep_cached);
	EXPECT_EQ(def.start, p2.start);
	/* Both scopes keep their entries. */
	self->a.in_ns = false;
	EXPECT_TRUE(run_probe(self->cache, &self->a).cached);
}

TEST_F(cache, no_cache_flag_neither_uses_nor_writes)
{
	struct kdl_load_args args = { .size = sizeof(args), .flags = KDL_LOAD_NO_CACHE };
	struct probe p;

	run_probe(self->cache, &self->a);
	self->a.args = &args;
	p = run_probe(self->cache, &self->a);
	EXPECT_VALUES(p, 1, 1, 1);
	EXPECT_FALSE(p.cached);
}

/*
 * The writable pages of a cached load (one process) and of a full
 * relocation at the same base (another) against the entry's own pages:
 * all three agree but for the words the entry zeroed -- its per-process
 * slots, which the two processes fill each with its own addresses.  The
 * @keep objects are opened first in both, at their preferred bases.
 */
struct dump {
	int ok, cached;
	char err[1024];
	uintptr_t start;
};

static void dump_child(const char *cache, const char *lib, const char *const *keep, bool full,
		       uintptr_t at, const char *out, struct dump *d)
{
	struct kdl_load_args fixed = { .size = sizeof(fixed), .fixed_addr = at,
				       .flags = KDL_LOAD_FIXED | KDL_LOAD_NO_CACHE };
	char entry[PATH_MAX];
	struct kdl_ce_header hd;
	struct kdl_ce_seg seg[KDL_CE_MAX_SEGS];
	uintptr_t r[2];
	size_t strs;
	void *h;
	int fd, ofd;

	setenv("KDL_CACHE_DIR", cache, 1);
	/* Why an object was not placed or not cached, for the message. */
	snprintf(entry, sizeof(entry), "%s/../dump.log", cache);
	setenv("KDL_CACHE_LOG", "1", 1);
	if (!freopen(entry, "w", stderr))
		abort();
	for (; keep && *keep; keep++)
		if (!kdl_open(*keep, RTLD_NOW, NULL)) {
			snprintf(d->err, sizeof(d->err), "keep: %s", kdl_error());
			return;
		}
	h = kdl_open(lib, RTLD_NOW, full ? &fixed : NULL);
	if (!h) {
		snprintf(d->err, sizeof(d->err), "open: %s", kdl_error());
		return;
	}
	kdl_info(h, KDL_INFO_CACHED, &d->cached);
	kdl_info(h, KDL_INFO_RANGE, r);
	d->start = r[0];
	if (entry_of(cache, r[0], entry, sizeof(entry)) || (fd = open(entry, O_RDONLY)) < 0 ||
	    pread(fd, &hd, sizeof(hd), 0) != sizeof(hd) || hd.nseg > KDL_CE_MAX_SEGS) {
		char log[4096] = "";
		FILE *f;

		fflush(stderr);
		snprintf(entry, sizeof(entry), "%s/../dump.log", cache);
		if ((f = fopen(entry, "r"))) {
			log[fread(log, 1, sizeof(log) - 1, f)] = 0;
			fclose(f);
		}
		snprintf(d->err, sizeof(d->err), "no entry at 0x%lx; KDL_CACHE_LOG: %.900s", r[0],
			 strlen(log) > 900 ? log + strlen(log) - 900 : log);
		return;
	}
	strs = hd.key_len + hd.scope_len + hd.path_len + 1;
	if (pread(fd, seg, hd.nseg * sizeof(seg[0]), sizeof(hd) + ((strs + 7) & ~7ul)) < 0)
		abort();
	close(fd);
	ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	for (uint32_t i = 0; i < hd.nseg; i++)
		if (pwrite(ofd, (void *)(r[0] + seg[i].vaddr), seg[i].len,
			   seg[i].off - hd.data_start) != (ssize_t)seg[i].len)
			abort();
	close(ofd);
	d->ok = 1;
}

static struct dump run_dump(const char *cache, const char *lib, const char *const *keep,
			    bool full, uintptr_t at, const char *out)
{
	struct dump d = { 0 };
	int fd[2];
	pid_t pid;

	if (pipe(fd))
		abort();
	if ((pid = fork()) == 0) {
		dump_child(cache, lib, keep, full, at, out, &d);
		_exit(write(fd[1], &d, sizeof(d)) == sizeof(d) ? 0 : 1);
	}
	close(fd[1]);
	if (read(fd[0], &d, sizeof(d)) != sizeof(d))
		strcpy(d.err, "dump child died");
	close(fd[0]);
	waitpid(pid, NULL, 0);
	return d;
}

static char *slurp(const char *path, size_t *n)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *b;

	if (fd < 0 || fstat(fd, &st))
		return NULL;
	b = malloc(st.st_size + 1);
	if (pread(fd, b, st.st_size, 0) != st.st_size)
		abort();
	close(fd);
	*n = st.st_size;
	return b;
}

static void compare(struct __test_metadata *_metadata, const char *cache, const char *lib,
		    const char *const *keep)
{
	struct probe_args a = { .lib = lib };
	struct probe p = run_probe(cache, &a);
	char fa[PATH_MAX], fb[PATH_MAX], entry[PATH_MAX];
	struct dump da, db;
	struct kdl_ce_header hd;
	size_t na, nb, ne, zeroed = 0, differ = 0;
	char *A, *B, *E;
	int fd;

	ASSERT_TRUE(p.ok) TH_LOG("%s", p.err);
	snprintf(fa, sizeof(fa), "%s/../cached.dump", cache);
	snprintf(fb, sizeof(fb), "%s/../full.dump", cache);
	da = run_dump(cache, lib, keep, false, 0, fa);
	ASSERT_TRUE(da.ok) TH_LOG("%s", da.err);
	ASSERT_TRUE(da.cached);
	db = run_dump(cache, lib, keep, true, da.start, fb);
	ASSERT_TRUE(db.ok) TH_LOG("%s", db.err);
	ASSERT_FALSE(db.cached);
	ASSERT_EQ(0, entry_of(cache, da.start, entry, sizeof(entry)));
	ASSERT_LE(0, fd = open(entry, O_RDONLY));
	ASSERT_EQ(sizeof(hd), pread(fd, &hd, sizeof(hd), 0));
	ne = hd.data_len;
	E = malloc(ne);
	ASSERT_EQ((ssize_t)ne, pread(fd, E, ne, hd.data_start));
	close(fd);
	A = slurp(fa, &na);
	B = slurp(fb, &nb);
	ASSERT_TRUE(A && B);
	ASSERT_EQ(ne, na);
	ASSERT_EQ(ne, nb);
	for (size_t i = 0; i + 8 <= ne; i += 8) {
		bool zero = !memcmp(E + i, "\0\0\0\0\0\0\0\0", 8);

		if (!memcmp(A + i, E + i, 8) && !memcmp(B + i, E + i, 8))
			continue;
		ASSERT_TRUE(zero) TH_LOG("%s: +0x%zx differs and is no per-process slot", lib, i);
		zeroed++;
		/* Both dumps come from children of this process: its objects
		 * lie at the same addresses, so a slot the entry's bindings
		 * filled holds what the full lookup wrote. */
		if (memcmp(A + i, B + i, 8)) {
			TH_LOG("%s: per-process slot +0x%zx: 0x%llx cached, 0x%llx relocated", lib, i,
			       *(unsigned long long *)(A + i), *(unsigned long long *)(B + i));
			differ++;
		}
	}
	EXPECT_EQ(0, differ);
	/* The process-bound slots at least (libc's strlen, say) differ. */
	EXPECT_LT(0, zeroed);
	EXPECT_GE(2 * hd.nfix, zeroed);
	TH_LOG("%s: %zu bytes, %zu per-process words of %u fixups", lib, ne, zeroed, hd.nfix);
	free(A);
	free(B);
	free(E);
}

TEST_F(cache, cached_pages_are_a_full_relocations_but_the_per_process_slots)
{
	const char *keep[] = { self->dep, self->proc, NULL };

	compare(_metadata, self->cache, self->lib, keep);
}

TEST_F(cache, cached_pages_of_libcrypto_are_a_full_relocations)
{
	if (access("/lib/x86_64-linux-gnu/libcrypto.so.3", R_OK))
		SKIP(return, "no libcrypto.so.3");
	compare(_metadata, self->cache, "/lib/x86_64-linux-gnu/libcrypto.so.3", NULL);
}

TEST_F(cache, a_cached_libcrypto_copies_fewer_pages)
{
	struct probe_args a = { .lib = "/lib/x86_64-linux-gnu/libcrypto.so.3" };
	struct probe cold, warm;

	if (access(a.lib, R_OK))
		SKIP(return, "no libcrypto.so.3");
	a.mode = "0";
	cold = run_probe(self->cache, &a);
	a.mode = "1";
	run_probe(self->cache, &a);
	warm = run_probe(self->cache, &a);
	ASSERT_TRUE(cold.ok && warm.ok) TH_LOG("%s%s", cold.err, warm.err);
	ASSERT_TRUE(warm.cached);
	/* Anonymous, not Private_Dirty: on tmpfs (the VM's /tmp) every page
	 * cache page is dirty, and smaps counts one mapped by a single
	 * process as Private_Dirty though nothing copied it. */
	TH_LOG("copies of pages: %lu kB relocated, %lu kB cached", cold.anon_kb, warm.anon_kb);
	EXPECT_LT(warm.anon_kb * 3, cold.anon_kb);
}

TEST_HARNESS_MAIN

/* reloc_cache.c - relocated images that survive the process: preferred
 * bases, validity keys, and the hooks load.c and reloc.c call
 * (Documentation/reloc-cache.md). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "arch_x86_64.h"
#include "cache_entry.h"
#include "reloc_cache.h"

#define PAGE 4096ULL

/*
 * Preferred bases: slots of [0x7e8000000000, 0x7f0000000000), 8 TiB just
 * below where mmap's top-down search starts (mmap_base is at most 1 TiB
 * below the stack): user memory for every sanitizer's layout too (TSan
 * kills a process mapping outside its application ranges, and ASan's
 * shadow ends at 0x10007fff8000).  A slot is the smallest power of two
 * holding the image, 64 MiB at least: 131072 of them, about 1 % chance of
 * a collision among 50 objects.
 */
#define SLOTS_LO	0x7e8000000000ULL
#define SLOTS_HI	0x7f0000000000ULL
#define MIN_SLOT	(1ULL << 26)
#define MIN_WINDOW_SLOTS 8

enum cache_mode { CACHE_OFF, CACHE_RO, CACHE_RW };

/* A fixup's definition while the entry is built: obj and sym NULL for
 * none (or an undefined weak reference when @undef). */
struct rec_def {
	const struct kdl_obj *obj;
	const Elf64_Sym *sym;
	bool undef;
};

struct kdl_cache_rec {
	uint32_t *fix;
	struct rec_def *def;
	size_t nfix, cap;
	bool failed;
};

enum cache_state {
	CS_IDENTITY,	/* too small to cache: an identity for scopes only */
	CS_PLACED,	/* at the preferred base, mapped from the file */
	CS_ENTRY,	/* writable pages from an entry, scope not checked yet */
	CS_HIT,		/* the entry holds for this scope: fixups only */
};

struct kdl_cache_obj {
	enum cache_state state;
	struct kdl_ce_id id;
	uint64_t base;
	struct kdl_ce_key key;
	struct kdl_ce ce;
	uint64_t data_off[KDL_MAX_LOADS];
	int src_fd;			/* CS_ENTRY: to map the file's pages back */
	uint64_t src_base;
	struct kdl_cache_rec rec;
	/* CS_HIT: the objects of the entry's scope here, by position (the
	 * bindings name them so); NULL where an item is no object. */
	const struct kdl_obj **objs;
	size_t nobjs;
	size_t nbound, nlooked;		/* symbols bound so, or by name */
};

/* Once per process; called under kdl_lock like everything here. */
static struct {
	bool env_done, done;
	enum cache_mode mode;
	bool log;
	unsigned long min_pages;	/* KDL_CACHE_MIN_PAGES */
	char boot_id[40];
	struct kdl_ce_id kdl;
	uint64_t min_addr;
	uid_t euid;
} g;

/* KDL_CACHE_LOG=1: why each object was, or was not, taken from an entry. */
static void __attribute__((format(printf, 2, 3))) cache_log(const struct kdl_obj *o,
							    const char *fmt, ...)
{
	va_list ap;

	if (!g.log)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "kdl cache: %s: ", o->name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static bool read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return true;
}

/*
 * An object with fewer writable file pages than this is relocated in
 * every process rather than cached: opening, checking and mapping its
 * entry costs more than its relocation does (libz, 2 pages: 157 us from
 * its entry against 128 us relocated, in make bench), and it keeps the
 * address ASLR gives it.  It still has an identity in its users' scopes,
 * so their entries hold; what they bind in it is a per-process fixup.
 */
#define MIN_PAGES_DEFAULT 4

/* What the environment says; no system call. */
static void env_once(void)
{
	const char *e = getenv("KDL_CACHE");

	if (g.env_done)
		return;
	g.env_done = true;
	g.mode = !e || !*e || !strcmp(e, "1") ? CACHE_RW : !strcmp(e, "ro") ? CACHE_RO : CACHE_OFF;
	/* A setuid or file-capability program never reads its user's
	 * files as relocated code, nor shares its layout. */
	if (getauxval(AT_SECURE))
		g.mode = CACHE_OFF;
	e = getenv("KDL_CACHE_LOG");
	g.log = e && *e && strcmp(e, "0");
	e = getenv("KDL_CACHE_MIN_PAGES");
	g.min_pages = e && *e ? strtoul(e, NULL, 10) : MIN_PAGES_DEFAULT;
}

static void init_once(void)
{
	env_once();
	if (g.done)
		return;
	g.done = true;
	if (g.mode == CACHE_OFF)
		return;
	g.euid = geteuid();
	if (!read_small("/proc/sys/kernel/random/boot_id", g.boot_id, sizeof(g.boot_id)) ||
	    !kdl_ce_self_id((void *)init_once, &g.kdl))
		g.mode = CACHE_OFF;
}

/* Asked only for window loads. */
static uint64_t min_addr(void)
{
	char buf[32];

	if (!g.min_addr) {
		g.min_addr = read_small("/proc/sys/vm/mmap_min_addr", buf, sizeof(buf)) ?
			     strtoull(buf, NULL, 10) : 65536;
		if (g.min_addr < PAGE)
			g.min_addr = PAGE;
	}
	return g.min_addr;
}

static uint64_t pow2_at_least(uint64_t v)
{
	return v <= 1 ? 1 : 1ULL << (64 - __builtin_clzll(v - 1));
}

/* The boot's base for @id: stable across processes, new each boot. */
static bool preferred_base(const struct kdl_elf *e, const struct kdl_ce_id *id,
			   const struct kdl_placement *pl, uint64_t *base)
{
	struct { char boot[40]; struct kdl_ce_id id; } seed = { .id = *id };
	bool window = pl->flags & KDL_LOAD_WINDOW;
	uint64_t lo = SLOTS_LO, hi = SLOTS_HI, slot = pow2_at_least(e->span), h;

	memcpy(seed.boot, g.boot_id, sizeof(seed.boot));
	h = kdl_ce_hash(&seed, sizeof(seed));
	if (slot < e->align)
		slot = e->align;
	if (slot < pl->align)
		slot = pl->align;
	if (!window && slot < MIN_SLOT)
		slot = MIN_SLOT;
	if (window) {
		lo = pl->lo > min_addr() ? pl->lo : min_addr();
		hi = pl->hi;
	}
	if (lo + slot - 1 < lo)
		return false;
	lo = (lo + slot - 1) & ~(slot - 1);
	if (lo < (window ? pl->lo : SLOTS_LO) || hi <= lo || (hi - lo) / slot < MIN_WINDOW_SLOTS)
		return false;
	*base = lo + (h % ((hi - lo) / slot)) * slot;
	return true;
}

static uint64_t writable_file_pages(const struct kdl_elf *e)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < e->nload; i++)
		if ((e->load[i].flags & PF_W) && e->load[i].filesz)
			n += (PAGE_UP(e->load[i].vaddr + e->load[i].filesz) -
			      PAGE_DOWN(e->load[i].vaddr)) / PAGE;
	return n;
}

/* The entry's segments are exactly @e's writable file pages. */
static bool segments_match(const struct kdl_elf *e, struct kdl_cache_obj *c)
{
	uint32_t k = 0;

	for (unsigned int i = 0; i < e->nload; i++) {
		const struct kdl_elf_load *l = &e->load[i];
		const struct kdl_ce_seg *s = &c->ce.seg[k];

		c->data_off[i] = KDL_NO_DATA;
		if (!(l->flags & PF_W) || !l->filesz)
			continue;
		if (k == c->ce.h.nseg || s->load != i || s->vaddr != PAGE_DOWN(l->vaddr) ||
		    s->len != PAGE_UP(l->vaddr + l->filesz) - PAGE_DOWN(l->vaddr))
			return false;
		c->data_off[i] = s->off;
		k++;
	}
	return k == c->ce.h.nseg;
}

/* The cache directory @sys, if it may be read: checked once it passes
 * (it is this user's, or root's, and no one else's to write). */
static const char *trusted_dir(int sys)
{
	static bool ok[2];
	const char *dir = kdl_ce_dir(sys ? KDL_CE_SYSTEM : KDL_CE_USER), *why;

	if (!dir || (!ok[sys] && !(ok[sys] = kdl_ce_dir_ok(dir, sys, &why))))
		return NULL;
	return dir;
}

/* Entry @name for @o, from the user cache, else the system's. */
static bool find_entry(const struct kdl_obj *o, const char *name)
{
	struct kdl_cache_obj *c = o->cache;
	const char *dir, *why;

	for (int sys = 0; sys < 2; sys++) {
		if (!(dir = trusted_dir(sys))) {
			cache_log(o, "%s cache directory not used", sys ? "system" : "user");
			continue;
		}
		if (kdl_ce_open(dir, sys, name, &c->key, sizeof(c->key), &c->ce, &why)) {
			cache_log(o, "%s/%s: %s", dir, name, why);
			continue;
		}
		if (c->ce.h.base == c->base && segments_match(o->elf, c)) {
			cache_log(o, "%s/%s: mapped", dir, name);
			return true;
		}
		cache_log(o, "%s/%s: its segments are not the object's", dir, name);
		kdl_ce_close(&c->ce);
	}
	return false;
}

void kdl_cache_prepare(struct kdl_obj *o, struct kdl_source *s, unsigned int flags, int backend,
		       struct kdl_placement *pl, struct kdl_src *src)
{
	char name[KDL_CE_NAME_LEN + 1];
	struct kdl_cache_obj *c;
	struct stat st = { 0 };
	uint64_t pages;

	if (flags & KDL_LOAD_NO_CACHE)
		return;
	env_once();
	/* Only files named by path or container: an fd the caller passed
	 * may be a memfd rewritten in place without a new mtime. */
	if (g.mode == CACHE_OFF || !s->own_fd || s->copied || !s->stat_known || s->addr ||
	    (pl->flags & (KDL_LOAD_FIXED | KDL_LOAD_MIRROR)))
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->ce.fd = c->src_fd = -1;
	st.st_dev = s->dev;
	st.st_ino = s->ino;
	st.st_size = s->file_size;
	st.st_mtim = s->mtime;
	st.st_ctim = s->ctime;
	kdl_ce_id_from_stat(&c->id, &st, s->id_offset);
	o->cache = c;
	pages = writable_file_pages(o->elf);
	if (!pages || pages < g.min_pages) {
		c->state = CS_IDENTITY;
		cache_log(o, "%llu writable pages, fewer than KDL_CACHE_MIN_PAGES=%lu: relocated in this process",
			  (unsigned long long)pages, g.min_pages);
		return;
	}
	init_once();
	if (g.mode == CACHE_OFF || !preferred_base(o->elf, &c->id, pl, &c->base)) {
		o->cache = NULL;
		free(c);
		return;
	}
	c->key = (struct kdl_ce_key){ .version = KDL_CE_VERSION, .kdl = g.kdl, .id = c->id,
				   .base = c->base, .span = o->elf->span };
	c->state = CS_PLACED;
	kdl_ce_name(&c->key, sizeof(c->key), NULL, 0, name);
	if ((backend == KDL_BACKEND_KERNEL && !kdl_kernel_has_data_fd()) ||
	    !find_entry(o, name)) {
		/* Without an entry to map or to write, the object keeps the
		 * address mmap gives it: no shared layout for nothing. */
		if (g.mode != CACHE_RW || !kdl_ce_dir(KDL_CE_USER)) {
			c->state = CS_IDENTITY;
			c->base = 0;
			return;
		}
		goto place;
	}
	c->state = CS_ENTRY;
	src->data_fd = c->ce.fd;
	src->data_off = c->data_off;
place:
	pl->flags = (pl->flags & ~KDL_LOAD_WINDOW) | KDL_LOAD_FIXED;
	pl->fixed = c->base;
}

/* Map the file's own pages back over the entry's, as a plain load maps
 * them (map_user.c), and forget the entry. */
static int restore(struct kdl_obj *o, int fd, uint64_t base)
{
	struct kdl_cache_obj *c = o->cache;
	const struct kdl_elf *e = o->elf;
	const struct kdl_src src = { .fd = fd, .base = base };

	for (unsigned int i = 0; i < e->nload; i++) {
		const struct kdl_elf_load *l = &e->load[i];

		/* Every writable segment: some may hold a second entry's
		 * pages, or a part of them. */
		if (!(l->flags & PF_W) || !l->filesz)
			continue;
		if (kdl_map_segment(l, KDL_NO_DATA, &src, o->map.bias, o->name))
			return -1;
		c->data_off[i] = KDL_NO_DATA;
	}
	kdl_ce_close(&c->ce);
	c->state = CS_PLACED;
	return 0;
}

/* The pages are checked where they are mapped: read faults of the page
 * cache's pages, which stay clean and shared. */
/*
 * Checked once per boot and entry version (cache_entry.h): the pages are
 * hashed where they are mapped, read faults of the page cache's pages,
 * which stay clean and shared -- one madvise maps them all, where a
 * fault would map 16.  @ce's fd is still open.
 */
static bool pages_ok(const struct kdl_obj *o, const struct kdl_ce *ce)
{
	struct iovec v[KDL_CE_MAX_SEGS];

	if (kdl_ce_verified(ce, g.boot_id))
		return true;
	for (uint32_t i = 0; i < ce->h.nseg; i++) {
		v[i] = (struct iovec){ (void *)(o->map.bias + ce->seg[i].vaddr), ce->seg[i].len };
		madvise(v[i].iov_base, v[i].iov_len, MADV_POPULATE_READ);
	}
	if (kdl_ce_hash_iov(v, ce->h.nseg) != ce->h.data_hash)
		return false;
	if (g.mode == CACHE_RW && (!ce->system || !g.euid))
		kdl_ce_mark_verified(ce->fd, g.boot_id, ce->h.data_hash);
	return true;
}

int kdl_cache_mapped(struct kdl_obj *o, struct kdl_source *s)
{
	struct kdl_cache_obj *c = o->cache;

	if (!c || c->state != CS_ENTRY)
		return 0;
	/* The entry is this file's (its key says so): its symbol count too. */
	o->known_nsyms = c->ce.h.nsyms;
	if (!pages_ok(o, &c->ce)) {
		cache_log(o, "pages do not match their checksum (corrupted): not used");
		return restore(o, s->fd, s->offset);
	}
	/* The mappings hold the entry's file; its fd is no longer needed. */
	close(c->ce.fd);
	c->ce.fd = -1;
	if (s->own_fd) {
		c->src_fd = s->fd;
		s->own_fd = false;
	} else if ((c->src_fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		return restore(o, s->fd, s->offset);
	}
	c->src_base = s->offset;
	return 0;
}

void kdl_cache_drop(struct kdl_obj *o)
{
	struct kdl_cache_obj *c = o->cache;

	if (!c)
		return;
	kdl_ce_close(&c->ce);
	if (c->src_fd >= 0)
		close(c->src_fd);
	free(c->rec.fix);
	free(c->rec.def);
	free(c->objs);
	free(c);
	o->cache = NULL;
}

/* A process object's identity, looked up once per object. */
static const struct kdl_ce_id *process_id(const struct kdl_obj *p)
{
	static struct { const struct kdl_obj *o; struct kdl_ce_id id; bool ok; } *memo;
	static size_t n, cap;
	struct stat st;

	for (size_t i = 0; i < n; i++)
		if (memo[i].o == p)
			return memo[i].ok ? &memo[i].id : NULL;
	if (n == cap) {
		size_t nc = cap ? cap * 2 : 16;
		void *nm = realloc(memo, nc * sizeof(*memo));

		if (!nm)
			return NULL;
		memo = nm;
		cap = nc;
	}
	memo[n].o = p;
	/* Its build-id, read where glibc mapped it (no system call), else
	 * its file's. */
	memo[n].ok = p->map.start && kdl_ce_self_id((const void *)p->map.start, &memo[n].id);
	if (!memo[n].ok && p->path[0] == '/' && !stat(p->path, &st)) {
		kdl_ce_id_from_stat(&memo[n].id, &st, 0);
		memo[n].ok = true;
	}
	return memo[n++].ok ? &memo[n - 1].id : NULL;
}

static bool placed(const struct kdl_obj *x)
{
	return x->cache && x->map.start == x->cache->base;
}

struct scope_item {
	uint64_t kind;			/* 1 kdl object, 2 process object, 3 flags */
	struct kdl_ce_id id;
	uint64_t base;			/* kdl object at its preferred base, else 0 */
};

/* A scope being built: its items, and the object each one stands for. */
struct scope {
	struct scope_item *v;
	const struct kdl_obj **objs;
	size_t n, cap;
};

static bool scope_add(struct scope *sc, struct scope_item it, const struct kdl_obj *x)
{
	if (sc->n == sc->cap) {
		size_t nc = sc->cap ? sc->cap * 2 : 16;
		struct scope_item *nv = realloc(sc->v, nc * sizeof(*nv));
		const struct kdl_obj **no;

		if (!nv)
			return false;
		sc->v = nv;
		no = realloc(sc->objs, nc * sizeof(*no));
		if (!no)
			return false;
		sc->objs = no;
		sc->cap = nc;
	}
	sc->objs[sc->n] = x;
	sc->v[sc->n++] = it;
	return true;
}

static bool scope_add_obj(struct scope *sc, const struct kdl_obj *x)
{
	const struct kdl_ce_id *id;

	if (x->system) {
		id = process_id(x);
		return id && scope_add(sc, (struct scope_item){ .kind = 2, .id = *id }, x);
	}
	return x->cache && scope_add(sc, (struct scope_item){
		.kind = 1, .id = x->cache->id, .base = placed(x) ? x->cache->base : 0 }, x);
}

static void scope_free(struct scope *sc)
{
	free(sc->v);
	free(sc->objs);
}

/*
 * What decides every binding the entry keeps: the objects kdl_lookup()
 * searches for @o, in its order (lookup.c), each by identity -- and, for
 * a kdl object at its preferred base, that base (a binding to one
 * elsewhere is per process).  The process objects of the load's scope
 * come by identity too, so a new libc makes new entries.  NULL when an
 * object has no identity (a memory load, say).
 */
static bool scope_of(const struct kdl_obj *o, struct kdl_obj *const *local, size_t nlocal,
		     struct scope *sc)
{
	const struct kdl_ns *ns = o->ns ? o->ns : &kdl_default_ns;
	bool deep = o->mode & RTLD_DEEPBIND;
	bool ok;

	*sc = (struct scope){ 0 };
	ok = scope_add(sc, (struct scope_item){
		.kind = 3, .base = (o->symbolic ? 1 : 0) | (deep ? 2 : 0) | (ns != &kdl_default_ns ? 4 : 0) },
		NULL);
	for (int pass = 0; ok && pass < 2; pass++) {
		if (pass == deep)
			for (size_t i = 0; ok && i < ns->nglobal; i++)
				ok = scope_add_obj(sc, ns->global[i]);
		if (pass != deep)
			for (size_t i = 0; ok && i < nlocal; i++)
				ok = scope_add_obj(sc, local[i]);
	}
	if (!ok) {
		scope_free(sc);
		*sc = (struct scope){ 0 };
	}
	return ok;
}

static bool holds_for(const struct kdl_obj *o, const struct kdl_ce *ce, const struct scope *sc)
{
	size_t nrel = o->nrela + o->njmprel, len = sc->n * sizeof(*sc->v);

	if (!sc->v || len != ce->h.scope_len || memcmp(sc->v, ce->scope, len))
		return false;
	for (uint32_t i = 0; i < ce->h.nfix; i++)
		if (ce->fix[i].index >= nrel)
			return false;
	return true;
}

/*
 * The entry the map used was built for another scope: the one for this
 * scope, if written, goes over it -- a second mapping of the writable
 * pages, for an object loaded as a dependency of different roots (each
 * load of it keeps the entry of its own scope).
 */
static bool map_scope_entry(struct kdl_obj *o, const struct scope *sc)
{
	struct kdl_cache_obj *c = o->cache;
	const struct kdl_elf *e = o->elf;
	char name[KDL_CE_NAME_LEN + 1];
	bool ok;

	kdl_ce_close(&c->ce);
	kdl_ce_name(&c->key, sizeof(c->key), sc->v, sc->n * sizeof(*sc->v), name);
	if (!find_entry(o, name))
		return false;
	for (uint32_t i = 0; i < c->ce.h.nseg; i++) {
		const struct kdl_ce_seg *s = &c->ce.seg[i];

		if (mmap((void *)(o->map.bias + s->vaddr), s->len, kdl_prot(e->load[s->load].flags),
			 MAP_PRIVATE | MAP_FIXED, c->ce.fd, s->off) == MAP_FAILED)
			return false;
	}
	ok = holds_for(o, &c->ce, sc) && pages_ok(o, &c->ce);
	close(c->ce.fd);
	c->ce.fd = -1;
	return ok;
}

int kdl_cache_reloc_begin(struct kdl_obj *o, struct kdl_obj *const *local, size_t nlocal,
			  struct kdl_cache_fixups *fx)
{
	struct kdl_cache_obj *c = o->cache;
	struct scope sc;
	bool same;
	int r;

	if (!c || c->state != CS_ENTRY)
		return 0;
	same = scope_of(o, local, nlocal, &sc) &&
	       (holds_for(o, &c->ce, &sc) || map_scope_entry(o, &sc));
	free(sc.v);
	if (same) {
		close(c->src_fd);
		c->src_fd = -1;
		c->state = CS_HIT;
		c->objs = sc.objs;
		c->nobjs = sc.n;
		*fx = (struct kdl_cache_fixups){ c->ce.fix, c->ce.h.nfix };
		return 1;
	}
	free(sc.objs);
	cache_log(o, "no entry for this scope: relocated in full");
	r = restore(o, c->src_fd, c->src_base);
	close(c->src_fd);
	c->src_fd = -1;
	return r;
}

struct kdl_cache_rec *kdl_cache_recorder(struct kdl_obj *o)
{
	return o->cache && o->cache->state == CS_PLACED && g.mode == CACHE_RW &&
	       !o->textrel ? &o->cache->rec : NULL;
}

void kdl_cache_note(struct kdl_cache_rec *r, uint32_t idx, const struct kdl_def *def,
		    uintptr_t value)
{
	if (r->nfix == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 64;
		uint32_t *nf = realloc(r->fix, nc * sizeof(*nf));
		struct rec_def *nd;

		if (!nf) {
			r->failed = true;
			return;
		}
		r->fix = nf;
		nd = realloc(r->def, nc * sizeof(*nd));
		if (!nd) {
			r->failed = true;
			return;
		}
		r->def = nd;
		r->cap = nc;
	}
	/* No object and no value: the lookup found nothing (a dl* or
	 * __tls_get_addr answered by kdl has a value). */
	r->def[r->nfix] = def ? (struct rec_def){ def->obj, def->sym, !def->obj && !value } :
				(struct rec_def){ 0 };
	r->fix[r->nfix++] = idx;
}

/* Whether a process object searched before @d (all of them for NULL)
 * may define a symbol of hash @h, which would then be the definition. */
static bool interposed(const struct kdl_obj *d, uint32_t h)
{
	size_t n;
	struct kdl_obj *const *p = kdl_process_objs(&n);

	for (size_t i = 0; i < n; i++) {
		if (p[i] == d)
			return false;
		if (kdl_sym_may_define(p[i], h))
			return true;
	}
	return d != NULL;
}

/*
 * The entry's scope is this process's (holds_for), so a binding into a
 * kdl object, searched before any process object, is what a lookup
 * would find.  One into a process object, or an undefined reference,
 * also depends on the process objects kdl_lookup() searches first (the
 * program, an LD_PRELOAD, another dlopen'd library), which no scope
 * records: their Bloom filters must rule the name out.  In a created
 * namespace the name is looked up as usual.
 */
static bool bound(const struct kdl_obj *o, const struct kdl_ce_fix *f, struct kdl_def *def,
		  uintptr_t *value)
{
	const struct kdl_cache_obj *c = o->cache;
	const struct kdl_ns *ns = o->ns ? o->ns : &kdl_default_ns;
	const struct kdl_obj *d;
	uintptr_t v;

	if (f->obj == KDL_CE_BIND_NAME)
		return false;
	if (f->obj == KDL_CE_BIND_UNDEF) {
		if (ns != &kdl_default_ns || interposed(NULL, f->hash))
			return false;
		*def = (struct kdl_def){ 0 };
		*value = 0;
		return true;
	}
	if (f->obj >= c->nobjs || !(d = c->objs[f->obj]) || f->sym >= d->dyn.nsyms ||
	    !d->dyn.symtab || (d->system && (ns != &kdl_default_ns || interposed(d, f->hash))))
		return false;
	/* The symbol's own entry is the same file's (the scope says so):
	 * its value and type come with the fixup, and its page stays cold
	 * unless a TLS or size relocation reads it. */
	*def = (struct kdl_def){ d, &d->dyn.symtab[f->sym] };
	v = f->info & KDL_CE_SYM_ABS ? f->value : d->bias + f->value;
	switch (ELF64_ST_TYPE(f->info & 0xff)) {
	case STT_TLS:
		v = 0;
		break;
	case STT_GNU_IFUNC:
		v = ((uintptr_t(*)(void))v)();
		break;
	}
	*value = v;
	return true;
}

bool kdl_cache_bound(const struct kdl_obj *o, const struct kdl_ce_fix *f, struct kdl_def *def,
		     uintptr_t *value)
{
	struct kdl_cache_obj *c = o->cache;

	if (!c || c->state != CS_HIT)
		return false;
	if (bound(o, f, def, value)) {
		c->nbound++;
		return true;
	}
	c->nlooked++;
	return false;
}

/* Relocation @idx as fixups name them: in DT_RELA, then DT_JMPREL. */
static const Elf64_Rela *rel_at(const struct kdl_obj *o, uint32_t idx)
{
	return idx < o->nrela ? &o->rela[idx] : &o->jmprel[idx - o->nrela];
}

/* @r's fixups as the entry keeps them, bound by position in @sc; NULL if
 * out of memory. */
static struct kdl_ce_fix *fixups(const struct kdl_obj *o, const struct kdl_cache_rec *r,
				 const struct scope *sc)
{
	struct kdl_ce_fix *fx = calloc(r->nfix + 1, sizeof(*fx));

	for (size_t f = 0; fx && f < r->nfix; f++) {
		const struct rec_def *d = &r->def[f];
		struct kdl_ce_fix *x = &fx[f];
		size_t symidx;

		x->index = r->fix[f];
		x->rel = *rel_at(o, r->fix[f]);
		x->obj = KDL_CE_BIND_NAME;
		symidx = ELF64_R_SYM(x->rel.r_info);
		if (!symidx || symidx >= o->dyn.nsyms || (!d->obj && !d->undef))
			continue;
		x->hash = kdl_gnu_hash(o->dyn.strtab + o->dyn.symtab[symidx].st_name);
		if (d->undef) {
			x->obj = KDL_CE_BIND_UNDEF;
			continue;
		}
		for (size_t i = 1; i < sc->n; i++)
			if (sc->objs[i] == d->obj && d->sym >= d->obj->dyn.symtab &&
			    (size_t)(d->sym - d->obj->dyn.symtab) <= UINT32_MAX) {
				x->obj = i;
				x->sym = d->sym - d->obj->dyn.symtab;
				x->info = d->sym->st_info | (d->sym->st_shndx == SHN_ABS ? KDL_CE_SYM_ABS : 0);
				x->value = d->sym->st_value;
				break;
			}
	}
	return fx;
}

bool kdl_cache_per_process(const struct kdl_obj *o, const struct kdl_def *def)
{
	if (!def->obj || !def->sym || def->obj->system ||
	    ELF64_ST_TYPE(def->sym->st_info) == STT_GNU_IFUNC)
		return true;
	return def->obj != o && !placed(def->obj);
}

static unsigned int fix_width(unsigned int type)
{
	switch (kdl_rel_kind(type)) {
	case REL_TLSDESC:
		return 16;
	case REL_PC32: case REL_ABS32: case REL_ABS32S: case REL_SIZE32:
		return 4;
	default:
		return 8;
	}
}

/* The writable pages as relocated, per-process slots zeroed, so that an
 * entry holds no address of this process's and is the same whoever
 * writes it. */
static void *capture(const struct kdl_obj *o, struct kdl_ce_seg *seg, size_t *nseg, size_t *len)
{
	const struct kdl_elf *e = o->elf;
	const struct kdl_cache_rec *r = &o->cache->rec;
	size_t total = 0, k = 0;
	char *buf;

	for (unsigned int i = 0; i < e->nload; i++) {
		const struct kdl_elf_load *l = &e->load[i];

		if (!(l->flags & PF_W) || !l->filesz)
			continue;
		seg[k] = (struct kdl_ce_seg){ .load = i, .vaddr = PAGE_DOWN(l->vaddr),
					      .len = PAGE_UP(l->vaddr + l->filesz) - PAGE_DOWN(l->vaddr),
					      .off = total };
		total += seg[k++].len;
	}
	buf = malloc(total ? total : 1);
	if (!buf)
		return NULL;
	for (size_t i = 0; i < k; i++)
		memcpy(buf + seg[i].off, (const void *)(o->bias + seg[i].vaddr), seg[i].len);
	for (size_t f = 0; f < r->nfix; f++) {
		const Elf64_Rela *rel = rel_at(o, r->fix[f]);
		unsigned int w = fix_width(ELF64_R_TYPE(rel->r_info));

		for (size_t i = 0; i < k; i++)
			if (rel->r_offset >= seg[i].vaddr && rel->r_offset + w <= seg[i].vaddr + seg[i].len)
				memset(buf + seg[i].off + (rel->r_offset - seg[i].vaddr), 0, w);
	}
	*nseg = k;
	*len = total;
	return buf;
}

void kdl_cache_reloc_end(struct kdl_obj *o, struct kdl_obj *const *local, size_t nlocal)
{
	struct kdl_cache_obj *c = o->cache;
	struct kdl_cache_rec *r = kdl_cache_recorder(o);
	struct kdl_ce_seg seg[KDL_CE_MAX_SEGS];
	char name[KDL_CE_NAME_LEN + 1], alt[KDL_CE_NAME_LEN + 1];
	struct kdl_ce_content ct = { 0 };
	struct kdl_ce_fix *fix = NULL;
	const char *dir, *sysdir;
	struct scope sc;
	void *data;

	if (!c)
		return;
	if (c->state == CS_HIT) {
		cache_log(o, "%u fixups applied, %zu symbols bound as recorded, %zu by name",
			  c->ce.h.nfix, c->nbound, c->nlooked);
		kdl_ce_close(&c->ce);	/* the fixups were its last use */
		free(c->objs);
		c->objs = NULL;
		return;
	}
	if (!r || r->failed || !(dir = kdl_ce_dir(KDL_CE_USER)) || !scope_of(o, local, nlocal, &sc))
		goto out;
	ct.scope_len = sc.n * sizeof(*sc.v);
	data = capture(o, seg, &ct.nseg, &ct.data_len);
	fix = fixups(o, r, &sc);
	if (data && fix) {
		sysdir = kdl_ce_dir(KDL_CE_SYSTEM);
		ct.base = c->base;
		ct.key = &c->key;
		ct.key_len = sizeof(c->key);
		ct.scope = sc.v;
		ct.path = o->path;
		ct.seg = seg;
		ct.fix = fix;
		ct.nfix = r->nfix;
		ct.nsyms = o->dyn.nsyms <= UINT32_MAX ? o->dyn.nsyms : 0;
		ct.data = data;
		ct.boot_id = g.boot_id;
		/* Under the object's name, which the next map finds, and
		 * its scope's, for when another scope's entry has that. */
		kdl_ce_name(&c->key, sizeof(c->key), NULL, 0, name);
		kdl_ce_name(&c->key, sizeof(c->key), sc.v, ct.scope_len, alt);
		/* kdl cache build --system: root writing the system cache. */
		if (kdl_ce_write(dir, !g.euid && !strcmp(dir, sysdir), name, alt, &ct))
			cache_log(o, "%s/%s: not written: %s", dir, name, strerror(errno));
		else
			cache_log(o, "%s/%s: written, %zu fixups", dir, name, ct.nfix);
	}
	free(data);
	free(fix);
	scope_free(&sc);
out:
	free(c->rec.fix);
	free(c->rec.def);
	c->rec = (struct kdl_cache_rec){ 0 };
}

bool kdl_cache_hit(const struct kdl_obj *o)
{
	return o->cache && o->cache->state == CS_HIT;
}

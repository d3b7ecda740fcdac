/* load.c - load an object and its dependency tree, transactionally. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debug.h"
#include "noexec.h"
#include "obj.h"
#include "reloc_cache.h"
#include "source.h"
#include "tls.h"

#define PAGE 4096ULL

/* The objects one kdl_open brings in, in breadth-first order. */
struct load_txn {
	struct kdl_obj **objs;	/* new objects, queue order */
	size_t n, cap;
	struct kdl_obj **reused; /* old objects whose refcnt this load raised */
	size_t nreused, capreused;
	struct kdl_placement pl;	/* the load's own, before its namespace's */
	unsigned int flags;
	int mode;		/* RTLD_* of the kdl_open */
	struct kdl_ns *ns;	/* where objects go now (links switch it) */
	const char *root_name;	/* display name for the root */
	unsigned int link_depth; /* namespace links being followed */
};

static int push(struct kdl_obj ***a, size_t *n, size_t *cap, struct kdl_obj *o)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct kdl_obj **na = realloc(*a, nc * sizeof(*na));

		if (!na) {
			kdl_set_error("out of memory");
			return -1;
		}
		*a = na;
		*cap = nc;
	}
	(*a)[(*n)++] = o;
	return 0;
}

/* A kdl object's record with its headers in the same allocation: one
 * free() releases both. */
struct kdl_obj *kdl_obj_alloc(void)
{
	struct kdl_obj *o = calloc(1, sizeof(*o) + sizeof(struct kdl_elf));

	if (o)
		o->elf = (struct kdl_elf *)(o + 1);
	return o;
}

void kdl_obj_destroy(struct kdl_obj *o)
{
	if (!o)
		return;
	kdl_eh_deregister(o);
	kdl_cache_drop(o);
	if (o->tls_modid && !o->system)
		kdl_tls_unregister(o->tls_modid);
	if (o->map.len) {
		if (o->map.backend == KDL_BACKEND_KERNEL)
			kdl_unmap_kernel(&o->map);
		else
			kdl_unmap_user(&o->map);
	}
	o->magic = 0;
	for (size_t i = 0; i < o->ntlsdesc; i++)
		free(o->tlsdesc[i]);
	free(o->tlsdesc);
	kdl_dyninfo_free(&o->dyn);
	free(o->deps);
	free(o->scope);
	free(o->origin);
	free(o->container);
	free(o->container_dir);
	if (o->name != o->path)
		free(o->name);
	free(o->path);
	free(o);
}

bool kdl_obj_relocated(const struct kdl_obj *o, const char *what)
{
	if (!o->unrelocated)
		return true;
	kdl_set_error("%s%s%s: not relocated yet (KDL_LOAD_NORELOC): kdl_relocate() it first",
		      what ? what : "", what ? ": " : "", o->name);
	return false;
}

/* An object another load mapped and left for kdl_relocate() is no
 * dependency yet: relocating it here would run its code unasked. */
static struct kdl_obj *usable(struct kdl_obj *o)
{
	if (o && o->unrelocated) {
		kdl_set_error("%s: mapped by a KDL_LOAD_NORELOC load of %s that is not relocated yet: kdl_relocate() or kdl_close() that handle first",
			      o->name, o->unrelocated->name);
		return NULL;
	}
	return o;
}

static struct kdl_obj *find_loaded(struct load_txn *t, dev_t dev, ino_t ino, uint64_t off)
{
	struct kdl_obj *o = kdl_ns_find_file(t->ns, dev, ino, off);

	if (o)
		return o;
	for (size_t i = 0; i < t->n; i++)
		if (t->objs[i]->ns == t->ns && t->objs[i]->dev == dev && t->objs[i]->ino == ino &&
		    t->objs[i]->src_base == off)
			return t->objs[i];
	return NULL;
}

/* @soname among @t->ns's objects, loaded or being loaded. */
static struct kdl_obj *find_soname(struct load_txn *t, const char *soname)
{
	struct kdl_obj *o = kdl_ns_find_soname(t->ns, soname);

	if (o)
		return o;
	for (size_t i = 0; i < t->n; i++)
		if (t->objs[i]->ns == t->ns && t->objs[i]->soname &&
		    !strcmp(t->objs[i]->soname, soname))
			return t->objs[i];
	return NULL;
}

/*
 * The placement and backend of a load into @ns: the load's own, inside
 * the namespace's.  A namespace's window and mirror bind every object it
 * ever loads, so a load may narrow the window, never leave it.
 */
static int placement_in(const struct load_txn *t, const struct kdl_ns *ns,
			struct kdl_placement *pl, unsigned int *flags)
{
	unsigned int be = KDL_LOAD_BACKEND_USER | KDL_LOAD_BACKEND_KERNEL;

	*pl = t->pl;
	*flags = t->flags;
	if ((ns->load_flags & be) && (t->flags & be) && (t->flags & be) != (ns->load_flags & be)) {
		kdl_set_error("namespace %s: its loads use the %s backend; found a load asking for the other",
			      ns->name, (ns->load_flags & KDL_LOAD_BACKEND_KERNEL) ? "kernel" : "user");
		return -1;
	}
	*flags |= ns->load_flags & be;
	if (ns->pl.flags & KDL_LOAD_WINDOW) {
		if (pl->flags & KDL_LOAD_FIXED) {
			if (pl->fixed < ns->pl.lo || pl->fixed >= ns->pl.hi)
				goto outside;
		} else if (pl->flags & KDL_LOAD_WINDOW) {
			if (pl->lo < ns->pl.lo || pl->hi > ns->pl.hi)
				goto outside;
		} else {
			pl->flags |= KDL_LOAD_WINDOW;
			pl->lo = ns->pl.lo;
			pl->hi = ns->pl.hi;
		}
	}
	if (ns->pl.flags & KDL_LOAD_MIRROR) {
		if ((pl->flags & KDL_LOAD_MIRROR) && pl->mirror_base != ns->pl.mirror_base) {
			kdl_set_error("namespace %s: its objects are mirrored at +0x%llx; found a load asking for +0x%llx",
				      ns->name, (unsigned long long)ns->pl.mirror_base,
				      (unsigned long long)pl->mirror_base);
			return -1;
		}
		pl->flags |= KDL_LOAD_MIRROR;
		pl->mirror_base = ns->pl.mirror_base;
	}
	return 0;
outside:
	kdl_set_error("namespace %s: its objects lie in [0x%llx, 0x%llx); found a load placed outside it",
		      ns->name, (unsigned long long)ns->pl.lo, (unsigned long long)ns->pl.hi);
	return -1;
}

static int read_head(const struct kdl_source *s, struct kdl_obj *o, const char *name)
{
	size_t len = s->size < KDL_HEAD_READ ? s->size : KDL_HEAD_READ, need = 0;
	char buf[KDL_HEAD_READ], *big = NULL;
	int r;

	if (kdl_source_read(s, buf, len, 0)) {
		kdl_set_error("%s: read: %s", name, strerror(errno));
		return -1;
	}
	r = kdl_elf_parse(o->elf, buf, len, s->size, name, &need);
	if (r == 1) {
		big = malloc(need);
		if (!big) {
			kdl_set_error("%s: out of memory", name);
			return -1;
		}
		if (kdl_source_read(s, big, need, 0)) {
			kdl_set_error("%s: short read of the program headers", name);
			r = -1;
		} else {
			r = kdl_elf_parse(o->elf, big, need, s->size, name, &need);
		}
		free(big);
	}
	return r ? -1 : 0;
}

/* Map one object from @s and read its dynamic section.  Takes @path and
 * the container strings of @s. */
static struct kdl_obj *load_one(struct load_txn *t, struct kdl_source *s, char *path,
				const char *display)
{
	struct kdl_obj *o = kdl_obj_alloc();
	struct kdl_src src = { .fd = s->fd, .base = s->offset, .size = s->size,
			       .addr = s->addr };
	struct kdl_placement pl, nspl;
	int (*map)(const struct kdl_elf *, const struct kdl_src *, const struct kdl_placement *,
		   struct kdl_mapping *, const char *);
	const char *slash, *base_name;
	unsigned int flags;
	int backend;

	if (!o) {
		kdl_set_error("%s: out of memory", path);
		free(path);
		return NULL;
	}
	o->magic = KDL_OBJ_MAGIC;
	o->path = path;
	o->name = display ? strdup(display) : path;
	o->ns = t->ns;
	o->mode = t->mode;	/* RTLD_DEEPBIND orders its relocation lookups */
	o->container = s->container;
	o->container_dir = s->container_dir;
	s->container = s->container_dir = NULL;
	if (!o->name)
		goto fail_nomem;
	o->dev = s->dev;
	o->ino = s->ino;
	o->src_base = s->id_offset;
	o->zero_copy = !s->copied;
	o->path_opened = s->head != NULL;
	if (read_head(s, o, o->name) || kdl_noexec_check(s, o->elf, o->name) ||
	    placement_in(t, t->ns, &nspl, &flags))
		goto fail;
	backend = kdl_backend_pick(flags);
	if (backend < 0)
		goto fail;
	map = backend == KDL_BACKEND_KERNEL ? kdl_map_kernel : kdl_map_user;
	/* At its preferred base if it has one; taken, it loads as usual. */
	pl = nspl;
	kdl_cache_prepare(o, s, flags, backend, &pl, &src);
	if (map(o->elf, &src, &pl, &o->map, o->name)) {
		if (!o->cache)
			goto fail;
		kdl_cache_drop(o);
		kdl_clear_error();
		src.data_off = NULL;
		if (map(o->elf, &src, &nspl, &o->map, o->name))
			goto fail;
	} else if (kdl_cache_mapped(o, s)) {
		goto fail;
	}
	o->bias = o->map.bias;
	o->phdr = o->elf->phdr;
	o->nphdr = o->elf->nphdr;
	/* $ORIGIN of a container entry is its directory inside the zip's. */
	slash = strrchr(path, '/');
	o->origin = slash ? strndup(path, slash > path ? (size_t)(slash - path) : 1) : strdup(".");
	if (!o->origin)
		goto fail_nomem;
	if (kdl_dyn_read(o, o->elf))
		goto fail;
	if (o->elf->tls && o->elf->tls->p_memsz) {
		const Elf64_Phdr *p = o->elf->tls;

		o->tls_modid = kdl_tls_register((const void *)(o->bias + p->p_vaddr), p->p_filesz,
						p->p_memsz, p->p_align, o->name);
		if (!o->tls_modid)
			goto fail;
	}
	base_name = strrchr(o->name, '/');
	if (!o->soname)
		o->soname = base_name ? base_name + 1 : o->name;
	if (o->elf->relro) {
		o->relro_start = (o->bias + o->elf->relro->p_vaddr) & ~(PAGE - 1);
		o->relro_end = (o->bias + o->elf->relro->p_vaddr + o->elf->relro->p_memsz) & ~(PAGE - 1);
	}
	if (o->ndeps && !(o->deps = calloc(o->ndeps, sizeof(*o->deps))))
		goto fail_nomem;
	return o;
fail_nomem:
	kdl_set_error("%s: out of memory", path);
fail:
	kdl_obj_destroy(o);
	return NULL;
}

/*
 * The process's copy of the file @dev/@ino: glibc keeps one copy
 * of a file, so the default namespace takes the process's, by whatever
 * path or link it is named; a created namespace only what it shares.
 * Only process objects of @soname are asked (NULL: all), so a load
 * that has no twin in the process costs no lookup of their files.
 */
static struct kdl_obj *process_copy(struct load_txn *t, dev_t dev, ino_t ino,
				    uint64_t src_base, const char *soname)
{
	struct kdl_obj *p;

	if (src_base || !(p = kdl_process_find_file(dev, ino, soname)) ||
	    (!t->ns->sees_process && !kdl_ns_shares(t->ns, p->soname)))
		return NULL;
	kdl_process_hold(p);
	return p;
}

/* A new object from @s, queued in the transaction; @s is released. */
static struct kdl_obj *load_queued(struct load_txn *t, struct kdl_source *s, char *path,
				   const char *display)
{
	struct kdl_obj *d = find_loaded(t, s->dev, s->ino, s->id_offset), *p;

	if (d) {
		free(path);
		kdl_source_release(s);
		return usable(d);
	}
	d = load_one(t, s, path, display);
	kdl_source_release(s);
	if (d && (p = process_copy(t, d->dev, d->ino, d->src_base, d->soname))) {
		kdl_obj_destroy(d);
		return p;
	}
	/* A file whose soname the namespace takes from the process (libc
	 * by a path the process did not load it from, say) is not mapped
	 * twice: glibc loads it, or already has it. */
	if (d && kdl_ns_shares(t->ns, d->soname)) {
		p = kdl_process_runtime_dep(d->soname, d->name);
		kdl_obj_destroy(d);
		return p;
	}
	if (d && push(&t->objs, &t->n, &t->cap, d)) {
		kdl_obj_destroy(d);
		return NULL;
	}
	return d;
}

/* DT_NEEDED of an object from a container: first the entry's own
 * directory inside the same container, as an APK's lib/<abi>/.  Returns
 * the object, NULL with *tried = 0 when the container has no such entry. */
static struct kdl_obj *need_in_container(struct load_txn *t, struct kdl_obj *o,
					 const char *name, bool *found)
{
	struct kdl_source s = KDL_SOURCE_INIT;
	char *entry, *display;
	int r;

	*found = false;
	if (asprintf(&entry, "%s%s%s", o->container_dir, *o->container_dir ? "/" : "", name) < 0) {
		kdl_set_error("out of memory");
		*found = true;
		return NULL;
	}
	if (asprintf(&display, "%s!/%s", o->container, entry) < 0) {
		free(entry);
		kdl_set_error("out of memory");
		*found = true;
		return NULL;
	}
	r = kdl_source_container(&s, o->container, entry, display);
	free(entry);
	if (r == 1) {
		free(display);
		kdl_clear_error();
		return NULL;
	}
	*found = true;
	if (r < 0) {
		free(display);
		return NULL;
	}
	return load_queued(t, &s, display, NULL);
}

/* @name, needed by @o, from the namespaces @t->ns links with all their
 * sonames, in the order they were linked; NULL (the error untouched)
 * when none has it. */
static struct kdl_obj *resolve_needed(struct load_txn *t, struct kdl_obj *o, const char *name);

static struct kdl_obj *from_links_all(struct load_txn *t, struct kdl_obj *o, const char *name)
{
	struct kdl_ns *mine = t->ns, *to;
	struct kdl_obj *d = NULL;
	char first[1024];

	if (!kdl_ns_fallback(mine, 0) || strchr(name, '/'))
		return NULL;
	snprintf(first, sizeof(first), "%s", kdl_error_peek() ? kdl_error_peek() : "");
	if (++t->link_depth > 8) {
		kdl_set_error("%s: needed by %s: namespace links go round in a cycle", name, o->name);
		t->link_depth--;
		return NULL;
	}
	for (size_t i = 0; !d && (to = kdl_ns_fallback(mine, i)); i++) {
		t->ns = to;
		d = resolve_needed(t, o, name);
		t->ns = mine;
	}
	t->link_depth--;
	if (!d)
		kdl_set_error("%s", first);
	return d;
}

/* @s: the file kdl_search() opened as @fd from @path, whose first bytes
 * it read into @head; @s owns @fd once this succeeds. */
static int source_searched(struct kdl_source *s, int fd, const char *path,
			   const struct kdl_head *head)
{
	if (kdl_source_fd(s, fd, 0, 0, path))
		return -1;
	s->own_fd = true;
	s->head = head;
	return 0;
}

/* Resolve DT_NEEDED entry @name of @o: reuse, runtime group, or load. */
static struct kdl_obj *resolve_needed(struct load_txn *t, struct kdl_obj *o, const char *name)
{
	struct kdl_source s = KDL_SOURCE_INIT;
	struct kdl_head head;
	struct kdl_obj *d;
	char *path;
	bool found;
	int fd;

	if (!strchr(name, '/')) {
		struct kdl_ns *to;

		if (kdl_ns_shares(t->ns, name))
			return kdl_process_runtime_dep(name, o->name);
		/* A linked soname comes from (and is loaded into) the
		 * namespace it is linked to. */
		if ((to = kdl_ns_link_target(t->ns, name))) {
			struct kdl_ns *mine = t->ns;

			if (++t->link_depth > 8) {
				kdl_set_error("%s: needed by %s: namespace links go round in a cycle",
					      name, o->name);
				t->link_depth--;
				return NULL;
			}
			t->ns = to;
			d = resolve_needed(t, o, name);
			t->ns = mine;
			t->link_depth--;
			return d;
		}
		d = find_soname(t, name);
		if (d)
			return usable(d);
		if (o->container) {
			d = need_in_container(t, o, name, &found);
			if (d || found)
				return d;
		}
	}
	fd = kdl_search(name, o, t->ns, &path, &head);
	if (fd < 0)
		return from_links_all(t, o, name);
	if (source_searched(&s, fd, path, &head)) {
		close(fd);
		free(path);
		return NULL;
	}
	return load_queued(t, &s, path, NULL);
}

static bool has_verdef(const struct kdl_obj *d, const char *name, uint32_t hash)
{
	const Elf64_Verdef *vd = d->dyn.verdef;

	if (!vd)
		return d->system;	/* glibc's objects: trust what glibc loaded */
	for (size_t i = 0; vd && i < d->dyn.verdefnum; i++, vd = verdef_next(vd)) {
		const Elf64_Verdaux *a = verdef_aux(vd);

		if (vd->vd_hash == hash && vd->vd_cnt && a->vda_name < d->dyn.strsz &&
		    !strcmp(d->dyn.strtab + a->vda_name, name))
			return true;
	}
	return false;
}

/* Every version @o requires (DT_VERNEED, not marked weak) must be defined
 * by the dependency it names, as glibc checks before relocating. */
static int check_versions(const struct kdl_obj *o)
{
	const Elf64_Verneed *vn = o->dyn.verneed;

	for (size_t i = 0; vn && i < o->dyn.verneednum; i++, vn = verneed_next(vn)) {
		const char *file = vn->vn_file < o->dyn.strsz ? o->dyn.strtab + vn->vn_file : "";
		const struct kdl_obj *dep = NULL;
		const Elf64_Vernaux *a = verneed_aux(vn);

		for (size_t j = 0; j < o->ndeps && !dep; j++)
			if (o->deps[j]->soname && !strcmp(o->deps[j]->soname, file))
				dep = o->deps[j];
		for (unsigned int j = 0; dep && a && j < vn->vn_cnt; j++, a = vernaux_next(a)) {
			const char *v = a->vna_name < o->dyn.strsz ? o->dyn.strtab + a->vna_name : "";

			if (!(a->vna_flags & VER_FLG_WEAK) && !has_verdef(dep, v, a->vna_hash)) {
				kdl_set_error("%s: version %s not found (required by %s)", dep->name, v,
					      o->name);
				return -1;
			}
		}
	}
	return 0;
}

/* Self plus dependencies, breadth-first, each once. */
static int build_scope(struct kdl_obj *root)
{
	struct kdl_obj **s = NULL;
	size_t n = 0, cap = 0;

	if (push(&s, &n, &cap, root))
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct kdl_obj *o = s[i];

		for (size_t j = 0; !o->system && j < o->ndeps; j++) {
			bool seen = false;

			for (size_t k = 0; k < n && !seen; k++)
				seen = s[k] == o->deps[j];
			if (!seen && push(&s, &n, &cap, o->deps[j])) {
				free(s);
				return -1;
			}
		}
	}
	free(root->scope);
	root->scope = s;
	root->nscope = n;
	return 0;
}

static void txn_rollback(struct load_txn *t)
{
	for (size_t i = 0; i < t->nreused; i++)
		t->reused[i]->refcnt--;
	for (size_t i = t->n; i-- > 0;) {
		kdl_ns_del_obj(t->objs[i]);
		kdl_obj_destroy(t->objs[i]);
	}
}

/* Whether @o is one of @ns's objects, its own or inherited. */
static bool belongs(const struct kdl_ns *ns, const struct kdl_obj *o)
{
	if (o->ns == ns)
		return true;
	for (size_t i = 0; i < ns->ninherited; i++)
		if (ns->inherited[i] == o)
			return true;
	return false;
}

/* RTLD_GLOBAL makes @o global in @ns, the namespace of the load -- not
 * in another one it was linked from, which only lends it. */
static int add_global(struct kdl_ns *ns, struct kdl_obj *o)
{
	if (!belongs(ns, o))
		return 0;
	for (size_t i = 0; i < ns->nglobal; i++)
		if (ns->global[i] == o)
			return 0;
	if (push(&ns->global, &ns->nglobal, &ns->capglobal, o))
		return -1;
	o->global = true;
	return 0;
}

/* A KDL_LOAD_NORELOC load between its two phases (kdl_relocate(3)). */
struct kdl_pending {
	struct load_txn t;
	bool failed;		/* kdl_relocate() failed: only close is left */
};

/* Index the new objects, so later loads find them. */
static int index_new(struct load_txn *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (kdl_ns_add_obj(t->objs[i]))
			return -1;
	return 0;
}

/*
 * Phases 2 to 4 of a load whose objects are mapped:
 *  2. relocate the new objects, dependencies first, in the root's scope;
 *  3. protect RELRO;
 *  4. publish: link into the object list, take references.
 */
static int finish(struct load_txn *t, struct kdl_obj *root)
{
	/* Dependencies before dependents: reverse queue order. */
	for (size_t i = t->n; i-- > 0;)
		if (kdl_reloc_obj(t->objs[i], root->scope, root->nscope) ||
		    kdl_protect_relro(t->objs[i]))
			return -1;
	for (size_t i = 1; i < t->n; i++)
		if (build_scope(t->objs[i]))
			return -1;
	for (size_t i = 0; i < t->n; i++) {
		t->objs[i]->unrelocated = NULL;
		kdl_obj_link(t->objs[i]);
		kdl_eh_register(t->objs[i]);
	}
	kdl_debug_publish(t->objs, t->n);
	return 0;
}

/* What a load's mode adds to the root it returns. */
static struct kdl_obj *opened(struct load_txn *t, struct kdl_obj *root, int mode)
{
	if (mode & RTLD_NODELETE)
		root->nodelete = true;
	if (mode & RTLD_GLOBAL)
		for (size_t i = 0; i < root->nscope; i++)
			if (!root->scope[i]->system && add_global(t->ns, root->scope[i]))
				break;
	return root;
}

/* KDL_LOAD_NORELOC: keep the mapped tree for kdl_relocate(). */
static struct kdl_obj *park(struct load_txn *t, struct kdl_obj *root)
{
	struct kdl_pending *p = calloc(1, sizeof(*p));

	if (!p) {
		kdl_set_error("%s: out of memory", root->name);
		return NULL;
	}
	p->t = *t;
	t->objs = NULL;
	t->reused = NULL;
	for (size_t i = 0; i < p->t.n; i++)
		p->t.objs[i]->unrelocated = root;
	root->pending = p;
	root->refcnt++;
	return root;
}

/*
 * Under kdl_lock:
 *  1. map the root and, breadth-first, every DT_NEEDED not yet loaded,
 *     and check the versions each requires of its dependencies;
 *  then finish() the rest, or park() it for kdl_relocate().
 * Any failure unmaps every new object and drops every reference taken.
 */
static struct kdl_obj *load_locked(struct load_txn *t, const struct kdl_request *req, int mode)
{
	struct kdl_source s = KDL_SOURCE_INIT;
	struct kdl_head head;
	struct kdl_obj *root;
	char *path = NULL, *zip = NULL, *entry = NULL;
	const char *name = req->name;
	size_t all_link = 0;
	int fd, r;

	t->mode = mode;
	if (kdl_process_refresh())
		return NULL;
	if (req->buf) {
		unsigned int flags;
		struct kdl_placement pl;

		if (placement_in(t, t->ns, &pl, &flags))
			return NULL;
		r = kdl_source_mem(&s, req->buf, req->len,
				   kdl_backend_pick(flags) == KDL_BACKEND_KERNEL, name);
	} else if (req->fd >= 0) {
		r = kdl_source_fd(&s, req->fd, req->offset, 0, name);
	} else if ((r = kdl_container_split(name, &zip, &entry)) != 0) {
		char real[PATH_MAX];
		bool known = r > 0 && t->ns->isolated && realpath(zip, real);

		if (r > 0 && t->ns->isolated && (!known || !kdl_ns_permits(t->ns, real))) {
			kdl_ns_refuse(t->ns, name, known ? real : zip);
			r = -1;
		} else if (r > 0) {
			r = kdl_source_container(&s, zip, entry, name);
			r = r > 0 ? -1 : r;
		}
		free(zip);
		free(entry);
	} else {
		struct kdl_ns *to, *lacking = NULL;
		char first[1024];
again:
		if (!strchr(name, '/') && kdl_ns_shares(t->ns, name)) {
			if (mode & RTLD_NOLOAD)
				return kdl_process_find(name);
			return kdl_process_runtime_dep(name, "kdl_open");
		}
		/* A soname the namespace is linked for opens in the other. */
		if (!strchr(name, '/') && (to = kdl_ns_link_target(t->ns, name))) {
			if (++t->link_depth > 8) {
				kdl_set_error("%s: namespace links go round in a cycle", name);
				return NULL;
			}
			t->ns = to;
			goto again;
		}
		if (!strchr(name, '/') && (root = find_soname(t, name))) {
			if (!usable(root))
				return NULL;
			goto reuse;
		}
		fd = kdl_search(name, req->loader, t->ns, &path, &head);
		if (fd < 0) {
			/* Not found: each namespace the one that lacks it links
			 * with everything, in order; the first failure is told. */
			if (!lacking && !strchr(name, '/')) {
				lacking = t->ns;
				snprintf(first, sizeof(first), "%s",
					 kdl_error_peek() ? kdl_error_peek() : "");
			}
			if (lacking && (to = kdl_ns_fallback(lacking, all_link++))) {
				t->ns = to;
				goto again;
			}
			if (lacking)
				kdl_set_error("%s", first);
			return NULL;
		}
		r = source_searched(&s, fd, path, &head);
		if (r)
			close(fd);
		name = path;
	}
	if (r) {
		free(path);
		return NULL;
	}
	root = find_loaded(t, s.dev, s.ino, s.id_offset);
	if (!root && (mode & RTLD_NOLOAD))
		root = process_copy(t, s.dev, s.ino, s.id_offset, NULL);
	if (root || (mode & RTLD_NOLOAD)) {
		free(path);
		kdl_source_release(&s);
		if (!root || !usable(root))
			return NULL;
		goto reuse;
	}
	if (!path && !(path = strdup(name))) {
		kdl_source_release(&s);
		kdl_set_error("out of memory");
		return NULL;
	}
	root = load_queued(t, &s, path, t->root_name);
	if (!root)
		return NULL;
	if (root->system || root != t->objs[0])
		goto reuse;

	/* 1. Dependencies, breadth-first (t->objs grows as we go). */
	for (size_t i = 0; i < t->n; i++) {
		struct kdl_obj *o = t->objs[i];
		size_t k = 0;

		for (size_t j = 0; o->dynamic[j].d_tag != DT_NULL; j++) {
			struct kdl_obj *d;

			if (o->dynamic[j].d_tag != DT_NEEDED)
				continue;
			d = resolve_needed(t, o, o->dyn.strtab + o->dynamic[j].d_un.d_val);
			if (!d)
				goto fail;
			if (!d->system && d->relocated &&
			    push(&t->reused, &t->nreused, &t->capreused, d))
				goto fail;
			if (!d->system)
				d->refcnt++;
			o->deps[k++] = d;
		}
	}
	t->ns = root->ns;
	if (build_scope(root))
		goto fail;
	for (size_t i = 0; i < t->n; i++)
		if (check_versions(t->objs[i]))
			goto fail;
	if (index_new(t))
		goto fail;
	if (t->flags & KDL_LOAD_NORELOC)
		return park(t, root);
	if (finish(t, root))
		goto fail;
	root->refcnt++;
	return opened(t, root, mode);

reuse:
	if (root->system)
		return root;
	root->refcnt++;
	return opened(t, root, mode);
fail:
	txn_rollback(t);
	return NULL;
}

static int load_args(struct load_txn *t, const struct kdl_load_args *args)
{
	if (!args)
		return 0;
	if (args->size < offsetof(struct kdl_load_args, mirror_base) + sizeof(uint64_t)) {
		kdl_set_error("kdl_load_args: size %zu is below the first version's %zu",
			      args->size, sizeof(struct kdl_load_args));
		return -1;
	}
	if (args->ns)
		t->ns = args->ns;
	t->root_name = args->name;
	t->flags = args->flags;
	/* A verifier of an unrelocated image wants its files' bytes, not a
	 * cache entry's relocated pages. */
	if (t->flags & KDL_LOAD_NORELOC)
		t->flags |= KDL_LOAD_NO_CACHE;
	t->pl.flags = args->flags & (KDL_LOAD_WINDOW | KDL_LOAD_FIXED | KDL_LOAD_MIRROR);
	t->pl.lo = args->window_lo;
	t->pl.hi = args->window_hi;
	t->pl.align = args->align;
	t->pl.fixed = args->fixed_addr;
	t->pl.mirror_base = args->mirror_base;
	if ((t->pl.flags & KDL_LOAD_WINDOW) && t->pl.lo >= t->pl.hi) {
		kdl_set_error("kdl_load_args: window [0x%llx, 0x%llx) is empty",
			      (unsigned long long)t->pl.lo, (unsigned long long)t->pl.hi);
		return -1;
	}
	if (t->pl.align & (t->pl.align - 1)) {
		kdl_set_error("kdl_load_args: alignment 0x%llx is not a power of two",
			      (unsigned long long)t->pl.align);
		return -1;
	}
	return 0;
}

struct kdl_obj *kdl_load_tree(const struct kdl_request *req, int mode,
			      const struct kdl_load_args *args)
{
	struct load_txn t = { .ns = &kdl_default_ns };
	struct kdl_obj *root;

	if (load_args(&t, args))
		return NULL;
	pthread_mutex_lock(&kdl_lock);
	root = load_locked(&t, req, mode);
	pthread_mutex_unlock(&kdl_lock);
	free(t.objs);
	free(t.reused);
	if (root && !root->system && !root->unrelocated)
		kdl_run_inits(root);
	return root;
}

int kdl_load_finish(struct kdl_obj *root)
{
	struct kdl_pending *p;

	pthread_mutex_lock(&kdl_lock);
	if (!root->unrelocated) {
		pthread_mutex_unlock(&kdl_lock);
		return 0;	/* relocated already */
	}
	if (root->unrelocated != root) {
		kdl_set_error("kdl_relocate: %s: part of the KDL_LOAD_NORELOC load of %s: relocate that handle",
			      root->name, root->unrelocated->name);
		goto fail;
	}
	p = root->pending;
	if (p->failed) {
		kdl_set_error("kdl_relocate: %s: its relocation failed already; kdl_close() it",
			      root->name);
		goto fail;
	}
	if (finish(&p->t, root)) {
		p->failed = true;
		goto fail;
	}
	opened(&p->t, root, p->t.mode);
	root->pending = NULL;
	pthread_mutex_unlock(&kdl_lock);
	free(p->t.objs);
	free(p->t.reused);
	free(p);
	kdl_run_inits(root);
	return 0;
fail:
	pthread_mutex_unlock(&kdl_lock);
	return -1;
}

/* kdl_close() of a KDL_LOAD_NORELOC root before or after a failed
 * kdl_relocate(): nothing of it ran, so it all goes, no destructor. */
static void undo_pending(struct kdl_obj *root)
{
	struct kdl_pending *p = root->pending;

	pthread_mutex_lock(&kdl_lock);
	root->pending = NULL;
	txn_rollback(&p->t);
	pthread_mutex_unlock(&kdl_lock);
	free(p->t.objs);
	free(p->t.reused);
	free(p);
}

/* Drop one reference; at zero run destructors, then unmap and free, and
 * release the dependencies the same way.  Called without kdl_lock. */
int kdl_unload(struct kdl_obj *o)
{
	struct kdl_obj **dead = NULL;
	size_t n = 0, cap = 0;

	if (o->system)
		return 0;
	pthread_mutex_lock(&kdl_lock);
	if (o->unrelocated) {
		bool root = o->unrelocated == o;

		pthread_mutex_unlock(&kdl_lock);
		if (!root) {
			kdl_set_error("kdl_close: %s: part of the KDL_LOAD_NORELOC load of %s: close that handle",
				      o->name, o->unrelocated->name);
			return -1;
		}
		undo_pending(o);
		return 0;
	}
	if (!o->refcnt) {
		pthread_mutex_unlock(&kdl_lock);
		kdl_set_error("%s: closed more often than opened", o->name);
		return -1;
	}
	if (--o->refcnt || o->nodelete) {
		pthread_mutex_unlock(&kdl_lock);
		return 0;
	}
	if (push(&dead, &n, &cap, o))
		goto out_unlock;
	for (size_t i = 0; i < n; i++) {
		struct kdl_obj *d = dead[i];

		for (size_t j = 0; j < d->ndeps; j++) {
			struct kdl_obj *x = d->deps[j];

			if (x && !x->system && x->refcnt && --x->refcnt == 0 && !x->nodelete &&
			    push(&dead, &n, &cap, x))
				break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct kdl_ns *ns = dead[i]->ns;

		kdl_obj_unlink(dead[i]);
		kdl_ns_del_obj(dead[i]);
		for (size_t j = 0; j < ns->nglobal; j++)
			if (ns->global[j] == dead[i]) {
				memmove(&ns->global[j], &ns->global[j + 1],
					(ns->nglobal - j - 1) * sizeof(*ns->global));
				ns->nglobal--;
				break;
			}
	}
	pthread_mutex_unlock(&kdl_lock);
	/* Dependents were queued before their dependencies. */
	for (size_t i = 0; i < n; i++)
		kdl_run_fini(dead[i]);
	kdl_debug_unpublish(dead, n);
	for (size_t i = 0; i < n; i++)
		kdl_obj_destroy(dead[i]);
	free(dead);
	return 0;
out_unlock:
	pthread_mutex_unlock(&kdl_lock);
	return -1;
}

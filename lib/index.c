/* index.c - the loaded objects of every namespace, indexed by file
 * identity and by soname, so that finding an object costs the same with
 * one namespace or ten thousand.  Under kdl_lock. */
#include <stdlib.h>
#include <string.h>

#include "obj.h"

struct table {
	struct kdl_obj **b;	/* bucket heads */
	size_t mask;		/* buckets - 1; no buckets while b is NULL */
	size_t n;
};

static struct table by_file, by_soname;

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static uint64_t file_key(const struct kdl_ns *ns, dev_t dev, ino_t ino, uint64_t off)
{
	return mix((uintptr_t)ns ^ mix(dev ^ mix(ino ^ mix(off))));
}

static uint64_t soname_key(const struct kdl_ns *ns, const char *soname)
{
	return mix((uintptr_t)ns ^ kdl_gnu_hash(soname));
}

static struct kdl_obj **next_of(struct table *t, struct kdl_obj *o)
{
	return t == &by_file ? &o->file_next : &o->soname_next;
}

static uint64_t key_of(struct table *t, const struct kdl_obj *o)
{
	return t == &by_file ? file_key(o->ns, o->dev, o->ino, o->src_base) :
			       soname_key(o->ns, o->soname);
}

/* Doubles the buckets, keeping each chain's order (oldest first). */
static int grow(struct table *t)
{
	size_t nb = t->b ? (t->mask + 1) * 2 : 64;
	struct kdl_obj **b = calloc(nb, sizeof(*b)), **tails;

	if (!b)
		return -1;
	tails = calloc(nb, sizeof(*tails));
	if (!tails) {
		free(b);
		return -1;
	}
	for (size_t i = 0; t->b && i <= t->mask; i++) {
		for (struct kdl_obj *o = t->b[i], *next; o; o = next) {
			size_t k = key_of(t, o) & (nb - 1);

			next = *next_of(t, o);
			*next_of(t, o) = NULL;
			if (tails[k])
				*next_of(t, tails[k]) = o;
			else
				b[k] = o;
			tails[k] = o;
		}
	}
	free(tails);
	free(t->b);
	t->b = b;
	t->mask = nb - 1;
	return 0;
}

static int add(struct table *t, struct kdl_obj *o)
{
	struct kdl_obj **p;

	if (t->n >= (t->b ? t->mask + 1 : 0) && grow(t))
		return -1;
	/* At the chain's end: of two objects of one soname, the first
	 * loaded is found, as a walk of the load order would. */
	for (p = &t->b[key_of(t, o) & t->mask]; *p; p = next_of(t, *p))
		;
	*p = o;
	*next_of(t, o) = NULL;
	t->n++;
	return 0;
}

static void del(struct table *t, struct kdl_obj *o)
{
	if (!t->b)
		return;
	for (struct kdl_obj **p = &t->b[key_of(t, o) & t->mask]; *p; p = next_of(t, *p))
		if (*p == o) {
			*p = *next_of(t, o);
			t->n--;
			return;
		}
}

int kdl_index_add(struct kdl_obj *o)
{
	if (add(&by_file, o))
		goto nomem;
	if (add(&by_soname, o)) {
		del(&by_file, o);
		goto nomem;
	}
	o->indexed = true;
	return 0;
nomem:
	kdl_set_error("%s: out of memory", o->name);
	return -1;
}

void kdl_index_del(struct kdl_obj *o)
{
	if (!o->indexed)
		return;
	del(&by_file, o);
	del(&by_soname, o);
	o->indexed = false;
}

struct kdl_obj *kdl_index_file(const struct kdl_ns *ns, dev_t dev, ino_t ino, uint64_t off)
{
	if (!by_file.b)
		return NULL;
	for (struct kdl_obj *o = by_file.b[file_key(ns, dev, ino, off) & by_file.mask]; o;
	     o = o->file_next)
		if (o->ns == ns && o->dev == dev && o->ino == ino && o->src_base == off)
			return o;
	return NULL;
}

struct kdl_obj *kdl_index_soname(const struct kdl_ns *ns, const char *soname)
{
	if (!by_soname.b)
		return NULL;
	for (struct kdl_obj *o = by_soname.b[soname_key(ns, soname) & by_soname.mask]; o;
	     o = o->soname_next)
		if (o->ns == ns && !strcmp(o->soname, soname))
			return o;
	return NULL;
}

/*
 * By address: every 2 MiB chunk an object's span touches names it, so
 * finding the object at an address (dlopen's caller, dladdr) reads one
 * short chain instead of every object of every namespace.
 */
#define CHUNK_SHIFT 21

struct addr_ent {
	struct addr_ent *next;
	uintptr_t chunk;
	struct kdl_obj *o;
};

static struct {
	struct addr_ent **b;
	size_t mask, n;
	bool degraded;		/* an insertion failed: walk the list */
} by_addr;

static size_t chunk_slot(uintptr_t chunk)
{
	return mix(chunk) & by_addr.mask;
}

static int addr_grow(void)
{
	size_t nb = by_addr.b ? (by_addr.mask + 1) * 2 : 256;
	struct addr_ent **b = calloc(nb, sizeof(*b));

	if (!b)
		return -1;
	for (size_t i = 0; by_addr.b && i <= by_addr.mask; i++)
		for (struct addr_ent *e = by_addr.b[i], *next; e; e = next) {
			next = e->next;
			e->next = b[mix(e->chunk) & (nb - 1)];
			b[mix(e->chunk) & (nb - 1)] = e;
		}
	free(by_addr.b);
	by_addr.b = b;
	by_addr.mask = nb - 1;
	return 0;
}

void kdl_index_addr_add(struct kdl_obj *o)
{
	uintptr_t first = o->map.start >> CHUNK_SHIFT;
	uintptr_t last = (o->map.start + o->map.len - 1) >> CHUNK_SHIFT;

	if (!o->map.len)
		return;
	for (uintptr_t c = first; c <= last; c++) {
		struct addr_ent *e;

		if (by_addr.n >= (by_addr.b ? by_addr.mask + 1 : 0) && addr_grow())
			goto degraded;
		e = malloc(sizeof(*e));
		if (!e)
			goto degraded;
		*e = (struct addr_ent){ .next = by_addr.b[chunk_slot(c)], .chunk = c, .o = o };
		by_addr.b[chunk_slot(c)] = e;
		by_addr.n++;
	}
	return;
degraded:
	by_addr.degraded = true;
}

void kdl_index_addr_del(struct kdl_obj *o)
{
	uintptr_t first = o->map.start >> CHUNK_SHIFT;
	uintptr_t last = (o->map.start + o->map.len - 1) >> CHUNK_SHIFT;

	if (!o->map.len || !by_addr.b)
		return;
	for (uintptr_t c = first; c <= last; c++)
		for (struct addr_ent **p = &by_addr.b[chunk_slot(c)]; *p; p = &(*p)->next)
			if ((*p)->o == o && (*p)->chunk == c) {
				struct addr_ent *e = *p;

				*p = e->next;
				free(e);
				by_addr.n--;
				break;
			}
}

struct kdl_obj *kdl_index_addr(uintptr_t addr, bool *complete)
{
	uintptr_t c = addr >> CHUNK_SHIFT;

	*complete = !by_addr.degraded;
	if (!by_addr.b)
		return NULL;
	for (struct addr_ent *e = by_addr.b[chunk_slot(c)]; e; e = e->next)
		if (e->chunk == c && addr >= e->o->map.start && addr < e->o->map.start + e->o->map.len)
			return e->o;
	return NULL;
}

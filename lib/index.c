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

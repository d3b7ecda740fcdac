/* tls.c - dynamic TLS for kdl's objects: module ids, per-thread blocks
 * allocated on first use, freed at thread exit and at unload. */
#include <cpuid.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "obj.h"
#include "tls.h"

/*
 * Lock order: kdl_lock, then tls_lock.  tls_lock guards the module table
 * and the list of every thread's block vector; a thread reads its own
 * vector without it (only the thread itself grows it, and unload clears
 * entries under tls_lock while no code of that module may run).
 */
struct module {
	const void *image;
	size_t filesz, memsz, align;
	int live;
};

struct dtv {
	size_t n;
	void **blocks;
	struct dtv *next, *prev;
};

static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;
static struct module *mods;
static size_t nmods, capmods;
static struct dtv *all_dtvs;
static pthread_key_t dtv_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
/* Read by kdl_tlsdesc_dynamic's fast path too, hence initial-exec and
 * the layout of struct dtv (n, then blocks) fixed. */
KDL_HIDDEN __thread struct dtv *kdl_tls_dtv __attribute__((tls_model("initial-exec")));
#define my_dtv kdl_tls_dtv
/* Bytes XSAVE writes for the features the OS enabled (CPUID 0xD), and
 * whether the OS enabled XSAVE at all (CPUID 1: OSXSAVE). */
KDL_HIDDEN uint64_t kdl_xsave_size = 4096;
KDL_HIDDEN unsigned char kdl_have_xsave;

/* glibc's, for tls_index values that name glibc's modules. */
extern void *__tls_get_addr(struct kdl_tls_index *ti);

static void dtv_free(void *p)
{
	struct dtv *d = p;

	pthread_mutex_lock(&tls_lock);
	if (d->prev)
		d->prev->next = d->next;
	else
		all_dtvs = d->next;
	if (d->next)
		d->next->prev = d->prev;
	pthread_mutex_unlock(&tls_lock);
	for (size_t i = 0; i < d->n; i++)
		free(d->blocks[i]);
	free(d->blocks);
	free(d);
	my_dtv = NULL;
}

static void key_init(void)
{
	unsigned int a, b, c, d;

	pthread_key_create(&dtv_key, dtv_free);
	__cpuid(1, a, b, c, d);
	kdl_have_xsave = (c >> 27) & 1;
	if (kdl_have_xsave) {
		__cpuid_count(0xd, 0, a, b, c, d);
		if (b)
			kdl_xsave_size = ((uint64_t)b + 64 + 63) & ~63ull;
	}
	(void)a; (void)d;
}

size_t kdl_tls_register(const void *image, size_t filesz, size_t memsz, size_t align,
			const char *name)
{
	size_t id;

	if (align & (align - 1) || align > 4096) {
		kdl_set_error("%s: PT_TLS alignment %zu: expected a power of two up to 4096",
			      name, align);
		return 0;
	}
	pthread_once(&key_once, key_init);
	pthread_mutex_lock(&tls_lock);
	if (nmods == capmods) {
		size_t nc = capmods ? capmods * 2 : 16;
		struct module *nm = realloc(mods, nc * sizeof(*nm));

		if (!nm) {
			pthread_mutex_unlock(&tls_lock);
			kdl_set_error("%s: out of memory for a TLS module", name);
			return 0;
		}
		mods = nm;
		capmods = nc;
	}
	mods[nmods] = (struct module){ image, filesz, memsz, align ? align : 1, 1 };
	id = KDL_TLS_MODID_BASE + nmods++;
	pthread_mutex_unlock(&tls_lock);
	return id;
}

void kdl_tls_unregister(size_t modid)
{
	size_t idx = modid - KDL_TLS_MODID_BASE;

	pthread_mutex_lock(&tls_lock);
	if (idx < nmods) {
		mods[idx].live = 0;
		for (struct dtv *d = all_dtvs; d; d = d->next)
			if (idx < d->n) {
				free(d->blocks[idx]);
				d->blocks[idx] = NULL;
			}
	}
	pthread_mutex_unlock(&tls_lock);
}

/* First use of module @idx by this thread: make its block. */
static void *block_slow(size_t idx)
{
	struct dtv *d = my_dtv;
	struct module m;
	void *b = NULL;
	size_t size;

	pthread_once(&key_once, key_init);
	pthread_mutex_lock(&tls_lock);
	if (idx >= nmods || !mods[idx].live)
		goto out;
	m = mods[idx];
	if (!d) {
		d = calloc(1, sizeof(*d));
		if (!d)
			goto out;
		d->next = all_dtvs;
		if (all_dtvs)
			all_dtvs->prev = d;
		all_dtvs = d;
		my_dtv = d;
		pthread_setspecific(dtv_key, d);
	}
	if (idx >= d->n) {
		size_t nn = nmods > idx + 1 ? nmods : idx + 1;
		void **nb = realloc(d->blocks, nn * sizeof(*nb));

		if (!nb)
			goto out;
		memset(nb + d->n, 0, (nn - d->n) * sizeof(*nb));
		d->blocks = nb;
		d->n = nn;
	}
	size = (m.memsz + m.align - 1) & ~(m.align - 1);
	b = aligned_alloc(m.align, size ? size : m.align);
	if (!b)
		goto out;
	memcpy(b, m.image, m.filesz);
	memset((char *)b + m.filesz, 0, (size ? size : m.align) - m.filesz);
	d->blocks[idx] = b;
out:
	pthread_mutex_unlock(&tls_lock);
	return b;
}

void *kdl_tls_addr(size_t modid, size_t offset)
{
	size_t idx = modid - KDL_TLS_MODID_BASE;
	struct dtv *d = my_dtv;
	char *b;

	if (d && idx < d->n && d->blocks[idx])
		return (char *)d->blocks[idx] + offset;
	b = block_slow(idx);
	/* A module used after its unload, or no memory: nothing sane to
	 * return to code that will dereference it. */
	if (!b)
		abort();
	return b + offset;
}

void *kdl_tls_sym_addr(const struct kdl_obj *o, size_t offset)
{
	struct kdl_tls_index ti = { o->tls_modid, offset };

	if (!o->tls_modid)
		return NULL;
	return o->system ? __tls_get_addr(&ti) : kdl_tls_addr(o->tls_modid, offset);
}

/* The slow half of kdl_tlsdesc_dynamic: the offset of the variable from
 * the thread pointer, its block made first. */
KDL_HIDDEN long kdl_tlsdesc_slow(struct kdl_tls_index *ti);
long kdl_tlsdesc_slow(struct kdl_tls_index *ti)
{
	return (char *)kdl_tls_addr(ti->module, ti->offset) - (char *)__builtin_thread_pointer();
}

/* The C half of kdl_tls_get_addr_entry. */
KDL_HIDDEN void *kdl_tls_get_addr(struct kdl_tls_index *ti);
void *kdl_tls_get_addr(struct kdl_tls_index *ti)
{
	if (ti->module >= KDL_TLS_MODID_BASE)
		return kdl_tls_addr(ti->module, ti->offset);
	return __tls_get_addr(ti);
}

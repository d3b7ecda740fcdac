/* tls.c - TLS for kdl's objects: module ids, per-thread blocks allocated
 * on first use and freed at thread exit and at unload, or one static
 * block per thread for modules initial-exec code uses (tls_static.c). */
#include <cpuid.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "obj.h"
#include "once.h"
#include "tls.h"

/*
 * Lock order: kdl_lock, then tls_lock.  tls_lock guards the module table
 * and the list of every thread's block vector; a thread reads its own
 * vector without it (only the thread itself grows it, and unload clears
 * entries under tls_lock while no code of that module may run).
 */
struct module {
	struct kdl_tls_image img;
	int live;
	void *carrier;		/* glibc's handle of its static block, or NULL */
	intptr_t static_off;	/* that block's offset from the thread pointer */
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
static struct kdl_once key_once = KDL_ONCE_INIT;
/* Read by kdl_tlsdesc_dynamic's fast path too, hence initial-exec and
 * the layout of struct dtv (n, then blocks) fixed. */
KDL_HIDDEN __thread struct dtv *kdl_tls_dtv __attribute__((tls_model("initial-exec")));
#define my_dtv kdl_tls_dtv
/* Bytes XSAVE writes for the features the OS enabled (CPUID 0xD), and
 * whether the OS enabled XSAVE at all (CPUID 1: OSXSAVE). */
KDL_HIDDEN uint64_t kdl_xsave_size = 4096;
KDL_HIDDEN unsigned char kdl_have_xsave;

static void dtv_free(void *p)
{
	struct dtv *d = p;

	pthread_mutex_lock(&tls_lock);
	/* A static module's entry points into the thread's static area. */
	for (size_t i = 0; i < d->n && i < nmods; i++)
		if (mods[i].carrier)
			d->blocks[i] = NULL;
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
	kdl_once(&key_once, key_init);
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
	mods[nmods] = (struct module){ { image, filesz, memsz, align ? align : 1 }, 1, NULL, 0 };
	id = KDL_TLS_MODID_BASE + nmods++;
	pthread_mutex_unlock(&tls_lock);
	return id;
}

void kdl_tls_unregister(size_t modid)
{
	size_t idx = modid - KDL_TLS_MODID_BASE;
	void *carrier = NULL;

	pthread_mutex_lock(&tls_lock);
	if (idx < nmods) {
		mods[idx].live = 0;
		carrier = mods[idx].carrier;
		mods[idx].carrier = NULL;
		for (struct dtv *d = all_dtvs; d; d = d->next)
			if (idx < d->n) {
				if (!carrier)
					free(d->blocks[idx]);
				d->blocks[idx] = NULL;
			}
	}
	pthread_mutex_unlock(&tls_lock);
	/* glibc's lock is never taken under tls_lock. */
	kdl_tls_static_release(carrier);
}

/* Some thread made a dynamic block of module @idx.  Under tls_lock. */
static bool has_dynamic_block(size_t idx)
{
	for (struct dtv *d = all_dtvs; d; d = d->next)
		if (idx < d->n && d->blocks[idx])
			return true;
	return false;
}

bool kdl_tls_static_off(size_t modid, intptr_t *off)
{
	size_t idx = modid - KDL_TLS_MODID_BASE;
	bool ret = false;

	pthread_mutex_lock(&tls_lock);
	if (idx < nmods && mods[idx].carrier) {
		*off = mods[idx].static_off;
		ret = true;
	}
	pthread_mutex_unlock(&tls_lock);
	return ret;
}

size_t kdl_tls_glibc_modid(size_t modid)
{
	size_t idx = modid - KDL_TLS_MODID_BASE, id = 0;

	pthread_mutex_lock(&tls_lock);
	if (idx < nmods && mods[idx].carrier)
		id = kdl_tls_static_glibc_modid(mods[idx].carrier);
	pthread_mutex_unlock(&tls_lock);
	return id;
}

/*
 * glibc is asked for the block without tls_lock held (its loader lock may
 * be held by a thread that is about to take tls_lock through kdl-loaded
 * code), so the module is checked again afterwards: a thread may have
 * made a dynamic block of a published module in between.
 */
int kdl_tls_make_static(size_t modid, const char *name, intptr_t *off)
{
	size_t idx = modid - KDL_TLS_MODID_BASE;
	struct kdl_tls_image img;
	void *carrier;
	intptr_t o;

	if (kdl_tls_static_off(modid, off))
		return 0;
	pthread_mutex_lock(&tls_lock);
	if (idx >= nmods || !mods[idx].live)
		goto gone;
	if (has_dynamic_block(idx))
		goto dynamic;
	img = mods[idx].img;
	pthread_mutex_unlock(&tls_lock);
	if (kdl_tls_static_reserve(&img, name, &carrier, &o))
		return -1;
	pthread_mutex_lock(&tls_lock);
	if (!mods[idx].live || mods[idx].carrier || has_dynamic_block(idx)) {
		pthread_mutex_unlock(&tls_lock);
		kdl_tls_static_release(carrier);
		return kdl_tls_make_static(modid, name, off);
	}
	/* Two live modules never share a block: if glibc handed one out
	 * twice (it knows carriers by name), refuse rather than corrupt. */
	for (size_t i = 0; i < nmods; i++)
		if (mods[i].carrier && mods[i].static_off == o) {
			pthread_mutex_unlock(&tls_lock);
			kdl_tls_static_release(carrier);
			kdl_set_error("%s: glibc gave the static TLS block of another module (offset %ld)",
				      name, (long)o);
			return -1;
		}
	mods[idx].carrier = carrier;
	mods[idx].static_off = o;
	pthread_mutex_unlock(&tls_lock);
	*off = o;
	return 0;
gone:
	pthread_mutex_unlock(&tls_lock);
	kdl_set_error("%s: initial-exec TLS against a module that is no longer loaded", name);
	return -1;
dynamic:
	pthread_mutex_unlock(&tls_lock);
	kdl_set_error("%s: initial-exec TLS against a module threads already use through dynamic TLS (glibc refuses this case too)",
		      name);
	return -1;
}

/* First use of module @idx by this thread: make its block. */
static void *block_slow(size_t idx)
{
	struct dtv *d = my_dtv;
	struct module m;
	void *b = NULL;
	size_t size;

	kdl_once(&key_once, key_init);
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
	if (m.carrier) {
		/* glibc made and initialised this thread's static block. */
		b = (char *)__builtin_thread_pointer() + m.static_off;
		d->blocks[idx] = b;
		goto out;
	}
	size = (m.img.memsz + m.img.align - 1) & ~(m.img.align - 1);
	b = aligned_alloc(m.img.align, size ? size : m.img.align);
	if (!b)
		goto out;
	memcpy(b, m.img.image, m.img.filesz);
	memset((char *)b + m.img.filesz, 0, (size ? size : m.img.align) - m.img.filesz);
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

int kdl_tls_ie_offset(const struct kdl_obj *m, const char *name, intptr_t *off)
{
	if (!m->system)
		return kdl_tls_make_static(m->tls_modid, name, off);
	if (kdl_tls_glibc_static_off(m->tls_modid, off))
		return 0;
	kdl_set_error("%s: initial-exec TLS against %s, whose TLS glibc allocated dynamically",
		      name, m->name);
	return -1;
}

bool kdl_tls_static_base(const struct kdl_obj *m, intptr_t *off)
{
	return m->system ? kdl_tls_glibc_static_off(m->tls_modid, off) :
			   kdl_tls_static_off(m->tls_modid, off);
}

/* The slow half of kdl_tlsdesc_dynamic: the offset of the variable from
 * the thread pointer, its block made first. */
KDL_HIDDEN long kdl_tlsdesc_slow(struct kdl_tls_index *ti);
/* The C half of kdl_tls_get_addr_entry. */
KDL_HIDDEN void *kdl_tls_get_addr(struct kdl_tls_index *ti);
void *kdl_tls_get_addr(struct kdl_tls_index *ti)
{
	if (ti->module >= KDL_TLS_MODID_BASE)
		return kdl_tls_addr(ti->module, ti->offset);
	return __tls_get_addr(ti);
}

long kdl_tlsdesc_slow(struct kdl_tls_index *ti)
{
	return (char *)kdl_tls_get_addr(ti) - (char *)__builtin_thread_pointer();
}

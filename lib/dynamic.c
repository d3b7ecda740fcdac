/* dynamic.c - read a PT_DYNAMIC: tables for lookup, relocation, init. */
#include <stdlib.h>
#include <string.h>

#include "obj.h"

static int version_index(struct kdl_dyninfo *d, const char *name);

struct dyn_ctx {
	const struct kdl_elf *e;	/* NULL for the process's objects */
	uintptr_t bias;
	bool relocated;			/* d_ptr values already absolute */
	const char *name;
	size_t known_nsyms;		/* 0, or the count a cache entry recorded */
};

/* The address of a d_ptr table of @len bytes, or NULL with the error set
 * when it does not lie inside readable memory of the image. */
static const void *dyn_ptr_aligned(const struct dyn_ctx *c, uint64_t v, uint64_t len,
				   const char *tag, unsigned int align)
{
	if (c->e && v % align) {
		kdl_set_error("%s: %s at 0x%llx is not %u-byte aligned", c->name, tag,
			      (unsigned long long)v, align);
		return NULL;
	}
	if (!c->e) {
		if (c->relocated && v >= c->bias)
			return (const void *)v;
		return (const void *)(c->bias + v);
	}
	if (!kdl_elf_contains(c->e, v, len ? len : 1, PF_R)) {
		kdl_set_error("%s: %s at 0x%llx+0x%llx lies outside the readable segments",
			      c->name, tag, (unsigned long long)v, (unsigned long long)len);
		return NULL;
	}
	return (const void *)(c->bias + v);
}

/* Every table but the string table holds 32- or 64-bit words. */
#define dyn_ptr(c, v, len, tag) dyn_ptr_aligned(c, v, len, tag, 4)
#define dyn_ptr8(c, v, len, tag) dyn_ptr_aligned(c, v, len, tag, 8)

static int gnu_hash_tables(struct kdl_dyninfo *d, const struct dyn_ctx *c, uint64_t v)
{
	const uint32_t *h = dyn_ptr8(c, v, 16, "DT_GNU_HASH");
	uint64_t len;
	size_t nsyms = 0;

	if (!h)
		return -1;
	d->gnu_nbuckets = h[0];
	d->gnu_symoffset = h[1];
	d->gnu_bloom_size = h[2];
	d->gnu_bloom_shift = h[3];
	if (!d->gnu_nbuckets || !d->gnu_bloom_size ||
	    (d->gnu_bloom_size & (d->gnu_bloom_size - 1)) || d->gnu_bloom_shift >= 64 ||
	    d->gnu_nbuckets > (1u << 24) || d->gnu_bloom_size > (1u << 24)) {
		kdl_set_error("%s: DT_GNU_HASH header is malformed (%u buckets, bloom %u words, shift %u)",
			      c->name, d->gnu_nbuckets, d->gnu_bloom_size, d->gnu_bloom_shift);
		return -1;
	}
	len = 16 + 8ull * d->gnu_bloom_size + 4ull * d->gnu_nbuckets;
	if (!dyn_ptr(c, v, len, "DT_GNU_HASH tables"))
		return -1;
	d->gnu_bloom = (const uint64_t *)(h + 4);
	d->gnu_buckets = (const uint32_t *)(d->gnu_bloom + d->gnu_bloom_size);
	d->gnu_chain = d->gnu_buckets + d->gnu_nbuckets - d->gnu_symoffset;

	/* The symbol count is the end of the longest chain.  The process's
	 * objects were checked by ld.so: lookups need no bound there. */
	if (!c->e) {
		if (!d->nsyms)
			d->nsyms = SIZE_MAX / sizeof(Elf64_Sym);
		return 0;
	}
	/* Counted when the entry was written, from this very file: the
	 * bucket pages stay untouched (the tables are still bounded by the
	 * readable segments below). */
	if (c->known_nsyms) {
		d->nsyms = c->known_nsyms;
		return 0;
	}
	/* One pass over the buckets: each names no symbol or a hashed one,
	 * and the last they name starts the chain that ends the table. */
	for (uint32_t b = 0; b < d->gnu_nbuckets; b++) {
		uint32_t i = d->gnu_buckets[b];

		if (i && i < d->gnu_symoffset) {
			kdl_set_error("%s: DT_GNU_HASH bucket %u: found symbol %u, expected >= %u",
				      c->name, b, i, d->gnu_symoffset);
			return -1;
		}
		if (i >= nsyms)
			nsyms = (size_t)i + 1;
	}
	if (nsyms > d->gnu_symoffset) {
		nsyms--;
		for (;;) {
			uint64_t at = v + len + 4ull * (nsyms - d->gnu_symoffset);

			if (nsyms > (1u << 24) || !dyn_ptr(c, at, 4, "DT_GNU_HASH chain")) {
				if (nsyms > (1u << 24))
					kdl_set_error("%s: DT_GNU_HASH chain does not end", c->name);
				return -1;
			}
			if (d->gnu_chain[nsyms++] & 1)
				break;
		}
	} else {
		/* No symbol is hashed: symoffset is only a lower bound (a
		 * linker may leave it at 1 over undefined symbols); the
		 * relocations tell the rest (kdl_dyn_read). */
		nsyms = d->gnu_symoffset;
		d->nsyms_unsure = !d->sysv_hash;
	}
	if (!d->nsyms || nsyms > d->nsyms)
		d->nsyms = nsyms;
	return 0;
}

static int sysv_hash_tables(struct kdl_dyninfo *d, const struct dyn_ctx *c, uint64_t v)
{
	const uint32_t *h = dyn_ptr(c, v, 8, "DT_HASH");

	if (!h)
		return -1;
	if (!h[0] || h[0] > (1u << 24) || h[1] > (1u << 24)) {
		kdl_set_error("%s: DT_HASH header is malformed (%u buckets, %u chains)",
			      c->name, h[0], h[1]);
		return -1;
	}
	if (!dyn_ptr(c, v, 8 + 4ull * h[0] + 4ull * h[1], "DT_HASH tables"))
		return -1;
	d->sysv_hash = h;
	d->nsyms = h[1];
	return 0;
}

/* Walk a verdef or verneed chain, checking each link stays in bounds. */
static int check_version_chain(const struct dyn_ctx *c, uint64_t v, size_t n, bool def)
{
	for (size_t i = 0; i < n; i++) {
		const void *p = dyn_ptr(c, v, def ? sizeof(Elf64_Verdef) : sizeof(Elf64_Verneed),
					def ? "DT_VERDEF" : "DT_VERNEED");
		uint32_t aux, cnt, next;

		if (!p)
			return -1;
		if (def) {
			const Elf64_Verdef *vd = p;
			aux = vd->vd_aux; cnt = vd->vd_cnt; next = vd->vd_next;
			if (vd->vd_version != 1)
				goto bad;
		} else {
			const Elf64_Verneed *vn = p;
			aux = vn->vn_aux; cnt = vn->vn_cnt; next = vn->vn_next;
			if (vn->vn_version != 1)
				goto bad;
		}
		for (uint64_t a = v + aux, j = 0; j < cnt; j++) {
			const void *q = dyn_ptr(c, a, def ? sizeof(Elf64_Verdaux) : sizeof(Elf64_Vernaux),
						"version aux entry");
			uint32_t anext;

			if (!q)
				return -1;
			anext = def ? ((const Elf64_Verdaux *)q)->vda_next :
				      ((const Elf64_Vernaux *)q)->vna_next;
			if (!anext)
				break;
			a += anext;
		}
		if (!next)
			break;
		v += next;
	}
	return 0;
bad:
	kdl_set_error("%s: %s: version entry revision is not 1", c->name,
		      def ? "DT_VERDEF" : "DT_VERNEED");
	return -1;
}

int kdl_dyn_lookup_tables(struct kdl_dyninfo *d, const Elf64_Dyn *dyn, size_t ndyn,
			  uintptr_t bias, bool relocated, const struct kdl_elf *e,
			  const char *name, size_t known_nsyms)
{
	struct dyn_ctx c = { .e = e, .bias = bias, .relocated = relocated, .name = name,
			     .known_nsyms = known_nsyms };
	uint64_t strtab = 0, symtab = 0, hash = 0, gnu_hash = 0, versym = 0;
	uint64_t verdef = 0, verneed = 0, syment = sizeof(Elf64_Sym);

	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
		uint64_t v = dyn[i].d_un.d_val;

		switch (dyn[i].d_tag) {
		case DT_STRTAB: strtab = v; break;
		case DT_STRSZ: d->strsz = v; break;
		case DT_SYMTAB: symtab = v; break;
		case DT_SYMENT: syment = v; break;
		case DT_HASH: hash = v; break;
		case DT_GNU_HASH: gnu_hash = v; break;
		case DT_VERSYM: versym = v; break;
		case DT_VERDEF: verdef = v; break;
		case DT_VERDEFNUM: d->verdefnum = v; break;
		case DT_VERNEED: verneed = v; break;
		case DT_VERNEEDNUM: d->verneednum = v; break;
		}
	}
	if (!strtab || !symtab) {
		kdl_set_error("%s: dynamic section lacks DT_STRTAB or DT_SYMTAB", name);
		return -1;
	}
	if (syment != sizeof(Elf64_Sym)) {
		kdl_set_error("%s: DT_SYMENT: found %llu, expected %zu", name,
			      (unsigned long long)syment, sizeof(Elf64_Sym));
		return -1;
	}
	if (!hash && !gnu_hash) {
		kdl_set_error("%s: dynamic section has neither DT_HASH nor DT_GNU_HASH", name);
		return -1;
	}
	d->strtab = dyn_ptr_aligned(&c, strtab, d->strsz, "DT_STRTAB", 1);
	if (!d->strtab)
		return -1;
	if (e && !known_nsyms && d->strsz && d->strtab[d->strsz - 1] != '\0') {
		kdl_set_error("%s: DT_STRTAB does not end with a NUL", name);
		return -1;
	}
	if (hash && sysv_hash_tables(d, &c, hash))
		return -1;
	if (gnu_hash && gnu_hash_tables(d, &c, gnu_hash))
		return -1;
	d->symtab = dyn_ptr8(&c, symtab, d->nsyms * sizeof(Elf64_Sym), "DT_SYMTAB");
	if (!d->symtab)
		return -1;
	if (versym && !(d->versym = dyn_ptr_aligned(&c, versym, d->nsyms * 2, "DT_VERSYM", 2)))
		return -1;
	if (verdef) {
		if (d->verdefnum > 4096 || (e && check_version_chain(&c, verdef, d->verdefnum, true)))
			return -1;
		d->verdef = dyn_ptr(&c, verdef, sizeof(Elf64_Verdef), "DT_VERDEF");
	}
	if (verneed) {
		if (d->verneednum > 4096 || (e && check_version_chain(&c, verneed, d->verneednum, false)))
			return -1;
		d->verneed = dyn_ptr(&c, verneed, sizeof(Elf64_Verneed), "DT_VERNEED");
	}
	return version_index(d, name);
}

static void version_index_set(struct kdl_dyninfo *d, size_t ndx, uint32_t name, uint32_t hash)
{
	if (ndx < d->nver && name < d->strsz && !d->vername[ndx]) {
		d->vername[ndx] = d->strtab + name;
		d->verhash[ndx] = hash;
	}
}

/* Build the index -> version table.  The chains were checked already. */
static int version_index(struct kdl_dyninfo *d, const char *name)
{
	const Elf64_Verdef *vd = d->verdef;
	const Elf64_Verneed *vn = d->verneed;

	if (!d->versym || (!vd && !vn))
		return 0;
	/* Size the table by the largest index in use. */
	d->nver = 2;
	for (size_t i = 0; vd && i < d->verdefnum; i++, vd = verdef_next(vd))
		if ((size_t)(vd->vd_ndx & 0x7fff) >= d->nver)
			d->nver = (vd->vd_ndx & 0x7fff) + 1;
	for (size_t i = 0; vn && i < d->verneednum; i++, vn = verneed_next(vn)) {
		const Elf64_Vernaux *a = verneed_aux(vn);

		for (unsigned int j = 0; a && j < vn->vn_cnt; j++, a = vernaux_next(a))
			if ((size_t)(a->vna_other & 0x7fff) >= d->nver)
				d->nver = (a->vna_other & 0x7fff) + 1;
	}
	d->vername = calloc(d->nver, sizeof(*d->vername));
	d->verhash = calloc(d->nver, sizeof(*d->verhash));
	if (!d->vername || !d->verhash) {
		free(d->vername);
		free(d->verhash);
		d->vername = NULL;
		d->verhash = NULL;
		kdl_set_error("%s: out of memory for version tables", name);
		return -1;
	}
	vd = d->verdef;
	for (size_t i = 0; vd && i < d->verdefnum; i++, vd = verdef_next(vd))
		if (vd->vd_cnt)
			version_index_set(d, vd->vd_ndx & 0x7fff, verdef_aux(vd)->vda_name, vd->vd_hash);
	vn = d->verneed;
	for (size_t i = 0; vn && i < d->verneednum; i++, vn = verneed_next(vn)) {
		const Elf64_Vernaux *a = verneed_aux(vn);

		for (unsigned int j = 0; a && j < vn->vn_cnt; j++, a = vernaux_next(a))
			version_index_set(d, a->vna_other & 0x7fff, a->vna_name, a->vna_hash);
	}
	return 0;
}

void kdl_dyninfo_free(struct kdl_dyninfo *d)
{
	free(d->vername);
	free(d->verhash);
	d->vername = NULL;
	d->verhash = NULL;
	d->nver = 0;
}

static int table(const struct dyn_ctx *c, uint64_t v, uint64_t sz, size_t ent,
		 const char *tag, const void **out, size_t *n)
{
	if (!v && !sz)
		return 0;
	if (sz % ent) {
		kdl_set_error("%s: %s size 0x%llx is not a multiple of %zu", c->name, tag,
			      (unsigned long long)sz, ent);
		return -1;
	}
	*out = dyn_ptr8(c, v, sz, tag);
	*n = sz / ent;
	return *out ? 0 : -1;
}

static const char *dyn_str(struct kdl_obj *o, uint64_t off, const char *tag)
{
	if (off >= o->dyn.strsz) {
		kdl_set_error("%s: %s string offset 0x%llx is past DT_STRSZ 0x%zx", o->name,
			      tag, (unsigned long long)off, o->dyn.strsz);
		return NULL;
	}
	return o->dyn.strtab + off;
}

/* The symbol count when no hash table gives it: one past the highest
 * index a relocation names, the table (and its DT_VERSYM) checked to hold
 * that many. */
static int count_syms_from_relocs(struct kdl_obj *o, const struct dyn_ctx *c)
{
	struct kdl_dyninfo *d = &o->dyn;
	size_t n = d->nsyms;
	uint64_t symtab = (uintptr_t)d->symtab - o->bias;

	for (size_t i = 0; i < o->nrela; i++)
		if (ELF64_R_SYM(o->rela[i].r_info) >= n)
			n = ELF64_R_SYM(o->rela[i].r_info) + 1;
	for (size_t i = 0; i < o->njmprel; i++)
		if (ELF64_R_SYM(o->jmprel[i].r_info) >= n)
			n = ELF64_R_SYM(o->jmprel[i].r_info) + 1;
	if (n == d->nsyms)
		return 0;
	if (n > (1u << 24) || !dyn_ptr8(c, symtab, n * sizeof(Elf64_Sym), "DT_SYMTAB") ||
	    (d->versym && !dyn_ptr_aligned(c, (uintptr_t)d->versym - o->bias, n * 2, "DT_VERSYM", 2))) {
		if (n > (1u << 24))
			kdl_set_error("%s: relocations name symbol %zu, past any symbol table",
				      o->name, n - 1);
		return -1;
	}
	d->nsyms = n;
	return 0;
}

/* Fill the loader's fields of @o from its mapped PT_DYNAMIC. */
int kdl_dyn_read(struct kdl_obj *o, const struct kdl_elf *e)
{
	struct dyn_ctx c = { .e = e, .bias = o->bias, .name = o->name };
	const Elf64_Dyn *dyn;
	size_t ndyn = e->dynamic->p_memsz / sizeof(Elf64_Dyn);
	uint64_t rela = 0, relasz = 0, relaent = sizeof(Elf64_Rela), jmprel = 0, pltrelsz = 0;
	uint64_t relr = 0, relrsz = 0, relrent = 8, ia = 0, iasz = 0, fa = 0, fasz = 0;
	uint64_t soname = ~0ull, rpath = ~0ull, runpath = ~0ull;

	dyn = dyn_ptr8(&c, e->dynamic->p_vaddr, e->dynamic->p_memsz, "PT_DYNAMIC");
	if (!dyn)
		return -1;
	o->dynamic = dyn;
	if (kdl_dyn_lookup_tables(&o->dyn, dyn, ndyn, o->bias, false, e, o->name,
				  o->known_nsyms))
		return -1;
	for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
		uint64_t v = dyn[i].d_un.d_val;

		switch (dyn[i].d_tag) {
		case DT_RELA: rela = v; break;
		case DT_RELASZ: relasz = v; break;
		case DT_RELAENT: relaent = v; break;
		case DT_RELACOUNT: o->nrelative = v; break;
		case DT_JMPREL: jmprel = v; break;
		case DT_PLTRELSZ: pltrelsz = v; break;
		case DT_PLTREL:
			if (v != DT_RELA) {
				kdl_set_error("%s: DT_PLTREL: found %llu, expected DT_RELA", o->name,
					      (unsigned long long)v);
				return -1;
			}
			break;
		case DT_REL: case DT_RELSZ:
			kdl_set_error("%s: DT_REL relocations are not used on x86-64", o->name);
			return -1;
		case DT_RELR: relr = v; break;
		case DT_RELRSZ: relrsz = v; break;
		case DT_RELRENT: relrent = v; break;
		case DT_INIT: o->init = v; break;
		case DT_FINI: o->fini = v; break;
		case DT_INIT_ARRAY: ia = v; break;
		case DT_INIT_ARRAYSZ: iasz = v; break;
		case DT_FINI_ARRAY: fa = v; break;
		case DT_FINI_ARRAYSZ: fasz = v; break;
		case DT_SONAME: soname = v; break;
		case DT_RPATH: rpath = v; break;
		case DT_RUNPATH: runpath = v; break;
		case DT_SYMBOLIC: o->symbolic = true; break;
		case DT_TEXTREL: o->textrel = true; break;
		case DT_BIND_NOW: o->bind_now = true; break;
		case DT_FLAGS:
			if (v & DF_SYMBOLIC) o->symbolic = true;
			if (v & DF_TEXTREL) o->textrel = true;
			if (v & DF_BIND_NOW) o->bind_now = true;
			break;
		case DT_FLAGS_1:
			if (v & DF_1_NODELETE) o->nodelete = true;
			if (v & DF_1_NOW) o->bind_now = true;
			/* An executable's start-up assumes it runs as the
			 * program (its own TLS, its own copy relocations). */
			if (v & DF_1_PIE) {
				kdl_set_error("%s: DT_FLAGS_1 has DF_1_PIE: a position-independent executable, not a shared object (glibc's dlopen refuses it too)",
					      o->name);
				return -1;
			}
			break;
		case DT_NEEDED:
			if (!dyn_str(o, v, "DT_NEEDED"))
				return -1;
			o->ndeps++;
			break;
		}
	}
	if (relaent != sizeof(Elf64_Rela) || relrent != 8) {
		kdl_set_error("%s: DT_RELAENT or DT_RELRENT has an unexpected size", o->name);
		return -1;
	}
	if (o->textrel) {
		kdl_set_error("%s: text relocations (DT_TEXTREL) are refused", o->name);
		return -1;
	}
	if (table(&c, rela, relasz, sizeof(Elf64_Rela), "DT_RELA", (const void **)&o->rela, &o->nrela) ||
	    table(&c, jmprel, pltrelsz, sizeof(Elf64_Rela), "DT_JMPREL", (const void **)&o->jmprel, &o->njmprel) ||
	    table(&c, relr, relrsz, 8, "DT_RELR", (const void **)&o->relr, &o->nrelr) ||
	    table(&c, ia, iasz, 8, "DT_INIT_ARRAY", (const void **)&o->init_array, &o->ninit_array) ||
	    table(&c, fa, fasz, 8, "DT_FINI_ARRAY", (const void **)&o->fini_array, &o->nfini_array))
		return -1;
	if (o->nrelative > o->nrela)
		o->nrelative = o->nrela;
	if (o->dyn.nsyms_unsure && count_syms_from_relocs(o, &c))
		return -1;
	for (unsigned int i = 0; i < e->nload; i++)
		if (e->load[i].flags & PF_W) {
			o->wr_lo = e->load[i].vaddr;
			o->wr_hi = e->load[i].vaddr + e->load[i].memsz;
			break;
		}
	if ((o->init && !kdl_elf_contains(e, o->init, 1, PF_X)) ||
	    (o->fini && !kdl_elf_contains(e, o->fini, 1, PF_X))) {
		kdl_set_error("%s: DT_INIT or DT_FINI points outside executable segments", o->name);
		return -1;
	}
	if (soname != ~0ull && !(o->soname = dyn_str(o, soname, "DT_SONAME")))
		return -1;
	if (rpath != ~0ull && !(o->rpath = dyn_str(o, rpath, "DT_RPATH")))
		return -1;
	if (runpath != ~0ull && !(o->runpath = dyn_str(o, runpath, "DT_RUNPATH")))
		return -1;
	if (o->runpath)
		o->rpath = NULL;	/* DT_RUNPATH disables DT_RPATH */
	return 0;
}

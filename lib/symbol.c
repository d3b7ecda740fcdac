/* symbol.c - find a symbol in one object: GNU or SysV hash, versions. */
#include <string.h>

#include "obj.h"

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = h * 33 + *p;
	return h;
}

static uint32_t sysv_hash(const char *s)
{
	uint32_t h = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		h = (h << 4) + *p;
		h ^= (h >> 24) & 0xf0;
	}
	return h & 0x0fffffff;
}

/* @version_hash: the ELF hash of @version, as DT_VERNEED stores it. */
void kdl_symref_init_hashed(struct kdl_symref *r, const char *name, const char *version,
			    uint32_t version_hash)
{
	r->name = name;
	r->gnu_hash = gnu_hash(name);
	r->sysv_hash = 0xffffffff;
	r->version = version;
	r->version_hash = version_hash;
	r->hidden_ok = version != NULL;
}

void kdl_symref_init(struct kdl_symref *r, const char *name, const char *version)
{
	kdl_symref_init_hashed(r, name, version, version ? sysv_hash(version) : 0);
}

static bool version_ok(const struct kdl_dyninfo *d, size_t idx, const struct kdl_symref *r)
{
	unsigned int v, ndx;

	if (!d->versym)
		return true;
	v = d->versym[idx];
	ndx = v & 0x7fff;
	if (ndx == VER_NDX_LOCAL)
		return false;
	if (!r->version)
		return !(v & 0x8000) || ndx == VER_NDX_GLOBAL;
	if (ndx == VER_NDX_GLOBAL)
		return true;
	if (ndx >= d->nver || !d->vername[ndx])
		return false;
	return d->verhash[ndx] == r->version_hash && !strcmp(d->vername[ndx], r->version);
}

static bool sym_ok(const struct kdl_dyninfo *d, size_t idx, const struct kdl_symref *r)
{
	const Elf64_Sym *s = &d->symtab[idx];
	unsigned int type = ELF64_ST_TYPE(s->st_info), bind = ELF64_ST_BIND(s->st_info);

	if (s->st_shndx == SHN_UNDEF || (!s->st_value && type != STT_TLS))
		return false;
	if (type > STT_FUNC && type != STT_COMMON && type != STT_TLS && type != STT_GNU_IFUNC)
		return false;
	if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
		return false;
	if (s->st_name >= d->strsz || strcmp(d->strtab + s->st_name, r->name))
		return false;
	return version_ok(d, idx, r);
}

static const Elf64_Sym *gnu_lookup(const struct kdl_dyninfo *d, const struct kdl_symref *r)
{
	uint32_t h = r->gnu_hash, i, ch;
	uint64_t word = d->gnu_bloom[(h / 64) & (d->gnu_bloom_size - 1)];
	/* A shift of 32 or more (dynamic.c allows up to 63) counts modulo
	 * 32, as in glibc, whose 32-bit shift the CPU masks: measured, glibc
	 * loads a library patched to shift 13 + 32 and finds every symbol. */
	uint64_t mask = (1ull << (h % 64)) | (1ull << ((h >> (d->gnu_bloom_shift & 31)) % 64));

	if ((word & mask) != mask)
		return NULL;
	i = d->gnu_buckets[h % d->gnu_nbuckets];
	if (!i)
		return NULL;
	for (; i < d->nsyms; i++) {
		ch = d->gnu_chain[i];
		if ((ch | 1) == (h | 1) && sym_ok(d, i, r))
			return &d->symtab[i];
		if (ch & 1)
			break;
	}
	return NULL;
}

static const Elf64_Sym *sysv_lookup(const struct kdl_dyninfo *d, struct kdl_symref *r)
{
	uint32_t nbucket = d->sysv_hash[0], nchain = d->sysv_hash[1];
	const uint32_t *bucket = d->sysv_hash + 2, *chain = bucket + nbucket;

	if (r->sysv_hash == 0xffffffff)
		r->sysv_hash = sysv_hash(r->name);
	for (uint32_t i = bucket[r->sysv_hash % nbucket], n = 0; i && i < nchain && n < nchain;
	     i = chain[i], n++)
		if (i < d->nsyms && sym_ok(d, i, r))
			return &d->symtab[i];
	return NULL;
}

const Elf64_Sym *kdl_sym_in(const struct kdl_obj *o, struct kdl_symref *r)
{
	if (o->dyn.gnu_bloom)
		return gnu_lookup(&o->dyn, r);
	if (o->dyn.sysv_hash)
		return sysv_lookup(&o->dyn, r);
	return NULL;
}

/* The run-time address a definition stands for; IFUNCs are resolved. */
uintptr_t kdl_sym_value(const struct kdl_obj *o, const Elf64_Sym *s)
{
	uintptr_t v = s->st_shndx == SHN_ABS ? s->st_value : o->bias + s->st_value;

	if (ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC)
		v = ((uintptr_t(*)(void))v)();
	return v;
}

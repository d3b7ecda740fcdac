/* symbol.c - find a symbol in one object: GNU or SysV hash, versions. */
#include <string.h>

#include "obj.h"

uint32_t kdl_gnu_hash(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t h = 5381;

	/* Two characters a step: (h * 33 + a) * 33 + b, one multiply. */
	for (; p[0] && p[1]; p += 2)
		h = h * (33 * 33) + p[0] * 33u + p[1];
	if (p[0])
		h = h * 33 + p[0];
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
	r->gnu_hash = kdl_gnu_hash(name);
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

#define BIT(n) (1u << (n))
#define DEF_TYPES (BIT(STT_NOTYPE) | BIT(STT_OBJECT) | BIT(STT_FUNC) | BIT(STT_COMMON) | \
		   BIT(STT_TLS) | BIT(STT_GNU_IFUNC))

/* A symbol table entry a lookup may bind to, whatever its name, if its
 * binding is one of @binds. */
static inline bool def_ok(const Elf64_Sym *s, unsigned int binds)
{
	unsigned int type = ELF64_ST_TYPE(s->st_info), bind = ELF64_ST_BIND(s->st_info);

	if (s->st_shndx == SHN_UNDEF || (!s->st_value && type != STT_TLS))
		return false;
	return (DEF_TYPES & BIT(type)) && (binds & BIT(bind));
}

static bool sym_ok(const struct kdl_dyninfo *d, size_t idx, const struct kdl_symref *r)
{
	const Elf64_Sym *s = &d->symtab[idx];

	if (!def_ok(s, BIT(STB_GLOBAL) | BIT(STB_WEAK) | BIT(STB_GNU_UNIQUE)))
		return false;
	if (s->st_name >= d->strsz || strcmp(d->strtab + s->st_name, r->name))
		return false;
	return version_ok(d, idx, r);
}

/* Whether the Bloom filter lets hash @h through. */
static bool gnu_bloom_ok(const struct kdl_dyninfo *d, uint32_t h)
{
	uint64_t word = d->gnu_bloom[(h / 64) & (d->gnu_bloom_size - 1)];
	/* A shift of 32 or more (dynamic.c allows up to 63) counts modulo
	 * 32, as in glibc, whose 32-bit shift the CPU masks: measured, glibc
	 * loads a library patched to shift 13 + 32 and finds every symbol. */
	uint64_t mask = (1ull << (h % 64)) | (1ull << ((h >> (d->gnu_bloom_shift & 31)) % 64));

	return (word & mask) == mask;
}

static const Elf64_Sym *gnu_lookup(const struct kdl_dyninfo *d, const struct kdl_symref *r)
{
	uint32_t h = r->gnu_hash, i, ch;

	if (!gnu_bloom_ok(d, h))
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

bool kdl_sym_may_define(const struct kdl_obj *o, uint32_t gnu_hash)
{
	const struct kdl_dyninfo *d = &o->dyn;
	uint32_t h = gnu_hash;

	if (!d->gnu_bloom)
		return d->sysv_hash != NULL;
	if (!gnu_bloom_ok(d, h))
		return false;
	/* A small object's filter is a word or two: its chain decides. */
	for (uint32_t i = d->gnu_buckets[h % d->gnu_nbuckets]; i && i < d->nsyms; i++) {
		if ((d->gnu_chain[i] | 1) == (h | 1))
			return true;
		if (d->gnu_chain[i] & 1)
			break;
	}
	return false;
}

const Elf64_Sym *kdl_sym_in(const struct kdl_obj *o, struct kdl_symref *r)
{
	if (o->dyn.gnu_bloom)
		return gnu_lookup(&o->dyn, r);
	if (o->dyn.sysv_hash)
		return sysv_lookup(&o->dyn, r);
	return NULL;
}

/*
 * A reference an object makes through one of its own defined symbols
 * names that symbol and its version (reloc.c).  Looked up in the object,
 * gnu_lookup() would hash the name, test the Bloom filter, start at the
 * name's bucket and return the first entry of the name sym_ok() accepts.
 * The same walk can be made without hashing the name: the entry's chain
 * value is its name's hash but for bit 0, the bucket whose run of entries
 * holds @idx tells bit 0 (h and h | 1 fall in different buckets when there
 * are two or more), and an earlier entry of the same name in the run has
 * the same chain value.  So: find the run's first entry, refuse when an
 * earlier entry has the same chain value (the lookup would compare its
 * name), recover the hash, test it as gnu_lookup() does.
 * What is taken on trust, where gnu_lookup() would hash the name, is that
 * @idx's chain value and its run's bucket are its name's hash, as linkers
 * write them (a table lying about them binds the reference to itself
 * where glibc would miss it).  False whenever the walk would be long or
 * the answer is unsure: the caller then looks up.
 */
bool kdl_sym_finds_itself(const struct kdl_obj *o, size_t idx)
{
	const struct kdl_dyninfo *d = &o->dyn;
	const Elf64_Sym *s = &d->symtab[idx];
	const uint32_t *chain = d->gnu_chain, nb = d->gnu_nbuckets, off = d->gnu_symoffset;
	size_t first = idx;
	uint32_t h, b;

	if (!d->gnu_bloom || nb < 2 || idx < off || idx >= d->nsyms || s->st_name >= d->strsz ||
	    !def_ok(s, BIT(STB_GLOBAL) | BIT(STB_WEAK)))
		return false;
	/* The reference names @idx's own version (reloc.c ref_version),
	 * which version_ok() accepts for @idx -- unless the index names no
	 * version, when a hidden @idx would not match. */
	if (d->versym) {
		unsigned int ndx = d->versym[idx] & 0x7fff;

		if (ndx != VER_NDX_GLOBAL && (ndx < 2 || ndx >= d->nver || !d->vername[ndx]))
			return false;
	}
	/* 1. Back to the first entry of the run, past no other of the hash
	 * (another of the name, or a rare collision: either way, look up). */
	h = chain[idx] & ~1u;
	while (first > off && !(chain[first - 1] & 1)) {
		if (idx - --first > 16 || (chain[first] & ~1u) == h)
			return false;
	}
	/* 2. The bucket that starts there gives the hash's bit 0: h and
	 * h | 1 fall in consecutive buckets, b and b + 1 (mod nb). */
	b = h % nb;
	if (d->gnu_buckets[b] == first) {
		if (d->gnu_buckets[b + 1 < nb ? b + 1 : 0] == first)
			return false;
	} else if (d->gnu_buckets[b + 1 < nb ? b + 1 : 0] == first) {
		h |= 1;
	} else {
		return false;
	}
	/* 3. The Bloom filter, as the lookup would test it. */
	return first && gnu_bloom_ok(d, h);
}

/* The run-time address a definition stands for; IFUNCs are resolved. */
uintptr_t kdl_sym_value(const struct kdl_obj *o, const Elf64_Sym *s)
{
	uintptr_t v = s->st_shndx == SHN_ABS ? s->st_value : o->bias + s->st_value;

	if (ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC)
		v = ((uintptr_t(*)(void))v)();
	return v;
}

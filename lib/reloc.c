/* reloc.c - apply an object's relocations, then protect its RELRO. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arch_x86_64.h"
#include "obj.h"
#include "tls.h"

#define PAGE 4096ULL

/* A relocated word may lie at any address (a pointer in a packed struct):
 * stores go through a type that promises no alignment, which is one mov
 * on x86-64 and no undefined behaviour. */
typedef uint64_t unaligned_u64 __attribute__((aligned(1), may_alias));

struct reloc_ctx {
	struct kdl_obj *o;
	struct kdl_obj *const *local;
	size_t nlocal;
	struct kdl_def *cache;		/* per symbol index, this pass */
	uintptr_t *value;		/* its run-time address */
	uint8_t *cached;
	size_t nlater[3];		/* entries seen for each later pass */
};

/*
 * The main pass applies everything but IRELATIVE, which runs once all its
 * resolver may read is in place, and TPOFF64, whose static TLS block is
 * made from the object's init image as relocated (a .tdata may hold
 * RELATIVE pointers).
 */
enum pass { PASS_MAIN, PASS_IRELATIVE, PASS_TPOFF };

static enum pass pass_of(enum kdl_rel k)
{
	return k == REL_IRELATIVE ? PASS_IRELATIVE : k == REL_TPOFF ? PASS_TPOFF : PASS_MAIN;
}

/* The object whose TLS block a TLS relocation of @o names: symbol 0 is
 * @o's own (local dynamic), else the definition's. */
static const struct kdl_obj *tls_module(const struct kdl_obj *o, size_t symidx,
					const struct kdl_def *def, unsigned int type)
{
	const struct kdl_obj *m = symidx ? def->obj : o;

	if (!m || !m->tls_modid) {
		kdl_set_error("%s: TLS relocation (type %u) against %s, which has no TLS",
			      o->name, type, m ? m->name : "an undefined symbol");
		return NULL;
	}
	return m;
}

/* The version a reference names, from DT_VERSYM + DT_VERNEED. */
static const char *ref_version(const struct kdl_obj *o, size_t idx, uint32_t *hash)
{
	const struct kdl_dyninfo *d = &o->dyn;
	unsigned int ndx;

	if (!d->versym)
		return NULL;
	ndx = d->versym[idx] & 0x7fff;
	if (ndx <= VER_NDX_GLOBAL || ndx >= d->nver)
		return NULL;
	*hash = d->verhash[ndx];
	return d->vername[ndx];
}

/* Resolve symbol @idx of the object being relocated.  0 with *def filled
 * (def->sym NULL for an undefined weak reference), -1 with the error set. */
static int resolve(struct reloc_ctx *c, size_t idx, struct kdl_def *def, uintptr_t *value)
{
	struct kdl_obj *o = c->o;
	const Elf64_Sym *ref;
	struct kdl_symref r;

	if (idx >= o->dyn.nsyms) {
		kdl_set_error("%s: relocation names symbol %zu, past the %zu symbols", o->name,
			      idx, o->dyn.nsyms);
		return -1;
	}
	if (c->cached[idx]) {
		*def = c->cache[idx];
		*value = c->value[idx];
		return 0;
	}
	ref = &o->dyn.symtab[idx];
	if (ref->st_name >= o->dyn.strsz) {
		kdl_set_error("%s: symbol %zu: name offset past DT_STRSZ", o->name, idx);
		return -1;
	}
	/* A local or protected definition binds to itself. */
	if (ref->st_shndx != SHN_UNDEF &&
	    (ELF64_ST_BIND(ref->st_info) == STB_LOCAL ||
	     ELF64_ST_VISIBILITY(ref->st_other) == STV_PROTECTED)) {
		def->obj = o;
		def->sym = ref;
	} else {
		uint32_t vh = 0;
		const char *ver = ref_version(o, idx, &vh);
		const char *name = o->dyn.strtab + ref->st_name;

		/* kdl's modules are not glibc's: kdl-loaded code gets kdl's
		 * __tls_get_addr, which passes glibc's modules on to glibc. */
		if (name[0] == '_' && name[1] == '_' && !strcmp(name, "__tls_get_addr")) {
			def->obj = NULL;
			def->sym = NULL;
			*value = (uintptr_t)kdl_tls_get_addr_entry;
			goto cache;
		}
		/* Its dlopen/dlsym/... are answered in its own namespace. */
		if (name[0] == 'd' && name[1] == 'l' && (*value = (uintptr_t)kdl_dlfcn_shim(name))) {
			def->obj = NULL;
			def->sym = NULL;
			goto cache;
		}
		kdl_symref_init_hashed(&r, name, ver, vh);
		if (kdl_lookup(o, &r, c->local, c->nlocal, def)) {
			if (ELF64_ST_BIND(ref->st_info) != STB_WEAK) {
				kdl_set_error("%s: symbol not found: %s%s%s", o->name, r.name,
					      r.version ? "@" : "", r.version ? r.version : "");
				return -1;
			}
			def->obj = NULL;
			def->sym = NULL;
		}
	}
	/* TLS symbols have no address; DTPMOD/DTPOFF use the definition. */
	*value = def->sym && ELF64_ST_TYPE(def->sym->st_info) != STT_TLS ?
		 kdl_sym_value(def->obj, def->sym) : 0;
cache:
	c->cache[idx] = *def;
	c->value[idx] = *value;
	c->cached[idx] = 1;
	return 0;
}

static int apply(struct reloc_ctx *c, const Elf64_Rela *rel, enum pass pass)
{
	struct kdl_obj *o = c->o;
	unsigned int type = ELF64_R_TYPE(rel->r_info);
	size_t symidx = ELF64_R_SYM(rel->r_info);
	enum kdl_rel k = kdl_rel_kind(type);
	uintptr_t where = o->bias + rel->r_offset, s = 0, a = rel->r_addend;
	struct kdl_def def = { 0 };
	int64_t v;

	if (k == REL_NONE)
		return 0;
	if (pass_of(k) != pass) {
		if (pass == PASS_MAIN)
			c->nlater[pass_of(k)]++;
		return 0;
	}
	if (k == REL_UNKNOWN) {
		kdl_set_error("%s: relocation type %u is not supported", o->name, type);
		return -1;
	}
	if (!kdl_elf_contains_mapped(o, rel->r_offset, kdl_rel_width(k))) {
		kdl_set_error("%s: relocation at 0x%llx lies outside the writable segments",
			      o->name, (unsigned long long)rel->r_offset);
		return -1;
	}
	if (k == REL_COPY) {
		kdl_set_error("%s: R_X86_64_COPY is only valid in executables", o->name);
		return -1;
	}
	if (symidx && k != REL_RELATIVE && k != REL_IRELATIVE && resolve(c, symidx, &def, &s))
		return -1;
	switch (k) {
	case REL_DTPMOD: case REL_DTPOFF: {
		/* A module of the process's gets glibc's id, one of ours kdl's;
		 * the __tls_get_addr kdl hands out tells them apart. */
		const struct kdl_obj *m = tls_module(o, symidx, &def, type);

		if (!m)
			return -1;
		*(unaligned_u64 *)where = k == REL_DTPMOD ? m->tls_modid :
				     (symidx ? def.sym->st_value : 0) + a;
		return 0;
	}
	case REL_TPOFF: {
		/* Initial-exec: the block's fixed offset from the thread
		 * pointer, the module given static TLS first (tls_static.c). */
		const struct kdl_obj *m = tls_module(o, symidx, &def, type);
		intptr_t off;

		if (!m || kdl_tls_ie_offset(m, o->name, &off))
			return -1;
		*(unaligned_u64 *)where = off + (symidx ? def.sym->st_value : 0) + a;
		return 0;
	}
	case REL_TLSDESC: {
		/* A descriptor { resolver, argument }: a module with a static
		 * block resolves to a constant offset; any other to a
		 * tls_index, kdl's or glibc's module id alike. */
		const struct kdl_obj *m = tls_module(o, symidx, &def, type);
		uint64_t off = (symidx ? def.sym->st_value : 0) + a;
		struct kdl_tls_index *ti;
		intptr_t base;

		if (!m)
			return -1;
		if (kdl_tls_static_base(m, &base)) {
			((unaligned_u64 *)where)[0] = (uintptr_t)kdl_tlsdesc_static;
			((unaligned_u64 *)where)[1] = base + off;
			return 0;
		}
		ti = kdl_obj_tlsdesc_arg(o, m->tls_modid, off);
		if (!ti)
			return -1;
		((unaligned_u64 *)where)[0] = (uintptr_t)kdl_tlsdesc_dynamic;
		((unaligned_u64 *)where)[1] = (uintptr_t)ti;
		return 0;
	}
	case REL_RELATIVE:
		*(unaligned_u64 *)where = o->bias + a;
		break;
	case REL_IRELATIVE:
		/* glibc jumps wherever the addend points; a resolver outside
		 * the object's code is refused instead of crashing. */
		if (!kdl_elf_contains(&o->elf, a, 1, PF_X)) {
			kdl_set_error("%s: IRELATIVE resolver at 0x%llx is not in an executable segment",
				      o->name, (unsigned long long)a);
			return -1;
		}
		*(unaligned_u64 *)where = ((uintptr_t(*)(void))(o->bias + a))();
		break;
	case REL_GOT: case REL_PLT:
		*(unaligned_u64 *)where = s;
		break;
	case REL_ABS64:
		*(unaligned_u64 *)where = s + a;
		break;
	case REL_PC64:
		*(unaligned_u64 *)where = s + a - where;
		break;
	case REL_SIZE64:
		*(unaligned_u64 *)where = (def.sym ? def.sym->st_size : 0) + a;
		break;
	case REL_PC32: case REL_ABS32: case REL_ABS32S: case REL_SIZE32:
		v = k == REL_PC32 ? (int64_t)(s + a - where) :
		    k == REL_SIZE32 ? (int64_t)((def.sym ? def.sym->st_size : 0) + a) :
				      (int64_t)(s + a);
		if ((k == REL_ABS32 && (uint64_t)v > UINT32_MAX) ||
		    (k != REL_ABS32 && (v < INT32_MIN || v > INT32_MAX))) {
			kdl_set_error("%s: 32-bit relocation (type %u) at 0x%llx overflows",
				      o->name, type, (unsigned long long)rel->r_offset);
			return -1;
		}
		memcpy((void *)where, &(uint32_t){ (uint32_t)v }, 4);
		break;
	default:
		break;
	}
	return 0;
}

/* The common cases inline: RELATIVE, and GOT/PLT/64-bit references to a
 * symbol already resolved in this pass; everything else (and every error)
 * goes through apply(). */
static inline int reloc_fast(struct reloc_ctx *c, const Elf64_Rela *rel)
{
	struct kdl_obj *o = c->o;
	unsigned int type = ELF64_R_TYPE(rel->r_info);
	size_t sym = ELF64_R_SYM(rel->r_info);
	unaligned_u64 *where = (unaligned_u64 *)(o->bias + rel->r_offset);

	if (rel->r_offset >= o->wr_lo && rel->r_offset + 8 <= o->wr_hi &&
	    rel->r_offset + 8 > rel->r_offset) {
		switch (type) {
		case R_X86_64_RELATIVE:
			*where = o->bias + rel->r_addend;
			return 0;
		case R_X86_64_GLOB_DAT:
		case R_X86_64_JUMP_SLOT:
			if (sym && sym < o->dyn.nsyms && c->cached[sym]) {
				*where = c->value[sym];
				return 0;
			}
			break;
		case R_X86_64_64:
			if (sym && sym < o->dyn.nsyms && c->cached[sym]) {
				*where = c->value[sym] + rel->r_addend;
				return 0;
			}
			break;
		}
	}
	return apply(c, rel, PASS_MAIN);
}

/* The argument of a TLS descriptor: owned by @o, freed with it. */
struct kdl_tls_index *kdl_obj_tlsdesc_arg(struct kdl_obj *o, size_t modid, size_t offset)
{
	struct kdl_tls_index *ti = malloc(sizeof(*ti));

	if (ti && o->ntlsdesc == o->captlsdesc) {
		size_t nc = o->captlsdesc ? o->captlsdesc * 2 : 8;
		void **na = realloc(o->tlsdesc, nc * sizeof(*na));

		if (!na) {
			free(ti);
			ti = NULL;
		} else {
			o->tlsdesc = na;
			o->captlsdesc = nc;
		}
	}
	if (!ti) {
		kdl_set_error("%s: out of memory for a TLS descriptor", o->name);
		return NULL;
	}
	ti->module = modid;
	ti->offset = offset;
	o->tlsdesc[o->ntlsdesc++] = ti;
	return ti;
}

/* DT_RELR: an address entry relocates one word and sets the cursor; each
 * bitmap entry after it relocates up to 63 following words. */
static int apply_relr(struct kdl_obj *o)
{
	unaligned_u64 *where = NULL;

	for (size_t i = 0; i < o->nrelr; i++) {
		uint64_t e = o->relr[i];

		if (!(e & 1)) {
			if (!kdl_elf_contains_mapped(o, e, 8))
				goto bad;
			where = (unaligned_u64 *)(o->bias + e);
			*where++ += o->bias;
			continue;
		}
		if (!where)
			goto bad;
		for (unaligned_u64 *p = where; (e >>= 1); p++)
			if (e & 1) {
				if (!kdl_elf_contains_mapped(o, (uintptr_t)p - o->bias, 8))
					goto bad;
				*p += o->bias;
			}
		where += 63;
	}
	return 0;
bad:
	kdl_set_error("%s: DT_RELR entry %s", o->name, "points outside the writable segments");
	return -1;
}

/*
 * 1. DT_RELR and DT_RELA, then DT_JMPREL (bound eagerly);
 * 2. IRELATIVE, once everything its resolver may read is in place;
 * 3. TPOFF64, once the TLS init image is final.
 */
int kdl_relocate(struct kdl_obj *o, struct kdl_obj *const *local, size_t nlocal)
{
	struct reloc_ctx c = { .o = o, .local = local, .nlocal = nlocal };
	int ret = -1;

	if (o->relocated)
		return 0;
	c.cache = malloc(o->dyn.nsyms * sizeof(*c.cache) + 1);
	c.value = malloc(o->dyn.nsyms * sizeof(*c.value) + 1);
	c.cached = calloc(o->dyn.nsyms + 1, 1);
	if (!c.cache || !c.value || !c.cached) {
		kdl_set_error("%s: out of memory for relocation", o->name);
		goto out;
	}
	if (apply_relr(o))
		goto out;
	/* The leading DT_RELACOUNT entries are RELATIVE: a tight loop. */
	for (size_t i = 0; i < o->nrelative; i++) {
		const Elf64_Rela *r = &o->rela[i];

		if (ELF64_R_TYPE(r->r_info) != R_X86_64_RELATIVE) {
			kdl_set_error("%s: DT_RELACOUNT entry %zu: found type %u, expected RELATIVE",
				      o->name, i, (unsigned int)ELF64_R_TYPE(r->r_info));
			goto out;
		}
		if (!kdl_elf_contains_mapped(o, r->r_offset, 8)) {
			kdl_set_error("%s: relocation at 0x%llx lies outside the writable segments",
				      o->name, (unsigned long long)r->r_offset);
			goto out;
		}
		*(unaligned_u64 *)(o->bias + r->r_offset) = o->bias + r->r_addend;
	}
	for (size_t i = o->nrelative; i < o->nrela; i++)
		if (reloc_fast(&c, &o->rela[i]))
			goto out;
	for (size_t i = 0; i < o->njmprel; i++)
		if (reloc_fast(&c, &o->jmprel[i]))
			goto out;
	for (enum pass p = PASS_IRELATIVE; p <= PASS_TPOFF; p++) {
		for (size_t i = o->nrelative; c.nlater[p] && i < o->nrela; i++)
			if (apply(&c, &o->rela[i], p))
				goto out;
		for (size_t i = 0; c.nlater[p] && i < o->njmprel; i++)
			if (apply(&c, &o->jmprel[i], p))
				goto out;
	}
	o->relocated = true;
	ret = 0;
out:
	free(c.cache);
	free(c.value);
	free(c.cached);
	return ret;
}

int kdl_protect_relro(struct kdl_obj *o)
{
	if (o->relro_done || o->relro_end <= o->relro_start)
		return 0;
	if (mprotect((void *)o->relro_start, o->relro_end - o->relro_start, PROT_READ)) {
		kdl_set_error("%s: mprotect of RELRO: %m", o->name);
		return -1;
	}
	o->relro_done = true;
	return 0;
}

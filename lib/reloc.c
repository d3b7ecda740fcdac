/* reloc.c - apply an object's relocations, then protect its RELRO. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arch_x86_64.h"
#include "obj.h"
#include "reloc_cache.h"
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
	bool self_first;		/* o is the first object its lookups search */
	/* An 8-byte word at offset v lies in the first writable segment iff
	 * v - wr_lo < wr_n: one unsigned compare, overflow included. */
	uint64_t wr_lo, wr_n;
	/* Per symbol index, this pass: cached[] says whether it is resolved,
	 * value[] holds its run-time address, cache[] its definition --
	 * unless that is the object's own entry (SYM_SELF), the common case,
	 * for which the largest table and its pages stay untouched. */
	uint8_t *cached;
	uintptr_t *value;
	struct kdl_def *cache;
	size_t nlater[3];		/* entries seen for each later pass */
	/* Building a cache entry: where the relocations another process
	 * must apply again are noted (reloc_cache.c). */
	struct kdl_cache_rec *rec;
	/* Replaying one: the fixup being applied, and the last symbol
	 * bound (run_sym 0: none).  Linkers sort relocations by symbol, so
	 * fixups come in runs of one (libicui18n: 657 of them, 324 against
	 * one vtable); a binding checked once holds for its run. */
	const struct kdl_ce_fix *fix;
	size_t run_sym;
	struct kdl_def run_def;
	uintptr_t run_value;
};

/* SYM_FIXUP: stored, and a binding another process may resolve
 * differently (only while building a cache entry). */
enum { SYM_UNRESOLVED, SYM_SELF, SYM_STORED, SYM_FIXUP };

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
	ref = &o->dyn.symtab[idx];
	if (c->cached && c->cached[idx]) {
		if (c->cached[idx] == SYM_SELF) {
			def->obj = o;
			def->sym = ref;
		} else {
			*def = c->cache[idx];
		}
		*value = c->value[idx];
		return 0;
	}
	if (c->fix && c->run_sym == idx) {
		*def = c->run_def;
		*value = c->run_value;
		return 0;
	}
	/* Replaying a cache entry: the definition it recorded, if it still
	 * holds; neither this object's tables nor the definer's are read. */
	if (c->fix && kdl_cache_bound(o, c->fix, def, value))
		goto memo;
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
		const char *ver;
		const char *name = o->dyn.strtab + ref->st_name;

		/* kdl's modules are not glibc's: kdl-loaded code gets kdl's
		 * __tls_get_addr, which passes glibc's modules on to glibc. */
		if (name[0] == '_' && name[1] == '_' && !strcmp(name, "__tls_get_addr")) {
			def->obj = NULL;
			def->sym = NULL;
			*value = (uintptr_t)kdl_tls_get_addr_entry;
			goto memo;
		}
		/* Its dlopen/dlsym/... are answered in its own namespace. */
		if (name[0] == 'd' && name[1] == 'l' && (*value = (uintptr_t)kdl_dlfcn_shim(name))) {
			def->obj = NULL;
			def->sym = NULL;
			goto memo;
		}
		/* Searched first, the object's own definition is what the
		 * lookup would find: no hash, no scope walk. */
		if (c->self_first && kdl_sym_finds_itself(o, idx)) {
			def->obj = o;
			def->sym = ref;
			goto value;
		}
		ver = ref_version(o, idx, &vh);
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
value:
	/* TLS symbols have no address; DTPMOD/DTPOFF use the definition. */
	*value = def->sym && ELF64_ST_TYPE(def->sym->st_info) != STT_TLS ?
		 kdl_sym_value(def->obj, def->sym) : 0;
memo:
	if (!c->cached) {
		/* A replay: no per-symbol memo (see kdl_relocate), but its
		 * run's.  Not an IFUNC's value: a recorded binding to one is
		 * per process, and its resolver runs for each fixup as a full
		 * relocation runs it for each reference. */
		if (c->fix && !(def->sym && ELF64_ST_TYPE(def->sym->st_info) == STT_GNU_IFUNC)) {
			c->run_sym = idx;
			c->run_def = *def;
			c->run_value = *value;
		}
		return 0;
	}
	/* kdl's own answers (goto memo) have def->sym NULL: stored. */
	if (def->sym == ref && !(c->rec && ELF64_ST_TYPE(ref->st_info) == STT_GNU_IFUNC)) {
		c->value[idx] = *value;
		c->cached[idx] = SYM_SELF;
		return 0;
	}
	c->cache[idx] = *def;
	c->value[idx] = *value;
	c->cached[idx] = c->rec && kdl_cache_per_process(o, def) ? SYM_FIXUP : SYM_STORED;
	return 0;
}

/* Whether an entry must apply relocation @k of @symidx again in every
 * process: TLS ids and offsets and resolver results always are. */
static bool per_process(const struct reloc_ctx *c, enum kdl_rel k, size_t symidx)
{
	switch (k) {
	case REL_DTPMOD: case REL_DTPOFF: case REL_TPOFF: case REL_TLSDESC: case REL_IRELATIVE:
		return true;
	case REL_RELATIVE:
		return false;
	default:
		return symidx && c->cached[symidx] == SYM_FIXUP;
	}
}

/* @idx: the entry's index in DT_RELA, or DT_RELA's count plus its index
 * in DT_JMPREL (the cache's fixup tables name relocations so). */
static int apply(struct reloc_ctx *c, const Elf64_Rela *rel, enum pass pass, uint32_t idx)
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
	if (c->rec && per_process(c, k, symidx))
		kdl_cache_note(c->rec, idx, symidx && k != REL_RELATIVE && k != REL_IRELATIVE ? &def : NULL,
			       s);
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
		struct kdl_tls_index *ti;
		intptr_t base;
		uint64_t off;

		/* Checked first: an undefined weak symbol has no definition
		 * to read the offset from (and no module). */
		if (!m)
			return -1;
		off = (symidx ? def.sym->st_value : 0) + a;
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
		if (!kdl_elf_contains(o->elf, a, 1, PF_X)) {
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

/*
 * The main pass over one table.  The common cases stay in the loop:
 * RELATIVE, and GOT/PLT/64-bit references to a symbol (resolved once per
 * pass), whose target lies in the first writable segment (one compare);
 * everything else (and every other error) goes through apply().  The
 * loop's state is in locals: a relocated word may alias anything, so
 * fields read through a pointer would be read again after every store.
 */
static int apply_table(struct reloc_ctx *c, const Elf64_Rela *rel, size_t n, uint32_t idx)
{
	const uintptr_t bias = c->o->bias;
	const uint64_t lo = c->wr_lo, nwords = c->wr_n;
	const size_t nsyms = c->o->dyn.nsyms;
	const uint8_t *cached = c->cached;
	const uintptr_t *value = c->value;

	for (size_t i = 0; i < n; i++, rel++) {
		unsigned int type = ELF64_R_TYPE(rel->r_info);
		size_t sym = ELF64_R_SYM(rel->r_info);
		unaligned_u64 *where = (unaligned_u64 *)(bias + rel->r_offset);

		if (rel->r_offset - lo < nwords) {
			if (type == R_X86_64_RELATIVE) {
				*where = bias + rel->r_addend;
				continue;
			}
			if ((type == R_X86_64_GLOB_DAT || type == R_X86_64_JUMP_SLOT ||
			     type == R_X86_64_64) && sym && sym < nsyms) {
				struct kdl_def def;
				uintptr_t v;

				if (cached[sym])
					v = value[sym];
				else if (resolve(c, sym, &def, &v))
					return -1;
				if (__builtin_expect(cached[sym] == SYM_FIXUP, 0))
					kdl_cache_note(c->rec, idx + i, &c->cache[sym], v);
				*where = type == R_X86_64_64 ? v + rel->r_addend : v;
				continue;
			}
		}
		if (apply(c, rel, PASS_MAIN, idx + i))
			return -1;
	}
	return 0;
}

/* A DT_RELACOUNT entry the loop's compares refused, checked in full:
 * out of line, so the loop keeps its registers. */
static __attribute__((noinline)) int relative_checked(struct kdl_obj *o, size_t i)
{
	const Elf64_Rela *r = &o->rela[i];

	if (ELF64_R_TYPE(r->r_info) != R_X86_64_RELATIVE) {
		kdl_set_error("%s: DT_RELACOUNT entry %zu: found type %u, expected RELATIVE",
			      o->name, i, (unsigned int)ELF64_R_TYPE(r->r_info));
		return -1;
	}
	if (!kdl_elf_contains_mapped(o, r->r_offset, 8)) {
		kdl_set_error("%s: relocation at 0x%llx lies outside the writable segments",
			      o->name, (unsigned long long)r->r_offset);
		return -1;
	}
	*(unaligned_u64 *)(o->bias + r->r_offset) = o->bias + r->r_addend;
	return 0;
}

/* The leading DT_RELACOUNT entries of DT_RELA are RELATIVE: per entry, a
 * compare of its type and one of its target against the first writable
 * segment; another segment or an error goes the checked way. */
static __attribute__((noinline)) int apply_relative(struct reloc_ctx *c)
{
	struct kdl_obj *o = c->o;
	const uintptr_t bias = o->bias;
	const uint64_t lo = c->wr_lo, nwords = c->wr_n;

	if (!o->nrelative)
		return 0;	/* o->rela may be NULL, and NULL + 0 is undefined */
	for (const Elf64_Rela *r = o->rela, *end = r + o->nrelative; r != end; r++) {
		if (__builtin_expect(r->r_info == R_X86_64_RELATIVE && r->r_offset - lo < nwords, 1))
			*(unaligned_u64 *)(bias + r->r_offset) = bias + r->r_addend;
		else if (relative_checked(o, r - o->rela))
			return -1;
	}
	return 0;
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
 * A full relocation writes most pages of a shared library's writable
 * segment (libpython: 314 of 319): one madvise per run of them takes the
 * copy-on-write copies in one call instead of a fault each, about a tenth
 * of a cold load's time here.  The pages are exactly those the sorted
 * RELATIVE entries (DT_RELACOUNT) and DT_JMPREL write, found by galloping
 * from page to page: the span from the first entry to the last would
 * also copy pages only other relocations or none write (libpython: 26 of
 * its RELRO's 48, 104 kB a process).  Runs shorter than PREFAULT_MIN
 * pages are left to their faults, which cost no more there (measured:
 * populating 1-3 pages takes as long as touching them).
 */
#define PREFAULT_MIN 4

struct prefault {
	const struct kdl_obj *o;
	uint64_t lo, hi;	/* the run being gathered, image vaddrs */
};

static void prefault_flush(struct prefault *p)
{
	if (p->hi - p->lo >= PREFAULT_MIN * PAGE)
		madvise((void *)(p->o->bias + p->lo), p->hi - p->lo, MADV_POPULATE_WRITE);
	p->lo = p->hi = 0;
}

/* Adds [@lo, @hi) to the run, or flushes the run and starts another. */
static void prefault_run(struct prefault *p, uint64_t lo, uint64_t hi)
{
	if (hi <= lo || lo < p->o->wr_lo || hi > p->o->wr_hi)
		return;
	lo &= ~(PAGE - 1);
	hi = (hi + PAGE - 1) & ~(PAGE - 1);
	if (p->hi && lo <= p->hi && hi >= p->lo) {
		p->lo = lo < p->lo ? lo : p->lo;
		p->hi = hi > p->hi ? hi : p->hi;
		return;
	}
	prefault_flush(p);
	p->lo = lo;
	p->hi = hi;
}

/* The first index past @i whose entry lies beyond page @pg (entries
 * sorted by offset; unsorted ones only make the runs less exact). */
static size_t next_page(const Elf64_Rela *r, size_t i, size_t n, uint64_t pg)
{
	size_t step = 1, lo = i, hi;

	while (i + step < n && (r[i + step].r_offset & ~(PAGE - 1)) <= pg) {
		lo = i + step;
		step *= 2;
	}
	hi = i + step < n ? i + step : n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if ((r[mid].r_offset & ~(PAGE - 1)) <= pg)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

static void prefault_writes(const struct kdl_obj *o)
{
	struct prefault p = { .o = o };

	for (size_t i = 0; i < o->nrelative; ) {
		uint64_t pg = o->rela[i].r_offset & ~(PAGE - 1);

		prefault_run(&p, pg, pg + PAGE);
		i = next_page(o->rela, i, o->nrelative, pg);
	}
	if (o->njmprel)
		prefault_run(&p, o->jmprel[0].r_offset, o->jmprel[o->njmprel - 1].r_offset + 8);
	if (o->nrelr)
		prefault_run(&p, o->relr[0], o->relr[0] + 8);
	prefault_flush(&p);
}

/*
 * The pages a replay writes are the entry's, mapped copy-on-write: the
 * runs of consecutive pages its fixups touch (libcrypto's 143 lie on 7
 * pages in a row, its GOT) are copied in one madvise each instead of a
 * fault a page.
 */
static void prefault_fixups(const struct kdl_obj *o, const struct kdl_cache_fixups *fx)
{
	uintptr_t lo = 0, hi = 0;

	for (size_t i = 0; i <= fx->n; i++) {
		uintptr_t pg = 0;

		if (i < fx->n) {
			const Elf64_Rela *r = &fx->fix[i].rel;

			if (!kdl_elf_contains_mapped(o, r->r_offset, 8))
				continue;	/* apply() refuses it */
			pg = (o->bias + r->r_offset) & ~(PAGE - 1);
			if (hi && pg >= lo && pg <= hi) {
				if (pg == hi)
					hi += PAGE;
				continue;
			}
		}
		if (hi - lo > PAGE)
			madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
		lo = pg;
		hi = pg + PAGE;
	}
}

/* A cache entry's pages: only the relocations it lists (copies of the
 * object's), in the passes and order a full relocation applies them,
 * each symbol bound as the entry says where that still holds. */
static int replay(struct reloc_ctx *c, const struct kdl_cache_fixups *fx)
{
	const struct kdl_obj *o = c->o;

	prefault_fixups(o, fx);
	/* The main pass counts what the later ones have to do. */
	for (enum pass p = PASS_MAIN; p <= PASS_TPOFF; p++)
		for (size_t i = 0; i < fx->n && (p == PASS_MAIN || c->nlater[p]); i++) {
			c->fix = &fx->fix[i];
			if (apply(c, &c->fix->rel, p, c->fix->index))
				return -1;
		}
	c->fix = NULL;
	return 0;
}

/*
 * 1. DT_RELR and DT_RELA, then DT_JMPREL (bound eagerly);
 * 2. IRELATIVE, once everything its resolver may read is in place;
 * 3. TPOFF64, once the TLS init image is final.
 */
int kdl_reloc_obj(struct kdl_obj *o, struct kdl_obj *const *local, size_t nlocal)
{
	struct reloc_ctx c = { .o = o, .local = local, .nlocal = nlocal };
	struct kdl_cache_fixups fx;
	int ret = -1;

	if (o->relocated)
		return 0;
	/* Asked once: the load's scope is built, and its globals do not
	 * change under kdl_lock while the object is relocated (an IFUNC
	 * resolver calling kdl_open is no more supported than glibc's
	 * dlopen from one). */
	c.self_first = kdl_lookup_first(o, local, nlocal) == o;
	c.wr_lo = o->wr_lo;
	c.wr_n = o->wr_hi - o->wr_lo >= 8 ? o->wr_hi - o->wr_lo - 7 : 0;
	/* A replay resolves each of its few fixups on its own: a memo
	 * sized by the symbol count would cost a page fault per page of it
	 * touched (libcrypto's 143 fixups, 9 pages of 30). */
	switch (kdl_cache_reloc_begin(o, local, nlocal, &fx)) {
	case 1:
		if (replay(&c, &fx))
			goto out;
		goto done;
	case 0:
		break;
	default:
		goto out;
	}
	c.cache = malloc(o->dyn.nsyms * sizeof(*c.cache) + 1);
	c.value = malloc(o->dyn.nsyms * sizeof(*c.value) + 1);
	c.cached = calloc(o->dyn.nsyms + 1, 1);
	if (!c.cache || !c.value || !c.cached) {
		kdl_set_error("%s: out of memory for relocation", o->name);
		goto out;
	}
	c.rec = kdl_cache_recorder(o);
	prefault_writes(o);
	if (apply_relr(o))
		goto out;
	/* Without DT_RELA entries past DT_RELACOUNT o->rela may be NULL,
	 * and NULL + 0 is undefined (UBSan stops there). */
	if (apply_relative(&c) ||
	    (o->nrela > o->nrelative &&
	     apply_table(&c, o->rela + o->nrelative, o->nrela - o->nrelative, o->nrelative)) ||
	    apply_table(&c, o->jmprel, o->njmprel, o->nrela))
		goto out;
	for (enum pass p = PASS_IRELATIVE; p <= PASS_TPOFF; p++) {
		for (size_t i = o->nrelative; c.nlater[p] && i < o->nrela; i++)
			if (apply(&c, &o->rela[i], p, i))
				goto out;
		for (size_t i = 0; c.nlater[p] && i < o->njmprel; i++)
			if (apply(&c, &o->jmprel[i], p, o->nrela + i))
				goto out;
	}
done:
	kdl_cache_reloc_end(o, local, nlocal);
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
		int err = errno;

		kdl_set_error("%s: mprotect of RELRO: %s%s", o->name, strerror(err),
			      kdl_map_limit_hint(err));
		return -1;
	}
	o->relro_done = true;
	return 0;
}

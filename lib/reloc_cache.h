/* reloc_cache.h - the relocation cache in the load path
 * (Documentation/reloc-cache.md): load.c places an object at its
 * preferred base and maps its writable pages from an entry; reloc.c then
 * either replays the entry's fixups or relocates in full, recording which
 * relocations are per process, and the entry is written. */
#ifndef KDL_RELOC_CACHE_H
#define KDL_RELOC_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache_entry.h"
#include "obj.h"
#include "source.h"

struct kdl_cache_rec;

/* load.c, before @o is mapped from @s with backend @backend: when @o may
 * be cached, point @pl at its preferred base and, when an entry for it is
 * usable, @src's data fields at the entry's pages. */
KDL_HIDDEN void kdl_cache_prepare(struct kdl_obj *o, struct kdl_source *s, unsigned int flags,
				  int backend, struct kdl_placement *pl, struct kdl_src *src);
/* After a successful map: check the pages the entry gave (else map the
 * file's again).  -1 with the error set if the object is unusable. */
KDL_HIDDEN int kdl_cache_mapped(struct kdl_obj *o, struct kdl_source *s);
/* Forget the cache for @o (its map at the preferred base failed, or @o
 * is destroyed). */
KDL_HIDDEN void kdl_cache_drop(struct kdl_obj *o);

/* The relocations an entry leaves to every process (cache_entry.h). */
struct kdl_cache_fixups {
	const struct kdl_ce_fix *fix;
	size_t n;
};

/* reloc.c: 1 when @o's pages are the entry's, relocated for this scope:
 * only the relocations *@fx lists remain; 0 to relocate in full; -1 with
 * the error set. */
KDL_HIDDEN int kdl_cache_reloc_begin(struct kdl_obj *o, struct kdl_obj *const *local,
				     size_t nlocal, struct kdl_cache_fixups *fx);
/* Replaying: the definition fixup @f was bound to, when the process still
 * resolves the reference so (true, *@def and its run-time *@value
 * filled; def->sym NULL for an undefined weak one); false to look it up
 * by name. */
KDL_HIDDEN bool kdl_cache_bound(const struct kdl_obj *o, const struct kdl_ce_fix *f,
				struct kdl_def *def, uintptr_t *value);
/* Where a full relocation of @o records its per-process relocations, or
 * NULL when no entry will be written. */
KDL_HIDDEN struct kdl_cache_rec *kdl_cache_recorder(struct kdl_obj *o);
/* Relocation @idx is per process; @def: the definition it was bound to
 * (NULL for none) with run-time value @value. */
KDL_HIDDEN void kdl_cache_note(struct kdl_cache_rec *r, uint32_t idx, const struct kdl_def *def,
			       uintptr_t value);
/* A binding of @o to @def that another process may resolve differently:
 * into a process object or kdl itself, undefined, an IFUNC, or a kdl
 * object away from its preferred base. */
KDL_HIDDEN bool kdl_cache_per_process(const struct kdl_obj *o, const struct kdl_def *def);
/* After @o is relocated: write its entry if one was recorded. */
KDL_HIDDEN void kdl_cache_reloc_end(struct kdl_obj *o, struct kdl_obj *const *local,
				    size_t nlocal);

/* Whether @o's writable pages came from the cache (KDL_INFO_CACHED). */
KDL_HIDDEN bool kdl_cache_hit(const struct kdl_obj *o);

#endif

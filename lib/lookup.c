/* lookup.c - resolve a symbol reference in the scope of its object. */
#include "obj.h"

static bool try_obj(const struct kdl_obj *o, struct kdl_symref *r, struct kdl_def *out)
{
	const Elf64_Sym *s = kdl_sym_in(o, r);

	if (!s)
		return false;
	out->obj = o;
	out->sym = s;
	return true;
}

/* The object kdl_lookup() searches first for a reference made by
 * @requester (NULL when that would be a process object): a definition
 * there wins over every other. */
const struct kdl_obj *kdl_lookup_first(const struct kdl_obj *requester,
				       struct kdl_obj *const *local, size_t nlocal)
{
	const struct kdl_ns *ns = requester ? requester->ns : &kdl_default_ns;
	bool deep = requester && (requester->mode & RTLD_DEEPBIND);

	if (requester && requester->symbolic)
		return requester;
	if (!deep && ns && ns->nglobal)
		return ns->global[0];
	for (size_t i = 0; i < nlocal; i++)
		if (!local[i]->system)
			return local[i];
	if (deep && ns && ns->nglobal)
		return ns->global[0];
	return NULL;
}

/*
 * The search order of a reference made by @requester:
 *  1. @requester itself when it is DT_SYMBOLIC;
 *  2. its namespace's RTLD_GLOBAL objects, in the order they were opened;
 *  3. the objects kdl loaded in @local (the breadth-first dependency list
 *     of the load that brought @requester in) -- before 2. under
 *     RTLD_DEEPBIND;
 *  4. the process's objects: in the default namespace all of them in
 *     glibc's order (main program first, so its interposers win as they
 *     do for glibc's own objects); in a created one the definitions of
 *     the runtime group and of the sonames it shares, or an earlier
 *     object's that interposes on them.
 * Returns 0 with *out filled, or -1 when nothing defines the symbol.
 */
int kdl_lookup(const struct kdl_obj *requester, struct kdl_symref *r,
	       struct kdl_obj *const *local, size_t nlocal, struct kdl_def *out)
{
	const struct kdl_ns *ns = requester ? requester->ns : &kdl_default_ns;
	bool deep = requester && (requester->mode & RTLD_DEEPBIND);
	struct kdl_obj *const *procs;
	size_t nprocs;

	if (requester && requester->symbolic && try_obj(requester, r, out))
		return 0;
	/* RTLD_DEEPBIND: the load's own objects come before the globals. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == deep)
			for (size_t i = 0; ns && i < ns->nglobal; i++)
				if (try_obj(ns->global[i], r, out))
					return 0;
		if (pass != deep)
			for (size_t i = 0; i < nlocal; i++)
				if (!local[i]->system && try_obj(local[i], r, out))
					return 0;
	}
	procs = kdl_process_objs(&nprocs);
	if (!ns || ns->sees_process) {
		for (size_t i = 0; i < nprocs; i++)
			if (try_obj(procs[i], r, out))
				return 0;
		return -1;
	}
	/* A created namespace sees what it shares -- but as glibc's global
	 * scope sees it: an earlier object of the process that interposes
	 * (the program's own malloc, ASan's, an LD_PRELOAD) wins, or the
	 * namespace would allocate from one malloc and free into another. */
	for (size_t i = 0; i < nprocs; i++) {
		if (!kdl_ns_shares(ns, procs[i]->soname) || !try_obj(procs[i], r, out))
			continue;
		for (size_t j = 0; j < i; j++)
			if (try_obj(procs[j], r, out))
				return 0;
		try_obj(procs[i], r, out);
		return 0;
	}
	return -1;
}

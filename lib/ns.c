/* ns.c - namespaces: sets of objects that share only the runtime group,
 * the sonames they are told to share, what they are linked to, and (a
 * shared namespace) what their parent had loaded when they were made.
 * Documentation/namespaces.md compares them with bionic's, point by point. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obj.h"

struct kdl_ns_link {
	struct kdl_ns *to;
	char **sonames;
	size_t n;
	bool all;		/* every soname the namespace cannot find */
};

static unsigned int ns_counter;

/* Split a ':'-separated list into a NULL-free array of strings,
 * appended to *out. */
static int split_list(const char *list, char ***out, size_t *n)
{
	char *copy, *save = NULL;

	if (!list || !*list)
		return 0;
	copy = strdup(list);
	if (!copy)
		return -1;
	for (char *s = strtok_r(copy, ":", &save); s; s = strtok_r(NULL, ":", &save)) {
		char **na = realloc(*out, (*n + 1) * sizeof(*na));

		if (!na) {
			free(copy);
			return -1;
		}
		*out = na;
		if (!(na[*n] = strdup(s))) {
			free(copy);
			return -1;
		}
		(*n)++;
	}
	free(copy);
	return 0;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static int copy_list(char *const *from, size_t nfrom, char ***out, size_t *n)
{
	for (size_t i = 0; i < nfrom; i++) {
		char **na = realloc(*out, (*n + 1) * sizeof(*na));

		if (!na)
			return -1;
		*out = na;
		if (!(na[*n] = strdup(from[i])))
			return -1;
		(*n)++;
	}
	return 0;
}

static bool in_list(char *const *l, size_t n, const char *soname)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i], soname))
			return true;
	return false;
}

/* Directories a load may come from, canonical (symbolic links resolved,
 * as the path of an opened file is): @tree says whether their
 * subdirectories are included too. */
static int add_permitted(struct kdl_ns *ns, const char *list, bool tree)
{
	char **dirs = NULL;
	size_t n = 0;
	int ret = -1;

	if (split_list(list, &dirs, &n))
		goto out;
	for (size_t i = 0; i < n; i++) {
		char real[PATH_MAX], **np;
		bool *nt;
		size_t len;

		if (!realpath(dirs[i], real) && snprintf(real, sizeof(real), "%s", dirs[i]) >= (int)sizeof(real))
			continue;
		len = strlen(real);
		while (len > 1 && real[len - 1] == '/')
			real[--len] = '\0';
		np = realloc(ns->permitted, (ns->npermitted + 1) * sizeof(*np));
		if (!np)
			goto out;
		ns->permitted = np;
		nt = realloc(ns->permitted_tree, (ns->npermitted + 1) * sizeof(*nt));
		if (!nt)
			goto out;
		ns->permitted_tree = nt;
		if (!(np[ns->npermitted] = strdup(real)))
			goto out;
		nt[ns->npermitted++] = tree;
	}
	ret = 0;
out:
	free_list(dirs, n);
	return ret;
}

bool kdl_ns_permits(const struct kdl_ns *ns, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) : 0;

	if (!ns || !ns->isolated)
		return true;
	for (size_t i = 0; i < ns->npermitted; i++) {
		const char *d = ns->permitted[i];
		size_t l = strlen(d);

		if (l == 1 && d[0] == '/')
			l = 0;	/* "/" permits everything below it */
		if (dirlen == l && !strncmp(path, d, l))
			return true;
		if (ns->permitted_tree[i] && dirlen > l && !strncmp(path, d, l) && path[l] == '/')
			return true;
	}
	return false;
}

void kdl_ns_refuse(const struct kdl_ns *ns, const char *what, const char *path)
{
	char dirs[512];
	size_t n = 0;

	dirs[0] = '\0';
	for (size_t i = 0; i < ns->npermitted && n < sizeof(dirs); i++)
		n += snprintf(dirs + n, sizeof(dirs) - n, "%s%s%s", i ? ":" : "",
			      ns->permitted[i], ns->permitted_tree[i] ? "/..." : "");
	kdl_set_error("%s: %s is outside the paths of isolated namespace \"%s\" (%s)", what, path,
		      ns->name, n ? dirs : "none permitted");
}

static int copy_links(struct kdl_ns *ns, const struct kdl_ns *from)
{
	if (!from->nlinks)
		return 0;
	ns->links = calloc(from->nlinks, sizeof(*ns->links));
	if (!ns->links)
		return -1;
	for (size_t i = 0; i < from->nlinks; i++) {
		struct kdl_ns_link *l = &ns->links[ns->nlinks];

		*l = (struct kdl_ns_link){ .to = from->links[i].to, .all = from->links[i].all };
		ns->nlinks++;
		if (copy_list(from->links[i].sonames, from->links[i].n, &l->sonames, &l->n))
			return -1;
	}
	return 0;
}

static void ns_free(struct kdl_ns *ns)
{
	for (size_t i = 0; i < ns->nlinks; i++)
		free_list(ns->links[i].sonames, ns->links[i].n);
	free(ns->links);
	free_list(ns->shared, ns->nshared);
	free_list(ns->permitted, ns->npermitted);
	free(ns->permitted_tree);
	free(ns->library_path);
	free(ns->inherited);
	free(ns->global);
	free((char *)ns->name);
	free(ns);
}

static int check_placement(const struct kdl_ns_config *cfg, const char *name)
{
	unsigned int known = KDL_LOAD_WINDOW | KDL_LOAD_MIRROR | KDL_LOAD_BACKEND_USER |
			     KDL_LOAD_BACKEND_KERNEL;

	if (cfg->load_flags & ~known) {
		kdl_set_error("kdl_ns_create: %s: load_flags 0x%x: found bits 0x%x, expected only KDL_LOAD_WINDOW, KDL_LOAD_MIRROR and KDL_LOAD_BACKEND_*",
			      name, cfg->load_flags, cfg->load_flags & ~known);
		return -1;
	}
	if ((cfg->load_flags & KDL_LOAD_WINDOW) && cfg->window_lo >= cfg->window_hi) {
		kdl_set_error("kdl_ns_create: %s: window [0x%llx, 0x%llx) is empty", name,
			      (unsigned long long)cfg->window_lo, (unsigned long long)cfg->window_hi);
		return -1;
	}
	if ((cfg->load_flags & KDL_LOAD_MIRROR) && (!cfg->mirror_base || cfg->mirror_base % 4096)) {
		kdl_set_error("kdl_ns_create: %s: mirror base 0x%llx: expected a non-zero multiple of the page size",
			      name, (unsigned long long)cfg->mirror_base);
		return -1;
	}
	return 0;
}

/* A shared namespace starts as a copy of @p: its paths, shared sonames,
 * links, view of the process, placement, and objects (held). */
static int inherit(struct kdl_ns *ns, struct kdl_ns *p)
{
	size_t n = p->nobjs + p->ninherited;

	ns->sees_process = p->sees_process;
	if (!ns->pl.flags && !ns->load_flags) {
		ns->pl = p->pl;
		ns->load_flags = p->load_flags;
	}
	if (p->library_path) {
		char *lp;

		if (asprintf(&lp, "%s%s%s", ns->library_path ? ns->library_path : "",
			     ns->library_path ? ":" : "", p->library_path) < 0)
			return -1;
		free(ns->library_path);
		ns->library_path = lp;
	}
	for (size_t i = 0; i < p->npermitted; i++)
		if (add_permitted(ns, p->permitted[i], p->permitted_tree[i]))
			return -1;
	if (copy_list(p->shared, p->nshared, &ns->shared, &ns->nshared) || copy_links(ns, p))
		return -1;
	if (n && !(ns->inherited = calloc(n, sizeof(*ns->inherited))))
		return -1;
	if (p->nglobal && !(ns->global = calloc(p->nglobal, sizeof(*ns->global))))
		return -1;
	for (struct kdl_obj *o = p->objs; o; o = o->ns_next)
		if (!o->unrelocated)
			ns->inherited[ns->ninherited++] = o;
	for (size_t i = 0; i < p->ninherited; i++)
		ns->inherited[ns->ninherited++] = p->inherited[i];
	if (p->nglobal)
		memcpy(ns->global, p->global, p->nglobal * sizeof(*ns->global));
	ns->nglobal = ns->capglobal = p->nglobal;
	/* Nothing can fail from here: take the references. */
	for (size_t i = 0; i < ns->ninherited; i++)
		ns->inherited[i]->refcnt++;
	for (size_t i = 0; i < ns->nlinks; i++)
		ns->links[i].to->linked_by++;
	return 0;
}

struct kdl_ns *kdl_ns_create(const struct kdl_ns_config *cfg)
{
	struct kdl_ns_config c = { 0 };
	struct kdl_ns *ns;
	char name[32];

	if (cfg && cfg->size < offsetof(struct kdl_ns_config, flags) + sizeof(cfg->flags)) {
		kdl_set_error("kdl_ns_create: config size %zu is below the first version's %zu",
			      cfg->size, offsetof(struct kdl_ns_config, flags) + sizeof(cfg->flags));
		return NULL;
	}
	if (cfg)
		memcpy(&c, cfg, cfg->size < sizeof(c) ? cfg->size : sizeof(c));
	if (c.flags & ~(KDL_NS_ISOLATED | KDL_NS_SHARED)) {
		kdl_set_error("kdl_ns_create: flags 0x%x: found unknown bits 0x%x, expected KDL_NS_ISOLATED or KDL_NS_SHARED",
			      c.flags, c.flags & ~(KDL_NS_ISOLATED | KDL_NS_SHARED));
		return NULL;
	}
	if (c.parent && !(c.flags & KDL_NS_SHARED)) {
		kdl_set_error("kdl_ns_create: a parent is only taken by a KDL_NS_SHARED namespace");
		return NULL;
	}
	if (check_placement(&c, c.name ? c.name : "(unnamed)"))
		return NULL;
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		goto nomem;
	ns->flags = c.flags;
	ns->isolated = c.flags & KDL_NS_ISOLATED;
	ns->load_flags = c.load_flags & (KDL_LOAD_BACKEND_USER | KDL_LOAD_BACKEND_KERNEL);
	ns->pl.flags = c.load_flags & (KDL_LOAD_WINDOW | KDL_LOAD_MIRROR);
	ns->pl.lo = c.window_lo;
	ns->pl.hi = c.window_hi;
	ns->pl.mirror_base = c.mirror_base;
	pthread_mutex_lock(&kdl_lock);
	snprintf(name, sizeof(name), "ns%u", ++ns_counter);
	pthread_mutex_unlock(&kdl_lock);
	ns->name = strdup(c.name ? c.name : name);
	if (!ns->name || (c.library_path && !(ns->library_path = strdup(c.library_path))) ||
	    split_list(c.shared, &ns->shared, &ns->nshared) ||
	    add_permitted(ns, c.library_path, false) || add_permitted(ns, c.permitted_paths, true))
		goto nomem_ns;
	if (c.flags & KDL_NS_SHARED) {
		int r;

		pthread_mutex_lock(&kdl_lock);
		r = inherit(ns, c.parent ? c.parent : &kdl_default_ns);
		pthread_mutex_unlock(&kdl_lock);
		if (r)
			goto nomem_ns;
	}
	return ns;
nomem_ns:
	ns->ninherited = 0;	/* no reference was taken */
	ns_free(ns);
nomem:
	kdl_set_error("kdl_ns_create: out of memory");
	return NULL;
}

static int add_link(struct kdl_ns *from, struct kdl_ns *to, const char *sonames, bool all)
{
	const char *what = all ? "kdl_ns_link_all" : "kdl_ns_link";
	struct kdl_ns_link *nl, l = { .to = to ? to : &kdl_default_ns, .all = all };

	if (!from || from == &kdl_default_ns) {
		kdl_set_error("%s: the default namespace sees everything already; link from a created one",
			      what);
		return -1;
	}
	if (l.to == from) {
		kdl_set_error("%s: %s: a namespace cannot be linked to itself", what, from->name);
		return -1;
	}
	if (!all && (!sonames || !*sonames)) {
		kdl_set_error("%s: %s: no sonames given", what, from->name);
		return -1;
	}
	if (split_list(sonames, &l.sonames, &l.n))
		goto nomem;
	pthread_mutex_lock(&kdl_lock);
	nl = realloc(from->links, (from->nlinks + 1) * sizeof(*nl));
	if (nl) {
		from->links = nl;
		from->links[from->nlinks++] = l;
		l.to->linked_by++;
	}
	pthread_mutex_unlock(&kdl_lock);
	if (nl)
		return 0;
nomem:
	free_list(l.sonames, l.n);
	kdl_set_error("%s: out of memory", what);
	return -1;
}

int kdl_ns_link(struct kdl_ns *from, struct kdl_ns *to, const char *sonames)
{
	return add_link(from, to, sonames, false);
}

int kdl_ns_link_all(struct kdl_ns *from, struct kdl_ns *to)
{
	return add_link(from, to, NULL, true);
}

int kdl_ns_destroy(struct kdl_ns *ns)
{
	if (!ns || ns == &kdl_default_ns) {
		kdl_set_error("kdl_ns_destroy: the default namespace cannot be destroyed");
		return -1;
	}
	pthread_mutex_lock(&kdl_lock);
	if (ns->nobjs || ns->linked_by) {
		if (ns->nobjs)
			kdl_set_error("kdl_ns_destroy: %s: still in use by %zu loaded object(s)",
				      ns->name, ns->nobjs);
		else
			kdl_set_error("kdl_ns_destroy: %s: still in use: %u other namespace(s) link to it",
				      ns->name, ns->linked_by);
		pthread_mutex_unlock(&kdl_lock);
		return -1;
	}
	for (size_t i = 0; i < ns->nlinks; i++)
		ns->links[i].to->linked_by--;
	pthread_mutex_unlock(&kdl_lock);
	/* The parent's objects it held: their last reference may be this. */
	for (size_t i = 0; i < ns->ninherited; i++)
		kdl_unload(ns->inherited[i]);
	ns_free(ns);
	return 0;
}

bool kdl_ns_shares(const struct kdl_ns *ns, const char *soname)
{
	return kdl_is_runtime_group(soname) ||
	       (ns && in_list(ns->shared, ns->nshared, soname));
}

struct kdl_ns *kdl_ns_link_target(const struct kdl_ns *ns, const char *soname)
{
	for (size_t i = 0; ns && i < ns->nlinks; i++)
		if (!ns->links[i].all && in_list(ns->links[i].sonames, ns->links[i].n, soname))
			return ns->links[i].to;
	return NULL;
}

struct kdl_ns *kdl_ns_fallback(const struct kdl_ns *ns, size_t i)
{
	for (size_t k = 0; ns && k < ns->nlinks; k++)
		if (ns->links[k].all && i-- == 0)
			return ns->links[k].to;
	return NULL;
}

int kdl_ns_add_obj(struct kdl_obj *o)
{
	struct kdl_ns *ns = o->ns;

	if (kdl_index_add(o))
		return -1;
	o->ns_prev = ns->objs_tail;
	o->ns_next = NULL;
	if (ns->objs_tail)
		ns->objs_tail->ns_next = o;
	else
		ns->objs = o;
	ns->objs_tail = o;
	ns->nobjs++;
	return 0;
}

void kdl_ns_del_obj(struct kdl_obj *o)
{
	struct kdl_ns *ns = o->ns;

	if (!o->indexed)
		return;
	kdl_index_del(o);
	if (o->ns_prev)
		o->ns_prev->ns_next = o->ns_next;
	else
		ns->objs = o->ns_next;
	if (o->ns_next)
		o->ns_next->ns_prev = o->ns_prev;
	else
		ns->objs_tail = o->ns_prev;
	o->ns_next = o->ns_prev = NULL;
	ns->nobjs--;
}

struct kdl_obj *kdl_ns_find_soname(const struct kdl_ns *ns, const char *soname)
{
	struct kdl_obj *o = kdl_index_soname(ns, soname);

	for (size_t i = 0; !o && i < ns->ninherited; i++)
		if (!strcmp(ns->inherited[i]->soname, soname))
			o = ns->inherited[i];
	return o;
}

struct kdl_obj *kdl_ns_find_file(const struct kdl_ns *ns, dev_t dev, ino_t ino, uint64_t off)
{
	struct kdl_obj *o = kdl_index_file(ns, dev, ino, off);

	for (size_t i = 0; !o && i < ns->ninherited; i++) {
		struct kdl_obj *p = ns->inherited[i];

		if (p->dev == dev && p->ino == ino && p->src_base == off)
			o = p;
	}
	return o;
}

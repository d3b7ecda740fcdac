/* ns.c - namespaces: isolated sets of objects that share only the runtime
 * group, the sonames they are told to share, and what they are linked to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obj.h"

struct kdl_ns_link {
	struct kdl_ns *to;
	char **sonames;
	size_t n;
};

static unsigned int ns_counter;

/* Split a ':'-separated list into a NULL-free array of strings. */
static int split_list(const char *list, char ***out, size_t *n)
{
	char *copy, *save = NULL;

	*out = NULL;
	*n = 0;
	if (!list || !*list)
		return 0;
	copy = strdup(list);
	if (!copy)
		return -1;
	for (char *s = strtok_r(copy, ":", &save); s; s = strtok_r(NULL, ":", &save)) {
		char **na = realloc(*out, (*n + 1) * sizeof(*na));

		if (!na || !(na[*n] = strdup(s))) {
			free(na ? na : *out);
			free(copy);
			*out = NULL;
			return -1;
		}
		*out = na;
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

static bool in_list(char *const *l, size_t n, const char *soname)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i], soname))
			return true;
	return false;
}

struct kdl_ns *kdl_ns_create(const struct kdl_ns_config *cfg)
{
	struct kdl_ns *ns;
	char name[32];

	if (cfg && cfg->size < offsetof(struct kdl_ns_config, flags) + sizeof(cfg->flags)) {
		kdl_set_error("kdl_ns_create: config size %zu is below the first version's %zu",
			      cfg->size, sizeof(*cfg));
		return NULL;
	}
	if (cfg && cfg->flags) {
		kdl_set_error("kdl_ns_create: flags 0x%x: found unknown bits, expected 0", cfg->flags);
		return NULL;
	}
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		goto nomem;
	ns->isolated = true;
	pthread_mutex_lock(&kdl_lock);
	snprintf(name, sizeof(name), "ns%u", ++ns_counter);
	pthread_mutex_unlock(&kdl_lock);
	ns->name = strdup(cfg && cfg->name ? cfg->name : name);
	if (!ns->name || (cfg && cfg->library_path && !(ns->library_path = strdup(cfg->library_path))) ||
	    split_list(cfg ? cfg->shared : NULL, &ns->shared, &ns->nshared))
		goto nomem_ns;
	return ns;
nomem_ns:
	free(ns->library_path);
	free((char *)ns->name);
	free(ns);
nomem:
	kdl_set_error("kdl_ns_create: out of memory");
	return NULL;
}

int kdl_ns_link(struct kdl_ns *from, struct kdl_ns *to, const char *sonames)
{
	struct kdl_ns_link *nl, l = { .to = to ? to : &kdl_default_ns };

	if (!from || from == &kdl_default_ns) {
		kdl_set_error("kdl_ns_link: the default namespace sees everything already; link from a created one");
		return -1;
	}
	if (l.to == from) {
		kdl_set_error("kdl_ns_link: %s: a namespace cannot be linked to itself", from->name);
		return -1;
	}
	if (!sonames || !*sonames) {
		kdl_set_error("kdl_ns_link: %s: no sonames given", from->name);
		return -1;
	}
	if (split_list(sonames, &l.sonames, &l.n))
		goto nomem;
	pthread_mutex_lock(&kdl_lock);
	nl = realloc(from->links, (from->nlinks + 1) * sizeof(*nl));
	if (nl) {
		from->links = nl;
		from->links[from->nlinks++] = l;
	}
	pthread_mutex_unlock(&kdl_lock);
	if (nl)
		return 0;
	free_list(l.sonames, l.n);
nomem:
	kdl_set_error("kdl_ns_link: out of memory");
	return -1;
}

int kdl_ns_destroy(struct kdl_ns *ns)
{
	size_t left = 0;

	if (!ns || ns == &kdl_default_ns) {
		kdl_set_error("kdl_ns_destroy: the default namespace cannot be destroyed");
		return -1;
	}
	pthread_mutex_lock(&kdl_lock);
	for (struct kdl_obj *o = kdl_objs; o; o = o->next)
		left += o->ns == ns;
	/* Another namespace may still link to this one. */
	for (struct kdl_obj *o = kdl_objs; o && !left; o = o->next)
		for (size_t i = 0; o->ns && i < o->ns->nlinks; i++)
			left += o->ns->links[i].to == ns;
	pthread_mutex_unlock(&kdl_lock);
	if (left) {
		kdl_set_error("kdl_ns_destroy: %s: still in use by %zu loaded object(s)", ns->name, left);
		return -1;
	}
	for (size_t i = 0; i < ns->nlinks; i++)
		free_list(ns->links[i].sonames, ns->links[i].n);
	free(ns->links);
	free_list(ns->shared, ns->nshared);
	free(ns->library_path);
	free(ns->global);
	free((char *)ns->name);
	free(ns);
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
		if (in_list(ns->links[i].sonames, ns->links[i].n, soname))
			return ns->links[i].to;
	return NULL;
}

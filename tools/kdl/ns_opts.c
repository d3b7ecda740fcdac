/* ns_opts.c - the namespace options "kdl ldd" and "kdl info" share: load
 * into a namespace made from the command line, as a program would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdl.h"
#include "cli.h"

static int parse_range(const char *s, uint64_t *lo, uint64_t *hi)
{
	char *end;

	*lo = strtoull(s, &end, 0);
	if (*end != ':' && *end != '-')
		return -1;
	*hi = strtoull(end + 1, &end, 0);
	return *end ? -1 : 0;
}

int ns_opts_parse(int argc, char **argv, struct ns_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->cfg.size = sizeof(o->cfg);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--isolated")) {
			o->cfg.flags |= KDL_NS_ISOLATED;
			o->wanted = 1;
			continue;
		}
		if (!strcmp(a, "--shared")) {
			o->cfg.flags |= KDL_NS_SHARED;
			o->wanted = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "kdl: %s needs a value\n", a);
			return -1;
		}
		i++;
		o->wanted = 1;
		if (!strcmp(a, "--ns")) {
			o->cfg.name = v;
		} else if (!strcmp(a, "--library-path")) {
			o->cfg.library_path = v;
		} else if (!strcmp(a, "--permitted")) {
			o->cfg.permitted_paths = v;
		} else if (!strcmp(a, "--share")) {
			o->cfg.shared = v;
		} else if (!strcmp(a, "--link-default")) {
			o->link_default = v;
		} else if (!strcmp(a, "--window")) {
			if (parse_range(v, &o->cfg.window_lo, &o->cfg.window_hi))
				goto bad;
			o->cfg.load_flags |= KDL_LOAD_WINDOW;
		} else if (!strcmp(a, "--mirror")) {
			o->cfg.mirror_base = strtoull(v, NULL, 0);
			o->cfg.load_flags |= KDL_LOAD_MIRROR;
		} else {
			fprintf(stderr, "kdl: unknown option %s\n", a);
			return -1;
		}
		continue;
bad:
		fprintf(stderr, "kdl: %s %s: expected LO:HI\n", a, v);
		return -1;
	}
	return i;
}

int ns_opts_make(struct ns_opts *o)
{
	if (!o->wanted)
		return 0;
	if (!o->cfg.name)
		o->cfg.name = "kdl";
	o->ns = kdl_ns_create(&o->cfg);
	if (!o->ns) {
		fprintf(stderr, "kdl: %s\n", kdl_error());
		return -1;
	}
	if (o->link_default && kdl_ns_link(o->ns, NULL, o->link_default)) {
		fprintf(stderr, "kdl: %s\n", kdl_error());
		return -1;
	}
	return 0;
}

const char *ns_name_of(void *h)
{
	const char *name = "?";

	kdl_info(h, KDL_INFO_NS_NAME, &name);
	return name;
}

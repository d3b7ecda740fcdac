/* cmd_ldd.c - "kdl ldd [NS-OPTIONS] LIB": the dependency tree as libkdl
 * resolves it, each object with the namespace it lives in. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kdl.h"
#include "cli.h"


static void print_tree(void *h, const char *needed, int depth, struct kdl_seen *s)
{
	const char *file = "?";
	uintptr_t range[2] = { 0, 0 };
	int sys = 0;
	size_t n = 0;
	int again;

	kdl_info(h, KDL_INFO_FILE, &file);
	kdl_info(h, KDL_INFO_SYSTEM, &sys);
	kdl_info(h, KDL_INFO_RANGE, range);
	again = kdl_seen(s, h);
	printf("%*s%s => %s (%s 0x%lx, ns %s)%s\n", depth * 4, "", needed, file,
	       sys ? "process's copy," : "loaded by kdl at", (unsigned long)range[0],
	       sys ? "process" : ns_name_of(h), again && !sys ? " [see above]" : "");
	if (again || sys)
		return;
	kdl_info(h, KDL_INFO_NDEPS, &n);
	for (size_t i = 0; i < n; i++) {
		struct kdl_info_dep d = { .index = i };

		if (!kdl_info(h, KDL_INFO_DEP, &d))
			print_tree(d.handle, d.needed, depth + 1, s);
	}
}

int cmd_ldd(int argc, char **argv)
{
	static struct kdl_seen s;
	struct ns_opts o;
	int i = ns_opts_parse(argc, argv, &o);
	void *h;

	if (i < 0 || i != argc - 1) {
		fprintf(stderr, "usage: kdl ldd [--ns NAME] [--isolated] [--shared] [--library-path DIRS]\n"
				"                [--permitted DIRS] [--share SONAMES] [--link-default SONAMES]\n"
				"                [--window LO:HI] [--mirror BASE] LIB\n");
		return 2;
	}
	if (ns_opts_make(&o))
		return 1;
	h = kdl_open(argv[i], RTLD_NOW, &(struct kdl_load_args){
		.size = sizeof(struct kdl_load_args), .ns = o.ns });
	if (!h) {
		fprintf(stderr, "kdl ldd: %s\n", kdl_error());
		return 1;
	}
	print_tree(h, argv[i], 0, &s);
	kdl_close(h);
	return 0;
}

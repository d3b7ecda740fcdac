/* namespaces_libpng.c - libpng loaded twice, in two namespaces: each gets
 * its own libpng and its own libz, while libc stays the process's one. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kdl.h"

static void *dep(void *h, const char *soname)
{
	struct kdl_info_dep d = { 0 };

	for (d.index = 0; !kdl_info(h, KDL_INFO_DEP, &d); d.index++)
		if (!strcmp(d.needed, soname))
			return d.handle;
	return NULL;
}

int main(void)
{
	struct kdl_ns *ns[2];
	void *png[2];

	for (int i = 0; i < 2; i++) {
		struct kdl_ns_config cfg = { .size = sizeof(cfg), .name = i ? "plugin-b" : "plugin-a" };
		struct kdl_load_args args = { .size = sizeof(args) };
		uintptr_t zr[2] = { 0 }, cr[2] = { 0 };

		ns[i] = kdl_ns_create(&cfg);
		args.ns = ns[i];
		png[i] = ns[i] ? kdl_open("libpng16.so.16", RTLD_NOW, &args) : NULL;
		if (!png[i]) {
			fprintf(stderr, "namespaces: %s\n", kdl_error());
			return 1;
		}
		kdl_info(dep(png[i], "libz.so.1"), KDL_INFO_RANGE, zr);
		kdl_info(dep(png[i], "libc.so.6"), KDL_INFO_RANGE, cr);
		printf("%s: libpng %s, its libz at 0x%lx, libc at 0x%lx\n", cfg.name,
		       ((const char *(*)(void *))kdl_sym(png[i], "png_get_libpng_ver"))(NULL),
		       (unsigned long)zr[0], (unsigned long)cr[0]);
	}
	printf("two libz copies: %s; one libc: %s\n",
	       dep(png[0], "libz.so.1") != dep(png[1], "libz.so.1") ? "yes" : "no",
	       dep(png[0], "libc.so.6") == dep(png[1], "libc.so.6") ? "yes" : "no");
	for (int i = 0; i < 2; i++) {
		kdl_close(png[i]);
		kdl_ns_destroy(ns[i]);
	}
	return 0;
}

/*
 * preload.c - libkdl_preload.so, a better LD_PRELOAD: each library named in
 * KDL_PRELOAD is loaded by libkdl into a namespace of its own as the
 * program starts, and its start symbol called.  The tool brings its own
 * dependency tree and shares libc, but its symbols do not interpose on
 * the program's, as an LD_PRELOAD library's would.
 *
 *   LD_PRELOAD=libkdl_preload.so KDL_PRELOAD=/path/tool.so[@start][:...] prog
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdl.h"

static void load_one(char *spec)
{
	struct kdl_ns_config cfg = { .size = sizeof(cfg) };
	struct kdl_load_args args = { .size = sizeof(args) };
	char *at = strrchr(spec, '@'), *base;
	void (*start)(void);
	void *h;

	if (at)
		*at++ = '\0';
	base = strrchr(spec, '/');
	cfg.name = base ? base + 1 : spec;
	args.ns = kdl_ns_create(&cfg);
	if (!args.ns) {
		fprintf(stderr, "kdl-preload: %s: %s\n", spec, kdl_error());
		return;
	}
	h = kdl_open(spec, RTLD_NOW, &args);
	if (!h) {
		fprintf(stderr, "kdl-preload: %s\n", kdl_error());
		kdl_ns_destroy(args.ns);
		return;
	}
	if (!at)
		return;
	start = (void (*)(void))kdl_sym(h, at);
	if (start)
		start();
	else
		fprintf(stderr, "kdl-preload: %s\n", kdl_error());
}

__attribute__((constructor)) static void kdl_preload(void)
{
	const char *env = getenv("KDL_PRELOAD");
	char *list, *save = NULL;

	if (!env || !*env)
		return;
	list = strdup(env);
	if (!list)
		return;
	for (char *s = strtok_r(list, ":", &save); s; s = strtok_r(NULL, ":", &save))
		load_one(s);
	free(list);
}

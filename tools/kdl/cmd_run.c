/* cmd_run.c - "kdl run LIB[:SYMBOL] [ARGS...]": load LIB with libkdl and
 * call SYMBOL (default main) as int SYMBOL(int argc, char **argv). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdl.h"
#include "cli.h"

int cmd_run(int argc, char **argv)
{
	char *lib, *colon, *sym = "main";
	int (*fn)(int, char **);
	void *h;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: kdl run LIB[:SYMBOL] [ARGS...]\n");
		return 2;
	}
	lib = strdup(argv[1]);
	if (!lib)
		return 1;
	colon = strrchr(lib, ':');
	if (colon && !strchr(colon, '/')) {
		*colon = '\0';
		sym = colon + 1;
	}
	/* Global, as an executable's libraries are: objects it dlopen()s bind
	 * to its symbols. */
	h = kdl_open(lib, RTLD_NOW | RTLD_GLOBAL, NULL);
	if (!h) {
		const char *e = kdl_error();

		/* argv[-1] is the program, as main() saw it. */
		static_tls_retry(argv - 1, e);
		fprintf(stderr, "kdl run: %s\n", e);
		free(lib);
		return 127;
	}
	fn = (int (*)(int, char **))kdl_sym(h, sym);
	if (!fn) {
		fprintf(stderr, "kdl run: %s\n", kdl_error());
		kdl_close(h);
		free(lib);
		return 127;
	}
	argv[1] = lib;
	rc = fn(argc - 1, argv + 1);
	fflush(NULL);
	kdl_close(h);
	free(lib);
	return rc;
}

/* main.c - the kdl command: dispatch to subcommands. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kdl.h>

#include "kdl.h"
#include "cli.h"

static const struct kdl_cmd cmds[] = {
	{ "info", "[[NS-OPTIONS] LIB]  show whether /dev/kdl is usable and which backend\n"
		  "           libkdl uses; with LIB, how its tree loads, namespace by namespace", cmd_info },
	{ "run", "LIB[:SYMBOL] [ARGS...]  load LIB, call SYMBOL (default main)", cmd_run },
	{ "ldd", "[NS-OPTIONS] LIB  print the dependency tree as libkdl resolves it;\n"
		 "           NS-OPTIONS load it into a namespace: --ns NAME, --isolated,\n"
		 "           --shared, --library-path DIRS, --permitted DIRS, --share SONAMES,\n"
		 "           --link-default SONAMES, --window LO:HI, --mirror BASE", cmd_ldd },
	{ "pack", "[-C DIR] OUT.zip FILE...  write a container: .so entries stored page\n"
		  "           aligned (zero-copy loads), others deflated\n"
		  "           --check ZIP  exit 0 if every .so in ZIP loads zero-copy", cmd_pack },
	{ "cache", "build [--system] LIB...  write relocation cache entries for LIB and\n"
		   "           its dependencies, then tell which the next load takes\n"
		   "           list|verify|clear|dir [--system]  the user (or system)\n"
		   "           cache's entries; verify also checks their pages", cmd_cache },
	{ "help", "show this help", NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: kdl COMMAND [ARGS...]\n       kdl --version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\nenvironment:\n  KDL_BACKEND=user|kernel|auto  force a backend (default auto)\n"
		   "  KDL_CACHE=0|ro|1              relocation cache off, read only, on (default)\n"
		   "  KDL_CACHE_DIR=DIR             the user cache (default $XDG_CACHE_HOME/kdl,\n"
		   "                                else ~/.cache/kdl)\n"
		   "  KDL_CACHE_SYSTEM_DIR=DIR      the system cache (default /var/cache/kdl)\n"
		   "  KDL_CACHE_MIN_PAGES=N         objects with fewer writable pages are\n"
		   "                                relocated in each process (default 4)\n");
}

/* The release (VERSION, through the Makefile), the libkdl file this
 * process runs (libkdl.so.0 resolves to libkdl.so.<release> once
 * installed) and the loaded module's MODULE_VERSION. */
static int print_version(void)
{
	char path[PATH_MAX], mod[64] = "";
	Dl_info dli;
	FILE *f;

	printf("kdl %s\n", KDL_VERSION);
	if (dladdr((void *)kdl_open, &dli) && dli.dli_fname && realpath(dli.dli_fname, path))
		printf("libkdl: %s\n", path);
	f = fopen("/sys/module/kdl/version", "r");
	if (f) {
		if (fgets(mod, sizeof(mod), f))
			mod[strcspn(mod, "\n")] = 0;
		fclose(f);
	}
	printf("module: %s\n", *mod ? mod : "not loaded");
	printf("abi:    %u\n", KDL_ABI_VERSION);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return print_version();
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].fn && !strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "kdl: unknown command '%s' (try kdl --help)\n", argv[1]);
	return 2;
}

/* static_tls.c - "kdl run" starts again with more static TLS when the
 * library's initial-exec TLS did not fit in glibc's surplus. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define TUNABLE "glibc.rtld.optional_static_tls"
#define TRIED_ENV "KDL_RUN_STATIC_TLS"	/* the value set by the last start */

/*
 * glibc reads its tunables once, at start-up, so the surplus of a running
 * process cannot grow: the only remedy is a new process image with
 * GLIBC_TUNABLES raised.  Nothing of the library ran (the failure happens
 * while relocating, before constructors), so starting again is safe.
 * Each retry at least doubles the surplus; four at most.
 */
void static_tls_retry(char **argv, const char *err)
{
	const char *m = strstr(err, "initial-exec TLS needs "), *old, *tried;
	unsigned long need, prev, next;
	char *tunables, val[32];

	if (!m || !strstr(err, TUNABLE))
		return;
	need = strtoul(m + strlen("initial-exec TLS needs "), NULL, 10);
	tried = getenv(TRIED_ENV);
	prev = tried ? strtoul(tried, NULL, 10) : 512;
	if (prev >= (512ul << 4 << 10))
		return;
	next = prev * 2;
	if (next < need + 4096)
		next = need + 4096;
	if (next < 16384)
		next = 16384;
	snprintf(val, sizeof(val), "%lu", next);
	old = getenv("GLIBC_TUNABLES");
	if (asprintf(&tunables, "%s%s" TUNABLE "=%s", old ? old : "", old && *old ? ":" : "",
		     val) < 0)
		return;
	if (setenv("GLIBC_TUNABLES", tunables, 1) || setenv(TRIED_ENV, val, 1)) {
		free(tunables);
		return;
	}
	fprintf(stderr, "kdl run: starting again with GLIBC_TUNABLES=%s\n", tunables);
	free(tunables);
	execv("/proc/self/exe", argv);
	perror("kdl run: exec /proc/self/exe");
}

/*
 * cold_load.c - one first load, for counting instructions (not a test):
 * kdl_open(LIB, RTLD_NOW | RTLD_LOCAL) + kdl_close, or the same through
 * glibc's dlopen, in this fresh process, with callgrind's collection on
 * only around the load and close:
 *
 *   valgrind --tool=callgrind --collect-atstart=no cold_load kdl|glibc LIB
 *
 * Outside valgrind the client requests are no-ops; the program then
 * prints the wall time and minor faults of the load.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "kdl.h"
#include "bench_util.h"

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

int main(int argc, char **argv)
{
	int use_kdl;
	uint64_t t0, t1;
	long f0, f1;
	void *h;

	if (argc != 3 || (strcmp(argv[1], "kdl") && strcmp(argv[1], "glibc"))) {
		fprintf(stderr, "usage: %s kdl|glibc LIB\n", argv[0]);
		return 2;
	}
	use_kdl = !strcmp(argv[1], "kdl");
	f0 = minflt();
	t0 = now_ns();
	CALLGRIND_START_INSTRUMENTATION;
	CALLGRIND_TOGGLE_COLLECT;
	h = use_kdl ? kdl_open(argv[2], RTLD_NOW | RTLD_LOCAL, NULL) :
		      dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
	if (h && (use_kdl ? kdl_close(h) : dlclose(h)))
		h = NULL;
	CALLGRIND_TOGGLE_COLLECT;
	CALLGRIND_STOP_INSTRUMENTATION;
	t1 = now_ns();
	f1 = minflt();
	if (!h) {
		fprintf(stderr, "%s: %s\n", argv[2], use_kdl ? kdl_error() : dlerror());
		return 1;
	}
	printf("%s %s: %llu ns, %ld minor faults\n", argv[1], argv[2],
	       (unsigned long long)(t1 - t0), f1 - f0);
	return 0;
}

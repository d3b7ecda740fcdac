/* bench_util.h - what the benchmarks share: a clock, medians, minor
 * faults, Private_Dirty from smaps, a user-space instruction counter, and
 * running this program (or another, such as valgrind) again in a fresh
 * process to time a first load. */
#ifndef KDL_BENCH_UTIL_H
#define KDL_BENCH_UTIL_H

#include <errno.h>
#include <link.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static inline uint64_t median(uint64_t *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Minor faults of this process so far. */
static inline long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

struct bench_range {
	uintptr_t lo, hi;	/* [lo, hi) */
};

/* An object's mapped [start, end): its PT_LOAD extents, page-rounded, plus
 * the load bias; -1 without PT_LOAD. */
static inline int phdr_range(const struct dl_phdr_info *info, struct bench_range *r)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0, pg = sysconf(_SC_PAGESIZE);

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];

		if (p->p_type != PT_LOAD)
			continue;
		if (p->p_vaddr < lo)
			lo = p->p_vaddr;
		if (p->p_vaddr + p->p_memsz > hi)
			hi = p->p_vaddr + p->p_memsz;
	}
	if (lo >= hi)
		return -1;
	r->lo = (info->dlpi_addr + lo) & ~(pg - 1);
	r->hi = (info->dlpi_addr + hi + pg - 1) & ~(pg - 1);
	return 0;
}

/* Sum of Private_Dirty (kB) over this process's mappings that overlap any
 * of the @n ranges (each mapping counted once); -1 if smaps is unreadable. */
static inline long smaps_private_dirty_kb(const struct bench_range *r, int n)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[4096];
	unsigned long lo, hi, kb;
	long sum = 0;
	int in = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = 0;
			for (int i = 0; i < n && !in; i++)
				in = lo < r[i].hi && r[i].lo < hi;
		} else if (in && sscanf(line, "Private_Dirty: %lu kB", &kb) == 1) {
			sum += kb;
		}
	}
	fclose(f);
	return sum;
}

/* Private_Dirty (kB) of the whole process, from /proc/self/smaps_rollup
 * (the kernel's sum over every mapping); -1 if unreadable. */
static inline long rollup_private_dirty_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "re");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Private_Dirty: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Number of this process's mappings (lines of /proc/self/maps); -1 if
 * unreadable. */
static inline long maps_count(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = getc_unlocked(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* A counter of this thread's user-space instructions (perf_event_open,
 * PERF_COUNT_HW_INSTRUCTIONS, kernel and hypervisor excluded), running from
 * now; -1 with errno when there is none (no hardware PMU, as in most VMs:
 * ENOENT; perf_event_paranoid > 2: EACCES). */
static inline int insn_counter_open(void)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = PERF_COUNT_HW_INSTRUCTIONS;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

/* The counter's value so far; 0 if @fd < 0 or the read fails. */
static inline uint64_t insn_counter_read(int fd)
{
	uint64_t v = 0;

	if (fd < 0 || read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* Runs @prog (searched in PATH) with args, returns its stdout's first line
 * (static buffer). */
static inline const char *spawn_prog(const char *prog, char *const argv[])
{
	static char out[512];
	int pfd[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(pfd))
		return NULL;
	pid = fork();
	if (pid < 0)
		return NULL;
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execvp(prog, argv);
		_exit(127);
	}
	close(pfd[1]);
	while (len < sizeof(out) - 1 &&
	       (n = read(pfd[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

/* Runs this program with args, returns its stdout line (static buffer). */
static inline const char *spawn(char *const argv[])
{
	return spawn_prog("/proc/self/exe", argv);
}

/* callgrind's client requests when valgrind's headers are there, else
 * nothing (instructions are then not counted). */
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION do { } while (0)
#define CALLGRIND_STOP_INSTRUMENTATION do { } while (0)
#define CALLGRIND_TOGGLE_COLLECT do { } while (0)
#endif

/* A private directory made from @tmpl ("/tmp/x-XXXXXX", changed in
 * place, kept by the caller), removed at exit and on INT, TERM and HUP:
 * the relocation cache a benchmark fills is never the user's. */
static char *bench_private_dir_path;

static inline void bench_private_dir_cleanup(void)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bench_private_dir_path);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", bench_private_dir_path);
}

static inline void bench_private_dir_signal(int sig)
{
	(void)sig;	/* exec is async-signal safe */
	execl("/bin/sh", "sh", "-c", "rm -rf \"$0\"; exit 130", bench_private_dir_path,
	      (char *)NULL);
	_exit(1);
}

static inline int bench_private_dir(char *tmpl)
{
	if (!mkdtemp(tmpl))
		return -1;
	bench_private_dir_path = tmpl;
	atexit(bench_private_dir_cleanup);
	signal(SIGINT, bench_private_dir_signal);
	signal(SIGTERM, bench_private_dir_signal);
	signal(SIGHUP, bench_private_dir_signal);
	return 0;
}

#endif

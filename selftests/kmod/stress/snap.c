// SPDX-License-Identifier: GPL-2.0
/*
 * snap.c - before and after: mappings, memory, the module's references,
 * the kernel log.
 */
#include "stress.h"

long meminfo(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* The mappings that can only come from this test or the module. */
static bool interesting(unsigned long lo, unsigned long hi, const char *path)
{
	if (strstr(path, "kdl-stress") || strstr(path, "kdl-mirror") ||
	    !strcmp(path, KDL_DEVICE_PATH) || !strcmp(path, S->exe_path))
		return true;
	if (meets(lo, hi - lo, PROTECTED_LO, 0x600000000000UL) ||
	    meets(lo, hi - lo, 0, 16UL << 20))
		return true;
	return lo >= 0x7fff00000000UL && strcmp(path, "[stack]") &&
	       strcmp(path, "[vvar]") && strcmp(path, "[vdso]") &&
	       strcmp(path, "[vsyscall]");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void take_snap(struct snap *s, char *buf, size_t cap)
{
	char *line, *save = NULL, **v;
	size_t n = 0;
	int fd, i, cnt = 0;

	memset(s, 0, sizeof(*s));
	/* page cache and reclaimable slab out of the way, RCU frees done */
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		sync();
		if (write(fd, "3", 1) != 1)
			(void)0;
		close(fd);
	}
	usleep(500000);
	fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, buf, cap - 1);

		buf[r > 0 ? r : 0] = 0;
		close(fd);
		memcpy(s->meminfo, buf, sizeof(s->meminfo) - 1);
		s->memfree = meminfo(buf, "MemFree:");
		s->shmem = meminfo(buf, "Shmem:");
		s->anon = meminfo(buf, "AnonPages:");
		s->slab_unrecl = meminfo(buf, "SUnreclaim:");
		s->pagetables = meminfo(buf, "PageTables:");
		s->slab = meminfo(buf, "Slab:");
		s->kstack = meminfo(buf, "KernelStack:");
	}
	/* MemFree leaves out the pages parked on per-cpu lists, which
	 * come and go with the load: /proc/zoneinfo counts both */
	fd = open("/proc/zoneinfo", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, buf, cap - 1);
		char *p;
		long v1;

		buf[r > 0 ? r : 0] = 0;
		close(fd);
		for (p = buf; (p = strstr(p, "nr_free_pages ")); p++)
			if (sscanf(p, "nr_free_pages %ld", &v1) == 1)
				s->free_pcp += v1 * (PG / 1024);
		for (p = buf; (p = strstr(p, "count: ")); p++)
			if (sscanf(p, "count: %ld", &v1) == 1)
				s->free_pcp += v1 * (PG / 1024);
	}
	read_maps(buf, cap);
	v = calloc(8192, sizeof(*v));
	for (line = strtok_r(buf, "\n", &save); line && cnt < 8192;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long lo, hi;
		char path[512] = "";

		s->nmaps++;
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %511s", &lo, &hi,
			   path) >= 2 && interesting(lo, hi, path))
			v[cnt++] = line;
	}
	qsort(v, cnt, sizeof(*v), cmp_str);
	for (i = 0; i < cnt; i++)
		n += strlen(v[i]) + 1;
	s->lines = calloc(n + 1, 1);
	for (i = 0, n = 0; i < cnt; i++)
		n += sprintf(s->lines + n, "%s\n", v[i]);
	s->nlines = cnt;
	free(v);
}

/* Lines of @a missing from @b, printed with @tag; returns how many. */
int snap_missing(const struct snap *a, const struct snap *b, const char *tag)
{
	char *copy = strdup(a->lines), *line, *save = NULL;
	int n = 0;

	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *p = strstr(b->lines, line);

		if (p && (p == b->lines || p[-1] == '\n') &&
		    p[strlen(line)] == '\n')
			continue;
		if (n++ < 20)
			printf("#   %s %s\n", tag, line);
	}
	free(copy);
	return n;
}

int module_refcnt(void)
{
	char buf[32] = "";
	int fd = open("/sys/module/kdl/refcnt", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -1;
}

/*
 * Reservation pieces a racer moved away mid-call (mremap) stay where they
 * went: mappings of /dev/kdl from a module that reserves through the
 * device's own mapping, anonymous VMAs without VM_MAYREAD ("mr") and with
 * VM_DONTEXPAND ("de") from one that makes the reservation anonymous.
 */
static int count_reservations(void)
{
	static char line[4096];
	bool anon = false;
	int n = 0;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char path[256] = "";

		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %255s", &lo, &hi,
			   path) >= 2 && strchr(line, '-') < strchr(line, ' ')) {
			if (!strcmp(path, KDL_DEVICE_PATH))
				n++;
			anon = !path[0];
			continue;
		}
		if (anon && !strncmp(line, "VmFlags:", 8) &&
		    !strstr(line, " mr") && strstr(line, " de"))
			n++;
	}
	fclose(f);
	return n;
}

/* What is left in the shared windows after a phase goes. */
void clean_shared(void)
{
	S->moved_reservations += count_reservations();
	munmap((void *)HOT_LO, HOT_LEN);
	munmap((void *)(HOT_LO + HOT_MOFF), HOT_LEN);
}

static void reopen_in_place(int fd, const char *what)
{
	int nfd = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	if (nfd < 0 || dup3(nfd, fd, O_CLOEXEC) < 0)
		fail(NULL, "reopen %s: %s", what, ename(errno));
	if (nfd >= 0)
		close(nfd);
}

/*
 * The records of images munmapped behind their fd's back (a flow's
 * stale records, the hot window clean_shared() unmaps) hold their
 * mirrors' shmem for KDL_IOC_SEGMENT_FD until the fd goes.  So every
 * fd is reopened at the end of a phase: both snapshots then see only
 * what mapped images hold, and a reference the module leaks still shows.
 */
void drop_records(void)
{
	int i, fd = atomic_load(&S->churn_fd);

	reopen_in_place(S->dev, "the shared /dev/kdl");
	if (fd >= 0)
		reopen_in_place(fd, "the churn fd");
	for (i = 0; i < NWORKERS; i++)
		reopen_private(S->w[i]);
}

/* Kernel log records since the setup that name kdl (the header: bad
 * input prints nothing). */
int kmsg_kdl_lines(void)
{
	char rec[2048];
	int n = 0;
	ssize_t r;

	if (S->kmsg < 0)
		return 0;
	while ((r = read(S->kmsg, rec, sizeof(rec) - 1)) > 0 || errno == EPIPE) {
		if (r <= 0)
			continue;
		rec[r] = 0;
		if (strstr(rec, "kdl")) {
			if (n++ < 10)
				printf("#   kernel log: %s", rec);
		}
	}
	return n;
}

/* map_limit.c - name vm.max_map_count when a mapping fails for want of
 * mappings, not of memory: mmap and mprotect both say ENOMEM. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kdl_internal.h"
#include "map.h"

/* Lines of /proc/self/maps: the process's mappings. */
static long count_maps(void)
{
	char buf[65536];
	long n = 0;
	ssize_t r;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < r; i++)
			n += buf[i] == '\n';
	close(fd);
	return r < 0 ? -1 : n;
}

static long max_map_count(void)
{
	char buf[32];
	ssize_t r;
	int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	return strtol(buf, NULL, 10);
}

const char *kdl_map_limit_hint(int err)
{
	static __thread char hint[160];
	long max, n;

	if (err != ENOMEM || (max = max_map_count()) <= 0 || (n = count_maps()) < 0 ||
	    n + 16 < max)
		return "";
	snprintf(hint, sizeof(hint),
		 " (the process has %ld mappings and the kernel's vm.max_map_count is %ld: raise it with sysctl vm.max_map_count)",
		 n, max);
	return hint;
}

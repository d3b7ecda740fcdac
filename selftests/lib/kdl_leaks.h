/* kdl_leaks.h - what a failed load must leave as it found it: the fd
 * table and the mappings (less [heap], which malloc grows on its own). */
#ifndef KDL_LEAKS_H
#define KDL_LEAKS_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>

static inline int leak_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

#define LEAK_MAPS_MAX (1 << 20)

/* Into @out (LEAK_MAPS_MAX bytes, static): allocating here would itself
 * change the mappings being compared. */
static inline char *leak_maps_snapshot(char *out)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[4352];
	size_t n = 0;

	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		if (strstr(line, "[heap]") || n + strlen(line) >= LEAK_MAPS_MAX - 1)
			continue;
#ifdef __SANITIZE_ADDRESS__
		/* ASan maps its shadow memory as it goes: compare only what
		 * names a file (the loader's segments and memfd copies). */
		if (!strchr(line, '/'))
			continue;
#endif
		n += sprintf(out + n, "%s", line);
	}
	if (f)
		fclose(f);
	return out;
}

#endif

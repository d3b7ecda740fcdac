/* perf_copy.c - KDL_PERF=1: images libkdl copies are kept as files that
 * perf can read back, instead of memfds it cannot open. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"

/*
 * perf records each executable mapping by its path and opens that path at
 * "perf report" time to read symbols; a memfd's "/memfd:kdl:... (deleted)"
 * cannot be opened, and perf reads /tmp/perf-<pid>.map only for anonymous
 * memory.  So, on request, a copy goes to a file in a directory of the
 * user's own -- $XDG_RUNTIME_DIR/kdl-perf, else /tmp/kdl-perf-<uid> --
 * which must be a real directory owned by the user and closed to others,
 * and stays there after the process ends for perf report to read.
 */
bool kdl_perf_copies(void)
{
	static int on = -1;

	if (on < 0) {
		const char *e = getenv("KDL_PERF");

		on = e && !strcmp(e, "1");
	}
	return on;
}

static int perf_dir(char *dir, size_t len, const char *name)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (xdg && xdg[0] == '/')
		snprintf(dir, len, "%s/kdl-perf", xdg);
	else
		snprintf(dir, len, "/tmp/kdl-perf-%u", (unsigned int)geteuid());
	if (mkdir(dir, 0700) && errno != EEXIST) {
		kdl_set_error("%s: KDL_PERF: mkdir %s: %s", name, dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077)) {
		kdl_set_error("%s: KDL_PERF: %s is not a directory of this user's closed to others",
			      name, dir);
		return -1;
	}
	return 0;
}

int kdl_perf_file_create(const char *label, const char *name, char **path)
{
	static atomic_uint seq;
	char dir[256];
	int fd;

	if (perf_dir(dir, sizeof(dir), name))
		return -1;
	if (asprintf(path, "%s/%s-%d-%u", dir, label, (int)getpid(),
		     atomic_fetch_add(&seq, 1)) < 0) {
		kdl_set_error("%s: out of memory", name);
		return -1;
	}
	fd = open(*path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		kdl_set_error("%s: KDL_PERF: creating %s: %s", name, *path, strerror(errno));
		free(*path);
		*path = NULL;
	}
	return fd;
}

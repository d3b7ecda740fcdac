/* memopen_zlib.c - load zlib from a memory buffer with kdl_memopen: once
 * from a file mapping (zero-copy) and once from a malloc'd copy (one copy
 * into a sealed memfd), and use both. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kdl.h"

static int use(const char *what, const void *buf, size_t len)
{
	struct kdl_load_args args = { .size = sizeof(args), .name = what };
	void *h = kdl_memopen(buf, len, RTLD_NOW, &args);
	const char *(*version)(void);
	int zero_copy = -1;

	if (!h) {
		fprintf(stderr, "%s: %s\n", what, kdl_error());
		return 1;
	}
	version = (const char *(*)(void))kdl_sym(h, "zlibVersion");
	kdl_info(h, KDL_INFO_ZERO_COPY, &zero_copy);
	printf("%-22s zlib %s, %s\n", what, version ? version() : "?",
	       zero_copy ? "mapped from the buffer's file (zero-copy)" : "copied once into a sealed memfd");
	kdl_close(h);
	return version ? 0 : 1;
}

int main(void)
{
	int fd = open("/lib/x86_64-linux-gnu/libz.so.1", O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *map, *copy;
	int rc;

	if (fd < 0 || fstat(fd, &st)) {
		perror("libz.so.1");
		return 1;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return 1;
	copy = malloc(st.st_size);
	if (!copy)
		return 1;
	memcpy(copy, map, st.st_size);
	rc = use("mem:file-mapping", map, st.st_size) | use("mem:malloc-copy", copy, st.st_size);
	free(copy);
	munmap(map, st.st_size);
	return rc;
}

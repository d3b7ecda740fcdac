/* zip_find_fuzz.c - libFuzzer target over the zip central-directory reader
 * that decides which file offsets libkdl maps. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../lib/zip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct kdl_zip_entry e;

	if (fd < 0)
		fd = memfd_create("kdl-zip-fuzz", MFD_CLOEXEC);
	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	if (kdl_zip_find(fd, size, "fuzz.zip", "lib/x86_64/libz.so.1", &e) == 0) {
		/* What it accepted must lie inside the input. */
		if (e.data_offset > size || e.csize > size - e.data_offset)
			abort();
	}
	kdl_zip_find(fd, size, "fuzz.zip", "a", &e);
	kdl_error();
	return 0;
}

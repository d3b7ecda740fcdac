/* cache_entry_fuzz.c - libFuzzer target over the relocation cache's entry
 * reader: the input is written as an entry file of the fuzzer's own (so
 * the owner and mode checks pass) and opened with and without a key;
 * what opens must describe only bytes inside the file.  The first bytes
 * of a found key are the input's own, so keyed opens get past the key
 * check too. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/cache_entry.h"

static char dir[64];

static void remove_dir(void)
{
	rmdir(dir);
}

static void check(const struct kdl_ce *ce, size_t size)
{
	uint64_t hash;

	if (ce->h.file_size != size || ce->h.data_start > size ||
	    ce->h.data_start + ce->h.data_len != size)
		abort();
	for (uint32_t i = 0; i < ce->h.nseg; i++)
		if (ce->seg[i].off < ce->h.data_start || ce->seg[i].off + ce->seg[i].len > size)
			abort();
	if (strlen(ce->path) != ce->h.path_len)
		abort();
	if (kdl_ce_file_data_hash(ce, &hash))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[128];
	struct kdl_ce ce;
	const char *why;
	int fd;

	if (!dir[0]) {
		strcpy(dir, "/tmp/kdl-ce-fuzz-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		atexit(remove_dir);
	}
	snprintf(path, sizeof(path), "%s/0123456789abcdef0123456789abcdef", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);
	if (!kdl_ce_open(dir, false, "0123456789abcdef0123456789abcdef", NULL, 0, &ce, &why)) {
		check(&ce, size);
		kdl_ce_close(&ce);
	}
	/* Keyed: the key is whatever sits where the key would be. */
	if (size > sizeof(struct kdl_ce_header) + 64 &&
	    !kdl_ce_open(dir, false, "0123456789abcdef0123456789abcdef",
			 data + sizeof(struct kdl_ce_header), 64, &ce, &why)) {
		check(&ce, size);
		kdl_ce_close(&ce);
	}
	unlink(path);
	return 0;
}

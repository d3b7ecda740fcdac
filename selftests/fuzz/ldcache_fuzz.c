/* ldcache_fuzz.c - libFuzzer target over the ld.so.cache reader: the
 * header (old-format prefix, new-format magic), the entry table and its
 * string offsets, the binary search and its fallback scan. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/obj.h"

/* Sonames a real cache has (hit), sorts around (digits compared as
 * numbers) and lacks (miss). */
static const char *const names[] = {
	"libc.so.6", "libz.so.1", "libm.so.6", "libstdc++.so.6", "libzzz.so.10", "a",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *p = kdl_ldcache_lookup((const char *)data, size, names[i]);

		/* What it returns must be a string inside the image. */
		if (p && (p < (const char *)data || p >= (const char *)data + size ||
			  !memchr(p, '\0', (const char *)data + size - p)))
			abort();
	}
	return 0;
}

/* ldcache.c - look sonames up in /etc/ld.so.cache, read in its own format. */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "obj.h"

/*
 * Facts relied on (glibc's elf/cache.c and sysdeps/generic/dl-cache.h, read
 * for the format only): the file starts either with the old header
 * "ld.so-1.7.0" (then u32 nlibs and 12-byte entries) followed by the new
 * one, or with the new header alone: "glibc-ld.so.cache" "1.1", u32 nlibs,
 * u32 len_strings, u8 flags, 3 pad, u32 extension offset, 3 u32 unused,
 * then nlibs entries of { i32 flags; u32 key, value; u32 osversion;
 * u64 hwcap } whose key/value are byte offsets from the start of the new
 * header (glibc's elf/dl-cache.c reads them from its cache_new pointer).
 * flags 0x0303 marks an x86-64 libc6 library.
 */
#define NEW_MAGIC "glibc-ld.so.cache1.1"
#define OLD_MAGIC "ld.so-1.7.0"
#define FLAG_X86_64_LIBC6 0x0303

struct new_hdr {
	char magic[20];
	uint32_t nlibs, len_strings;
	uint8_t flags, pad[3];
	uint32_t ext_offset, unused[3];
};

struct new_entry {
	int32_t flags;
	uint32_t key, value, osversion;
	uint64_t hwcap;
};

static const char *cache;
static size_t cache_len, cache_hdr_off;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_open(void)
{
	int fd = open("/etc/ld.so.cache", O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *p;
	size_t off = 0;

	if (fd < 0)
		return;
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(struct new_hdr)) {
		close(fd);
		return;
	}
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return;
	if (!memcmp(p, OLD_MAGIC, sizeof(OLD_MAGIC) - 1)) {
		uint32_t n;

		memcpy(&n, (char *)p + 12, 4);
		off = 16 + (size_t)n * 12;
		off = (off + 7) & ~(size_t)7;
	}
	if (off + sizeof(struct new_hdr) > (size_t)st.st_size ||
	    memcmp((char *)p + off, NEW_MAGIC, sizeof(NEW_MAGIC) - 1)) {
		munmap(p, st.st_size);
		return;
	}
	cache = p;
	cache_len = st.st_size;
	cache_hdr_off = off;
}

/* The path ld.so.cache gives for @soname, or NULL. */
const char *kdl_ldcache_find(const char *soname)
{
	const struct new_hdr *h;
	const struct new_entry *e;
	const char *base;
	size_t n, len;

	pthread_once(&cache_once, cache_open);
	if (!cache)
		return NULL;
	base = cache + cache_hdr_off;
	len = cache_len - cache_hdr_off;
	h = (const void *)base;
	e = (const void *)(h + 1);
	n = h->nlibs;
	if (n > (len - sizeof(*h)) / sizeof(*e))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *key, *val;

		if (e[i].flags != FLAG_X86_64_LIBC6 || e[i].key >= len || e[i].value >= len)
			continue;
		key = base + e[i].key;
		if (strnlen(key, len - e[i].key) == len - e[i].key || strcmp(key, soname))
			continue;
		val = base + e[i].value;
		if (strnlen(val, len - e[i].value) < len - e[i].value)
			return val;
	}
	return NULL;
}

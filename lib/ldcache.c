/* ldcache.c - look sonames up in /etc/ld.so.cache, read in its own format. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
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

/* An open-addressing index of the x86-64 entries by soname, built once:
 * a lookup is then one hash and a strcmp or two, not a scan. */
struct slot {
	const char *key, *value;
};
static struct slot *index_slots;
static size_t index_mask;

static void build_index(void);

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

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
	build_index();
}

/* Index every well-formed x86-64 libc6 entry; the first of a name wins,
 * as in glibc's search. */
static void build_index(void)
{
	const char *base = cache + cache_hdr_off;
	size_t len = cache_len - cache_hdr_off, n, cap = 16;
	const struct new_hdr *h = (const void *)base;
	const struct new_entry *e = (const void *)(h + 1);

	n = h->nlibs;
	if (n > (len - sizeof(*h)) / sizeof(*e))
		return;
	while (cap < 2 * n)
		cap *= 2;
	index_slots = calloc(cap, sizeof(*index_slots));
	if (!index_slots)
		return;
	index_mask = cap - 1;
	for (size_t i = 0; i < n; i++) {
		const char *key, *val;
		size_t at;

		if (e[i].flags != FLAG_X86_64_LIBC6 || e[i].key >= len || e[i].value >= len)
			continue;
		key = base + e[i].key;
		val = base + e[i].value;
		if (strnlen(key, len - e[i].key) == len - e[i].key ||
		    strnlen(val, len - e[i].value) == len - e[i].value)
			continue;
		for (at = name_hash(key) & index_mask; index_slots[at].key; at = (at + 1) & index_mask)
			if (!strcmp(index_slots[at].key, key))
				break;
		if (!index_slots[at].key)
			index_slots[at] = (struct slot){ key, val };
	}
}

/* The path ld.so.cache gives for @soname, or NULL. */
const char *kdl_ldcache_find(const char *soname)
{
	pthread_once(&cache_once, cache_open);
	if (!index_slots)
		return NULL;
	for (size_t at = name_hash(soname) & index_mask; index_slots[at].key;
	     at = (at + 1) & index_mask)
		if (!strcmp(index_slots[at].key, soname))
			return index_slots[at].value;
	return NULL;
}

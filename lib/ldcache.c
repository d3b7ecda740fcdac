/* ldcache.c - look sonames up in /etc/ld.so.cache, read in its own format. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "obj.h"
#include "once.h"

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
static size_t cache_len;
static struct kdl_once cache_once = KDL_ONCE_INIT;

/*
 * glibc keeps the entries sorted by its library-name order, descending,
 * and binary-searches them (elf/dl-cache.c); the order compares runs of
 * digits as numbers, so "libfoo.so.10" sorts after "libfoo.so.9".  A miss
 * of the binary search falls back to a scan, so a cache sorted some other
 * way costs time, never a wrong answer.
 */
static int digit(char c)
{
	return c >= '0' && c <= '9';
}

static int libcmp(const char *a, const char *b)
{
	while (*a) {
		if (digit(*a) && digit(*b)) {
			unsigned long x = 0, y = 0;

			while (digit(*a))
				x = x * 10 + (unsigned long)(*a++ - '0');
			while (digit(*b))
				y = y * 10 + (unsigned long)(*b++ - '0');
			if (x != y)
				return x < y ? -1 : 1;
		} else if (digit(*a)) {
			return 1;
		} else if (digit(*b)) {
			return -1;
		} else if (*a != *b) {
			return (unsigned char)*a - (unsigned char)*b;
		} else {
			a++;
			b++;
		}
	}
	return (unsigned char)*a - (unsigned char)*b;
}

/* The offset of the new-format header in the cache image @p of @len
 * bytes, after the old-format part if there is one; -1 if it has none. */
static long new_header(const char *p, size_t len)
{
	size_t off = 0;

	if (len < sizeof(struct new_hdr))
		return -1;
	if (!memcmp(p, OLD_MAGIC, sizeof(OLD_MAGIC) - 1)) {
		uint32_t n;

		memcpy(&n, p + 12, 4);
		off = 16 + (size_t)n * 12;
		off = (off + 7) & ~(size_t)7;
	}
	if (off + sizeof(struct new_hdr) > len || memcmp(p + off, NEW_MAGIC, sizeof(NEW_MAGIC) - 1))
		return -1;
	return (long)off;
}

static void cache_open(void)
{
	int fd = open("/etc/ld.so.cache", O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *p;

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
	if (new_header(p, st.st_size) < 0) {
		munmap(p, st.st_size);
		return;
	}
	cache = p;
	cache_len = st.st_size;
}

static const char *entry_str(const char *base, size_t len, uint32_t off)
{
	if (off >= len || !memchr(base + off, '\0', len - off))
		return NULL;
	return base + off;
}

static const char *entry_match(const char *base, size_t len, const struct new_entry *e,
			       const char *soname)
{
	const char *key = entry_str(base, len, e->key);

	if (e->flags != FLAG_X86_64_LIBC6 || !key || strcmp(key, soname))
		return NULL;
	return entry_str(base, len, e->value);
}

/* The path the cache image @cache_img (@img_len bytes, 8-byte aligned)
 * gives for @soname, or NULL. */
const char *kdl_ldcache_lookup(const char *cache_img, size_t img_len, const char *soname)
{
	const char *base, *val;
	const struct new_hdr *h;
	const struct new_entry *e;
	size_t n, len;
	long lo, hi, hdr_off = new_header(cache_img, img_len);

	if (hdr_off < 0)
		return NULL;
	base = cache_img + hdr_off;
	len = img_len - hdr_off;
	h = (const void *)base;
	e = (const void *)(h + 1);
	n = h->nlibs;
	if (n > (len - sizeof(*h)) / sizeof(*e))
		return NULL;
	for (lo = 0, hi = (long)n - 1; lo <= hi;) {
		long mid = lo + (hi - lo) / 2, first;
		const char *key = entry_str(base, len, e[mid].key);
		int c;

		if (!key)
			break;
		c = libcmp(soname, key);
		if (c == 0) {
			/* Several entries may share the name (other ABIs). */
			for (first = mid; first > 0; first--) {
				const char *k = entry_str(base, len, e[first - 1].key);

				if (!k || libcmp(soname, k))
					break;
			}
			for (long i = first; i < (long)n; i++) {
				const char *k = entry_str(base, len, e[i].key);

				if (!k || libcmp(soname, k))
					break;
				if ((val = entry_match(base, len, &e[i], soname)))
					return val;
			}
			break;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	for (size_t i = 0; i < n; i++)
		if ((val = entry_match(base, len, &e[i], soname)))
			return val;
	return NULL;
}

/* The path ld.so.cache gives for @soname, or NULL. */
const char *kdl_ldcache_find(const char *soname)
{
	kdl_once(&cache_once, cache_open);
	return cache ? kdl_ldcache_lookup(cache, cache_len, soname) : NULL;
}

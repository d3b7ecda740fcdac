/* pack_check.c - "kdl pack --check ZIP": can libkdl load every shared
 * object in ZIP zero-copy (stored, data at a page-aligned offset)?  Reads
 * the archive through its central directory, checking each offset before
 * following it.  Exit 0: all load zero-copy; 1: some will not load or load
 * through a copy; 2: not a readable zip. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "zipfmt.h"

#define MAX_CD		(1ULL << 30)

struct zip {
	const char *path;
	int fd;
	uint64_t size;
	uint64_t cd_off, cd_size, count;
};

/* One central directory entry, as far as the check needs it. */
struct zentry {
	const unsigned char *name;
	size_t nlen;
	uint16_t method, flags;
	uint64_t usize, csize, lho;
};

static int malformed(const struct zip *z, const char *what)
{
	fprintf(stderr, "kdl pack: %s: malformed zip: %s\n", z->path, what);
	return -1;
}

static int read_at(const struct zip *z, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	if (off > z->size || len > z->size - off)
		return -1;
	while (done < len) {
		ssize_t r = pread(z->fd, (char *)buf + done, len - done, off + done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += r;
	}
	return 0;
}

/* Fills z->cd_* from the zip64 end record found through its locator,
 * which sits just before the end record at @eocd_off. */
static int read_zip64_end(struct zip *z, uint64_t eocd_off)
{
	unsigned char loc[ZIP_LOC64_LEN], rec[ZIP_EOCD64_LEN];
	uint64_t at;

	if (eocd_off < ZIP_LOC64_LEN || read_at(z, loc, sizeof(loc), eocd_off - ZIP_LOC64_LEN) ||
	    zip_get32(loc) != ZIP_SIG_LOC64)
		return malformed(z, "zip64 values in the end record but no zip64 locator");
	at = zip_get64(loc + 8);
	if (at > eocd_off - ZIP_LOC64_LEN || read_at(z, rec, sizeof(rec), at) ||
	    zip_get32(rec) != ZIP_SIG_EOCD64)
		return malformed(z, "zip64 end record missing or outside the file");
	if (zip_get64(rec + 24) != zip_get64(rec + 32))
		return malformed(z, "multi-disk archives are not supported");
	z->count = zip_get64(rec + 32);
	z->cd_size = zip_get64(rec + 40);
	z->cd_off = zip_get64(rec + 48);
	return 0;
}

/* The last end record whose comment reaches exactly to the end of file. */
static int find_end(struct zip *z)
{
	size_t tail = z->size < ZIP_EOCD_LEN + ZIP_MAX_COMMENT ? z->size
							       : ZIP_EOCD_LEN + ZIP_MAX_COMMENT;
	unsigned char *buf = malloc(tail ? tail : 1), *e = NULL;
	uint64_t base = z->size - tail;
	int ret = -1;

	if (!buf)
		return malformed(z, "out of memory");
	if (z->size < ZIP_EOCD_LEN || read_at(z, buf, tail, base)) {
		malformed(z, "too short for an end of central directory record");
		goto out;
	}
	for (size_t i = tail - ZIP_EOCD_LEN + 1; i-- > 0;)
		if (zip_get32(buf + i) == ZIP_SIG_EOCD &&
		    i + ZIP_EOCD_LEN + zip_get16(buf + i + 20) == tail) {
			e = buf + i;
			break;
		}
	if (!e) {
		malformed(z, "no end of central directory record");
		goto out;
	}
	if (zip_get16(e + 4) || zip_get16(e + 6) || zip_get16(e + 8) != zip_get16(e + 10)) {
		malformed(z, "multi-disk archives are not supported");
		goto out;
	}
	z->count = zip_get16(e + 10);
	z->cd_size = zip_get32(e + 12);
	z->cd_off = zip_get32(e + 16);
	if (z->count == ZIP_MAX16 || z->cd_size == ZIP_MAX32 || z->cd_off == ZIP_MAX32)
		ret = read_zip64_end(z, base + (e - buf));
	else
		ret = 0;
	if (!ret && (z->cd_off > z->size || z->cd_size > z->size - z->cd_off ||
		     z->cd_size > MAX_CD || z->count > z->cd_size / ZIP_CENTRAL_LEN))
		ret = malformed(z, "central directory outside the file or too small for its entries");
out:
	free(buf);
	return ret;
}

/* Replaces the all-ones fields of @e with the zip64 extra's values. */
static int apply_zip64(struct zentry *e, const unsigned char *x, size_t len)
{
	while (len >= 4) {
		uint16_t id = zip_get16(x), n = zip_get16(x + 2);
		const unsigned char *p = x + 4;
		uint64_t *f[3] = { &e->usize, &e->csize, &e->lho };

		if (n > len - 4)
			return -1;
		if (id == ZIP_EXTRA_ZIP64) {
			for (int i = 0; i < 3; i++) {
				if (*f[i] != ZIP_MAX32)
					continue;
				if (p + 8 > x + 4 + n)
					return -1;
				*f[i] = zip_get64(p);
				p += 8;
			}
			return 0;
		}
		x += 4 + n;
		len -= 4 + n;
	}
	return 0;
}

/* Parses the central header at @c (@left bytes remain); its length. */
static size_t parse_central(const struct zip *z, const unsigned char *c, uint64_t left,
			    struct zentry *e)
{
	size_t len;

	if (left < ZIP_CENTRAL_LEN || zip_get32(c) != ZIP_SIG_CENTRAL) {
		malformed(z, "central directory entry truncated or with a bad signature");
		return 0;
	}
	e->nlen = zip_get16(c + 28);
	len = ZIP_CENTRAL_LEN + e->nlen + zip_get16(c + 30) + zip_get16(c + 32);
	if (len > left) {
		malformed(z, "central directory entry runs past the directory");
		return 0;
	}
	e->name = c + ZIP_CENTRAL_LEN;
	e->flags = zip_get16(c + 8);
	e->method = zip_get16(c + 10);
	e->csize = zip_get32(c + 20);
	e->usize = zip_get32(c + 24);
	e->lho = zip_get32(c + 42);
	if (apply_zip64(e, c + ZIP_CENTRAL_LEN + e->nlen, zip_get16(c + 30))) {
		malformed(z, "bad zip64 extra field");
		return 0;
	}
	return len;
}

/* The offset of @e's data, from its local header; 0 on error. */
static uint64_t data_offset(const struct zip *z, const struct zentry *e, char *name)
{
	unsigned char h[ZIP_LOCAL_LEN];
	uint64_t data;

	if (e->lho >= z->cd_off || read_at(z, h, sizeof(h), e->lho) ||
	    zip_get32(h) != ZIP_SIG_LOCAL) {
		fprintf(stderr, "kdl pack: %s: malformed zip: %s: local header missing\n", z->path, name);
		return 0;
	}
	data = e->lho + ZIP_LOCAL_LEN + zip_get16(h + 26) + zip_get16(h + 28);
	if (data > z->cd_off || e->csize > z->cd_off - data) {
		fprintf(stderr, "kdl pack: %s: malformed zip: %s: data runs into the central directory\n",
			z->path, name);
		return 0;
	}
	if (zip_get16(h + 8) != e->method) {
		fprintf(stderr, "kdl pack: %s: malformed zip: %s: local and central headers disagree on the method\n",
			z->path, name);
		return 0;
	}
	return data;
}

static const char *method_name(uint16_t m)
{
	switch (m) {
	case 8: return "deflate";
	case 9: return "deflate64";
	case 12: return "bzip2";
	case 14: return "lzma";
	case 93: return "zstd";
	case 95: return "xz";
	default: return NULL;
	}
}

/* Prints why @e will not load zero-copy; 1 if it will not, 0 if it will,
 * -1 on a malformed entry. */
static int judge(const struct zip *z, const struct zentry *e, char *name)
{
	uint64_t data = data_offset(z, e, name);

	if (!data)
		return -1;
	if (e->flags & ZIP_FLAG_ENCRYPTED) {
		printf("%s: encrypted: will not load\n", name);
		return 1;
	}
	if (e->method != ZIP_METHOD_STORE) {
		if (method_name(e->method))
			printf("%s: compressed (%s): will not load\n", name, method_name(e->method));
		else
			printf("%s: compressed (method %u): will not load\n", name, e->method);
		return 1;
	}
	if (e->usize != e->csize) {
		fprintf(stderr, "kdl pack: %s: malformed zip: %s: stored with differing sizes\n",
			z->path, name);
		return -1;
	}
	if (data % ZIP_PAGE) {
		printf("%s: stored at offset 0x%" PRIx64 ", not page aligned: loads through a copy\n",
		       name, data);
		return 1;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* libkdl refuses to load a name that appears twice. */
static int report_duplicates(char **names, size_t n)
{
	int bad = 0;

	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(names[i - 1], names[i]) && (i < 2 || strcmp(names[i - 2], names[i]))) {
			printf("%s: present more than once: will not load\n", names[i]);
			bad = 1;
		}
	return bad;
}

/* Walks the directory: 1. parse each header; 2. judge the shared objects;
 * 3. look for duplicate names among them. */
static int check_entries(const struct zip *z, const unsigned char *dir)
{
	char **names = calloc(z->count + 1, sizeof(*names));
	size_t nso = 0, pos = 0;
	int ret = 2, bad = 0;

	if (!names) {
		malformed(z, "out of memory");
		return 2;
	}
	for (uint64_t i = 0; i < z->count; i++) {
		struct zentry e;
		size_t len = parse_central(z, dir + pos, z->cd_size - pos, &e);
		int r;

		if (!len)
			goto out;
		pos += len;
		if (!e.nlen || e.name[e.nlen - 1] == '/')
			continue;
		names[nso] = strndup((const char *)e.name, e.nlen);
		if (!names[nso]) {
			malformed(z, "out of memory");
			goto out;
		}
		if (!zip_name_is_shared_object(names[nso])) {
			free(names[nso]);
			names[nso] = NULL;
			continue;
		}
		r = judge(z, &e, names[nso++]);
		if (r < 0)
			goto out;
		bad |= r;
	}
	bad |= report_duplicates(names, nso);
	if (bad)
		printf("%s: some shared objects will not load zero-copy\n", z->path);
	else
		printf("%s: %zu shared object%s, all stored page aligned: zero-copy\n",
		       z->path, nso, nso == 1 ? "" : "s");
	ret = bad;
out:
	for (size_t i = 0; i < nso; i++)
		free(names[i]);
	free(names);
	return ret;
}

int pack_check(const char *path)
{
	struct zip z = { .path = path };
	struct stat st;
	unsigned char *dir = NULL;
	int ret = 2;

	z.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (z.fd < 0) {
		fprintf(stderr, "kdl pack: %s: cannot open: %s\n", path, strerror(errno));
		return 2;
	}
	if (fstat(z.fd, &st) || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "kdl pack: %s: not a regular file\n", path);
		goto out;
	}
	z.size = st.st_size;
	if (find_end(&z))
		goto out;
	dir = malloc(z.cd_size ? z.cd_size : 1);
	if (!dir) {
		malformed(&z, "out of memory");
		goto out;
	}
	if (read_at(&z, dir, z.cd_size, z.cd_off)) {
		malformed(&z, "read error in the central directory");
		goto out;
	}
	ret = check_entries(&z, dir);
out:
	free(dir);
	close(z.fd);
	return ret;
}

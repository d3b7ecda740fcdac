/* zip.c - read a zip's central directory to locate one entry, trusting
 * nothing: every offset and size is checked before it is followed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kdl_internal.h"
#include "zip.h"

/*
 * Facts from the PKWARE APPNOTE (6.3.x), section 4.3: the end of central
 * directory record (EOCD, 22 bytes + comment up to 65535) ends the file; a
 * zip64 EOCD locator (20 bytes) precedes it and points at the zip64 EOCD
 * record; central directory headers are 46 bytes + name + extra + comment;
 * local headers are 30 bytes + name + extra, and the data follows them.
 * Zip64 extra field id 0x0001 holds, in order, the 64-bit uncompressed
 * size, compressed size and local header offset -- each present only when
 * the 32-bit field is 0xffffffff.
 */
#define SIG_EOCD	0x06054b50u
#define SIG_EOCD64	0x06064b50u
#define SIG_LOC64	0x07064b50u
#define SIG_CEN		0x02014b50u
#define SIG_LOC		0x04034b50u
#define EOCD_LEN	22
#define CEN_LEN		46
#define LOC_LEN		30
#define MAX_CD		(256u << 20)	/* a central directory above 256 MiB is refused */
#define MAX_ENTRIES	1000000

static uint16_t le16(const unsigned char *p) { return p[0] | p[1] << 8; }
static uint32_t le32(const unsigned char *p) { return le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static int bad(const char *zip, const char *what)
{
	kdl_set_error("%s: hostile or malformed zip: %s", zip, what);
	return -1;
}

struct cd_info {
	uint64_t offset, size, count;
};

/* Locate the central directory through the (zip64) EOCD. */
static int find_cd(int fd, uint64_t fsize, const char *zip, struct cd_info *cd)
{
	size_t tail = fsize < EOCD_LEN + 65535 + 20 ? fsize : EOCD_LEN + 65535 + 20;
	unsigned char *buf;
	const unsigned char *eocd = NULL;
	int ret = -1;

	if (fsize < EOCD_LEN)
		return bad(zip, "file too short for an end of central directory record");
	buf = malloc(tail);
	if (!buf) {
		kdl_set_error("%s: out of memory", zip);
		return -1;
	}
	if (kdl_pread_all(fd, buf, tail, fsize - tail)) {
		kdl_set_error("%s: read error", zip);
		goto out;
	}
	/* The last EOCD whose comment length reaches exactly the file end. */
	for (size_t i = tail - EOCD_LEN + 1; i-- > 0;)
		if (le32(buf + i) == SIG_EOCD && i + EOCD_LEN + le16(buf + i + 20) == tail) {
			eocd = buf + i;
			break;
		}
	if (!eocd) {
		kdl_set_error("%s: not a zip file (no end of central directory record)", zip);
		goto out;
	}
	if (le16(eocd + 4) || le16(eocd + 6)) {
		bad(zip, "multi-disk archives are not supported");
		goto out;
	}
	cd->count = le16(eocd + 10);
	cd->size = le32(eocd + 12);
	cd->offset = le32(eocd + 16);
	if (le16(eocd + 8) != cd->count) {
		bad(zip, "entry counts of the end record disagree");
		goto out;
	}
	if (cd->count == 0xffff || cd->size == 0xffffffff || cd->offset == 0xffffffff) {
		size_t at = eocd - buf;
		unsigned char rec[56];
		uint64_t off64;

		if (at < 20 || le32(eocd - 20) != SIG_LOC64) {
			bad(zip, "zip64 values without a zip64 locator");
			goto out;
		}
		off64 = le64(eocd - 20 + 8);
		if (off64 > fsize - tail + at - 20 || fsize - off64 < sizeof(rec) ||
		    kdl_pread_all(fd, rec, sizeof(rec), off64) || le32(rec) != SIG_EOCD64) {
			bad(zip, "zip64 end record missing or outside the file");
			goto out;
		}
		cd->count = le64(rec + 32);
		cd->size = le64(rec + 40);
		cd->offset = le64(rec + 48);
		if (le64(rec + 24) != cd->count) {
			bad(zip, "zip64 entry counts disagree");
			goto out;
		}
	}
	if (cd->offset > fsize || cd->size > fsize - cd->offset) {
		bad(zip, "central directory lies outside the file");
		goto out;
	}
	if (cd->size > MAX_CD || cd->count > MAX_ENTRIES || cd->count * CEN_LEN > cd->size) {
		bad(zip, "central directory size and entry count disagree");
		goto out;
	}
	ret = 0;
out:
	free(buf);
	return ret;
}

struct span {
	uint64_t lo, hi;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Apply the zip64 extra field to the 32-bit values that overflowed. */
static int zip64_extra(const unsigned char *ex, size_t len, uint64_t *usize, uint64_t *csize,
		       uint64_t *lho)
{
	while (len >= 4) {
		uint16_t id = le16(ex), n = le16(ex + 2);
		const unsigned char *p = ex + 4, *end;

		if (n > len - 4)
			return -1;
		end = p + n;
		if (id == 1) {
			uint64_t *f[3] = { usize, csize, lho };

			for (int i = 0; i < 3; i++) {
				if (*f[i] != 0xffffffff)
					continue;
				if (end - p < 8)
					return -1;
				*f[i] = le64(p);
				p += 8;
			}
			return 0;
		}
		ex += 4 + n;
		len -= 4 + n;
	}
	return 0;
}

int kdl_zip_find(int fd, uint64_t fsize, const char *zip, const char *name,
		 struct kdl_zip_entry *e)
{
	size_t name_len = strlen(name);
	struct cd_info cd;
	unsigned char *dir = NULL, loc[LOC_LEN];
	struct span *spans = NULL;
	uint64_t found_lho = 0, pos = 0;
	size_t found = 0, n = 0;
	int ret = -1;

	if (find_cd(fd, fsize, zip, &cd))
		return -1;
	dir = malloc(cd.size ? cd.size : 1);
	spans = calloc(cd.count + 1, sizeof(*spans));
	if (!dir || !spans) {
		kdl_set_error("%s: out of memory", zip);
		goto out;
	}
	if (kdl_pread_all(fd, dir, cd.size, cd.offset)) {
		kdl_set_error("%s: read error in the central directory", zip);
		goto out;
	}
	for (uint64_t i = 0; i < cd.count; i++) {
		const unsigned char *c = dir + pos;
		uint64_t usize, csize, lho, rec;
		uint16_t nlen, xlen, clen;

		if (cd.size - pos < CEN_LEN || le32(c) != SIG_CEN) {
			bad(zip, "central directory entry is truncated or has a bad signature");
			goto out;
		}
		nlen = le16(c + 28);
		xlen = le16(c + 30);
		clen = le16(c + 32);
		rec = (uint64_t)CEN_LEN + nlen + xlen + clen;
		if (rec > cd.size - pos) {
			bad(zip, "central directory entry runs past the directory");
			goto out;
		}
		csize = le32(c + 20);
		usize = le32(c + 24);
		lho = le32(c + 42);
		if (zip64_extra(c + CEN_LEN + nlen, xlen, &usize, &csize, &lho)) {
			bad(zip, "malformed zip64 extra field");
			goto out;
		}
		if (lho > cd.offset || csize > cd.offset - lho) {
			bad(zip, "an entry lies outside the data area");
			goto out;
		}
		spans[n].lo = lho;
		spans[n].hi = lho + LOC_LEN + csize;	/* at least this much */
		n++;
		if (nlen == name_len && !memcmp(c + CEN_LEN, name, nlen)) {
			if (found) {
				kdl_set_error("%s: entry %s is present twice; refusing to guess", zip, name);
				goto out;
			}
			found = 1;
			found_lho = lho;
			e->size = usize;
			e->csize = csize;
			e->method = le16(c + 10);
			if (le16(c + 8) & 1) {
				kdl_set_error("%s!/%s: entry is encrypted", zip, name);
				goto out;
			}
		}
		pos += rec;
	}
	/* Entries must not overlap one another (the shape of zip bombs). */
	qsort(spans, n, sizeof(*spans), cmp_span);
	for (size_t i = 1; i < n; i++)
		if (spans[i].lo < spans[i - 1].hi) {
			bad(zip, "entries overlap");
			goto out;
		}
	if (!found) {
		kdl_set_error("%s: no entry named %s", zip, name);
		ret = 1;
		goto out;
	}
	if (kdl_pread_all(fd, loc, LOC_LEN, found_lho) || le32(loc) != SIG_LOC) {
		bad(zip, "local header missing or with a bad signature");
		goto out;
	}
	e->data_offset = found_lho + LOC_LEN + le16(loc + 26) + le16(loc + 28);
	if (e->data_offset > cd.offset || e->csize > cd.offset - e->data_offset) {
		bad(zip, "entry data runs into the central directory");
		goto out;
	}
	if (le16(loc + 8) != e->method) {
		bad(zip, "local and central headers disagree on the method");
		goto out;
	}
	if (e->method == 0 && e->size != e->csize) {
		bad(zip, "stored entry with different stored and real sizes");
		goto out;
	}
	ret = 0;
out:
	free(dir);
	free(spans);
	return ret;
}

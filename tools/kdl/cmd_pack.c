/* cmd_pack.c - "kdl pack [-C DIR] OUT.zip FILE...": write a zip container
 * whose shared objects are stored at page-aligned data offsets, so libkdl
 * maps them zero-copy from the container's page cache; other files are
 * deflated when that shrinks them.  "kdl pack --check" is in pack_check.c.
 *
 * Output is deterministic (fixed timestamp, entries in argument order):
 * packing the same files twice gives the same bytes.  Each entry's data is
 * written first and its local header after, once CRC and sizes are known,
 * so no data descriptors are needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cli.h"
#include "zipfmt.h"

#define DOS_DATE_1980	0x0021	/* 1980-01-01; DOS time 00:00:00 is 0 */
#define VERSION_MADE_BY	(3 << 8 | 30)	/* Unix, spec 3.0 */
#define CHUNK		(256u << 10)
#define MAX_ENTRIES	(16u << 20)

struct entry {
	char *name;
	uint64_t lho;		/* local header offset */
	uint64_t usize, csize;
	uint32_t crc, mode;
	uint16_t method, flags;
};

struct packer {
	const char *out_path;	/* OUT.zip.tmp, for messages */
	int out;
	int dirfd;		/* -C DIR, or AT_FDCWD */
	uint64_t end;		/* where the next record goes */
	struct entry *e;
	size_t n, cap;
	unsigned char *in_buf, *out_buf;
	z_stream zs;		/* reset per entry: one set of deflate tables */
	bool zs_ready;
};

int zip_name_is_shared_object(const char *name)
{
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	size_t len = strlen(base);

	return (len > 3 && !strcmp(base + len - 3, ".so")) || strstr(base, ".so.") != NULL;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pwrite(fd, (const char *)buf + done, len - done, off + done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += r;
	}
	return 0;
}

static ssize_t read_some(int fd, void *buf, size_t len)
{
	ssize_t r;

	do
		r = read(fd, buf, len);
	while (r < 0 && errno == EINTR);
	return r;
}

/*
 * The entry name for @arg: "." and empty components dropped (so a leading
 * "./" goes), absolute paths and ".." refused, as tar does for archives
 * meant to be unpacked anywhere.
 */
static char *entry_name(const char *arg)
{
	char *name = malloc(strlen(arg) + 1), *o = name;
	const char *p = arg;

	if (!name) {
		fprintf(stderr, "kdl pack: out of memory\n");
		return NULL;
	}
	if (arg[0] == '/') {
		fprintf(stderr, "kdl pack: %s: absolute path refused (use -C DIR and a relative path)\n", arg);
		goto fail;
	}
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len == 2 && !strncmp(p, "..", 2)) {
			fprintf(stderr, "kdl pack: %s: '..' component refused: entries must stay inside the container\n", arg);
			goto fail;
		}
		if (len && !(len == 1 && p[0] == '.')) {
			if (o != name)
				*o++ = '/';
			memcpy(o, p, len);
			o += len;
		}
		p += len;
		p += *p == '/';
	}
	*o = '\0';
	if (!*name) {
		fprintf(stderr, "kdl pack: '%s': no file name left\n", arg);
		goto fail;
	}
	if (strlen(name) > ZIP_MAX16) {
		fprintf(stderr, "kdl pack: %s: name longer than 65535 bytes\n", arg);
		goto fail;
	}
	return name;
fail:
	free(name);
	return NULL;
}

static bool needs_zip64_local(const struct entry *e)
{
	return e->usize >= ZIP_MAX32;
}

/* Bytes of local extra fields before the alignment padding. */
static size_t local_zip64_len(const struct entry *e)
{
	return needs_zip64_local(e) ? 4 + 16 : 0;
}

/* Length of the alignment extra field that puts the data of an entry whose
 * local header is at @lho on a page boundary (0: no alignment wanted). */
static size_t align_len(const struct entry *e, bool align)
{
	uint64_t data;

	if (!align)
		return 0;
	data = e->lho + ZIP_LOCAL_LEN + strlen(e->name) + local_zip64_len(e) + 6;
	return 6 + (ZIP_PAGE - data % ZIP_PAGE) % ZIP_PAGE;
}

static uint16_t version_needed(const struct entry *e, bool zip64)
{
	if (zip64)
		return 45;
	return e->method == ZIP_METHOD_DEFLATE ? 20 : 10;
}

/* Writes @e's local header at e->lho: signature, fixed fields, name,
 * zip64 sizes when they overflow, then @pad bytes of alignment field. */
static int write_local_header(struct packer *p, const struct entry *e, size_t pad)
{
	size_t nlen = strlen(e->name), xlen = local_zip64_len(e) + pad;
	size_t len = ZIP_LOCAL_LEN + nlen + xlen;
	unsigned char *h = calloc(1, len), *q = h;
	bool z64 = needs_zip64_local(e);
	int ret;

	if (!h)
		return -1;
	q = zip_put32(q, ZIP_SIG_LOCAL);
	q = zip_put16(q, version_needed(e, z64));
	q = zip_put16(q, e->flags);
	q = zip_put16(q, e->method);
	q = zip_put16(q, 0);
	q = zip_put16(q, DOS_DATE_1980);
	q = zip_put32(q, e->crc);
	q = zip_put32(q, z64 ? ZIP_MAX32 : e->csize);
	q = zip_put32(q, z64 ? ZIP_MAX32 : e->usize);
	q = zip_put16(q, nlen);
	q = zip_put16(q, xlen);
	memcpy(q, e->name, nlen);
	q += nlen;
	if (z64) {
		/* APPNOTE 4.5.3: the local zip64 field holds both sizes. */
		q = zip_put16(q, ZIP_EXTRA_ZIP64);
		q = zip_put16(q, 16);
		q = zip_put64(q, e->usize);
		q = zip_put64(q, e->csize);
	}
	if (pad) {
		q = zip_put16(q, ZIP_EXTRA_ALIGN);
		q = zip_put16(q, pad - 4);
		zip_put16(q, ZIP_PAGE);	/* the rest stays zero */
	}
	ret = pwrite_all(p->out, h, len, e->lho);
	free(h);
	return ret;
}

/* Copies @in (at its start) to @at, computing the CRC; 0 or -1 with errno
 * set, or 1 when the file's size is not what fstat said. */
static int copy_stored(struct packer *p, int in, struct entry *e, uint64_t at)
{
	uint64_t done = 0;
	uLong crc = crc32(0, NULL, 0);
	ssize_t r;

	if (lseek(in, 0, SEEK_SET) < 0)
		return -1;
	while ((r = read_some(in, p->in_buf, CHUNK)) > 0) {
		if (done + r > e->usize)
			return 1;
		crc = crc32(crc, p->in_buf, r);
		if (pwrite_all(p->out, p->in_buf, r, at + done))
			return -1;
		done += r;
	}
	if (r < 0)
		return -1;
	if (done != e->usize)
		return 1;
	e->crc = crc;
	e->csize = done;
	e->method = ZIP_METHOD_STORE;
	return 0;
}

/* Writes deflate's output in p->out_buf (@have bytes) at @at + e->csize. */
static int emit_deflated(struct packer *p, struct entry *e, uint64_t at, size_t have)
{
	if (pwrite_all(p->out, p->out_buf, have, at + e->csize))
		return -1;
	e->csize += have;
	return 0;
}

/* Raw deflate of @in to @at; returns as copy_stored does. */
static int copy_deflated(struct packer *p, int in, struct entry *e, uint64_t at)
{
	z_stream *zs = &p->zs;
	uLong crc = crc32(0, NULL, 0);
	uint64_t done = 0;
	int flush;

	if (deflateReset(zs) != Z_OK) {
		errno = EINVAL;
		return -1;
	}
	e->csize = 0;
	do {
		ssize_t r = read_some(in, p->in_buf, CHUNK);

		if (r < 0)
			return -1;
		if (done + r > e->usize)
			return 1;
		crc = crc32(crc, p->in_buf, r);
		done += r;
		flush = r == 0 ? Z_FINISH : Z_NO_FLUSH;
		zs->next_in = p->in_buf;
		zs->avail_in = r;
		do {
			zs->next_out = p->out_buf;
			zs->avail_out = CHUNK;
			if (deflate(zs, flush) == Z_STREAM_ERROR) {
				errno = EIO;
				return -1;
			}
			if (emit_deflated(p, e, at, CHUNK - zs->avail_out))
				return -1;
		} while (zs->avail_out == 0);
	} while (flush != Z_FINISH);
	if (done != e->usize)
		return 1;
	e->crc = crc;
	e->method = ZIP_METHOD_DEFLATE;
	return 0;
}

static struct entry *new_entry(struct packer *p)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct entry *e = realloc(p->e, cap * sizeof(*e));

		if (!e)
			return NULL;
		p->e = e;
		p->cap = cap;
	}
	memset(&p->e[p->n], 0, sizeof(p->e[0]));
	return &p->e[p->n];
}

static bool has_non_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* 1. open and stat; 2. lay out the header (aligned for shared objects);
 * 3. write the data (deflate, falling back to stored when it does not
 * shrink); 4. write the local header in front of it. */
static int add_file(struct packer *p, const char *arg)
{
	struct entry *e = new_entry(p);
	struct stat st;
	bool so;
	size_t pad;
	uint64_t data;
	int in, r;

	if (!e || p->n >= MAX_ENTRIES) {
		fprintf(stderr, "kdl pack: %s: %s\n", arg, e ? "too many entries" : "out of memory");
		return -1;
	}
	e->name = entry_name(arg);
	if (!e->name)
		return -1;
	p->n++;		/* owns e->name from here on */
	in = openat(p->dirfd, e->name, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st)) {
		fprintf(stderr, "kdl pack: %s: cannot open: %s\n", arg, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "kdl pack: %s: not a regular file\n", arg);
		goto fail;
	}
	so = zip_name_is_shared_object(e->name);
	e->usize = st.st_size;
	e->mode = S_IFREG | (st.st_mode & 0777);
	e->flags = has_non_ascii(e->name) ? ZIP_FLAG_UTF8 : 0;
	e->lho = p->end;
	pad = align_len(e, so);
	data = e->lho + ZIP_LOCAL_LEN + strlen(e->name) + local_zip64_len(e) + pad;
	if (so) {
		r = copy_stored(p, in, e, data);
	} else {
		r = copy_deflated(p, in, e, data);
		if (!r && e->csize >= e->usize)
			r = copy_stored(p, in, e, data);
	}
	if (r) {
		fprintf(stderr, "kdl pack: %s: %s\n", arg,
			r > 0 ? "file changed size while being packed" : strerror(errno));
		goto fail;
	}
	if (write_local_header(p, e, pad)) {
		fprintf(stderr, "kdl pack: %s: write: %s\n", p->out_path, strerror(errno));
		goto fail;
	}
	p->end = data + e->csize;
	close(in);
	return 0;
fail:
	if (in >= 0)
		close(in);
	return -1;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* libkdl refuses a container naming one entry twice; so does pack. */
static int check_duplicates(const struct packer *p)
{
	const char **names = malloc((p->n + 1) * sizeof(*names));
	int ret = 0;

	if (!names) {
		fprintf(stderr, "kdl pack: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < p->n; i++)
		names[i] = p->e[i].name;
	qsort(names, p->n, sizeof(*names), cmp_name);
	for (size_t i = 1; i < p->n && !ret; i++)
		if (!strcmp(names[i - 1], names[i])) {
			fprintf(stderr, "kdl pack: %s: given twice\n", names[i]);
			ret = -1;
		}
	free(names);
	return ret;
}

/* Appends @e's central directory header at p->end. */
static int write_central_header(struct packer *p, const struct entry *e)
{
	unsigned char h[ZIP_CENTRAL_LEN + 28], *q = h, *x;
	size_t nlen = strlen(e->name), xlen;
	bool bu = e->usize >= ZIP_MAX32, bc = e->csize >= ZIP_MAX32, bo = e->lho >= ZIP_MAX32;
	bool z64 = bu || bc || bo;

	q = zip_put32(q, ZIP_SIG_CENTRAL);
	q = zip_put16(q, VERSION_MADE_BY);
	q = zip_put16(q, version_needed(e, z64 || needs_zip64_local(e)));
	q = zip_put16(q, e->flags);
	q = zip_put16(q, e->method);
	q = zip_put16(q, 0);
	q = zip_put16(q, DOS_DATE_1980);
	q = zip_put32(q, e->crc);
	q = zip_put32(q, bc ? ZIP_MAX32 : e->csize);
	q = zip_put32(q, bu ? ZIP_MAX32 : e->usize);
	q = zip_put16(q, nlen);
	x = q;			/* extra length, filled in below */
	q = zip_put16(q, 0);
	q = zip_put16(q, 0);	/* comment length */
	q = zip_put16(q, 0);	/* disk number start */
	q = zip_put16(q, 0);	/* internal attributes */
	q = zip_put32(q, e->mode << 16);
	q = zip_put32(q, bo ? ZIP_MAX32 : e->lho);
	/* The zip64 extra follows the name; build it after the header. */
	xlen = z64 ? 4 + 8 * (bu + bc + bo) : 0;
	zip_put16(x, xlen);
	if (pwrite_all(p->out, h, ZIP_CENTRAL_LEN, p->end) ||
	    pwrite_all(p->out, e->name, nlen, p->end + ZIP_CENTRAL_LEN))
		return -1;
	p->end += ZIP_CENTRAL_LEN + nlen;
	if (!z64)
		return 0;
	q = h;
	q = zip_put16(q, ZIP_EXTRA_ZIP64);
	q = zip_put16(q, xlen - 4);
	if (bu)
		q = zip_put64(q, e->usize);
	if (bc)
		q = zip_put64(q, e->csize);
	if (bo)
		q = zip_put64(q, e->lho);
	if (pwrite_all(p->out, h, xlen, p->end))
		return -1;
	p->end += xlen;
	return 0;
}

/* The zip64 end record and its locator, then the classic end record with
 * all-ones in whatever overflowed. */
static int write_end(struct packer *p, uint64_t cd_off, uint64_t cd_size)
{
	unsigned char h[ZIP_EOCD64_LEN + ZIP_LOC64_LEN + ZIP_EOCD_LEN], *q = h;
	bool bn = p->n >= ZIP_MAX16, bs = cd_size >= ZIP_MAX32, bo = cd_off >= ZIP_MAX32;
	uint64_t eocd64 = p->end;

	if (bn || bs || bo) {
		q = zip_put32(q, ZIP_SIG_EOCD64);
		q = zip_put64(q, ZIP_EOCD64_LEN - 12);	/* size of the rest */
		q = zip_put16(q, VERSION_MADE_BY);
		q = zip_put16(q, 45);
		q = zip_put32(q, 0);		/* this disk */
		q = zip_put32(q, 0);		/* disk of the central directory */
		q = zip_put64(q, p->n);		/* entries on this disk */
		q = zip_put64(q, p->n);		/* entries in all */
		q = zip_put64(q, cd_size);
		q = zip_put64(q, cd_off);
		q = zip_put32(q, ZIP_SIG_LOC64);
		q = zip_put32(q, 0);		/* disk of the zip64 end record */
		q = zip_put64(q, eocd64);
		q = zip_put32(q, 1);		/* disks in all */
	}
	q = zip_put32(q, ZIP_SIG_EOCD);
	q = zip_put16(q, 0);
	q = zip_put16(q, 0);
	q = zip_put16(q, bn ? ZIP_MAX16 : p->n);
	q = zip_put16(q, bn ? ZIP_MAX16 : p->n);
	q = zip_put32(q, bs ? ZIP_MAX32 : cd_size);
	q = zip_put32(q, bo ? ZIP_MAX32 : cd_off);
	q = zip_put16(q, 0);		/* comment length */
	if (pwrite_all(p->out, h, q - h, p->end))
		return -1;
	p->end += q - h;
	return 0;
}

static int write_directory(struct packer *p)
{
	uint64_t cd_off = p->end;

	for (size_t i = 0; i < p->n; i++)
		if (write_central_header(p, &p->e[i]))
			return -1;
	if (write_end(p, cd_off, p->end - cd_off) || ftruncate(p->out, p->end))
		return -1;
	return 0;
}

static void packer_free(struct packer *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->e[i].name);
	free(p->e);
	free(p->in_buf);
	free(p->out_buf);
	if (p->zs_ready)
		deflateEnd(&p->zs);
	if (p->dirfd >= 0)
		close(p->dirfd);
}

static int pack(const char *dir, const char *out, char **files, int nfiles)
{
	struct packer p = { .out = -1, .dirfd = AT_FDCWD };
	char *tmp = NULL;
	int ret = 1, r;

	if (asprintf(&tmp, "%s.tmp", out) < 0) {
		fprintf(stderr, "kdl pack: out of memory\n");
		return 1;
	}
	p.out_path = tmp;
	p.in_buf = malloc(CHUNK);
	p.out_buf = malloc(CHUNK);
	p.zs_ready = deflateInit2(&p.zs, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8,
				  Z_DEFAULT_STRATEGY) == Z_OK;
	if (!p.in_buf || !p.out_buf || !p.zs_ready) {
		fprintf(stderr, "kdl pack: out of memory\n");
		goto out;
	}
	if (dir && (p.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "kdl pack: -C %s: %s\n", dir, strerror(errno));
		goto out;
	}
	p.out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (p.out < 0) {
		fprintf(stderr, "kdl pack: %s: cannot create: %s\n", tmp, strerror(errno));
		goto out;
	}
	for (int i = 0; i < nfiles; i++)
		if (add_file(&p, files[i]))
			goto out;
	if (check_duplicates(&p))
		goto out;
	if (write_directory(&p)) {
		fprintf(stderr, "kdl pack: %s: write: %s\n", tmp, strerror(errno));
		goto out;
	}
	r = close(p.out);
	p.out = -1;
	if (r) {
		fprintf(stderr, "kdl pack: %s: close: %s\n", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, out)) {
		fprintf(stderr, "kdl pack: %s: rename from %s: %s\n", out, tmp, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (p.out >= 0)
		close(p.out);
	if (ret)
		unlink(tmp);
	packer_free(&p);
	free(tmp);
	return ret;
}

static int usage(void)
{
	fprintf(stderr, "usage: kdl pack [-C DIR] OUT.zip FILE...\n"
			"       kdl pack --check FILE.zip\n");
	return 2;
}

int cmd_pack(int argc, char **argv)
{
	const char *dir = NULL;
	int i = 1;

	if (argc == 3 && !strcmp(argv[1], "--check"))
		return pack_check(argv[2]);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "-C") && i + 1 < argc) {
			dir = argv[++i];
			continue;
		}
		return usage();
	}
	if (argc - i < 2)
		return usage();
	return pack(dir, argv[i], argv + i + 1, argc - i - 1);
}

/* cache_entry.c - relocation cache files: directories, format, checks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/platform/x86.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "cache_entry.h"

#define PAGE 4096ULL
#define SYSTEM_DIR "/var/cache/kdl"

void kdl_ce_id_from_stat(struct kdl_ce_id *id, const struct stat *st, uint64_t offset)
{
	*id = (struct kdl_ce_id){
		.dev = st->st_dev, .ino = st->st_ino, .offset = offset, .size = st->st_size,
		.mtime_s = st->st_mtim.tv_sec, .mtime_ns = st->st_mtim.tv_nsec,
		.ctime_s = st->st_ctim.tv_sec, .ctime_ns = st->st_ctim.tv_nsec,
	};
}

struct self_id {
	uintptr_t addr;
	struct kdl_ce_id *id;
	int found;		/* 1 build-id, 2 path to stat */
	char path[PATH_MAX];
};

/* NT_GNU_BUILD_ID in the PT_NOTEs of the object holding s->addr. */
static int self_id_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct self_id *s = data;
	bool mine = false;

	(void)size;
	for (unsigned int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];

		mine |= p->p_type == PT_LOAD && s->addr - (info->dlpi_addr + p->p_vaddr) < p->p_memsz;
	}
	if (!mine)
		return 0;
	for (unsigned int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		const char *n = (const char *)(info->dlpi_addr + p->p_vaddr), *end = n + p->p_memsz;

		while (p->p_type == PT_NOTE && n + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const void *)n;
			const char *desc = n + sizeof(*nh) + ((nh->n_namesz + 3) & ~3u);

			if (desc + nh->n_descsz > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    !memcmp(n + sizeof(*nh), "GNU", 4) && nh->n_descsz) {
				size_t len = nh->n_descsz < 32 ? nh->n_descsz : 32;

				memset(s->id, 0, sizeof(*s->id));
				s->id->size = nh->n_descsz;
				memcpy(&s->id->mtime_s, desc, len);
				s->found = 1;
				return 1;
			}
			n = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	snprintf(s->path, sizeof(s->path), "%s",
		 info->dlpi_name && info->dlpi_name[0] == '/' ? info->dlpi_name : "/proc/self/exe");
	s->found = 2;
	return 1;
}

bool kdl_ce_self_id(const void *addr, struct kdl_ce_id *id)
{
	struct self_id s = { .addr = (uintptr_t)addr, .id = id };
	struct stat st;

	dl_iterate_phdr(self_id_cb, &s);
	if (s.found == 2 && !stat(s.path, &st))
		kdl_ce_id_from_stat(id, &st, 0);
	else if (s.found != 1)
		return false;
	return true;
}

const char *kdl_ce_dir(enum kdl_ce_dir which)
{
	static char user[PATH_MAX];
	const char *e, *home;

	if (which == KDL_CE_SYSTEM) {
		e = getenv("KDL_CACHE_SYSTEM_DIR");
		return e && *e ? (e[0] == '/' ? e : NULL) : SYSTEM_DIR;
	}
	e = getenv("KDL_CACHE_DIR");
	if (e && *e)
		return e[0] == '/' ? e : NULL;	/* never relative to the cwd */
	e = getenv("XDG_CACHE_HOME");
	/* The XDG rule: a relative $XDG_CACHE_HOME is ignored. */
	if (e && e[0] == '/') {
		return kdl_path_join(user, sizeof(user), e, "kdl") ? user : NULL;
	}
	home = getenv("HOME");
	if (!home || home[0] != '/')
		return NULL;
	return kdl_path_join(user, sizeof(user), home, ".cache/kdl") ? user : NULL;
}

/* Another user's file or directory, or one someone else may write, is
 * never trusted: it could hand this process any bytes at all. */
static const char *untrusted(const struct stat *st, bool system)
{
	uid_t owner = system ? 0 : geteuid();

	if (st->st_uid != owner)
		return system ? "not owned by root" : "not owned by this user";
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return "writable by group or others";
	return NULL;
}

bool kdl_ce_dir_ok(const char *dir, bool system, const char **why)
{
	struct stat st;

	if (lstat(dir, &st)) {
		*why = errno == ENOENT ? "no such directory" : "cannot stat";
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		*why = "not a directory";
		return false;
	}
	return !(*why = untrusted(&st, system));
}

void kdl_ce_name(const void *a, size_t alen, const void *b, size_t blen,
		 char name[KDL_CE_NAME_LEN + 1])
{
	XXH3_state_t s;
	XXH128_hash_t h;

	XXH3_128bits_reset(&s);
	XXH3_128bits_update(&s, a, alen);
	if (blen)
		XXH3_128bits_update(&s, b, blen);
	h = XXH3_128bits_digest(&s);

	/* By hand: a load from the cache needs no printf (whose code a
	 * fresh process would fault in). */
	for (int i = 0; i < 32; i++) {
		uint64_t w = i < 16 ? h.high64 : h.low64;

		name[i] = "0123456789abcdef"[(w >> (60 - 4 * (i % 16))) & 15];
	}
	name[KDL_CE_NAME_LEN] = 0;
}

static bool lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool kdl_ce_is_name(const char *name)
{
	return strlen(name) == KDL_CE_NAME_LEN && lower_hex(name, KDL_CE_NAME_LEN);
}

bool kdl_ce_is_temp_name(const char *name)
{
	size_t n = strlen(name), pid = 1 + KDL_CE_NAME_LEN + 1;

	/* ".", the name, ".", at least one digit, ".tmp" */
	if (n <= pid + 4 || name[0] != '.' || !lower_hex(name + 1, KDL_CE_NAME_LEN) ||
	    name[pid - 1] != '.' || strcmp(name + n - 4, ".tmp"))
		return false;
	for (size_t k = pid; k < n - 4; k++)
		if (name[k] < '0' || name[k] > '9')
			return false;
	return true;
}

const char *kdl_ce_untrusted(const struct stat *st, bool system)
{
	return untrusted(st, system);
}

uint64_t kdl_ce_hash(const void *p, size_t len)
{
	return XXH3_64bits(p, len);
}

uint64_t kdl_ce_hash_iov(const struct iovec *iov, size_t n)
{
	XXH3_state_t s;

	/* glibc's own feature bits: no cpuid here (a VM exit each), no
	 * libgcc constructor running it in every process. */
	if (CPU_FEATURE_ACTIVE(AVX2))
		return kdl_ce_hash_iov_avx2(iov, n);
	XXH3_64bits_reset(&s);
	for (size_t i = 0; i < n; i++)
		XXH3_64bits_update(&s, iov[i].iov_base, iov[i].iov_len);
	return XXH3_64bits_digest(&s);
}

static uint64_t meta_hash(const struct kdl_ce_header *h, const void *meta, size_t len)
{
	struct kdl_ce_header z = *h;
	XXH3_state_t s;

	z.meta_hash = z.data_hash = 0;
	XXH3_64bits_reset(&s);
	XXH3_64bits_update(&s, &z, sizeof(z));
	XXH3_64bits_update(&s, meta, len);
	return XXH3_64bits_digest(&s);
}

/* The byte sizes of the parts after the header, in file order. */
static size_t meta_len(const struct kdl_ce_header *h)
{
	size_t strs = (size_t)h->key_len + h->scope_len + h->path_len + 1;

	return ((strs + 7) & ~(size_t)7) + h->nseg * sizeof(struct kdl_ce_seg) +
	       h->nfix * sizeof(struct kdl_ce_fix);
}

static const char *check_header(const struct kdl_ce_header *h, uint64_t size)
{
	if (memcmp(h->magic, KDL_CE_MAGIC, 8))
		return "not a kdl cache entry";
	if (h->version != KDL_CE_VERSION || h->hdr_size != sizeof(*h))
		return "written by another version of kdl";
	if (h->file_size != size)
		return "truncated or grown since it was written";
	if (h->key_len > KDL_CE_MAX_META || h->scope_len > KDL_CE_MAX_META ||
	    h->path_len > PATH_MAX || h->nseg > KDL_CE_MAX_SEGS || h->nfix > KDL_CE_MAX_META / sizeof(struct kdl_ce_fix) ||
	    meta_len(h) > KDL_CE_MAX_META)
		return "tables out of bounds";
	if (h->data_start % PAGE || h->data_start < sizeof(*h) + meta_len(h) ||
	    h->data_start > size || h->data_len != size - h->data_start)
		return "pages out of bounds";
	return NULL;
}

/* Every segment's pages inside the data area, in order, not overlapping. */
static const char *check_segments(const struct kdl_ce *ce)
{
	uint64_t next = ce->h.data_start;

	for (uint32_t i = 0; i < ce->h.nseg; i++) {
		const struct kdl_ce_seg *s = &ce->seg[i];

		if (s->flags || s->vaddr % PAGE || s->len % PAGE || !s->len || s->off != next ||
		    s->off + s->len < s->off || s->off + s->len > ce->h.file_size ||
		    (i && (s->load <= ce->seg[i - 1].load ||
			   s->vaddr < ce->seg[i - 1].vaddr + ce->seg[i - 1].len)))
			return "segment table out of bounds";
		next = s->off + s->len;
	}
	return next == ce->h.file_size ? NULL : "segment table does not cover the pages";
}

int kdl_ce_open(const char *dir, bool system, const char *name, const void *key,
		size_t key_len, struct kdl_ce *ce, const char **why)
{
	char path[PATH_MAX], first[4096];
	struct stat st;
	size_t mlen, strs, head;

	memset(ce, 0, sizeof(*ce));
	ce->fd = -1;
	ce->system = system;
	if (!kdl_path_join(path, sizeof(path), dir, name)) {
		*why = "path too long";
		return -1;
	}
	ce->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (ce->fd < 0) {
		*why = errno == ENOENT ? "no entry" : "cannot open";
		return -1;
	}
	if (fstat(ce->fd, &st)) {
		*why = "cannot stat";
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		goto fail;
	}
	if ((*why = untrusted(&st, system)))
		goto fail;
	ce->mtime_s = st.st_mtim.tv_sec;
	ce->mtime_ns = st.st_mtim.tv_nsec;
	/* The header and, usually, the tables in one read. */
	head = (uint64_t)st.st_size < sizeof(first) ? (size_t)st.st_size : sizeof(first);
	if (head < sizeof(ce->h) || kdl_pread_all(ce->fd, first, head, 0)) {
		*why = "truncated header";
		goto fail;
	}
	memcpy(&ce->h, first, sizeof(ce->h));
	if ((*why = check_header(&ce->h, st.st_size)))
		goto fail;
	if (key && (ce->h.key_len != key_len)) {
		*why = "written for another object";
		goto fail;
	}
	mlen = meta_len(&ce->h);
	ce->meta = malloc(mlen + 1);
	if (ce->meta && sizeof(ce->h) + mlen <= head)
		memcpy(ce->meta, first + sizeof(ce->h), mlen);
	else if (!ce->meta || kdl_pread_all(ce->fd, ce->meta, mlen, sizeof(ce->h))) {
		*why = ce->meta ? "truncated tables" : "out of memory";
		goto fail;
	}
	if (meta_hash(&ce->h, ce->meta, mlen) != ce->h.meta_hash) {
		*why = "checksum mismatch (corrupted)";
		goto fail;
	}
	strs = (size_t)ce->h.key_len + ce->h.scope_len + ce->h.path_len + 1;
	ce->key = ce->meta;
	ce->scope = (char *)ce->meta + ce->h.key_len;
	ce->path = (char *)ce->scope + ce->h.scope_len;
	ce->seg = (const void *)((char *)ce->meta + ((strs + 7) & ~(size_t)7));
	ce->fix = (const void *)(ce->seg + ce->h.nseg);
	if (ce->path[ce->h.path_len] || strlen(ce->path) != ce->h.path_len) {
		*why = "bad path string";
		goto fail;
	}
	if (key && memcmp(ce->key, key, key_len)) {
		*why = "written for another object";
		goto fail;
	}
	if ((*why = check_segments(ce)))
		goto fail;
	return 0;
fail:
	kdl_ce_close(ce);
	return -1;
}

void kdl_ce_close(struct kdl_ce *ce)
{
	if (ce->fd >= 0)
		close(ce->fd);
	ce->fd = -1;
	free(ce->meta);
	ce->meta = NULL;
}

#define VERIFIED_XATTR "user.kdl.verified"

struct verified {
	char boot_id[36];
	uint32_t version;
	uint64_t size, mtime_s, mtime_ns, data_hash;
};

static bool verified_now(int fd, const char *boot_id, uint64_t data_hash, struct verified *v)
{
	struct stat st;

	if (fstat(fd, &st))
		return false;
	memset(v, 0, sizeof(*v));
	memcpy(v->boot_id, boot_id, sizeof(v->boot_id));
	v->version = KDL_CE_VERSION;
	v->size = st.st_size;
	v->mtime_s = st.st_mtim.tv_sec;
	v->mtime_ns = st.st_mtim.tv_nsec;
	v->data_hash = data_hash;
	return true;
}

bool kdl_ce_verified(const struct kdl_ce *ce, const char *boot_id)
{
	struct verified have, want = { .version = KDL_CE_VERSION, .size = ce->h.file_size,
				       .mtime_s = ce->mtime_s, .mtime_ns = ce->mtime_ns,
				       .data_hash = ce->h.data_hash };

	memcpy(want.boot_id, boot_id, sizeof(want.boot_id));
	return fgetxattr(ce->fd, VERIFIED_XATTR, &have, sizeof(have)) == sizeof(have) &&
	       !memcmp(&have, &want, sizeof(have));
}

/*
 * An xattr leaves mtime as it is, and a later write moves it -- unless
 * it falls in the same tick of the coarse clock file times come from
 * (4 ms at HZ=250).  So an entry is marked only once its mtime is well
 * in the past: a write after the mark then surely moves it.
 */
#define SETTLED_NS 50000000LL

void kdl_ce_mark_verified(int fd, const char *boot_id, uint64_t data_hash)
{
	struct timespec now;
	struct verified v;

	if (!verified_now(fd, boot_id, data_hash, &v) ||
	    clock_gettime(CLOCK_REALTIME_COARSE, &now) ||
	    (now.tv_sec - (int64_t)v.mtime_s) * 1000000000LL + now.tv_nsec - (int64_t)v.mtime_ns <
		    SETTLED_NS)
		return;
	fsetxattr(fd, VERIFIED_XATTR, &v, sizeof(v), 0);
}

int kdl_ce_file_data_hash(const struct kdl_ce *ce, uint64_t *hash)
{
	XXH3_state_t s;
	static char buf[1 << 16];
	uint64_t off = ce->h.data_start;

	XXH3_64bits_reset(&s);
	while (off < ce->h.file_size) {
		size_t n = ce->h.file_size - off < sizeof(buf) ? ce->h.file_size - off : sizeof(buf);

		if (kdl_pread_all(ce->fd, buf, n, off))
			return -1;
		XXH3_64bits_update(&s, buf, n);
		off += n;
	}
	*hash = XXH3_64bits_digest(&s);
	return 0;
}

/* mkdir -p: each directory it makes gets @mode whatever the umask says
 * (0700 for the user cache, as XDG asks; 0755 for the system cache). */
int kdl_ce_make_dir(const char *dir, mode_t mode)
{
	char p[PATH_MAX];
	size_t n = strlen(dir);

	if (n >= sizeof(p))
		return -1;
	memcpy(p, dir, n + 1);
	for (char *s = p + 1;; s++) {
		char c = *s;

		if (c && c != '/')
			continue;
		*s = 0;
		if (!mkdir(p, mode))
			chmod(p, mode);
		else if (errno != EEXIST)
			return -1;
		if (!c)
			return 0;
		*s = '/';
	}
}

int kdl_ce_write(const char *dir, bool system, const char *name, const char *alt,
		 const struct kdl_ce_content *c)
{
	struct kdl_ce_header h = { .version = KDL_CE_VERSION, .hdr_size = sizeof(h) };
	char tmp[PATH_MAX], final[PATH_MAX], alt_tmp[PATH_MAX], alt_final[PATH_MAX], *meta;
	size_t strs, mlen, pad;
	struct kdl_ce_seg *segs;
	const char *why;
	struct iovec iov[3];
	struct timespec past;
	ssize_t want, got;
	bool ok;
	int fd;

	memcpy(h.magic, KDL_CE_MAGIC, 8);
	if (!system && kdl_ce_make_dir(dir, 0700))
		return -1;
	if (!kdl_ce_dir_ok(dir, system, &why))
		return -1;
	h.base = c->base;
	h.key_len = c->key_len;
	h.scope_len = c->scope_len;
	h.path_len = c->path ? strlen(c->path) : 0;
	h.nseg = c->nseg;
	h.nfix = c->nfix;
	h.nsyms = c->nsyms;
	if (c->nseg > KDL_CE_MAX_SEGS || h.path_len > PATH_MAX)
		return -1;
	mlen = meta_len(&h);
	if (mlen > KDL_CE_MAX_META)
		return -1;
	strs = (size_t)h.key_len + h.scope_len + h.path_len + 1;
	h.data_start = (sizeof(h) + mlen + PAGE - 1) & ~(PAGE - 1);
	h.data_len = c->data_len;
	h.file_size = h.data_start + c->data_len;
	meta = calloc(1, h.data_start - sizeof(h));
	if (!meta)
		return -1;
	memcpy(meta, c->key, c->key_len);
	memcpy(meta + c->key_len, c->scope, c->scope_len);
	if (h.path_len)
		memcpy(meta + c->key_len + c->scope_len, c->path, h.path_len);
	segs = (struct kdl_ce_seg *)(meta + ((strs + 7) & ~(size_t)7));
	for (size_t i = 0; i < c->nseg; i++) {
		segs[i] = c->seg[i];
		segs[i].off += h.data_start;
	}
	if (c->nfix)
		memcpy(segs + c->nseg, c->fix, c->nfix * sizeof(*c->fix));
	h.meta_hash = meta_hash(&h, meta, mlen);
	h.data_hash = kdl_ce_hash_iov(&(struct iovec){ (void *)c->data, c->data_len }, 1);
	pad = h.data_start - sizeof(h);

	if (snprintf(final, sizeof(final), "%s/%s", dir, name) >= (int)sizeof(final) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.%ld.tmp", dir, name, (long)getpid()) >=
		    (int)sizeof(tmp) ||
	    (alt && (snprintf(alt_final, sizeof(alt_final), "%s/%s", dir, alt) >=
			     (int)sizeof(alt_final) ||
		     snprintf(alt_tmp, sizeof(alt_tmp), "%s/.%s.%ld.tmp", dir, alt, (long)getpid()) >=
			     (int)sizeof(alt_tmp)))) {
		free(meta);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, system ? 0644 : 0600);
	if (fd < 0) {
		free(meta);
		return -1;
	}
	iov[0] = (struct iovec){ &h, sizeof(h) };
	iov[1] = (struct iovec){ meta, pad };
	iov[2] = (struct iovec){ (void *)c->data, c->data_len };
	want = sizeof(h) + pad + c->data_len;
	got = writev(fd, iov, 3);
	free(meta);
	/* A short write is never renamed into place (and its size would
	 * contradict its header anyway).  The mode is set again in case the
	 * umask took bits the system cache's readers need. */
	ok = got == want && !fchmod(fd, system ? 0644 : 0600);
	/* Its mtime set a second back, the new entry is settled at once:
	 * it is marked verified before anyone can see it. */
	if (ok && c->boot_id && !clock_gettime(CLOCK_REALTIME, &past)) {
		past.tv_sec--;
		if (!futimens(fd, (struct timespec[2]){ { .tv_nsec = UTIME_OMIT }, past }))
			kdl_ce_mark_verified(fd, c->boot_id, h.data_hash);
	}
	if (close(fd))
		ok = false;
	/* The other name is a second link to the same file, put in place
	 * the same way. */
	if (ok && alt && (link(tmp, alt_tmp) || rename(alt_tmp, alt_final))) {
		unlink(alt_tmp);
		ok = false;
	}
	if (!ok || rename(tmp, final)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

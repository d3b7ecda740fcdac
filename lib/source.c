/* source.c - turn an fd+offset, a zip entry or a buffer into something the
 * backends can map: zero-copy where the bytes lie page aligned in a file,
 * one copy into a sealed memfd otherwise (a file perf can read with
 * KDL_PERF=1, perf_copy.c). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "noexec.h"
#include "source.h"
#include "zip.h"

#define PAGE 4096ULL
#define MAX_IMAGE (1ULL << 36)

void kdl_source_release(struct kdl_source *s)
{
	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->own_fd = false;
	free(s->container);
	free(s->container_dir);
	s->container = s->container_dir = NULL;
}

int kdl_source_read(const struct kdl_source *s, void *buf, size_t len, uint64_t off)
{
	if (off > s->size || len > s->size - off)
		return -1;
	if (s->mem) {
		memcpy(buf, (const char *)s->mem + off, len);
		return 0;
	}
	if (s->head && !s->offset && off + len <= s->head->len) {
		memcpy(buf, s->head->buf + off, len);
		return 0;
	}
	return kdl_pread_all(s->fd, buf, len, s->offset + off);
}

/* @len bytes from @from (fd at @off, or memory) into @fd; -1, errno set. */
static int fill_copy(int fd, int from, uint64_t off, const void *mem, uint64_t len)
{
	if (ftruncate(fd, len))
		return -1;
	for (uint64_t done = 0; done < len;) {
		ssize_t r;

		if (mem) {
			r = pwrite(fd, (const char *)mem + done, len - done, done);
		} else {
			loff_t in = off + done, out = done;

			r = copy_file_range(from, &in, fd, &out, len - done, 0);
			if (r < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS)) {
				char buf[65536];
				size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);

				r = pread(from, buf, n, off + done);
				if (r > 0)
					r = pwrite(fd, buf, r, done);
			}
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		done += r;
	}
	return 0;
}

/* A sealed memfd holding @len bytes from @from (fd at @off, or memory). */
static int copy_to_memfd(int from, uint64_t off, const void *mem, uint64_t len,
			 const char *label, const char *name)
{
	int fd = memfd_create(label, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0) {
		kdl_set_error("%s: memfd_create for the copy: %s", name, strerror(errno));
		return -1;
	}
	if (fill_copy(fd, from, off, mem, len) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)) {
		kdl_set_error("%s: copying the image into a memfd: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* KDL_PERF=1: the copy as a file perf can open (perf_copy.c), mapped
 * through a read-only fd. */
static int copy_to_perf_file(int from, uint64_t off, const void *mem, uint64_t len,
			     const char *label, const char *name)
{
	char *path;
	int fd = kdl_perf_file_create(label, name, &path), ro = -1;

	if (fd < 0)
		return -1;
	if (fill_copy(fd, from, off, mem, len) || (ro = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		kdl_set_error("%s: KDL_PERF: copying the image into %s: %s", name, path,
			      strerror(errno));
		unlink(path);
	}
	close(fd);
	free(path);
	return ro;
}

/* The source becomes a sealed memfd copy of the image. */
static int source_copy(struct kdl_source *s, int from, uint64_t off, const void *mem,
		       uint64_t len, const char *name)
{
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	char label[64];

	snprintf(label, sizeof(label), "kdl:%s", base);
	s->fd = kdl_perf_copies() ? copy_to_perf_file(from, off, mem, len, label + 4, name) :
				    copy_to_memfd(from, off, mem, len, label, name);
	if (s->fd < 0)
		return -1;
	s->own_fd = true;
	s->offset = 0;
	s->copied = true;
	return 0;
}

int kdl_source_fd(struct kdl_source *s, int fd, uint64_t offset, uint64_t size,
		  const char *name)
{
	struct stat st;

	if (fstat(fd, &st)) {
		kdl_set_error("%s: fstat: %s", name, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		kdl_set_error("%s: not a regular file", name);
		return -1;
	}
	if ((uint64_t)st.st_size < offset) {
		kdl_set_error("%s: offset 0x%" PRIx64 " is past the end of the file (0x%" PRIx64 ")",
			      name, offset, (uint64_t)st.st_size);
		return -1;
	}
	if (!size)
		size = st.st_size - offset;
	if (size > st.st_size - offset || size > MAX_IMAGE) {
		kdl_set_error("%s: image of 0x%" PRIx64 " bytes at 0x%" PRIx64 " runs past the end of the file",
			      name, size, offset);
		return -1;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->id_offset = offset;
	s->size = size;
	s->stat_known = true;
	s->file_size = st.st_size;
	s->mtime = st.st_mtim;
	s->ctime = st.st_ctim;
	if (offset % PAGE) {
		s->noexec = kdl_fd_noexec(fd);
		return source_copy(s, fd, offset, NULL, size, name);
	}
	s->fd = fd;
	s->offset = offset;
	return 0;
}

int kdl_container_split(const char *path, char **zip, char **entry)
{
	const char *bang = strstr(path, "!/");

	if (!bang)
		return 0;
	*zip = strndup(path, bang - path);
	*entry = strdup(bang + 2);
	if (!*zip || !*entry) {
		free(*zip);
		free(*entry);
		kdl_set_error("out of memory");
		return -1;
	}
	return 1;
}

int kdl_source_container(struct kdl_source *s, const char *zip, const char *entry,
			 const char *name)
{
	struct kdl_zip_entry e;
	struct stat st;
	const char *slash;
	int fd = open(zip, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0) {
		kdl_set_error("%s: cannot open: %s", zip, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		kdl_set_error("%s: not a regular file", zip);
		goto fail;
	}
	r = kdl_zip_find(fd, st.st_size, zip, entry, &e);
	if (r) {
		close(fd);
		return r;
	}
	if (e.method != 0) {
		kdl_set_error("%s: entry is compressed (method %u); libraries in a container must be stored uncompressed (kdl pack, or zip -0)",
			      name, e.method);
		goto fail;
	}
	if (kdl_source_fd(s, fd, e.data_offset, e.size, name))
		goto fail;
	if (s->copied)
		close(fd);
	else
		s->own_fd = true;
	slash = strrchr(entry, '/');
	s->container = strdup(zip);
	s->container_dir = slash ? strndup(entry, slash - entry) : strdup("");
	if (!s->container || !s->container_dir) {
		kdl_set_error("out of memory");
		kdl_source_release(s);
		return -1;
	}
	return 0;
fail:
	close(fd);
	return -1;
}

/* The mapping of /proc/self/maps holding @addr: range, offset, dev, inode. */
struct backing {
	uintptr_t start, end;
	uint64_t offset, inode;
	unsigned int major, minor;
	bool shared;
	char path[PATH_MAX];
};

static uintptr_t parse_hex(const char **p)
{
	uintptr_t v = 0;

	for (;; (*p)++) {
		char c = **p;

		if (c >= '0' && c <= '9')
			v = v << 4 | (uintptr_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uintptr_t)(c - 'a' + 10);
		else
			return v;
	}
}

/* Only the line holding @addr is parsed in full: a process can have
 * thousands of mappings. */
static int find_mapping(uintptr_t addr, struct backing *b)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	char buf[16384], line[PATH_MAX + 128];
	size_t have = 0;
	int found = -1;

	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *nl, *start = buf;

		if (r <= 0)
			break;
		have += r;
		buf[have] = '\0';
		while ((nl = strchr(start, '\n'))) {
			const char *p = start;
			uintptr_t lo = parse_hex(&p), hi;

			if (*p == '-') {
				p++;
				hi = parse_hex(&p);
				if (addr >= lo && addr < hi) {
					size_t n = nl - start < (ptrdiff_t)sizeof(line) - 1 ?
						   (size_t)(nl - start) : sizeof(line) - 1;
					char perms[8];
					int path_at = 0;

					memcpy(line, start, n);
					line[n] = '\0';
					if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %" SCNx64 " %x:%x %" SCNu64 " %n",
						   &b->start, &b->end, perms, &b->offset, &b->major,
						   &b->minor, &b->inode, &path_at) >= 7) {
						b->shared = perms[3] == 's';
						snprintf(b->path, sizeof(b->path), "%s",
							 path_at ? line + path_at : "");
						found = 0;
					}
					goto out;
				}
			}
			start = nl + 1;
		}
		/* Keep the unfinished line for the next read. */
		have -= start - buf;
		memmove(buf, start, have);
		if (have == sizeof(buf) - 1)
			have = 0;	/* a line longer than the buffer: skip it */
	}
out:
	close(fd);
	return found;
}

int kdl_pagemap_any(uintptr_t addr, size_t len, bool (*hit)(uint64_t ent))
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t first = addr / PAGE, pages = (addr + len + PAGE - 1) / PAGE - first;
	uint64_t ent[512];
	int ret = 0;

	if (fd < 0)
		return 1;
	for (uint64_t i = 0; i < pages && !ret; i += 512) {
		size_t n = pages - i < 512 ? pages - i : 512;

		if (pread(fd, ent, n * 8, (first + i) * 8) != (ssize_t)(n * 8)) {
			ret = 1;
			break;
		}
		for (size_t j = 0; j < n && !ret; j++)
			ret = hit(ent[j]);
	}
	close(fd);
	return ret;
}

/* An anonymous copy (written since it was mapped) or a swapped page: its
 * bytes are no longer the file's. */
static bool anon_or_swapped(uint64_t ent)
{
	bool present = ent >> 63 & 1, swapped = ent >> 62 & 1, file = ent >> 61 & 1;

	return (present && !file) || swapped;
}

/* An fd of the file with @b's device and inode: its path when it still
 * names it, else one of this process's open fds (a memfd's "path" cannot
 * be opened), reopened so that its offset is ours. */
static int open_backing(const struct backing *b)
{
	char p[64];
	struct stat st;
	int fd;

	if (b->path[0] == '/' && !strstr(b->path, " (deleted)")) {
		fd = open(b->path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && !fstat(fd, &st) && st.st_ino == b->inode &&
		    major(st.st_dev) == b->major && minor(st.st_dev) == b->minor)
			return fd;
		if (fd >= 0)
			close(fd);
	}
	for (int i = 0; i < 4096; i++) {
		if (fstat(i, &st) || st.st_ino != b->inode || major(st.st_dev) != b->major ||
		    minor(st.st_dev) != b->minor || !S_ISREG(st.st_mode))
			continue;
		snprintf(p, sizeof(p), "/proc/self/fd/%d", i);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

int kdl_source_mem(struct kdl_source *s, const void *buf, size_t len, bool kernel_backend,
		   const char *name)
{
	uintptr_t a = (uintptr_t)buf;
	struct backing b;
	int fd;

	if (!buf || len < 64) {
		kdl_set_error("%s: buffer of %zu bytes is too short for an ELF image", name, len);
		return -1;
	}
	if (a % 8) {
		kdl_set_error("%s: buffer at %p is not 8-byte aligned", name, buf);
		return -1;
	}
	if (len > MAX_IMAGE || a + len < a) {
		kdl_set_error("%s: buffer of %zu bytes is too large", name, len);
		return -1;
	}
	s->mem = buf;
	s->size = len;
	s->dev = 0;
	s->ino = (ino_t)a;	/* a buffer is its own identity */
	/* Zero-copy needs the buffer page aligned inside one file mapping
	 * whose pages are still the file's. */
	if (a % PAGE == 0 && !find_mapping(a, &b) && b.inode && a + len <= b.end &&
	    (b.shared || !kdl_pagemap_any(a, len, anon_or_swapped))) {
		if (kernel_backend) {
			s->addr = a;
			s->fd = -1;
			s->offset = 0;
			return 0;
		}
		fd = open_backing(&b);
		if (fd >= 0) {
			s->fd = fd;
			s->own_fd = true;
			s->offset = b.offset + (a - b.start);
			return 0;
		}
	}
	if (source_copy(s, -1, 0, buf, len, name))
		return -1;
	/* After the copy, whose reads brought the buffer's pages in. */
	s->noexec = kdl_mem_noexec(buf, len);
	return 0;
}

/* map_user.c - the userspace backend: reserve a span, fill it with mmap. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kdl_internal.h"
#include "map.h"
#include "noexec.h"

#define PAGE 4096ULL

static void *reserve_at(uintptr_t addr, size_t len)
{
	void *p = mmap((void *)addr, len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Over-reserve by the alignment, then trim both ends. */
static void *reserve_anywhere(size_t len, uint64_t align)
{
	size_t extra = align > PAGE ? align - PAGE : 0;
	uintptr_t p, a;

	p = (uintptr_t)mmap(NULL, len + extra, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if ((void *)p == MAP_FAILED)
		return NULL;
	a = (p + align - 1) & ~(uintptr_t)(align - 1);
	if (a > p)
		munmap((void *)p, a - p);
	if (p + len + extra > a + len)
		munmap((void *)(a + len), p + len + extra - (a + len));
	return (void *)a;
}

/*
 * First fit inside [lo, hi) from the gaps of /proc/self/maps.  Another
 * thread may take the gap between the read and the mmap: then
 * MAP_FIXED_NOREPLACE fails with EEXIST and the search runs again.
 */
static void *reserve_window(size_t len, uint64_t align, uint64_t lo, uint64_t hi)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		FILE *f = fopen("/proc/self/maps", "re");
		uint64_t cur = (lo + align - 1) & ~(align - 1), s, e;
		char line[512];
		void *p;
		int found = 0;

		if (!f)
			return NULL;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%lx-%lx", &s, &e) != 2)
				continue;
			if (e <= cur)
				continue;
			if (s >= cur + len || s >= hi)
				break;
			cur = (e + align - 1) & ~(align - 1);
		}
		fclose(f);
		found = cur >= lo && cur + len <= hi && cur + len > cur;
		if (!found) {
			errno = ENOMEM;
			return NULL;
		}
		p = reserve_at(cur, len);
		if (p)
			return p;
		if (errno != EEXIST)
			return NULL;
	}
	errno = EAGAIN;
	return NULL;
}

/*
 * Whether @l's pages are those the reservation @first (the first
 * segment's file mapping stretched over the span) maps already: the same
 * distance apart in the file as in memory.  Then at most the protection
 * differs, and an mprotect (or nothing) stands for an mmap.
 */
static bool in_reservation(const struct kdl_elf_load *l, const struct kdl_elf_load *first)
{
	return first && PAGE_DOWN(l->offset) - PAGE_DOWN(first->offset) ==
			PAGE_DOWN(l->vaddr) - PAGE_DOWN(first->vaddr);
}

/*
 * @data_off: KDL_NO_DATA, or where in src->data_fd (a relocation cache
 * entry) the segment's file pages are, to be mapped as they are: their
 * tail after filesz is zero there already, and writing it would dirty
 * a page meant to stay clean and shared.
 * @first: the reservation's segment when it is the first segment's
 * mapping (reserve_with_first), else NULL.
 */
static int map_segment(const struct kdl_elf_load *l, uint64_t data_off,
		       const struct kdl_src *src, uintptr_t bias, const char *name,
		       const struct kdl_elf_load *first)
{
	uintptr_t start = bias + PAGE_DOWN(l->vaddr);
	uintptr_t file_end = bias + l->vaddr + l->filesz;
	uintptr_t mem_end = PAGE_UP(bias + l->vaddr + l->memsz);
	uintptr_t zero_end = PAGE_UP(file_end);
	int prot = kdl_prot(l->flags);
	bool cached = data_off != KDL_NO_DATA;

	if (l->filesz) {
		struct kdl_src from = { .fd = cached ? src->data_fd : src->fd };
		bool in_place = !cached && in_reservation(l, first);
		void *p = (void *)start;

		if (in_place && prot != kdl_prot(first->flags) &&
		    mprotect((void *)start, zero_end - start, prot))
			p = MAP_FAILED;
		else if (!in_place)
			p = mmap((void *)start, zero_end - start, prot, MAP_PRIVATE | MAP_FIXED,
				 from.fd, cached ? data_off : src->base + PAGE_DOWN(l->offset));
		if (p == MAP_FAILED) {
			/* mprotect() says EACCES where mmap() says EPERM for
			 * PROT_EXEC on a noexec mount. */
			int err = in_place && errno == EACCES && (prot & PROT_EXEC) ? EPERM : errno;

			kdl_set_error("%s: mmap of segment at 0x%llx%s: %s%s%s", name,
				      (unsigned long long)l->vaddr,
				      cached ? " from its cache entry" : "", strerror(err),
				      kdl_noexec_hint(err, cached ? &from : src), kdl_map_limit_hint(err));
			return -1;
		}
		/* The file's bytes after filesz share the last page: zero them. */
		if (!cached && l->memsz > l->filesz && (file_end & (PAGE - 1))) {
			if (!(prot & PROT_WRITE) &&
			    mprotect((void *)PAGE_DOWN(file_end), PAGE, prot | PROT_WRITE))
				goto fail_prot;
			memset((void *)file_end, 0, zero_end - file_end);
			if (!(prot & PROT_WRITE) &&
			    mprotect((void *)PAGE_DOWN(file_end), PAGE, prot))
				goto fail_prot;
		}
	} else {
		zero_end = start;
	}
	if (mem_end > zero_end &&
	    mmap((void *)zero_end, mem_end - zero_end, prot,
		 MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) {
		kdl_set_error("%s: mmap of zero-filled tail at 0x%llx: %s%s", name,
			      (unsigned long long)l->vaddr, strerror(errno), kdl_map_limit_hint(errno));
		return -1;
	}
	return 0;
fail_prot:
	kdl_set_error("%s: mprotect to zero the tail of segment 0x%llx: %s%s", name,
		      (unsigned long long)l->vaddr, strerror(errno), kdl_map_limit_hint(errno));
	return -1;
}

int kdl_map_segment(const struct kdl_elf_load *l, uint64_t data_off,
		    const struct kdl_src *src, uintptr_t bias, const char *name)
{
	return map_segment(l, data_off, src, bias, name, NULL);
}

/*
 * At a fixed address, or anywhere when no alignment beyond the page's is
 * asked, the first segment's file mapping stretched over the whole span
 * is the reservation (as glibc maps): one mmap less.
 * The other segments go over it; what no segment covers is made
 * inaccessible again by holes_none().  NULL with errno set on failure.
 */
static void *reserve_with_first(const struct kdl_elf *e, const struct kdl_src *src,
				uintptr_t addr)
{
	const struct kdl_elf_load *l = &e->load[0];
	void *p = mmap((void *)addr, e->span, kdl_prot(l->flags),
		       MAP_PRIVATE | (addr ? MAP_FIXED_NOREPLACE : 0), src->fd,
		       src->base + PAGE_DOWN(l->offset));

	return p == MAP_FAILED ? NULL : p;
}

static int holes_none(const struct kdl_elf *e, uintptr_t bias, const char *name)
{
	for (unsigned int i = 0; i < e->nload; i++) {
		uintptr_t end = PAGE_UP(bias + e->load[i].vaddr + e->load[i].memsz);
		uintptr_t next = i + 1 < e->nload ? bias + PAGE_DOWN(e->load[i + 1].vaddr) :
			         bias + e->min_vaddr + e->span;

		if (next > end && mmap((void *)end, next - end, PROT_NONE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1,
				       0) == MAP_FAILED) {
			kdl_set_error("%s: mmap of the gap after segment 0x%llx: %s%s", name,
				      (unsigned long long)e->load[i].vaddr, strerror(errno),
				      kdl_map_limit_hint(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Mirrors without the module: the image is also mapped at mirror_base +
 * its address.  Segments no one writes map the same file pages privately
 * in both views (coherent, since nothing writes them); writable segments,
 * and any whose last file page needs zeroing, are copied into one memfd
 * mapped MAP_SHARED in both views, so a write through either is seen in
 * the other.  Like the module's default, the mirror replaces whatever was
 * mapped at its address (a guest window reserved in advance).
 */
static bool mirror_shared(const struct kdl_elf_load *l)
{
	return (l->flags & PF_W) || l->memsz > l->filesz;
}

static uint64_t seg_pages(const struct kdl_elf_load *l)
{
	return PAGE_UP(l->vaddr + l->memsz) - PAGE_DOWN(l->vaddr);
}

static int mirror_fill(const struct kdl_elf *e, const struct kdl_src *src,
		       struct kdl_mapping *m, const char *name)
{
	uint64_t total = 0, off = 0;
	uintptr_t views[2] = { m->bias, m->bias + (m->mirror - m->start) };
	int memfd = -1;

	for (unsigned int i = 0; i < e->nload; i++)
		if (mirror_shared(&e->load[i]))
			total += seg_pages(&e->load[i]);
	if (total) {
		memfd = memfd_create("kdl-mirror", MFD_CLOEXEC);
		if (memfd < 0 || ftruncate(memfd, total))
			goto fail_errno;
	}
	for (unsigned int i = 0; i < e->nload; i++) {
		const struct kdl_elf_load *l = &e->load[i];
		uint64_t len = seg_pages(l), head = l->vaddr - PAGE_DOWN(l->vaddr);
		bool shared = mirror_shared(l);

		m->shared_off[i] = shared ? off : KDL_NO_DATA;
		/* The copy may run only what the file's own pages could. */
		if (shared && (l->flags & PF_X) && kdl_fd_noexec(src->fd)) {
			errno = EPERM;
			goto fail_errno;
		}
		if (shared && l->filesz) {
			/* The file's bytes, from the segment's first page up to
			 * filesz; the memfd reads as zero after them. */
			for (uint64_t done = 0, want = head + l->filesz; done < want;) {
				loff_t in = src->base + PAGE_DOWN(l->offset) + done, out = off + done;
				ssize_t r = copy_file_range(src->fd, &in, memfd, &out, want - done, 0);

				if (r <= 0) {
					char buf[65536];
					size_t n = want - done < sizeof(buf) ? want - done : sizeof(buf);

					r = pread(src->fd, buf, n, src->base + PAGE_DOWN(l->offset) + done);
					if (r > 0)
						r = pwrite(memfd, buf, r, off + done);
					if (r <= 0)
						goto fail_errno;
				}
				done += r;
			}
		}
		for (int v = 0; v < 2; v++) {
			void *at = (void *)(views[v] + PAGE_DOWN(l->vaddr));
			void *p = shared ?
				mmap(at, len, kdl_prot(l->flags), MAP_SHARED | MAP_FIXED, memfd, off) :
				mmap(at, len, kdl_prot(l->flags), MAP_PRIVATE | MAP_FIXED, src->fd,
				     src->base + PAGE_DOWN(l->offset));

			if (p == MAP_FAILED)
				goto fail_errno;
		}
		if (shared)
			off += len;
	}
	/* Kept: a VM monitor may map the same pages elsewhere. */
	m->shared_fd = memfd;
	return 0;
fail_errno:
	kdl_set_error("%s: mirrored mapping: %s%s%s", name, strerror(errno),
		      kdl_noexec_hint(errno, src), kdl_map_limit_hint(errno));
	if (memfd >= 0)
		close(memfd);
	return -1;
}

int kdl_map_user(const struct kdl_elf *e, const struct kdl_src *src,
		 const struct kdl_placement *pl, struct kdl_mapping *m, const char *name)
{
	uint64_t align = e->align > pl->align ? e->align : pl->align;
	bool first;
	void *p;

	if (src->addr) {
		kdl_set_error("%s: mapping a user range's backing needs the kernel backend", name);
		return -1;
	}
	if (src->base % PAGE) {
		kdl_set_error("%s: image offset 0x%llx in its file is not page aligned",
			      name, (unsigned long long)src->base);
		return -1;
	}
	if ((pl->flags & KDL_LOAD_MIRROR) && (pl->mirror_base % PAGE || !pl->mirror_base)) {
		kdl_set_error("%s: mirror base 0x%llx: expected a non-zero multiple of the page size",
			      name, (unsigned long long)pl->mirror_base);
		return -1;
	}
	first = !(pl->flags & (KDL_LOAD_MIRROR | KDL_LOAD_WINDOW)) &&
		((pl->flags & KDL_LOAD_FIXED) ? pl->fixed != 0 : align <= PAGE) && e->nload &&
		e->load[0].filesz && PAGE_DOWN(e->load[0].vaddr) == e->min_vaddr &&
		(!src->data_off || src->data_off[0] == KDL_NO_DATA);
	if (first)
		p = reserve_with_first(e, src, (pl->flags & KDL_LOAD_FIXED) ? pl->fixed : 0);
	else if (pl->flags & KDL_LOAD_FIXED)
		p = reserve_at(pl->fixed, e->span);
	else if (pl->flags & KDL_LOAD_WINDOW)
		p = reserve_window(e->span, align, pl->lo, pl->hi);
	else
		p = reserve_anywhere(e->span, align);
	if (!p) {
		kdl_set_error("%s: cannot reserve 0x%llx bytes%s: %s%s", name,
			      (unsigned long long)e->span,
			      (pl->flags & KDL_LOAD_FIXED) ? " at the fixed address" :
			      (pl->flags & KDL_LOAD_WINDOW) ? " inside the window" : "",
			      strerror(errno), kdl_map_limit_hint(errno));
		return -1;
	}
	m->start = (uintptr_t)p;
	m->len = e->span;
	m->bias = m->start - e->min_vaddr;
	m->mirror = 0;
	m->backend = KDL_BACKEND_USER;
	m->shared_fd = -1;
	if (pl->flags & KDL_LOAD_MIRROR) {
		uintptr_t mir;

		if (__builtin_add_overflow(pl->mirror_base, m->start, &mir) ||
		    mir + m->len < mir || mir < m->start + m->len ||
		    mmap((void *)mir, m->len, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED) {
			kdl_set_error("%s: mirror at 0x%llx + 0x%llx: out of reach or refused", name,
				      (unsigned long long)pl->mirror_base,
				      (unsigned long long)m->start);
			kdl_unmap_user(m);
			return -1;
		}
		m->mirror = mir;
		if (mirror_fill(e, src, m, name)) {
			kdl_unmap_user(m);
			return -1;
		}
		return 0;
	}
	for (unsigned int i = 0; i < e->nload; i++) {
		if (map_segment(&e->load[i], src->data_off ? src->data_off[i] : KDL_NO_DATA,
				src, m->bias, name, first ? &e->load[0] : NULL)) {
			kdl_unmap_user(m);
			return -1;
		}
	}
	if (first && holes_none(e, m->bias, name)) {
		kdl_unmap_user(m);
		return -1;
	}
	return 0;
}

void kdl_unmap_user(struct kdl_mapping *m)
{
	if (m->len) {
		munmap((void *)m->start, m->len);
		if (m->mirror)
			munmap((void *)m->mirror, m->len);
		if (m->shared_fd >= 0)
			close(m->shared_fd);
	}
	m->shared_fd = -1;
	m->len = 0;
	m->mirror = 0;
}

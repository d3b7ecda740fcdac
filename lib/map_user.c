/* map_user.c - the userspace backend: reserve a span, fill it with mmap. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kdl_internal.h"
#include "map.h"

#define PAGE 4096ULL
#define PAGE_DOWN(x) ((x) & ~(PAGE - 1))
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))

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

static int map_segment(const struct kdl_elf_load *l, const struct kdl_src *src,
		       uintptr_t bias, const char *name)
{
	uintptr_t start = bias + PAGE_DOWN(l->vaddr);
	uintptr_t file_end = bias + l->vaddr + l->filesz;
	uintptr_t mem_end = PAGE_UP(bias + l->vaddr + l->memsz);
	uintptr_t zero_end = PAGE_UP(file_end);
	int prot = kdl_prot(l->flags);

	if (l->filesz) {
		void *p = mmap((void *)start, zero_end - start, prot, MAP_PRIVATE | MAP_FIXED,
			       src->fd, src->base + PAGE_DOWN(l->offset));

		if (p == MAP_FAILED) {
			kdl_set_error("%s: mmap of segment at 0x%llx: %s", name,
				      (unsigned long long)l->vaddr, strerror(errno));
			return -1;
		}
		/* The file's bytes after filesz share the last page: zero them. */
		if (l->memsz > l->filesz && (file_end & (PAGE - 1))) {
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
		kdl_set_error("%s: mmap of zero-filled tail at 0x%llx: %s", name,
			      (unsigned long long)l->vaddr, strerror(errno));
		return -1;
	}
	return 0;
fail_prot:
	kdl_set_error("%s: mprotect to zero the tail of segment 0x%llx: %s", name,
		      (unsigned long long)l->vaddr, strerror(errno));
	return -1;
}

int kdl_map_user(const struct kdl_elf *e, const struct kdl_src *src,
		 const struct kdl_placement *pl, struct kdl_mapping *m, const char *name)
{
	uint64_t align = e->align > pl->align ? e->align : pl->align;
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
	if (pl->flags & KDL_LOAD_MIRROR) {
		kdl_set_error("%s: mirrors need the kernel backend (/dev/kdl)", name);
		return -1;
	}
	if (pl->flags & KDL_LOAD_FIXED)
		p = reserve_at(pl->fixed, e->span);
	else if (pl->flags & KDL_LOAD_WINDOW)
		p = reserve_window(e->span, align, pl->lo, pl->hi);
	else
		p = reserve_anywhere(e->span, align);
	if (!p) {
		kdl_set_error("%s: cannot reserve 0x%llx bytes%s: %s", name,
			      (unsigned long long)e->span,
			      (pl->flags & KDL_LOAD_FIXED) ? " at the fixed address" :
			      (pl->flags & KDL_LOAD_WINDOW) ? " inside the window" : "",
			      strerror(errno));
		return -1;
	}
	m->start = (uintptr_t)p;
	m->len = e->span;
	m->bias = m->start - e->min_vaddr;
	m->mirror = 0;
	m->backend = KDL_BACKEND_USER;
	for (unsigned int i = 0; i < e->nload; i++) {
		if (map_segment(&e->load[i], src, m->bias, name)) {
			kdl_unmap_user(m);
			return -1;
		}
	}
	return 0;
}

void kdl_unmap_user(struct kdl_mapping *m)
{
	if (m->len)
		munmap((void *)m->start, m->len);
	m->len = 0;
}

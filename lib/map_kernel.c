/* map_kernel.c - the kernel backend: one KDL_IOC_MAP per image. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kdl.h>

#include "kdl_internal.h"
#include "map.h"
#include "noexec.h"

int kdl_map_kernel(const struct kdl_elf *e, const struct kdl_src *src,
		   const struct kdl_placement *pl, struct kdl_mapping *m, const char *name)
{
	const struct kdl_backend_state *ks = kdl_backend_kernel();
	struct kdl_segment seg[KDL_MAX_LOADS];
	struct kdl_map req = { .size = sizeof(req) };

	if (!ks) {
		kdl_set_error("%s: /dev/kdl is not usable", name);
		return -1;
	}
	if (src->data_off && !(ks->features & KDL_FEAT_DATA_FD)) {
		kdl_set_error("%s: %s cannot map relocated pages from a cache entry: found a module without KDL_FEAT_DATA_FD, expected one with it",
			      name, KDL_DEVICE_PATH);
		return -1;
	}
	if (src->data_off && (src->addr || (pl->flags & KDL_LOAD_MIRROR))) {
		kdl_set_error("%s: relocated pages from a cache entry: found %s, expected a file source without a mirror",
			      name, src->addr ? "a user range as the source" : "a mirror");
		return -1;
	}
	for (unsigned int i = 0; i < e->nload; i++) {
		const struct kdl_elf_load *l = &e->load[i];

		seg[i] = (struct kdl_segment){
			.vaddr = l->vaddr - e->min_vaddr,
			.offset = l->offset,
			.filesz = l->filesz,
			.memsz = l->memsz,
			.prot = kdl_prot(l->flags),
		};
		/* Its file pages, tail included, come from the entry as they
		 * are (a segment without file pages takes nothing from it). */
		if (src->data_off && src->data_off[i] != KDL_NO_DATA && l->filesz) {
			seg[i].flags = KDL_SEG_DATA_FD;
			seg[i].offset = src->data_off[i];
			req.data_fd = src->data_fd;
		}
	}
	req.fd = src->fd;
	req.nr_segments = e->nload;
	req.file_base = src->base;
	if (src->addr) {
		req.flags |= KDL_MAP_SRC_ADDR;
		req.src_addr = src->addr;
		req.src_len = src->size;
		req.file_base = 0;
	}
	req.span = e->span;
	req.align = e->align > pl->align ? e->align : pl->align;
	req.segments = (uintptr_t)seg;
	if (pl->flags & KDL_LOAD_FIXED) {
		req.flags |= KDL_MAP_FIXED_NOREPLACE;
		req.fixed_addr = pl->fixed;
	} else if (pl->flags & KDL_LOAD_WINDOW) {
		req.flags |= KDL_MAP_WINDOW;
		req.window_lo = pl->lo;
		req.window_hi = pl->hi;
	} else {
		req.flags |= KDL_MAP_ANYWHERE;
	}
	if (pl->flags & KDL_LOAD_MIRROR) {
		req.flags |= KDL_MAP_MIRROR;
		req.mirror_base = pl->mirror_base;
	}
	if (ioctl(ks->dev_fd, KDL_IOC_MAP, &req) < 0) {
		int err = errno;

		kdl_set_error("%s: %s: KDL_IOC_MAP: %s%s%s", name, KDL_DEVICE_PATH, strerror(err),
			      kdl_noexec_hint(err, src), kdl_map_limit_hint(err));
		return -1;
	}
	m->start = req.base;
	m->len = e->span;
	m->bias = m->start - e->min_vaddr;
	m->mirror = (pl->flags & KDL_LOAD_MIRROR) ? pl->mirror_base + req.base : 0;
	m->backend = KDL_BACKEND_KERNEL;
	m->shared_fd = -1;
	return 0;
}

void kdl_unmap_kernel(struct kdl_mapping *m)
{
	const struct kdl_backend_state *ks = kdl_backend_kernel();
	struct kdl_unmap req = { .size = sizeof(req), .base = m->start };

	if (m->len && ks)
		ioctl(ks->dev_fd, KDL_IOC_UNMAP, &req);
	m->len = 0;
}

/* Why KDL_IOC_SEGMENT_FD said @err, in the module's terms. */
static const char *segment_fd_hint(int err)
{
	switch (err) {
	case EINVAL:
		return " (expected a writable segment of a mirrored image, by its index in the image's segments)";
	case ENOENT:
		return " (no image of this process's /dev/kdl at that base)";
	case EMFILE:
	case ENFILE:
		return " (no file descriptor free)";
	}
	return "";
}

int kdl_map_kernel_segment_fd(const struct kdl_mapping *m, unsigned int index, uint64_t *offset,
			      uint64_t *len)
{
	const struct kdl_backend_state *ks = kdl_backend_kernel();
	struct kdl_segment_fd req = {
		.size = sizeof(req),
		.flags = KDL_SEGFD_CLOEXEC,
		.base = m->start,
		.index = index,
	};

	if (m->backend != KDL_BACKEND_KERNEL || !m->len) {
		kdl_set_error("image at %#" PRIxPTR ": segment %u: found %s, expected an image %s mapped",
			      m->start, index, m->len ? "an image the userspace backend mapped" :
			      "an unmapped image", KDL_DEVICE_PATH);
		return -1;
	}
	if (!ks) {
		kdl_set_error("image at %#" PRIxPTR ": segment %u: %s is not usable", m->start, index,
			      KDL_DEVICE_PATH);
		return -1;
	}
	if (!(ks->features & KDL_FEAT_SEGMENT_FD)) {
		kdl_set_error("image at %#" PRIxPTR ": segment %u: %s cannot give a segment's shared memory fd: found a module without KDL_FEAT_SEGMENT_FD, expected one with it",
			      m->start, index, KDL_DEVICE_PATH);
		return -1;
	}
	if (ioctl(ks->dev_fd, KDL_IOC_SEGMENT_FD, &req) < 0) {
		int err = errno;

		kdl_set_error("image at %#" PRIxPTR ": segment %u: %s: KDL_IOC_SEGMENT_FD: %s%s", m->start,
			      index, KDL_DEVICE_PATH, strerror(err), segment_fd_hint(err));
		errno = err;
		return -1;
	}
	if (offset)
		*offset = req.offset;
	if (len)
		*len = req.len;
	return req.fd;
}

/* info.c - kdl_info(): what libkdl knows about a loaded object. */
#include <fcntl.h>
#include <unistd.h>

#include "obj.h"
#include "reloc_cache.h"
#include "tls.h"

static int info_global(int request, void *arg)
{
	const struct kdl_backend_state *ks;
	int kind;

	switch (request) {
	case KDL_INFO_BACKEND:
		kind = kdl_backend_pick(0);
		if (kind < 0)
			return -1;
		*(int *)arg = kind;
		return 0;
	case KDL_INFO_ABI_VERSION:
		ks = kdl_backend_kernel();
		if (!ks) {
			kdl_set_error("kdl_info: ABI version: /dev/kdl is not usable");
			return -1;
		}
		*(unsigned int *)arg = ks->abi_version;
		return 0;
	default:
		kdl_set_error("kdl_info: request %d: unknown without a handle", request);
		return -1;
	}
}

/* KDL_INFO_SEGMENT_FD: the pages of a mirrored writable segment, which
 * both views share, as a file another process can map. */
static int segment_fd(const struct kdl_obj *o, struct kdl_info_segment_fd *a)
{
	const struct kdl_elf_load *l;
	uint64_t off, len;
	int fd;

	if (o->system || !o->map.mirror) {
		kdl_set_error("%s: segment fd: found an object loaded without KDL_LOAD_MIRROR, expected a mirrored one",
			      o->name);
		return -1;
	}
	if (a->index >= o->elf->nload || !(o->elf->load[a->index].flags & PF_W)) {
		kdl_set_error("%s: segment fd: PT_LOAD %zu: found %s, expected a writable segment",
			      o->name, a->index,
			      a->index >= o->elf->nload ? "no such segment" : "a read-only one");
		return -1;
	}
	l = &o->elf->load[a->index];
	if (o->map.backend == KDL_BACKEND_KERNEL) {
		fd = kdl_map_kernel_segment_fd(&o->map, a->index, &off, &len);
		if (fd < 0)
			return -1;
	} else {
		if (o->map.shared_fd < 0 || o->map.shared_off[a->index] == KDL_NO_DATA) {
			kdl_set_error("%s: segment fd: PT_LOAD %zu is not in the mirror's memfd",
				      o->name, a->index);
			return -1;
		}
		fd = fcntl(o->map.shared_fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0) {
			kdl_set_error("%s: segment fd: %m", o->name);
			return -1;
		}
		off = o->map.shared_off[a->index];
		len = PAGE_UP(l->vaddr + l->memsz) - PAGE_DOWN(l->vaddr);
	}
	a->fd = fd;
	a->offset = off;
	a->addr = PAGE_DOWN(o->bias + l->vaddr);
	a->len = len;
	return 0;
}

int kdl_info(void *handle, int request, void *arg)
{
	struct kdl_obj *o = handle;

	if (!arg) {
		kdl_set_error("kdl_info: request %d: found a NULL argument", request);
		return -1;
	}
	if (!handle)
		return info_global(request, arg);
	if (!kdl_obj_valid(o)) {
		kdl_set_error("kdl_info: invalid handle %p", handle);
		return -1;
	}
	switch (request) {
	case KDL_INFO_BACKEND:
		if (o->system) {
			kdl_set_error("%s: the process's own object, not mapped by kdl", o->name);
			return -1;
		}
		*(int *)arg = o->map.backend;
		return 0;
	case KDL_INFO_BIAS:
		*(uintptr_t *)arg = o->bias;
		return 0;
	case KDL_INFO_RANGE:
		((uintptr_t *)arg)[0] = o->map.start;
		((uintptr_t *)arg)[1] = o->map.start + o->map.len;
		return 0;
	case KDL_INFO_PATH:
		*(const char **)arg = o->name;
		return 0;
	case KDL_INFO_NS:
		*(struct kdl_ns **)arg = o->ns;
		return 0;
	case KDL_INFO_MIRROR:
		*(uintptr_t *)arg = o->map.mirror;
		return 0;
	case KDL_INFO_TLS_MODID:
		*(size_t *)arg = o->tls_modid;
		return 0;
	case KDL_INFO_TLS_BLOCK:
		if (!kdl_obj_relocated(o, NULL))
			return -1;
		*(void **)arg = kdl_tls_sym_addr(o, 0);
		return 0;
	case KDL_INFO_ZERO_COPY:
		*(int *)arg = !o->system && o->zero_copy;
		return 0;
	case KDL_INFO_ABI_VERSION:
		return info_global(request, arg);
	case KDL_INFO_NDEPS:
		*(size_t *)arg = o->system ? 0 : o->ndeps;
		return 0;
	case KDL_INFO_DEP: {
		struct kdl_info_dep *d = arg;
		size_t k = 0;

		if (o->system || d->index >= o->ndeps) {
			kdl_set_error("%s: dependency %zu: found %zu DT_NEEDED entries", o->name,
				      d->index, o->system ? 0 : o->ndeps);
			return -1;
		}
		for (size_t j = 0; o->dynamic[j].d_tag != DT_NULL; j++)
			if (o->dynamic[j].d_tag == DT_NEEDED && k++ == d->index)
				d->needed = o->dyn.strtab + o->dynamic[j].d_un.d_val;
		d->handle = o->deps[d->index];
		return 0;
	}
	case KDL_INFO_SYSTEM:
		*(int *)arg = o->system;
		return 0;
	case KDL_INFO_FILE:
		*(const char **)arg = o->path;
		return 0;
	case KDL_INFO_CACHED:
		*(int *)arg = kdl_cache_hit(o);
		return 0;
	case KDL_INFO_RELOCATED:
		*(int *)arg = !o->unrelocated;
		return 0;
	case KDL_INFO_SEGMENT_FD:
		return segment_fd(o, arg);
	case KDL_INFO_NS_NAME:
		*(const char **)arg = o->ns ? o->ns->name : kdl_default_ns.name;
		return 0;
	default:
		kdl_set_error("kdl_info: request %d is unknown", request);
		return -1;
	}
}

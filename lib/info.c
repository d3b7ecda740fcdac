/* info.c - kdl_info(): what libkdl knows about a loaded object. */
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
	default:
		kdl_set_error("kdl_info: request %d is unknown", request);
		return -1;
	}
}

/*
 * kdl_glibc_shim.h - TEST-ONLY: maps the libkdl calls the tests make onto
 * glibc's dlfcn, so the tests themselves can be validated against glibc
 * (build with -DKDL_TEST_WITH_GLIBC, see glibc-shim-check.sh).  Never used
 * by "make check", which builds the tests against libkdl.
 *
 * kdl_info answers KDL_INFO_BACKEND (always "user"), KDL_INFO_BIAS,
 * KDL_INFO_RANGE and KDL_INFO_PATH from dlinfo + dl_iterate_phdr; every
 * other request fails.
 */
#ifndef KDL_GLIBC_SHIM_H
#define KDL_GLIBC_SHIM_H

#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

#include "kdl.h"

struct kdl_shim_range {
	uintptr_t bias;
	uintptr_t lo, hi;
	int found;
};

static inline int kdl_shim_range_cb(struct dl_phdr_info *pi, size_t sz, void *data)
{
	struct kdl_shim_range *r = data;

	(void)sz;
	if (pi->dlpi_addr != r->bias || r->found)
		return 0;
	r->lo = UINTPTR_MAX;
	r->hi = 0;
	for (int i = 0; i < pi->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &pi->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		if (pi->dlpi_addr + ph->p_vaddr < r->lo)
			r->lo = pi->dlpi_addr + ph->p_vaddr;
		if (pi->dlpi_addr + ph->p_vaddr + ph->p_memsz > r->hi)
			r->hi = pi->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	r->lo &= ~(uintptr_t)4095;
	r->hi = (r->hi + 4095) & ~(uintptr_t)4095;
	r->found = r->hi > r->lo;
	return r->found;
}

static inline int kdl_shim_info(void *handle, int request, void *arg)
{
	struct link_map *lm;
	struct kdl_shim_range r = { 0 };

	if (request == KDL_INFO_BACKEND) {
		*(int *)arg = KDL_BACKEND_USER;
		return 0;
	}
	if (!handle || dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0)
		return -1;
	switch (request) {
	case KDL_INFO_BIAS:
		*(uintptr_t *)arg = lm->l_addr;
		return 0;
	case KDL_INFO_PATH:
		*(const char **)arg = lm->l_name;
		return 0;
	case KDL_INFO_RANGE:
		r.bias = lm->l_addr;
		dl_iterate_phdr(kdl_shim_range_cb, &r);
		if (!r.found)
			return -1;
		((uintptr_t *)arg)[0] = r.lo;
		((uintptr_t *)arg)[1] = r.hi;
		return 0;
	}
	return -1;
}

#define kdl_open(path, mode, args)	((void)(args), dlopen((path), (mode)))
#define kdl_sym(h, name)		dlsym((h), (name))
#define kdl_vsym(h, name, ver)		dlvsym((h), (name), (ver))
#define kdl_close(h)			dlclose(h)
#define kdl_error()			((const char *)dlerror())
#define kdl_addr(a, info)		dladdr((a), (info))
#define kdl_iterate_phdr(cb, data)	dl_iterate_phdr((cb), (data))
#define kdl_info(h, req, arg)		kdl_shim_info((h), (req), (arg))

#endif /* KDL_GLIBC_SHIM_H */

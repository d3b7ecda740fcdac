/* dlfcn_shim.c - what kdl-loaded code gets when it calls dlopen, dlsym,
 * dlclose, dlerror, dladdr or dl_iterate_phdr: the same calls answered by
 * kdl in the caller's namespace, and by glibc for what is glibc's. */
#include <string.h>

#include "obj.h"

/* Which loader failed last on this thread, for dlerror(). */
static __thread int last_error_is_kdl;

static const struct kdl_obj *caller_obj(const void *ret)
{
	const struct kdl_obj *o;

	pthread_mutex_lock(&kdl_lock);
	o = kdl_obj_by_addr((uintptr_t)ret);
	pthread_mutex_unlock(&kdl_lock);
	return o;
}

static void *shim_dlopen(const char *name, int mode)
{
	const struct kdl_obj *caller = caller_obj(__builtin_return_address(0));
	struct kdl_load_args args = { .size = sizeof(args) };
	struct kdl_request req = { .name = name, .fd = -1, .loader = caller };
	void *h;

	/* dlopen(NULL): the program itself, which is glibc's to give. */
	if (!name)
		return dlopen(NULL, mode);
	if (caller)
		args.ns = caller->ns;
	if (!(mode & (RTLD_LAZY | RTLD_NOW)) && !(mode & RTLD_NOLOAD))
		mode |= RTLD_NOW;
	h = kdl_load_tree(&req, mode, &args);
	last_error_is_kdl = !h;
	return h;
}

static void *shim_sym(void *handle, const char *name, const char *version)
{
	void *v;

	if (handle == RTLD_NEXT || (handle != RTLD_DEFAULT && !kdl_obj_valid(handle))) {
		last_error_is_kdl = 0;
		return version ? dlvsym(handle, name, version) : dlsym(handle, name);
	}
	v = version ? kdl_vsym(handle, name, version) : kdl_sym(handle, name);
	if (!v && handle == RTLD_DEFAULT) {
		/* Not kdl's: perhaps an object glibc loaded RTLD_GLOBAL. */
		kdl_error();
		v = version ? dlvsym(handle, name, version) : dlsym(handle, name);
		last_error_is_kdl = 0;
		return v;
	}
	last_error_is_kdl = !v;
	return v;
}

static void *shim_dlsym(void *handle, const char *name)
{
	return shim_sym(handle, name, NULL);
}

static void *shim_dlvsym(void *handle, const char *name, const char *version)
{
	return shim_sym(handle, name, version);
}

static int shim_dlclose(void *handle)
{
	int r;

	if (!kdl_obj_valid(handle)) {
		last_error_is_kdl = 0;
		return dlclose(handle);
	}
	r = kdl_close(handle);
	last_error_is_kdl = r != 0;
	return r;
}

static char *shim_dlerror(void)
{
	if (last_error_is_kdl) {
		last_error_is_kdl = 0;
		return (char *)kdl_error();
	}
	return dlerror();
}

static int shim_dladdr(const void *addr, Dl_info *info)
{
	return kdl_addr(addr, info);
}

struct both {
	int (*cb)(struct dl_phdr_info *, size_t, void *);
	void *data;
};

/* The process's objects, then kdl's: an unwinder or profiler in kdl-loaded
 * code sees everything mapped. */
static int shim_dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
	int r = dl_iterate_phdr(cb, data);

	return r ? r : kdl_iterate_phdr(cb, data);
}

static const struct {
	const char *name;
	void *fn;
} shims[] = {
	{ "dladdr", (void *)shim_dladdr },
	{ "dlclose", (void *)shim_dlclose },
	{ "dlerror", (void *)shim_dlerror },
	{ "dl_iterate_phdr", (void *)shim_dl_iterate_phdr },
	{ "dlopen", (void *)shim_dlopen },
	{ "dlsym", (void *)shim_dlsym },
	{ "dlvsym", (void *)shim_dlvsym },
};

void *kdl_dlfcn_shim(const char *name)
{
	if (name[0] != 'd' || name[1] != 'l')
		return NULL;
	for (size_t i = 0; i < sizeof(shims) / sizeof(shims[0]); i++)
		if (!strcmp(name, shims[i].name))
			return shims[i].fn;
	return NULL;
}

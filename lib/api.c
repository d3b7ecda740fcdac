/* api.c - the dlfcn-shaped entry points of libkdl. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obj.h"
#include "tls.h"

#define KNOWN_MODES (RTLD_LAZY | RTLD_NOW | RTLD_GLOBAL | RTLD_LOCAL | RTLD_NOLOAD | \
		     RTLD_NODELETE | RTLD_DEEPBIND)

static int check_mode(int mode, const char *what)
{
	if (mode & ~KNOWN_MODES) {
		kdl_set_error("%s: mode 0x%x has unknown bits 0x%x", what, mode, mode & ~KNOWN_MODES);
		return -1;
	}
	if (!(mode & (RTLD_LAZY | RTLD_NOW)) && !(mode & RTLD_NOLOAD)) {
		kdl_set_error("%s: mode needs RTLD_LAZY or RTLD_NOW", what);
		return -1;
	}
	return 0;
}

void *kdl_open(const char *path, int mode, const struct kdl_load_args *args)
{
	if (!path || !*path) {
		kdl_set_error("kdl_open: no path given");
		return NULL;
	}
	if (check_mode(mode, path))
		return NULL;
	return kdl_load_tree(&(struct kdl_request){ .name = path, .fd = -1 }, mode, args);
}

void *kdl_fdopen(int fd, off_t offset, int mode, const struct kdl_load_args *args)
{
	char name[64];

	if (fd < 0) {
		kdl_set_error("kdl_fdopen: bad file descriptor %d", fd);
		return NULL;
	}
	if (offset < 0) {
		kdl_set_error("kdl_fdopen: negative offset %lld", (long long)offset);
		return NULL;
	}
	snprintf(name, sizeof(name), "fd:%d+0x%llx", fd, (unsigned long long)offset);
	if (check_mode(mode, name))
		return NULL;
	return kdl_load_tree(&(struct kdl_request){ .name = args && args->name ? args->name : name,
						    .fd = fd, .offset = offset },
			     mode, args);
}

void *kdl_memopen(const void *buf, size_t len, int mode, const struct kdl_load_args *args)
{
	char name[64];

	snprintf(name, sizeof(name), "mem:%p+0x%zx", buf, len);
	if (check_mode(mode, name))
		return NULL;
	return kdl_load_tree(&(struct kdl_request){ .name = args && args->name ? args->name : name,
						    .fd = -1, .buf = buf, .len = len },
			     mode, args);
}

static struct kdl_obj *handle_obj(void *handle, const char *what)
{
	struct kdl_obj *o = handle;

	if (!kdl_obj_valid(o)) {
		kdl_set_error("%s: invalid handle %p", what, handle);
		return NULL;
	}
	return o;
}

/* A handle that names one of the process's objects is glibc's: dlsym's
 * answer, in that object's own scope. */
static void *process_sym(struct kdl_obj *o, const char *name, const char *version)
{
	void *v = NULL;
	const char *e;

	pthread_mutex_lock(&kdl_lock);
	kdl_process_hold(o);
	pthread_mutex_unlock(&kdl_lock);
	if (o->glibc_handle)
		v = version ? dlvsym(o->glibc_handle, name, version) : dlsym(o->glibc_handle, name);
	if (!v) {
		e = dlerror();
		kdl_set_error("%s: undefined symbol: %s%s%s%s%s", o->name, name, version ? "@" : "",
			      version ? version : "", e ? ": " : "", e ? e : "");
	}
	return v;
}

static void *sym_lookup(void *handle, const char *name, const char *version)
{
	struct kdl_symref r;
	struct kdl_obj *o;

	if (!name) {
		kdl_set_error("kdl_sym: no symbol name");
		return NULL;
	}
	kdl_symref_init(&r, name, version);
	if (handle == RTLD_DEFAULT) {
		struct kdl_def def;
		void *v = NULL;

		pthread_mutex_lock(&kdl_lock);
		if (!kdl_process_refresh() && !kdl_lookup(NULL, &r, NULL, 0, &def))
			v = (void *)kdl_sym_value(def.obj, def.sym);
		else
			kdl_set_error("RTLD_DEFAULT: undefined symbol: %s", name);
		pthread_mutex_unlock(&kdl_lock);
		return v;
	}
	o = handle_obj(handle, "kdl_sym");
	if (!o)
		return NULL;
	if (!kdl_obj_relocated(o, "kdl_sym"))
		return NULL;
	if (o->system)
		return process_sym(o, name, version);
	/* No lock: an object's scope is fixed once its handle exists. */
	if (!o->scope) {
		const Elf64_Sym *s = kdl_sym_in(o, &r);

		if (s)
			return (void *)kdl_sym_value(o, s);
	}
	for (size_t i = 0; i < o->nscope; i++) {
		const Elf64_Sym *s = kdl_sym_in(o->scope[i], &r);

		if (s) {
			/* dlsym's rule: a TLS symbol's address in this thread. */
			if (ELF64_ST_TYPE(s->st_info) == STT_TLS)
				return kdl_tls_sym_addr(o->scope[i], s->st_value);
			return (void *)kdl_sym_value(o->scope[i], s);
		}
	}
	kdl_set_error("%s: undefined symbol: %s%s%s", o->name, name, version ? "@" : "",
		      version ? version : "");
	return NULL;
}

void *kdl_sym(void *handle, const char *name)
{
	return sym_lookup(handle, name, NULL);
}

void *kdl_vsym(void *handle, const char *name, const char *version)
{
	if (!version) {
		kdl_set_error("kdl_vsym: no version given for %s", name ? name : "(null)");
		return NULL;
	}
	return sym_lookup(handle, name, version);
}

int kdl_relocate(void *handle)
{
	struct kdl_obj *o = handle_obj(handle, "kdl_relocate");

	if (!o)
		return -1;
	if (o->system)
		return 0;
	return kdl_load_finish(o);
}

int kdl_close(void *handle)
{
	struct kdl_obj *o = handle_obj(handle, "kdl_close");

	if (!o)
		return -1;
	return kdl_unload(o);
}

/* The defined symbol of @o nearest below @addr. */
static const Elf64_Sym *nearest_sym(const struct kdl_obj *o, uintptr_t addr)
{
	const Elf64_Sym *best = NULL;
	uintptr_t off = addr - o->bias;

	for (size_t i = 1; i < o->dyn.nsyms; i++) {
		const Elf64_Sym *s = &o->dyn.symtab[i];
		unsigned int type = ELF64_ST_TYPE(s->st_info);

		if (s->st_shndx == SHN_UNDEF || s->st_shndx == SHN_ABS || type == STT_TLS ||
		    type == STT_SECTION || type == STT_FILE || s->st_value > off)
			continue;
		if (s->st_size && off >= s->st_value + s->st_size)
			continue;
		if (!best || s->st_value > best->st_value)
			best = s;
	}
	return best;
}

int kdl_addr(const void *addr, Dl_info *info)
{
	struct kdl_obj *o;
	const Elf64_Sym *s;

	if (!info) {
		kdl_set_error("kdl_addr: no Dl_info given");
		return 0;
	}
	pthread_mutex_lock(&kdl_lock);
	o = kdl_obj_by_addr((uintptr_t)addr);
	if (!o) {
		pthread_mutex_unlock(&kdl_lock);
		/* Not ours: the process's own objects answer through glibc. */
		return dladdr(addr, info);
	}
	info->dli_fname = o->name;
	info->dli_fbase = (void *)o->map.start;
	s = nearest_sym(o, (uintptr_t)addr);
	info->dli_sname = s && s->st_name < o->dyn.strsz ? o->dyn.strtab + s->st_name : NULL;
	info->dli_saddr = s ? (void *)(o->bias + s->st_value) : NULL;
	pthread_mutex_unlock(&kdl_lock);
	return 1;
}

static int phdr_of(struct kdl_obj *o, int (*cb)(struct dl_phdr_info *, size_t, void *),
		   void *data)
{
	static unsigned long long adds;
	struct dl_phdr_info info = {
		.dlpi_addr = o->bias,
		.dlpi_name = o->name,
		.dlpi_phdr = o->phdr,
		.dlpi_phnum = o->nphdr,
		.dlpi_adds = ++adds,
		.dlpi_tls_modid = o->tls_modid,
	};

	return cb(&info, sizeof(info), data);
}

/* The objects kdl loaded, in load order; the process's own objects are
 * dl_iterate_phdr's. */
int kdl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
	int ret = 0;

	if (!cb)
		return 0;
	pthread_mutex_lock(&kdl_lock);
	for (struct kdl_obj *o = kdl_objs; o && !ret; o = o->next)
		ret = phdr_of(o, cb, data);
	pthread_mutex_unlock(&kdl_lock);
	return ret;
}

/* The objects of one namespace: those a shared one inherited, then its
 * own in load order; none waiting for kdl_relocate(). */
int kdl_ns_iterate_phdr(struct kdl_ns *ns, int (*cb)(struct dl_phdr_info *, size_t, void *),
			void *data)
{
	int ret = 0;

	if (!cb)
		return 0;
	if (!ns)
		ns = &kdl_default_ns;
	pthread_mutex_lock(&kdl_lock);
	for (size_t i = 0; i < ns->ninherited && !ret; i++)
		ret = phdr_of(ns->inherited[i], cb, data);
	for (struct kdl_obj *o = ns->objs; o && !ret; o = o->ns_next)
		if (!o->unrelocated)
			ret = phdr_of(o, cb, data);
	pthread_mutex_unlock(&kdl_lock);
	return ret;
}

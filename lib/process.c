/* process.c - the process's own objects, seen through dl_iterate_phdr. */
#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "obj.h"

/*
 * The runtime group: objects a kdl load never maps a second time but binds
 * to the process's copies, loading them through glibc when absent.  A
 * second libc means a second malloc arena and a second set of stdio locks;
 * a second libstdc++ or libgcc_s splits exception and type_info identity.
 */
static const char *const runtime_group[] = {
	"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
	"libutil.so.1", "libresolv.so.2", "libanl.so.1", "libmvec.so.1",
	"ld-linux-x86-64.so.2", "libstdc++.so.6", "libgcc_s.so.1",
	"libkdl.so.0",	/* the loader itself, like ld.so for glibc */
};

#define MAIN_PROGRAM "(main program)"

static struct kdl_obj **procs;	/* every system object ever seen */
static size_t nprocs, capprocs;
static struct kdl_obj **live;	/* those present now, in glibc's order */
static size_t nlive, caplive;
static unsigned long long seen_adds = ~0ull, seen_subs = ~0ull;

bool kdl_is_runtime_group(const char *soname)
{
	for (size_t i = 0; i < sizeof(runtime_group) / sizeof(runtime_group[0]); i++)
		if (!strcmp(soname, runtime_group[i]))
			return true;
	return false;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static struct kdl_obj *proc_obj_new(struct dl_phdr_info *info)
{
	struct kdl_obj *o = calloc(1, sizeof(*o));
	const Elf64_Dyn *dyn = NULL;
	size_t ndyn = 0;

	if (!o)
		return NULL;
	o->magic = KDL_OBJ_MAGIC;
	o->system = true;
	o->bias = info->dlpi_addr;
	o->phdr = (Elf64_Phdr *)info->dlpi_phdr;
	o->nphdr = info->dlpi_phnum;
	o->path = strdup(info->dlpi_name && *info->dlpi_name ? info->dlpi_name : MAIN_PROGRAM);
	if (!o->path)
		goto fail;
	o->name = o->path;
	o->refcnt = 1;
	for (unsigned int i = 0; i < o->nphdr; i++) {
		const Elf64_Phdr *p = &o->phdr[i];

		if (p->p_type == PT_DYNAMIC) {
			dyn = (const void *)(o->bias + p->p_vaddr);
			ndyn = p->p_memsz / sizeof(Elf64_Dyn);
		}
		if (p->p_type == PT_LOAD) {
			uintptr_t s = o->bias + p->p_vaddr, e = s + p->p_memsz;

			if (!o->map.start || s < o->map.start)
				o->map.start = s;
			if (e > o->map.start + o->map.len)
				o->map.len = e - o->map.start;
		}
	}
	o->tls_modid = info->dlpi_tls_modid;
	o->dynamic = dyn;
	if (!dyn || kdl_dyn_lookup_tables(&o->dyn, dyn, ndyn, o->bias, true, NULL, o->name, 0)) {
		kdl_clear_error();
		memset(&o->dyn, 0, sizeof(o->dyn));
	}
	for (size_t i = 0; dyn && o->dyn.strtab && i < ndyn && dyn[i].d_tag != DT_NULL; i++)
		if (dyn[i].d_tag == DT_SONAME && dyn[i].d_un.d_val < o->dyn.strsz)
			o->soname = o->dyn.strtab + dyn[i].d_un.d_val;
	if (!o->soname)
		o->soname = base_name(o->path);
	return o;
fail:
	free(o);
	return NULL;
}

static int push(struct kdl_obj ***arr, size_t *n, size_t *cap, struct kdl_obj *o)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		struct kdl_obj **na = realloc(*arr, nc * sizeof(*na));

		if (!na)
			return -1;
		*arr = na;
		*cap = nc;
	}
	(*arr)[(*n)++] = o;
	return 0;
}

static int collect(struct dl_phdr_info *info, size_t size, void *data)
{
	struct kdl_obj *o = NULL;

	(void)size;
	(void)data;
	for (size_t i = 0; i < nprocs; i++)
		if (procs[i]->bias == info->dlpi_addr &&
		    (const void *)procs[i]->phdr == (const void *)info->dlpi_phdr) {
			o = procs[i];
			break;
		}
	if (!o) {
		o = proc_obj_new(info);
		if (!o || push(&procs, &nprocs, &capprocs, o))
			return 1;
	}
	return push(&live, &nlive, &caplive, o) ? 1 : 0;
}

static int read_counters(struct dl_phdr_info *info, size_t size, void *data)
{
	unsigned long long *c = data;

	(void)size;
	c[0] = info->dlpi_adds;
	c[1] = info->dlpi_subs;
	return 1;
}

/* Called with kdl_lock held.  Rescans only when glibc loaded or unloaded
 * something since the last scan. */
int kdl_process_refresh(void)
{
	unsigned long long c[2] = { 0, 0 };

	dl_iterate_phdr(read_counters, c);
	if (c[0] == seen_adds && c[1] == seen_subs)
		return 0;
	nlive = 0;
	if (dl_iterate_phdr(collect, NULL)) {
		kdl_set_error("out of memory reading the process's objects");
		seen_adds = ~0ull;
		return -1;
	}
	seen_adds = c[0];
	seen_subs = c[1];
	return 0;
}

struct kdl_obj *const *kdl_process_objs(size_t *n)
{
	*n = nlive;
	return live;
}

struct kdl_obj *kdl_process_find(const char *soname)
{
	for (size_t i = 0; i < nlive; i++)
		if (!strcmp(live[i]->soname, soname))
			return live[i];
	return NULL;
}

/* Its file's identity, as glibc tells files apart (device and inode);
 * asked for once, when first needed (a stat is not free). */
static void file_id(struct kdl_obj *o)
{
	struct stat st;

	if (o->file_id_known)
		return;
	o->file_id_known = true;
	if (!stat(strcmp(o->path, MAIN_PROGRAM) ? o->path : "/proc/self/exe", &st)) {
		o->dev = st.st_dev;
		o->ino = st.st_ino;
	}
}

struct kdl_obj *kdl_process_find_file(dev_t dev, ino_t ino, const char *soname)
{
	for (size_t i = 0; ino && i < nlive; i++) {
		if (soname && strcmp(live[i]->soname, soname))
			continue;
		file_id(live[i]);
		if (live[i]->ino == ino && live[i]->dev == dev)
			return live[i];
	}
	return NULL;
}

void kdl_process_hold(struct kdl_obj *o)
{
	bool main_program = !strcmp(o->path, MAIN_PROGRAM);

	if (o->glibc_handle || (o->path[0] != '/' && !main_program))
		return;
	o->glibc_handle = dlopen(main_program ? NULL : o->path, RTLD_LAZY | RTLD_NOLOAD);
	if (!o->glibc_handle)
		dlerror();	/* nothing stale for the caller's dlerror() */
}

/* The process's copy of runtime-group member @soname, asking glibc to load
 * it when the process has none yet. */
struct kdl_obj *kdl_process_runtime_dep(const char *soname, const char *needed_by)
{
	struct kdl_obj *o;
	void *h;

	if (kdl_process_refresh())
		return NULL;
	o = kdl_process_find(soname);
	if (o)
		return o;
	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		kdl_set_error("%s: needed by %s: the process's copy cannot be loaded: %s",
			      soname, needed_by, dlerror());
		return NULL;
	}
	if (kdl_process_refresh())
		return NULL;
	o = kdl_process_find(soname);
	if (!o) {
		kdl_set_error("%s: loaded by glibc but not found among its objects", soname);
		return NULL;
	}
	o->glibc_handle = h;
	return o;
}

/* tls_static.c - static TLS for initial-exec users, taken from glibc's
 * own static TLS surplus through a carrier object glibc loads. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "carrier.h"
#include "tls.h"

/*
 * An initial-exec access (R_X86_64_TPOFF64, the GOTTPOFF code model)
 * reads a fixed offset from the thread pointer, the same in every thread,
 * existing or future: the block must live in the static TLS area glibc
 * lays out below each thread's TCB.  glibc hands out that area's surplus
 * to objects it dlopens whose relocations need it, copies their init
 * image into every existing thread and into each new one, and gives the
 * space back at dlclose when it was the last taken (LIFO).  So kdl asks
 * glibc for a carrier: a generated object whose only content is a PT_TLS
 * of the module's size, alignment and (relocated) init image, and one
 * TPOFF64 whose value glibc computes -- the block's offset from the
 * thread pointer, which then serves the kdl module.
 */
struct carrier {
	void *handle;
	int fd;		/* held: glibc knows the carrier by the name it was
			 * opened by, /proc/<pid>/fd/<fd>, and would hand a
			 * second carrier opened by a recycled name the first */
};

int kdl_tls_static_reserve(const struct kdl_tls_image *m, const char *name,
			   void **carrier, intptr_t *off)
{
	struct kdl_carrier_spec spec = { .name = "kdl:tls", .tls_image = m->image,
					 .tls_filesz = m->filesz, .tls_memsz = m->memsz,
					 .tls_align = m->align };
	struct carrier *c = malloc(sizeof(*c));
	char err[256];

	if (!c) {
		kdl_set_error("%s: out of memory for a static TLS carrier", name);
		return -1;
	}
	c->fd = kdl_carrier_memfd(&spec);
	if (c->fd < 0) {
		free(c);
		return -1;
	}
	c->handle = kdl_carrier_dlopen(c->fd, err, sizeof(err));
	if (!c->handle) {
		if (strstr(err, "static TLS"))
			kdl_set_error("%s: initial-exec TLS needs %zu bytes of static TLS aligned to %zu, more than glibc's static TLS surplus has left%s; start the program with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=N (bytes, default 512) to raise it",
				      name, m->memsz, m->align,
				      m->align > 64 ? " (or an alignment above glibc's static TLS alignment, 64)" : "");
		else
			kdl_set_error("%s: loading the static TLS carrier: %s", name, err);
		close(c->fd);
		free(c);
		return -1;
	}
	*carrier = c;
	*off = kdl_carrier_tpoff(c->handle);
	return 0;
}

size_t kdl_tls_static_glibc_modid(void *carrier)
{
	struct carrier *c = carrier;
	size_t modid = 0;

	if (!c || dlinfo(c->handle, RTLD_DI_TLS_MODID, &modid))
		return 0;
	return modid;
}

void kdl_tls_static_release(void *carrier)
{
	struct carrier *c = carrier;

	if (!c)
		return;
	dlclose(c->handle);
	close(c->fd);
	free(c);
}

/*
 * A module of the process's own: initial-exec works only if glibc gave it
 * static TLS (every module loaded at start-up, and those whose own
 * relocations asked for it).  Its address in this thread then lies inside
 * the static area below the thread pointer, the same offset in every
 * thread; a dynamically allocated block would not.
 */
typedef void (*static_info_fn)(size_t *size, size_t *align);

bool kdl_tls_glibc_static_off(size_t modid, intptr_t *off)
{
	static static_info_fn info;
	struct kdl_tls_index ti = { modid, 0 };
	char *tp = __builtin_thread_pointer(), *a = __tls_get_addr(&ti);
	size_t size = 0, align = 0;

	if (!info)
		info = (static_info_fn)dlvsym(RTLD_DEFAULT, "_dl_get_tls_static_info",
					      "GLIBC_PRIVATE");
	if (info) {
		info(&size, &align);
	} else {
		dlerror();	/* nothing stale for the caller's dlerror() */
		size = 1 << 20;
	}
	if (!a || a >= tp || (size_t)(tp - a) > size)
		return false;
	*off = a - tp;
	return true;
}

/* carrier.h - minimal ELF objects made at run time for glibc's own
 * dlopen: a carrier of a static TLS block, or an empty object whose load
 * and unload tell a debugger to reread the link maps. */
#ifndef KDL_CARRIER_H
#define KDL_CARRIER_H

#include <stddef.h>
#include <stdint.h>

#include "kdl_internal.h"

struct kdl_carrier_spec {
	const char *name;		/* memfd name, for /proc/<pid>/maps */
	/* PT_TLS of the carrier; tls_memsz 0 makes a carrier without TLS
	 * (and without the relocation that asks glibc for static TLS). */
	const void *tls_image;
	size_t tls_filesz, tls_memsz, tls_align;
};

/* A sealed memfd holding the carrier, or -1 with the error set. */
KDL_HIDDEN int kdl_carrier_memfd(const struct kdl_carrier_spec *spec);

/* glibc's dlopen of the carrier in @fd (RTLD_NOW | RTLD_LOCAL), through
 * /proc/<pid>/fd/<fd>; NULL with glibc's dlerror() text in @err.  glibc
 * knows an object by that name: @fd must stay open while it is loaded. */
KDL_HIDDEN void *kdl_carrier_dlopen(int fd, char *err, size_t errlen);

/* The word glibc wrote for the carrier's R_X86_64_TPOFF64: the offset of
 * its TLS block from the thread pointer.  @handle from kdl_carrier_dlopen
 * of a carrier with TLS. */
KDL_HIDDEN intptr_t kdl_carrier_tpoff(void *handle);

#endif

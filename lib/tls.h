/* tls.h - thread-local storage of the objects kdl loads (dynamic model). */
#ifndef KDL_TLS_H
#define KDL_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kdl_internal.h"

/*
 * kdl's module ids start here, far above glibc's (which count up from 1),
 * so one __tls_get_addr can tell whose module a tls_index names and send
 * glibc's on to glibc.
 */
#define KDL_TLS_MODID_BASE 0x40000000ul

struct kdl_tls_index {
	unsigned long module;
	unsigned long offset;
};

struct kdl_obj;

/* glibc's, for tls_index values that name glibc's modules. */
extern void *__tls_get_addr(struct kdl_tls_index *ti);

/* A PT_TLS as loaded: @filesz initialised bytes of @memsz, aligned. */
struct kdl_tls_image {
	const void *image;
	size_t filesz, memsz, align;
};

/* A module id for the TLS image at @image (@filesz initialised bytes of
 * @memsz, aligned to @align), or 0 with the error set. */
KDL_HIDDEN size_t kdl_tls_register(const void *image, size_t filesz, size_t memsz,
				   size_t align, const char *name);
/* Frees the module's block in every thread; the id is not reused. */
KDL_HIDDEN void kdl_tls_unregister(size_t modid);
/* The calling thread's address of @offset in module @modid (kdl's). */
KDL_HIDDEN void *kdl_tls_addr(size_t modid, size_t offset);
/* This thread's address of @offset in @o's TLS block, kdl's module or
 * glibc's; NULL if @o has no TLS. */
KDL_HIDDEN void *kdl_tls_sym_addr(const struct kdl_obj *o, size_t offset);
/* The offset from the thread pointer of module @modid's block in every
 * thread: its static TLS block, made on the first request (initial-exec
 * users).  Fails, error set, when the module already has dynamic blocks
 * or glibc's surplus is exhausted.  @name is the object asking. */
KDL_HIDDEN int kdl_tls_make_static(size_t modid, const char *name, intptr_t *off);
/* Whether module @modid (kdl's) has a static block, and its offset. */
KDL_HIDDEN bool kdl_tls_static_off(size_t modid, intptr_t *off);

/* tls_static.c: glibc's side of static TLS. */
KDL_HIDDEN int kdl_tls_static_reserve(const struct kdl_tls_image *m, const char *name,
				      void **carrier, intptr_t *off);
KDL_HIDDEN void kdl_tls_static_release(void *carrier);
/* glibc's module id of the carrier (which glibc's debugger interface,
 * libthread_db, knows), or 0. */
KDL_HIDDEN size_t kdl_tls_static_glibc_modid(void *carrier);
/* That id for kdl's module @modid when it has a static block, else 0. */
KDL_HIDDEN size_t kdl_tls_glibc_modid(size_t modid);
/* Whether glibc's module @modid has static TLS, and its offset. */
KDL_HIDDEN bool kdl_tls_glibc_static_off(size_t modid, intptr_t *off);

/* For a TPOFF64 of object @name against @m's TLS: the offset of @m's
 * static block, made if @m is kdl's; error set on failure. */
KDL_HIDDEN int kdl_tls_ie_offset(const struct kdl_obj *m, const char *name, intptr_t *off);
/* Whether @m's TLS (kdl's or glibc's) is in a static block, and where. */
KDL_HIDDEN bool kdl_tls_static_base(const struct kdl_obj *m, intptr_t *off);

/* The TLSDESC resolver for kdl's modules (tls_x86_64.S); the descriptor's
 * argument is a struct kdl_tls_index that lives as long as the module. */
KDL_HIDDEN void kdl_tlsdesc_dynamic(void);
/* The resolver of a descriptor whose argument is the offset itself. */
KDL_HIDDEN void kdl_tlsdesc_static(void);
/* What kdl-loaded code calls as __tls_get_addr (tls_x86_64.S). */
KDL_HIDDEN void *kdl_tls_get_addr_entry(struct kdl_tls_index *ti);

#endif

/* tls.h - thread-local storage of the objects kdl loads (dynamic model). */
#ifndef KDL_TLS_H
#define KDL_TLS_H

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
struct kdl_obj;
KDL_HIDDEN void *kdl_tls_sym_addr(const struct kdl_obj *o, size_t offset);
/* The TLSDESC resolver for kdl's modules (tls_x86_64.S); the descriptor's
 * argument is a struct kdl_tls_index that lives as long as the module. */
KDL_HIDDEN void kdl_tlsdesc_dynamic(void);
/* What kdl-loaded code calls as __tls_get_addr (tls_x86_64.S). */
KDL_HIDDEN void *kdl_tls_get_addr_entry(struct kdl_tls_index *ti);

#endif

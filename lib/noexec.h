/* noexec.h - the noexec rule (noexec.c): bytes from a file on a noexec
 * mount are not executed through kdl, neither from the file's pages (the
 * kernel refuses those) nor from a copy of them (these checks). */
#ifndef KDL_NOEXEC_H
#define KDL_NOEXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "kdl_internal.h"

struct kdl_elf;
struct kdl_source;
struct kdl_src;

/* The file behind @fd lies on a noexec mount (or cannot be asked). */
KDL_HIDDEN bool kdl_fd_noexec(int fd);
/* Some mapping in the buffer is of a file on a noexec mount. */
KDL_HIDDEN bool kdl_mem_noexec(const void *buf, size_t len);
/* -1 with kdl_error set when @s holds such bytes and @e has an
 * executable segment; else 0. */
KDL_HIDDEN int kdl_noexec_check(const struct kdl_source *s, const struct kdl_elf *e,
				const char *name);
/* " (the file lies on a noexec mount)" when that explains a mapping's
 * failure with @err, else "". */
KDL_HIDDEN const char *kdl_noexec_hint(int err, const struct kdl_src *src);

#endif

/* kdl_internal.h - declarations shared by libkdl's files. */
#ifndef KDL_INTERNAL_H
#define KDL_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kdl.h"

#define KDL_HIDDEN __attribute__((visibility("hidden")))

/* error.c: one sink, one per-thread buffer.  Messages read
 * "<object>: <what>: found X, expected Y". */
KDL_HIDDEN void kdl_set_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
KDL_HIDDEN void kdl_clear_error(void);
KDL_HIDDEN const char *kdl_error_peek(void);

/* io.c: 0 when all @len bytes at @off were read, else -1 (errno set, or
 * 0 at end of file). */
KDL_HIDDEN int kdl_pread_all(int fd, void *buf, size_t len, uint64_t off);

/* path.c: "@dir/@name" into @out of @len bytes; false when it does not fit. */
KDL_HIDDEN bool kdl_path_join(char *out, size_t len, const char *dir, const char *name);

/* backend.c */
struct kdl_backend_state {
	int kind;		/* KDL_BACKEND_* */
	int dev_fd;		/* /dev/kdl, or -1 */
	unsigned int abi_version;
	uint64_t features;
};
/* Pick the backend for a load with @flags (KDL_LOAD_BACKEND_*), honouring
 * KDL_BACKEND=user|kernel.  Returns KDL_BACKEND_* or -1 with the error set. */
KDL_HIDDEN int kdl_backend_pick(unsigned int flags);
KDL_HIDDEN const struct kdl_backend_state *kdl_backend_kernel(void);

#endif /* KDL_INTERNAL_H */

/* error.c - the error sink behind kdl_error(). */
#include <stdio.h>

#include "kdl_internal.h"

static __thread char err_buf[1024];
static __thread int err_pending;

void kdl_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err_buf, sizeof(err_buf), fmt, ap);
	va_end(ap);
	err_pending = 1;
}

void kdl_clear_error(void)
{
	err_pending = 0;
}

/* Like dlerror(): the last error of this thread, once; then NULL. */
const char *kdl_error(void)
{
	if (!err_pending)
		return NULL;
	err_pending = 0;
	return err_buf;
}

/* The pending message, left pending (NULL if none): a caller that tries
 * another way keeps the first failure's words. */
const char *kdl_error_peek(void)
{
	return err_pending ? err_buf : NULL;
}

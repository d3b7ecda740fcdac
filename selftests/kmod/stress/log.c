// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - the counts of results, and the findings: failures (kept, the
 * first few with their request) and notes (documented gray areas).
 */
#include <stdarg.h>

#include "stress.h"

const char *const cnt_name[NCNT] = {
	"ioctl QUERY", "ioctl MAP", "ioctl UNMAP", "ioctl MAP_BATCH",
	"ioctl unknown cmd", "ioctl on non-kdl fd", "uring MAP",
	"uring UNMAP", "uring MAP_BATCH", "uring unknown op/rsvd",
	"uring on non-kdl fd", "racer munmap", "racer mprotect",
	"racer mremap", "racer madvise", "racer touch (process_vm_*v)",
	"racer mmap(/dev/kdl)", "racer squat (NOREPLACE)", "fork child",
	"fd churn",
};

void count(struct worker *w, int c, int err)
{
	w->cnt[c][eidx(err)]++;
	if (c < C_REQUESTS) {
		w->nreq++;
		atomic_fetch_add_explicit(&S->progress, 1,
					  memory_order_relaxed);
	}
}

static void log_append(char *buf, size_t cap, size_t *len, const char *fmt,
		       va_list ap)
{
	if (*len < cap - 1)
		*len += vsnprintf(buf + *len, cap - *len, fmt, ap);
	if (*len >= cap)
		*len = cap - 1;
}

/* A finding: kept (the first few, with the request), counted, failed. */
void __attribute__((format(printf, 2, 3)))
fail(struct worker *w, const char *fmt, ...)
{
	long n = atomic_fetch_add(&S->fails, 1);
	va_list ap;
	char head[160];

	if (n >= 40)
		return;
	snprintf(head, sizeof(head), "FAIL worker %d iteration %lu (%s): ",
		 w ? w->id : -1, w ? (unsigned long)w->iter : 0UL,
		 w ? w->flow : "main");
	pthread_mutex_lock(&S->log_lock);
	if (S->log_len < sizeof(S->log) - 1)
		S->log_len += snprintf(S->log + S->log_len,
				       sizeof(S->log) - S->log_len, "%s", head);
	va_start(ap, fmt);
	log_append(S->log, sizeof(S->log), &S->log_len, fmt, ap);
	va_end(ap);
	if (S->log_len < sizeof(S->log) - 2)
		S->log[S->log_len++] = '\n';
	pthread_mutex_unlock(&S->log_lock);
}

/* A documented gray area hit (not a failure unless KDL_STRESS_STRICT). */
void note(struct worker *w, const char *what, int err)
{
	static const char *seen[32];
	static int nseen;
	int i;

	atomic_fetch_add(&S->notes, 1);
	pthread_mutex_lock(&S->log_lock);
	for (i = 0; i < nseen; i++)
		if (seen[i] == what)
			break;
	if (i == nseen && nseen < 32) {
		seen[nseen++] = what;
		if (S->notes_len < sizeof(S->notes_log) - 1)
			S->notes_len += snprintf(S->notes_log + S->notes_len,
				sizeof(S->notes_log) - S->notes_len,
				"NOTE (first: worker %d iteration %lu, %s): %s\n",
				w ? w->id : -1,
				w ? (unsigned long)w->iter : 0UL, ename(err),
				what);
	}
	pthread_mutex_unlock(&S->log_lock);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * errset.c - sets of errnos (bit 0: success), and their names.
 */
#include <stdio.h>

#include "stress.h"

int eidx(int e)
{
	return e < 0 || e >= NERR ? NERR - 1 : e;
}

void es_add(struct eset *s, int e)
{
	e = eidx(e);
	s->w[e / 64] |= 1ULL << (e % 64);
}

bool es_has(const struct eset *s, int e)
{
	e = eidx(e);
	return s->w[e / 64] & (1ULL << (e % 64));
}

bool es_empty(const struct eset *s)
{
	return !(s->w[0] | s->w[1] | s->w[2]);
}

const char *ename(int e)
{
	static const char *const names[NERR] = {
		[0] = "OK", [EPERM] = "EPERM", [ENOENT] = "ENOENT",
		[EINTR] = "EINTR", [EIO] = "EIO", [E2BIG] = "E2BIG",
		[EBADF] = "EBADF", [EAGAIN] = "EAGAIN", [ENOMEM] = "ENOMEM",
		[EACCES] = "EACCES", [EFAULT] = "EFAULT", [EBUSY] = "EBUSY",
		[EEXIST] = "EEXIST", [ENODEV] = "ENODEV", [EINVAL] = "EINVAL",
		[ENOTTY] = "ENOTTY", [ENOSPC] = "ENOSPC", [ESRCH] = "ESRCH",
		[EOPNOTSUPP] = "EOPNOTSUPP", [EOVERFLOW] = "EOVERFLOW",
		[ECANCELED] = "ECANCELED", [ENXIO] = "ENXIO",
		[ENOSYS] = "ENOSYS", [ETXTBSY] = "ETXTBSY",
	};
	static char other[NERR][8];

	e = eidx(e);
	if (names[e])
		return names[e];
	if (!other[e][0])
		snprintf(other[e], sizeof(other[e]), "E%d", e);
	return other[e];
}

void es_str(const struct eset *s, char *buf, size_t len)
{
	size_t n = 0;
	int e;

	buf[0] = 0;
	for (e = 0; e < NERR && n < len; e++)
		if (es_has(s, e))
			n += snprintf(buf + n, len - n, "%s%s", n ? "|" : "",
				      ename(e));
	if (!n)
		snprintf(buf, len, "-");
}

/* io.c - read exactly what was asked for, at an offset. */
#include <errno.h>
#include <unistd.h>

#include "kdl_internal.h"

int kdl_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, (char *)buf + done, len - done, off + done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += r;
	}
	return 0;
}

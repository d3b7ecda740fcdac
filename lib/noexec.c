/* noexec.c - a copy must not launder a noexec mount: an image whose bytes
 * come from a file there (through an unaligned offset, a zip entry, or a
 * buffer mapping it) is refused when it has an executable segment, as
 * mmap refuses that file's pages to glibc's dlopen.  Zero-copy paths need
 * no check: the kernel judges the file itself at mmap time. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "elf_image.h"
#include "kdl_internal.h"
#include "map.h"
#include "noexec.h"
#include "source.h"

/* The mount of @fd's file is noexec; @unknown when it cannot be asked. */
static bool fd_mount_noexec(int fd, bool unknown)
{
	struct statvfs sv;

	return fstatvfs(fd, &sv) ? unknown : (sv.f_flag & ST_NOEXEC) != 0;
}

bool kdl_fd_noexec(int fd)
{
	/* An fd we cannot ask about is treated as noexec: never trust. */
	return fd_mount_noexec(fd, true);
}

/* A page that may be a file's: a present file or shared page, or one not
 * present and so unknown. */
static bool maybe_file_page(uint64_t ent)
{
	bool present = ent >> 63 & 1, swapped = ent >> 62 & 1, file = ent >> 61 & 1;

	return (present && file) || (!present && !swapped);
}

/* 1 if a mapping overlapping [a, a+len) may not become executable: its
 * VmFlags in /proc/self/smaps lack "me" (VM_MAYEXEC), which the kernel
 * clears for a mapping of a file on a noexec mount and nothing else a
 * readable buffer can be. */
static int smaps_forbid_exec(uintptr_t a, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	bool in = false;
	int ret = 0;

	if (!f)
		return 1;
	while (!ret && fgets(line, sizeof(line), f)) {
		uintptr_t lo, hi;
		char c;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR "%c", &lo, &hi, &c) == 3 && c == ' ') {
			if (lo >= a + len)
				break;
			in = hi > a;
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			ret = !strstr(line + 8, " me");
		}
		/* The rest of a line longer than the buffer. */
		while (!strchr(line, '\n') && fgets(line, sizeof(line), f))
			;
	}
	fclose(f);
	return ret;
}

bool kdl_mem_noexec(const void *buf, size_t len)
{
	uintptr_t a = (uintptr_t)buf;

	return kdl_pagemap_any(a, len, maybe_file_page) && smaps_forbid_exec(a, len);
}

int kdl_noexec_check(const struct kdl_source *s, const struct kdl_elf *e, const char *name)
{
	if (!s->noexec)
		return 0;
	for (unsigned int i = 0; i < e->nload; i++) {
		if (e->load[i].flags & PF_X) {
			kdl_set_error("%s: its bytes come from a file on a noexec mount; an executable segment may not be mapped from it, nor from a copy of it (%s)",
				      name, strerror(EPERM));
			return -1;
		}
	}
	return 0;
}

const char *kdl_noexec_hint(int err, const struct kdl_src *src)
{
	bool noexec;

	if (err != EPERM)
		return "";
	if (src->fd >= 0)
		noexec = fd_mount_noexec(src->fd, false);
	else
		noexec = src->addr && smaps_forbid_exec(src->addr, src->size);
	return noexec ? " (the file lies on a noexec mount)" : "";
}

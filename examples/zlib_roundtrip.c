/*
 * zlib_roundtrip.c - load Debian's libz.so.1 with libkdl (not with glibc's
 * dlopen), compress and uncompress a buffer through function pointers from
 * kdl_sym, and say what happened: which backend mapped it, where, sizes.
 * Exits non-zero on any failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdl.h"

typedef int (*compress2_fn)(unsigned char *, unsigned long *,
			    const unsigned char *, unsigned long, int);
typedef int (*uncompress_fn)(unsigned char *, unsigned long *,
			     const unsigned char *, unsigned long);
typedef unsigned long (*bound_fn)(unsigned long);
typedef const char *(*version_fn)(void);

#define LEN (64 * 1024)

static int fail(const char *what)
{
	const char *e = kdl_error();

	fprintf(stderr, "zlib_roundtrip: %s: %s\n", what, e ? e : "failed");
	return 1;
}

int main(void)
{
	static unsigned char in[LEN], out[LEN];
	unsigned long clen, ulen = LEN;
	uintptr_t range[2];
	unsigned char *c;
	int backend, rc;
	void *h;

	h = kdl_open("libz.so.1", RTLD_NOW | RTLD_LOCAL, NULL);
	if (!h)
		return fail("kdl_open libz.so.1");
	compress2_fn z_compress2 = (compress2_fn)kdl_sym(h, "compress2");
	uncompress_fn z_uncompress = (uncompress_fn)kdl_sym(h, "uncompress");
	bound_fn z_bound = (bound_fn)kdl_sym(h, "compressBound");
	version_fn z_version = (version_fn)kdl_sym(h, "zlibVersion");
	if (!z_compress2 || !z_uncompress || !z_bound || !z_version)
		return fail("kdl_sym");
	if (kdl_info(h, KDL_INFO_BACKEND, &backend) ||
	    kdl_info(h, KDL_INFO_RANGE, range))
		return fail("kdl_info");
	printf("loaded libz.so.1 (zlib %s) with kdl, %s backend, at %#lx-%#lx (%lu KiB)\n",
	       z_version(), backend == KDL_BACKEND_KERNEL ? "kernel (/dev/kdl)" : "userspace",
	       (unsigned long)range[0], (unsigned long)range[1],
	       (unsigned long)(range[1] - range[0]) / 1024);

	for (size_t i = 0; i < LEN; i++)
		in[i] = "kdl loads libraries by itself. "[i % 31] ^ (i / 4096);
	clen = z_bound(LEN);
	c = malloc(clen);
	if (!c)
		return 1;
	rc = z_compress2(c, &clen, in, LEN, 9);
	if (rc != 0) {
		fprintf(stderr, "zlib_roundtrip: compress2: %d\n", rc);
		return 1;
	}
	rc = z_uncompress(out, &ulen, c, clen);
	if (rc != 0 || ulen != LEN || memcmp(in, out, LEN) != 0) {
		fprintf(stderr, "zlib_roundtrip: uncompress: %d, %lu bytes\n", rc, ulen);
		return 1;
	}
	printf("compressed %d bytes to %lu, uncompressed back to %lu: roundtrip ok\n",
	       LEN, clen, ulen);
	free(c);
	if (kdl_close(h))
		return fail("kdl_close");
	return 0;
}

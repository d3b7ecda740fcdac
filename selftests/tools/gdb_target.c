/*
 * gdb_target.c - the program kdl_gdb.bats debugs (and kdl_perf.bats profiles): loads libz.so.1 through
 * libkdl, calls deflate, closes it.
 *
 *   gdb_target file     kdl_open("libz.so.1")
 *   gdb_target mem      kdl_memopen of a heap copy (loaded from a memfd copy)
 *   gdb_target open P   kdl_open(P): libz from elsewhere, "zip!/entry" say
 *   gdb_target wait F   kdl_open, print the pid, deflate until file F exists
 *   gdb_target tls FX   kdl_open(FX), a library with a TLS variable
 *
 * gdb_loaded() runs while the library is loaded, gdb_closed() after
 * kdl_close: places for breakpoints the script can rely on.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "kdl.h"

typedef int (*deflate_init_fn)(z_stream *, int, const char *, int);
typedef int (*deflate_fn)(z_stream *, int);
typedef int (*deflate_end_fn)(z_stream *);

__attribute__((noinline)) void gdb_loaded(void)
{
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void gdb_closed(void)
{
	__asm__ volatile("" ::: "memory");
}

static void *must_sym(void *h, const char *name)
{
	void *p = kdl_sym(h, name);

	if (!p) {
		fprintf(stderr, "gdb_target: %s\n", kdl_error());
		exit(1);
	}
	return p;
}

/* One deflate of a small buffer through the kdl-loaded libz. */
static int squeeze(void *h)
{
	deflate_init_fn init = (deflate_init_fn)must_sym(h, "deflateInit_");
	deflate_fn def = (deflate_fn)must_sym(h, "deflate");
	deflate_end_fn end = (deflate_end_fn)must_sym(h, "deflateEnd");
	unsigned char in[4096], out[8192];
	z_stream z = { 0 };
	int r;

	memset(in, 'k', sizeof(in));
	if (init(&z, 6, ZLIB_VERSION, (int)sizeof(z)) != Z_OK)
		return -1;
	z.next_in = in;
	z.avail_in = sizeof(in);
	z.next_out = out;
	z.avail_out = sizeof(out);
	r = def(&z, Z_FINISH);
	end(&z);
	return r == Z_STREAM_END ? (int)z.total_out : -1;
}

static void *open_mem(void)
{
	const char *path = "/lib/x86_64-linux-gnu/libz.so.1";
	struct stat st;
	void *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) || !(buf = malloc(st.st_size)) ||
	    read(fd, buf, st.st_size) != st.st_size) {
		perror(path);
		exit(1);
	}
	close(fd);
	return kdl_memopen(buf, st.st_size, RTLD_NOW, NULL);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "file";
	void *h;
	int n;

	if (!strcmp(mode, "mem") || !strcmp(mode, "spin"))
		h = open_mem();
	else if ((!strcmp(mode, "tls") || !strcmp(mode, "open")) && argc > 2)
		h = kdl_open(argv[2], RTLD_NOW, NULL);
	else
		h = kdl_open("libz.so.1", RTLD_NOW, NULL);
	if (!h) {
		fprintf(stderr, "gdb_target: %s\n", kdl_error());
		return 1;
	}
	if (!strcmp(mode, "spin")) {
		unsigned long (*adler)(unsigned long, const unsigned char *, unsigned int) =
			(unsigned long (*)(unsigned long, const unsigned char *, unsigned int))
				must_sym(h, "adler32");
		static unsigned char buf[1 << 20];
		unsigned long a = 1;

		for (int i = 0; i < 300; i++)
			a = adler(a, buf, sizeof(buf));
		printf("adler32 %lx\n", a);
		return 0;
	}
	if (!strcmp(mode, "tls")) {
		int (*get)(void) = (int (*)(void))must_sym(h, "fx_tls_get");

		printf("tls %d\n", get());
		gdb_loaded();
		kdl_close(h);
		gdb_closed();
		return 0;
	}
	if (!strcmp(mode, "wait") && argc > 2) {
		printf("pid %d\n", (int)getpid());
		fflush(stdout);
		while (access(argv[2], F_OK)) {
			squeeze(h);
			usleep(20000);
		}
	}
	n = squeeze(h);
	printf("deflated 4096 bytes into %d\n", n);
	fflush(stdout);
	gdb_loaded();
	kdl_close(h);
	gdb_closed();
	return n > 0 ? 0 : 1;
}

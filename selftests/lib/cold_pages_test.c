/*
 * cold_pages_test.c - a load without the relocation cache copies no page
 * of a library that glibc's own load of it leaves shared.  kdl takes the
 * copy-on-write copies its relocations cause in advance (reloc.c,
 * prefault_writes); this checks that it takes no more than glibc's
 * relocations do, page for page in count, on real libraries.  Each side
 * runs in a fresh child: glibc dlopen(RTLD_NOW) against kdl_open with
 * KDL_CACHE=0, the library's file-backed mappings' Anonymous kB compared
 * (Anonymous, not Private_Dirty: on tmpfs or 9p a file page can count as
 * dirty though nothing copied it).
 */
#include "kdl_test.h"

struct copied {
	char lib[64];
	bool kdl;
};

/* Anonymous kB of the mappings of files whose base name starts with
 * @soname (libsqlite3.so.0 is libsqlite3.so.0.8.6 on disk). */
static unsigned long copied_kb(const char *soname)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[768], path[512];
	unsigned long kb, sum = 0;
	bool in = false;

	if (!f)
		return ~0ul;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %511s", &s, &e, path) == 3)
			in = !strncmp(strrchr(path, '/') ? strrchr(path, '/') + 1 : path, soname,
				      strlen(soname));
		else if (sscanf(line, "%lx-%lx ", &s, &e) == 2)
			in = false;
		else if (in && sscanf(line, "Anonymous: %lu kB", &kb) == 1)
			sum += kb;
	}
	fclose(f);
	return sum;
}

static void child(int fd, void *arg)
{
	const struct copied *c = arg;
	char out[64];
	void *h;

	setenv("KDL_CACHE", "0", 1);
	h = c->kdl ? kdl_open(c->lib, RTLD_NOW | RTLD_LOCAL, NULL) :
		     dlopen(c->lib, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		write_str(fd, "ERR");
		return;
	}
	snprintf(out, sizeof(out), "%lu", copied_kb(c->lib));
	write_str(fd, out);
}

static long copied_by(const char *lib, bool kdl)
{
	struct copied c = { .kdl = kdl };
	char out[64];

	snprintf(c.lib, sizeof(c.lib), "%s", lib);
	if (run_in_child(child, &c, out, sizeof(out)) != 0 || !strcmp(out, "ERR") || !*out)
		return -1;
	return atol(out);
}

static void check(struct __test_metadata *_metadata, const char *soname)
{
	long g, k;

	if (KDL_TEST_GLIBC)
		SKIP(return, "compares kdl with glibc");
	g = copied_by(soname, false);
	if (g < 0)
		SKIP(return, "%s: glibc cannot load it here", soname);
	k = copied_by(soname, true);
	ASSERT_LE(0, k);
	TH_LOG("%s: copied pages: glibc %ld kB, kdl %ld kB", soname, g, k);
	ASSERT_LT(0, g);
	ASSERT_LE(k, g);
}

TEST(libpython_copies_no_page_glibc_leaves_shared) { check(_metadata, "libpython3.11.so.1.0"); }
TEST(libcrypto_copies_no_page_glibc_leaves_shared) { check(_metadata, "libcrypto.so.3"); }
TEST(sqlite_copies_no_page_glibc_leaves_shared) { check(_metadata, "libsqlite3.so.0"); }

TEST_HARNESS_MAIN

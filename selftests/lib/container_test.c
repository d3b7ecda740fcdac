/* container_test.c - libraries inside zip containers: zero-copy when
 * stored page aligned, one copy when stored unaligned, refusal when
 * compressed, and a table of hostile archives that all fail cleanly. */
#include "kdl_leaks.h"
#include "kdl_src_test.h"
#include "kselftest_harness.h"

/* A small zip writer for the tests: entries, then the central directory
 * and the end record; the offsets of each structure are kept so a test
 * can break exactly one field. */
struct zip_build {
	unsigned char *b;
	size_t len, cap;
	size_t loc[4], cen[4], eocd, cd_off;
	size_t data[4];
	int n;
};

static void put(struct zip_build *z, const void *p, size_t n)
{
	if (z->len + n > z->cap) {
		z->cap = (z->len + n) * 2;
		z->b = realloc(z->b, z->cap);
	}
	memcpy(z->b + z->len, p, n);
	z->len += n;
}

static void put16(struct zip_build *z, uint16_t v) { put(z, &v, 2); }
static void put32(struct zip_build *z, uint32_t v) { put(z, &v, 4); }
static void set16(struct zip_build *z, size_t at, uint16_t v) { memcpy(z->b + at, &v, 2); }
static void set32(struct zip_build *z, size_t at, uint32_t v) { memcpy(z->b + at, &v, 4); }

struct zent {
	const char *name;
	const void *data;
	size_t len;
	uint16_t method;
	bool page_align;
};

static void zip_build(struct zip_build *z, const struct zent *e, int n)
{
	memset(z, 0, sizeof(*z));
	z->n = n;
	for (int i = 0; i < n; i++) {
		size_t nlen = strlen(e[i].name), pad = 0;

		z->loc[i] = z->len;
		if (e[i].page_align)
			pad = (4096 - (z->len + 30 + nlen + 4) % 4096) % 4096 + 4;
		put32(z, 0x04034b50);
		put16(z, 20); put16(z, 0); put16(z, e[i].method);
		put16(z, 0); put16(z, 0x21);
		put32(z, 0); put32(z, e[i].len); put32(z, e[i].len);
		put16(z, nlen); put16(z, pad);
		put(z, e[i].name, nlen);
		if (pad) {
			put16(z, 0xd935);
			put16(z, pad - 4);
			for (size_t k = 4; k < pad; k++)
				put(z, "", 1);
		}
		z->data[i] = z->len;
		put(z, e[i].data, e[i].len);
	}
	z->cd_off = z->len;
	for (int i = 0; i < n; i++) {
		size_t nlen = strlen(e[i].name);

		z->cen[i] = z->len;
		put32(z, 0x02014b50);
		put16(z, 0x031e); put16(z, 20); put16(z, 0); put16(z, e[i].method);
		put16(z, 0); put16(z, 0x21);
		put32(z, 0); put32(z, e[i].len); put32(z, e[i].len);
		put16(z, nlen); put16(z, 0); put16(z, 0);
		put16(z, 0); put16(z, 0); put32(z, 0);
		put32(z, z->loc[i]);
		put(z, e[i].name, nlen);
	}
	z->eocd = z->len;
	put32(z, 0x06054b50);
	put16(z, 0); put16(z, 0);
	put16(z, n); put16(z, n);
	put32(z, z->eocd - z->cd_off); put32(z, z->cd_off);
	put16(z, 0);
}

static const char *write_tmp(const struct zip_build *z, char *path)
{
	int fd;

	strcpy(path, "/tmp/kdl-container-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, z->b, z->len) != (ssize_t)z->len)
		abort();
	close(fd);
	return path;
}

FIXTURE(zip) {
	unsigned char *lib;
	size_t len;
	struct zip_build z;
	char path[64];
	char name[128];
};

FIXTURE_SETUP(zip)
{
	static const char text[] = "a text file beside the library\n";
	struct zent e[2];

	self->lib = slurp(ZLIB_PATH, &self->len);
	ASSERT_NE(NULL, self->lib);
	e[0] = (struct zent){ "lib/x86_64/libz.so.1", self->lib, self->len, 0, true };
	e[1] = (struct zent){ "lib/x86_64/notes.txt", text, sizeof(text), 0, false };
	zip_build(&self->z, e, 2);
	self->path[0] = '\0';
}

FIXTURE_TEARDOWN(zip)
{
	if (self->path[0])
		unlink(self->path);
	free(self->z.b);
	free(self->lib);
}

TEST_F(zip, aligned_stored_entry_maps_the_containers_pages)
{
	struct backing_report r;
	uintptr_t range[2];
	struct stat st;
	void *h;

	ASSERT_EQ(0, self->z.data[0] % 4096);
	write_tmp(&self->z, self->path);
	snprintf(self->name, sizeof(self->name), "%s!/lib/x86_64/libz.so.1", self->path);
	h = kdl_open(self->name, RTLD_NOW, NULL);
	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(1, zero_copy_of(h));
	EXPECT_STREQ("1.2.13", zlib_version_of(h));
	/* The text pages are the container's page-cache pages: same inode,
	 * file offsets inside the entry's data. */
	object_range(h, range);
	backing_of_range(range[0], range[1], self->path, &r);
	ASSERT_EQ(0, stat(self->path, &st));
	EXPECT_LT(0, r.matching);
	EXPECT_EQ(0, r.other_files);
	EXPECT_EQ((uint64_t)st.st_ino, r.inode);
	EXPECT_EQ(self->z.data[0], r.min_offset);
	EXPECT_EQ(0, kdl_close(h));
}

TEST_F(zip, unaligned_stored_entry_loads_through_one_copy)
{
	struct zent e[1] = { { "lib/x86_64/libz.so.1", self->lib, self->len, 0, false } };
	void *h;

	free(self->z.b);
	zip_build(&self->z, e, 1);
	ASSERT_NE(0, self->z.data[0] % 4096);
	write_tmp(&self->z, self->path);
	snprintf(self->name, sizeof(self->name), "%s!/lib/x86_64/libz.so.1", self->path);
	h = kdl_open(self->name, RTLD_NOW, NULL);
	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(0, zero_copy_of(h));
	EXPECT_STREQ("1.2.13", zlib_version_of(h));
	EXPECT_EQ(0, kdl_close(h));
}

/* zip -0 as a user would run it: stored, not aligned. */
TEST(zip_tool_output_loads_through_the_copy_path)
{
	char dir[] = "/tmp/kdl-zip0-XXXXXX", cmd[512], name[256];
	const char *e;
	Dl_info info;
	void *h, *z;

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir -p lib/x86_64 && cp %s /lib/x86_64-linux-gnu/libpng16.so.16 lib/x86_64/ && "
		 "zip -q -0 app.zip lib/x86_64/libpng16.so.16 lib/x86_64/libz.so.1 && "
		 "zip -q appz.zip lib/x86_64/libz.so.1", dir, ZLIB_PATH);
	ASSERT_EQ(0, system(cmd));
	snprintf(name, sizeof(name), "%s/app.zip!/lib/x86_64/libpng16.so.16", dir);
	h = kdl_open(name, RTLD_NOW, NULL);
	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(0, zero_copy_of(h));
	EXPECT_NE(NULL, kdl_sym(h, "png_get_libpng_ver"));
	/* libpng's DT_NEEDED libz.so.1 came from the same container. */
	z = kdl_sym(h, "zlibVersion");
	ASSERT_NE(NULL, z);
	ASSERT_NE(0, kdl_addr(z, &info));
	EXPECT_NE(NULL, strstr(info.dli_fname, "app.zip!/lib/x86_64/libz.so.1")) {
		TH_LOG("zlib came from %s", info.dli_fname);
	}
	EXPECT_EQ(0, kdl_close(h));
	/* A deflated entry is refused, naming the reason. */
	snprintf(name, sizeof(name), "%s/appz.zip!/lib/x86_64/libz.so.1", dir);
	EXPECT_EQ(NULL, kdl_open(name, RTLD_NOW, NULL));
	e = kdl_error();
	ASSERT_NE(NULL, e);
	EXPECT_NE(NULL, strstr(e, "compressed"));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	EXPECT_EQ(0, system(cmd));
}

struct hostile {
	const char *name;
	void (*mutate)(struct zip_build *z);
	const char *expect;
	const char *entry;	/* default lib/x86_64/libz.so.1 */
};

static void h_not_zip(struct zip_build *z) { memset(z->b, 'x', z->len); }
static void h_truncated(struct zip_build *z) { z->len = z->eocd + 10; }
static void h_cd_offset(struct zip_build *z) { set32(z, z->eocd + 16, z->len + 100); }
static void h_cd_size(struct zip_build *z) { set32(z, z->eocd + 12, z->len); }
static void h_counts(struct zip_build *z) { set16(z, z->eocd + 8, 1); }
static void h_lho(struct zip_build *z) { set32(z, z->cen[0] + 42, z->cd_off + 10); }
static void h_csize(struct zip_build *z) { set32(z, z->cen[0] + 20, z->cd_off + 1); set32(z, z->cen[0] + 24, z->cd_off + 1); }
static void h_overlap(struct zip_build *z) { set32(z, z->cen[1] + 42, z->loc[0]); }
static void h_dup(struct zip_build *z)
{
	/* Rename the second entry to the first one's name (same length). */
	memcpy(z->b + z->cen[1] + 46, "lib/x86_64/libz.so.1", 20);
}
static void h_sizes(struct zip_build *z) { set32(z, z->cen[0] + 24, z->data[1] - z->data[0] + 5); }
static void h_loc_sig(struct zip_build *z) { set32(z, z->loc[0], 0x12345678); }
static void h_method(struct zip_build *z) { set16(z, z->loc[0] + 8, 8); }
static void h_zip64(struct zip_build *z) { set16(z, z->eocd + 8, 0xffff); set16(z, z->eocd + 10, 0xffff); }
static void h_encrypted(struct zip_build *z) { set16(z, z->cen[0] + 8, 1); }
static void h_cen_sig(struct zip_build *z) { set32(z, z->cen[1], 0); }
static void h_name_len(struct zip_build *z) { set16(z, z->cen[1] + 28, 5000); }
static void h_comment(struct zip_build *z) { set16(z, z->eocd + 20, 100); }
static void h_disk(struct zip_build *z) { set16(z, z->eocd + 4, 1); }
static void h_extra(struct zip_build *z) { set16(z, z->loc[0] + 28, 0xffff); }
static void h_none(struct zip_build *z) { (void)z; }
static void h_deflate(struct zip_build *z) { set16(z, z->loc[0] + 8, 8); set16(z, z->cen[0] + 10, 8); }

static const struct hostile hostile[] = {
	{ "not a zip at all", h_not_zip, "not a zip file", NULL },
	{ "truncated end record", h_truncated, "not a zip file", NULL },
	{ "central directory past the end", h_cd_offset, "central directory lies outside the file", NULL },
	{ "central directory larger than the file", h_cd_size, "central directory lies outside the file", NULL },
	{ "end record counts disagree", h_counts, "entry counts", NULL },
	{ "local header past the data area", h_lho, "outside the data area", NULL },
	{ "entry size reaching into the directory", h_csize, "outside the data area", NULL },
	{ "two entries on one local header", h_overlap, "entries overlap", NULL },
	{ "one name twice", h_dup, "present twice", NULL },
	{ "stored entry whose sizes disagree", h_sizes, "different stored and real sizes", NULL },
	{ "bad local header signature", h_loc_sig, "local header", NULL },
	{ "local and central methods differ", h_method, "disagree on the method", NULL },
	{ "zip64 markers without zip64 records", h_zip64, "zip64", NULL },
	{ "encrypted entry", h_encrypted, "encrypted", NULL },
	{ "bad central header signature", h_cen_sig, "bad signature", NULL },
	{ "name running past the directory", h_name_len, "runs past the directory", NULL },
	{ "comment length past the end", h_comment, "not a zip file", NULL },
	{ "multi-disk archive", h_disk, "multi-disk", NULL },
	{ "local extra field pushing data into the directory", h_extra, "runs into the central directory", NULL },
	{ "no such entry", h_none, "no entry named lib/x86_64/libnone.so", "lib/x86_64/libnone.so" },
	{ "compressed entry", h_deflate, "compressed", NULL },
};

TEST_F(zip, hostile_archives_fail_cleanly)
{
	int backend;

	ASSERT_EQ(0, kdl_info(NULL, KDL_INFO_BACKEND, &backend));
	EXPECT_EQ(NULL, kdl_open("libkdl-warm-up-none.so", RTLD_NOW, NULL));
	kdl_error();
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		const struct hostile *c = &hostile[i];
		struct zip_build z = self->z;
		static char before[LEAK_MAPS_MAX], after[LEAK_MAPS_MAX];
		char path[64], name[160];
		const char *e;
		int fds;

		z.b = malloc(self->z.len);
		memcpy(z.b, self->z.b, self->z.len);
		c->mutate(&z);
		write_tmp(&z, path);
		free(z.b);
		snprintf(name, sizeof(name), "%s!/%s", path, c->entry ? c->entry : "lib/x86_64/libz.so.1");
		leak_maps_snapshot(before);
		fds = leak_fd_count();
		EXPECT_EQ(NULL, kdl_open(name, RTLD_NOW, NULL)) {
			TH_LOG("%s: loaded", c->name);
		}
		e = kdl_error();
		leak_maps_snapshot(after);
		ASSERT_NE(NULL, e) {
			TH_LOG("%s: no error", c->name);
		}
		EXPECT_NE(NULL, strstr(e, c->expect)) {
			TH_LOG("%s: \"%s\" lacks \"%s\"", c->name, e, c->expect);
		}
		EXPECT_NE(NULL, strstr(e, path)) {
			TH_LOG("%s: \"%s\" does not name the file", c->name, e);
		}
		EXPECT_STREQ(before, after) {
			TH_LOG("%s: mappings changed", c->name);
		}
		EXPECT_EQ(fds, leak_fd_count()) {
			TH_LOG("%s: fd leaked", c->name);
		}
		unlink(path);
	}
}

TEST_HARNESS_MAIN

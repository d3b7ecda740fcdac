/*
 * real_zlib_test.c - Debian's libz.so.1 loaded with kdl (by soname, so
 * through ld.so.cache) and exercised through kdl_sym pointers: one-shot
 * and streaming (gzip) round trips, checksums, and byte-for-byte the same
 * output as the copy glibc loads.
 */
#include <zlib.h>

#include "kdl_test.h"
#include "kselftest_harness.h"

#define ZAPI(X) X(zlibVersion) X(compressBound) X(compress2) X(uncompress) \
	X(crc32) X(adler32) X(deflateInit2_) X(deflate) X(deflateEnd) \
	X(inflateInit2_) X(inflate) X(inflateEnd)

struct zapi {
	ZAPI(KT_API_FIELD)
};

static int zbind(struct zapi *api, void *h, kt_lookup_fn lookup, const char **missing)
{
	ZAPI(KT_API_BIND)
	return 0;
}

#define SAMPLE (128 * 1024)

FIXTURE(zlib) {
	void *h, *g;
	struct zapi k, d;
	unsigned char *in;
};

FIXTURE_SETUP(zlib)
{
	self->h = KDL_OPEN_OK("libz.so.1", RTLD_NOW);
	KT_BIND_OK(zbind, &self->k, self->h, kt_kdl_lookup);
	self->g = DL_OPEN_OK("libz.so.1");
	KT_BIND_OK(zbind, &self->d, self->g, kt_dl_lookup);
	self->in = malloc(SAMPLE);
	ASSERT_NE(NULL, self->in);
	fill_sample(self->in, SAMPLE, 1);
}

FIXTURE_TEARDOWN(zlib)
{
	free(self->in);
	if (self->g)
		dlclose(self->g);
	if (self->h)
		EXPECT_EQ(0, kdl_close(self->h));
}

TEST_F(zlib, loaded_its_own_copy)
{
	Dl_info info;

	EXPECT_SEPARATE_COPY(self->k.compress2, self->d.compress2);
	ASSERT_NE(0, kdl_addr((void *)self->k.compress2, &info));
	ASSERT_NE(NULL, info.dli_fname);
	EXPECT_NE(NULL, strstr(info.dli_fname, "libz.so"));
	EXPECT_STREQ(self->d.zlibVersion(), self->k.zlibVersion());
}

TEST_F(zlib, compress_uncompress_roundtrip)
{
	uLongf clen = self->k.compressBound(SAMPLE), ulen = SAMPLE;
	unsigned char *c = malloc(clen), *u = malloc(SAMPLE);

	ASSERT_NE(NULL, c);
	ASSERT_NE(NULL, u);
	ASSERT_EQ(Z_OK, self->k.compress2(c, &clen, self->in, SAMPLE, 6));
	EXPECT_LT(clen, SAMPLE / 2);
	ASSERT_EQ(Z_OK, self->k.uncompress(u, &ulen, c, clen));
	EXPECT_EQ(SAMPLE, ulen);
	EXPECT_EQ(0, memcmp(self->in, u, SAMPLE));
	free(c);
	free(u);
}

TEST_F(zlib, same_bytes_and_checksums_as_glibc)
{
	uLongf klen = self->k.compressBound(SAMPLE), dlen = klen, ulen = SAMPLE;
	unsigned char *kc = malloc(klen), *dc = malloc(dlen), *u = malloc(SAMPLE);

	ASSERT_EQ(Z_OK, self->k.compress2(kc, &klen, self->in, SAMPLE, 9));
	ASSERT_EQ(Z_OK, self->d.compress2(dc, &dlen, self->in, SAMPLE, 9));
	ASSERT_EQ(dlen, klen);
	EXPECT_EQ(0, memcmp(kc, dc, klen));
	/* and each side reads the other's output */
	ASSERT_EQ(Z_OK, self->d.uncompress(u, &ulen, kc, klen));
	EXPECT_EQ(0, memcmp(self->in, u, SAMPLE));
	EXPECT_EQ(self->d.crc32(0, self->in, SAMPLE), self->k.crc32(0, self->in, SAMPLE));
	EXPECT_EQ(self->d.adler32(1, self->in, SAMPLE), self->k.adler32(1, self->in, SAMPLE));
	EXPECT_EQ(0x352441c2UL, self->k.crc32(0, (const Bytef *)"abc", 3));
	free(kc);
	free(dc);
	free(u);
}

TEST_F(zlib, streaming_gzip_roundtrip)
{
	size_t cap = SAMPLE + 1024, clen, chunk = 4096;
	unsigned char *c = malloc(cap), *u = malloc(SAMPLE);
	z_stream s;
	int rc;

	memset(&s, 0, sizeof(s));
	ASSERT_EQ(Z_OK, self->k.deflateInit2_(&s, 6, Z_DEFLATED, 15 + 16, 8,
					      Z_DEFAULT_STRATEGY,
					      self->k.zlibVersion(), sizeof(s)));
	s.next_out = c;
	s.avail_out = cap;
	for (size_t off = 0; off < SAMPLE; off += chunk) {
		s.next_in = self->in + off;
		s.avail_in = chunk;
		rc = self->k.deflate(&s, off + chunk >= SAMPLE ? Z_FINISH : Z_NO_FLUSH);
		ASSERT_TRUE(rc == Z_OK || rc == Z_STREAM_END);
	}
	clen = cap - s.avail_out;
	EXPECT_EQ(Z_OK, self->k.deflateEnd(&s));
	EXPECT_EQ(0x1f, c[0]);
	EXPECT_EQ(0x8b, c[1]);

	memset(&s, 0, sizeof(s));
	ASSERT_EQ(Z_OK, self->k.inflateInit2_(&s, 15 + 16, self->k.zlibVersion(), sizeof(s)));
	s.next_in = c;
	s.avail_in = clen;
	s.next_out = u;
	s.avail_out = SAMPLE;
	EXPECT_EQ(Z_STREAM_END, self->k.inflate(&s, Z_FINISH));
	EXPECT_EQ(SAMPLE, s.total_out);
	EXPECT_EQ(Z_OK, self->k.inflateEnd(&s));
	EXPECT_EQ(0, memcmp(self->in, u, SAMPLE));
	free(c);
	free(u);
}

TEST_F(zlib, corrupt_input_is_reported_not_crashed)
{
	unsigned char junk[64], out[256];
	uLongf olen = sizeof(out);
	int rd, rk;

	fill_sample(junk, sizeof(junk), 7);
	rd = self->d.uncompress(out, &olen, junk, sizeof(junk));
	olen = sizeof(out);
	rk = self->k.uncompress(out, &olen, junk, sizeof(junk));
	EXPECT_NE(Z_OK, rk);
	EXPECT_EQ(rd, rk);
}

TEST_HARNESS_MAIN

/*
 * real_compress_test.c - more of Debian's compressors loaded with kdl and
 * exercised for real, each compared byte for byte with the copy glibc
 * loads: liblzma.so.5 (xz), libzstd.so.1 (no -dev package here: the few
 * prototypes are declared below) and libbz2.so.1.0.
 */
#include <bzlib.h>
#include <lzma.h>

#include "kdl_test.h"
#include "kselftest_harness.h"

/* libzstd's stable API, as in zstd.h (not installed). */
size_t ZSTD_compressBound(size_t srcSize);
size_t ZSTD_compress(void *dst, size_t dstCapacity, const void *src,
		     size_t srcSize, int compressionLevel);
size_t ZSTD_decompress(void *dst, size_t dstCapacity, const void *src,
		       size_t compressedSize);
unsigned ZSTD_isError(size_t code);
unsigned ZSTD_versionNumber(void);

#define SAMPLE (96 * 1024)

#define LZAPI(X) X(lzma_version_string) X(lzma_easy_buffer_encode) \
	X(lzma_stream_buffer_decode) X(lzma_crc64)
#define ZSAPI(X) X(ZSTD_compressBound) X(ZSTD_compress) X(ZSTD_decompress) \
	X(ZSTD_isError) X(ZSTD_versionNumber)
#define BZAPI(X) X(BZ2_bzlibVersion) X(BZ2_bzBuffToBuffCompress) \
	X(BZ2_bzBuffToBuffDecompress)

struct lzapi { LZAPI(KT_API_FIELD) };
struct zsapi { ZSAPI(KT_API_FIELD) };
struct bzapi { BZAPI(KT_API_FIELD) };

static int lzbind(struct lzapi *api, void *h, kt_lookup_fn lookup, const char **missing)
{
	LZAPI(KT_API_BIND)
	return 0;
}

static int zsbind(struct zsapi *api, void *h, kt_lookup_fn lookup, const char **missing)
{
	ZSAPI(KT_API_BIND)
	return 0;
}

static int bzbind(struct bzapi *api, void *h, kt_lookup_fn lookup, const char **missing)
{
	BZAPI(KT_API_BIND)
	return 0;
}

struct bufs {
	unsigned char *in, *kc, *dc, *out;
	size_t cap;
};

static void bufs_init(struct bufs *b)
{
	b->cap = 2 * SAMPLE + 4096;
	b->in = malloc(SAMPLE);
	b->kc = malloc(b->cap);
	b->dc = malloc(b->cap);
	b->out = malloc(SAMPLE);
	fill_sample(b->in, SAMPLE, 5);
}

static void bufs_free(struct bufs *b)
{
	free(b->in);
	free(b->kc);
	free(b->dc);
	free(b->out);
}

TEST(xz_roundtrip_matches_glibc)
{
	void *h = KDL_OPEN_OK("liblzma.so.5", RTLD_NOW), *g = DL_OPEN_OK("liblzma.so.5");
	struct lzapi k, d;
	struct bufs b;
	size_t kpos = 0, dpos = 0, in_pos = 0, out_pos = 0;
	uint64_t memlimit = UINT64_MAX;

	KT_BIND_OK(lzbind, &k, h, kt_kdl_lookup);
	KT_BIND_OK(lzbind, &d, g, kt_dl_lookup);
	EXPECT_SEPARATE_COPY(k.lzma_easy_buffer_encode, d.lzma_easy_buffer_encode);
	EXPECT_STREQ(d.lzma_version_string(), k.lzma_version_string());
	bufs_init(&b);
	ASSERT_EQ(LZMA_OK, k.lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, NULL, b.in,
						     SAMPLE, b.kc, &kpos, b.cap));
	ASSERT_EQ(LZMA_OK, d.lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, NULL, b.in,
						     SAMPLE, b.dc, &dpos, b.cap));
	ASSERT_EQ(dpos, kpos);
	EXPECT_EQ(0, memcmp(b.kc, b.dc, kpos));
	ASSERT_EQ(LZMA_OK, k.lzma_stream_buffer_decode(&memlimit, 0, NULL, b.kc, &in_pos,
						       kpos, b.out, &out_pos, SAMPLE));
	EXPECT_EQ(SAMPLE, out_pos);
	EXPECT_EQ(0, memcmp(b.in, b.out, SAMPLE));
	EXPECT_EQ(d.lzma_crc64(b.in, SAMPLE, 0), k.lzma_crc64(b.in, SAMPLE, 0));
	bufs_free(&b);
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

TEST(zstd_roundtrip_matches_glibc)
{
	void *h = KDL_OPEN_OK("libzstd.so.1", RTLD_NOW), *g = DL_OPEN_OK("libzstd.so.1");
	struct zsapi k, d;
	struct bufs b;
	size_t kn, dn, un;

	KT_BIND_OK(zsbind, &k, h, kt_kdl_lookup);
	KT_BIND_OK(zsbind, &d, g, kt_dl_lookup);
	EXPECT_SEPARATE_COPY(k.ZSTD_compress, d.ZSTD_compress);
	EXPECT_EQ(d.ZSTD_versionNumber(), k.ZSTD_versionNumber());
	bufs_init(&b);
	ASSERT_LE(k.ZSTD_compressBound(SAMPLE), b.cap);
	kn = k.ZSTD_compress(b.kc, b.cap, b.in, SAMPLE, 3);
	dn = d.ZSTD_compress(b.dc, b.cap, b.in, SAMPLE, 3);
	ASSERT_FALSE(k.ZSTD_isError(kn));
	ASSERT_EQ(dn, kn);
	EXPECT_EQ(0, memcmp(b.kc, b.dc, kn));
	un = k.ZSTD_decompress(b.out, SAMPLE, b.kc, kn);
	ASSERT_FALSE(k.ZSTD_isError(un));
	EXPECT_EQ(SAMPLE, un);
	EXPECT_EQ(0, memcmp(b.in, b.out, SAMPLE));
	/* a truncated frame is an error code, not a crash */
	EXPECT_TRUE(k.ZSTD_isError(k.ZSTD_decompress(b.out, SAMPLE, b.kc, kn / 2)));
	bufs_free(&b);
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

TEST(bzip2_roundtrip_matches_glibc)
{
	void *h = KDL_OPEN_OK("libbz2.so.1.0", RTLD_NOW), *g = DL_OPEN_OK("libbz2.so.1.0");
	struct bzapi k, d;
	struct bufs b;
	unsigned int kn, dn, un = SAMPLE;

	KT_BIND_OK(bzbind, &k, h, kt_kdl_lookup);
	KT_BIND_OK(bzbind, &d, g, kt_dl_lookup);
	EXPECT_SEPARATE_COPY(k.BZ2_bzBuffToBuffCompress, d.BZ2_bzBuffToBuffCompress);
	EXPECT_STREQ(d.BZ2_bzlibVersion(), k.BZ2_bzlibVersion());
	bufs_init(&b);
	kn = dn = b.cap;
	ASSERT_EQ(BZ_OK, k.BZ2_bzBuffToBuffCompress((char *)b.kc, &kn, (char *)b.in,
						    SAMPLE, 1, 0, 0));
	ASSERT_EQ(BZ_OK, d.BZ2_bzBuffToBuffCompress((char *)b.dc, &dn, (char *)b.in,
						    SAMPLE, 1, 0, 0));
	ASSERT_EQ(dn, kn);
	EXPECT_EQ(0, memcmp(b.kc, b.dc, kn));
	ASSERT_EQ(BZ_OK, k.BZ2_bzBuffToBuffDecompress((char *)b.out, &un, (char *)b.kc,
						      kn, 0, 0));
	EXPECT_EQ(SAMPLE, un);
	EXPECT_EQ(0, memcmp(b.in, b.out, SAMPLE));
	bufs_free(&b);
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

TEST_HARNESS_MAIN

/*
 * real_png_test.c - Debian's libpng16.so.16 loaded with kdl; it needs
 * libz.so.1, which kdl loads as a dependency, and libm, bound to the
 * process's copy.  An RGBA image is written to a PNG in memory and read
 * back (libpng's error paths use setjmp/longjmp inside the library);
 * the file bytes match the ones glibc's copy writes.
 */
#include <png.h>

#include "kdl_test.h"
#include "kselftest_harness.h"

#define PAPI(X) X(png_access_version_number) X(png_image_write_to_memory) \
	X(png_image_begin_read_from_memory) X(png_image_finish_read) \
	X(png_image_free)

struct papi {
	PAPI(KT_API_FIELD)
};

static int pbind(struct papi *api, void *h, kt_lookup_fn lookup, const char **missing)
{
	PAPI(KT_API_BIND)
	return 0;
}

#define W 64
#define H 48

static void make_pixels(unsigned char *px)
{
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			unsigned char *p = px + 4 * (y * W + x);

			p[0] = x * 4;
			p[1] = y * 5;
			p[2] = (x ^ y) * 3;
			p[3] = 255 - x;
		}
}

static size_t write_png(const struct papi *a, const unsigned char *px,
			unsigned char *out, size_t cap)
{
	png_image img;
	png_alloc_size_t size = cap;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = W;
	img.height = H;
	img.format = PNG_FORMAT_RGBA;
	if (!a->png_image_write_to_memory(&img, out, &size, 0, px, 0, NULL))
		return 0;
	return size;
}

TEST(write_and_read_back_matches_glibc)
{
	void *h = KDL_OPEN_OK("libpng16.so.16", RTLD_NOW), *g = DL_OPEN_OK("libpng16.so.16");
	struct papi k, d;
	unsigned char px[W * H * 4], back[W * H * 4], kpng[32768], dpng[32768];
	size_t kn, dn;
	png_image img;

	KT_BIND_OK(pbind, &k, h, kt_kdl_lookup);
	KT_BIND_OK(pbind, &d, g, kt_dl_lookup);
	EXPECT_SEPARATE_COPY(k.png_image_write_to_memory, d.png_image_write_to_memory);
	EXPECT_EQ(d.png_access_version_number(), k.png_access_version_number());
	make_pixels(px);
	kn = write_png(&k, px, kpng, sizeof(kpng));
	dn = write_png(&d, px, dpng, sizeof(dpng));
	ASSERT_NE(0, kn);
	ASSERT_EQ(dn, kn);
	EXPECT_EQ(0, memcmp(kpng, dpng, kn));
	EXPECT_EQ(0, memcmp(kpng, "\x89PNG\r\n\x1a\n", 8));

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	ASSERT_TRUE(k.png_image_begin_read_from_memory(&img, kpng, kn));
	EXPECT_EQ(W, img.width);
	EXPECT_EQ(H, img.height);
	img.format = PNG_FORMAT_RGBA;
	ASSERT_TRUE(k.png_image_finish_read(&img, NULL, back, 0, NULL));
	EXPECT_EQ(0, memcmp(px, back, sizeof(px)));
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

TEST(corrupt_png_fails_through_longjmp)
{
	void *h = KDL_OPEN_OK("libpng16.so.16", RTLD_NOW);
	struct papi k;
	unsigned char px[W * H * 4], png[32768], back[W * H * 4];
	size_t n;
	png_image img;

	KT_BIND_OK(pbind, &k, h, kt_kdl_lookup);
	make_pixels(px);
	n = write_png(&k, px, png, sizeof(png));
	ASSERT_NE(0, n);
	memset(png + 60, 0x5a, n - 80);		/* trash the IDAT payload */
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (k.png_image_begin_read_from_memory(&img, png, n)) {
		img.format = PNG_FORMAT_RGBA;
		EXPECT_FALSE(k.png_image_finish_read(&img, NULL, back, 0, NULL));
	}
	TH_LOG("libpng says: %s", img.message);
	EXPECT_NE(0, img.warning_or_error);
	k.png_image_free(&img);
	EXPECT_EQ(0, kdl_close(h));
}

TEST(zlib_dependency_was_loaded)
{
	void *h = KDL_OPEN_OK("libpng16.so.16", RTLD_NOW);

	/* kdl_sym on the handle searches its dependency tree too */
	EXPECT_NE(NULL, kdl_sym(h, "inflate"));
	EXPECT_EQ(0, kdl_close(h));
}

TEST_HARNESS_MAIN

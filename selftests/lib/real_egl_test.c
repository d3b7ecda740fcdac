/*
 * real_egl_test.c - the system GL stack loaded with kdl into a namespace
 * of its own: glvnd's libEGL.so.1 (initial-exec TLS in libGLdispatch),
 * which dlopens Mesa's libEGL_mesa.so.0, which dlopens the llvmpipe
 * driver (LLVM and its JIT inside).  A shaded GLES2 triangle is rendered
 * offscreen on the surfaceless platform into an FBO and read back; the
 * pixels must be the ones the copy glibc loads renders, and must show the
 * triangle.  The render itself lives in examples/gles_render.h.
 */
#include "kdl_test.h"
#include "kselftest_harness.h"
#include "../../examples/gles_render.h"

/*
 * Under ASan Mesa's swrast_dri.so crashes inside eglInitialize even when
 * glibc loads the whole stack (no kdl code involved): nothing to learn.
 */
#ifdef __SANITIZE_ADDRESS__
#define SKIP_UNDER_ASAN() SKIP(return, "Mesa's llvmpipe crashes under ASan, with glibc's loader too")
#else
#define SKIP_UNDER_ASAN() do { } while (0)
#endif

static void *egl_kdl_open(struct kdl_ns **ns)
{
	struct kdl_ns_config cfg = { .size = sizeof(cfg), .name = "gl" };
	struct kdl_load_args args = { .size = sizeof(args) };

	*ns = kdl_ns_create(&cfg);
	if (!*ns)
		return NULL;
	args.ns = *ns;
	return kdl_open("libEGL.so.1", RTLD_NOW, &args);
}

/* Renders through glibc (kdl == 0) or a kdl namespace; NULL or an error. */
static const char *render_with(int kdl, struct gr_frame *f)
{
	static char err[512];
	struct kdl_ns *ns = NULL;
	void *h;

	h = kdl ? egl_kdl_open(&ns) : dlopen("libEGL.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, sizeof(err), "%s: %s", kdl ? "kdl_open" : "dlopen",
			 kdl ? kdl_error() : dlerror());
		return err;
	}
	if (gles_render(h, kdl ? kt_kdl_lookup : kt_dl_lookup, f)) {
		snprintf(err, sizeof(err), "render: %s", f->err);
		return err;
	}
	return NULL;
}

struct child_frame {
	char err[512];
	struct gr_frame f;
};

static void render_child(int fd, void *arg)
{
	struct child_frame *out = calloc(1, sizeof(*out));
	const char *e;

	if (!out)
		_exit(2);
	e = render_with(*(int *)arg, &out->f);
	if (e)
		snprintf(out->err, sizeof(out->err), "%s", e);
	for (size_t n = 0; n < sizeof(*out);) {
		ssize_t w = write(fd, (char *)out + n, sizeof(*out) - n);

		if (w <= 0)
			_exit(2);
		n += w;
	}
}

/* The render in a fresh child, so each GL stack starts from nothing. */
static int render_in_child(int kdl, struct child_frame *out)
{
	static char buf[sizeof(struct child_frame) + 1];
	int status;

	memset(buf, 0, sizeof(buf));
	status = run_in_child(render_child, &kdl, buf, sizeof(buf));
	if (status == -1)
		return -1;
	memcpy(out, buf, sizeof(*out));
	if (status && !out->err[0])
		snprintf(out->err, sizeof(out->err), "child died (wait status 0x%x)", status);
	return 0;
}

static const unsigned char *pix(const struct gr_frame *f, int x, int y)
{
	return f->px + 4 * (y * GR_W + x);
}

static int is_clear(const unsigned char *p)
{
	return abs(p[0] - GR_CLEAR_R) <= 1 && abs(p[1] - GR_CLEAR_G) <= 1 &&
	       abs(p[2] - GR_CLEAR_B) <= 1 && p[3] == 255;
}

static int distinct_colours(const struct gr_frame *f)
{
	static uint32_t seen[GR_W * GR_H];
	int n = 0;

	for (int i = 0; i < GR_W * GR_H; i++) {
		uint32_t c;
		int k;

		memcpy(&c, f->px + 4 * i, 4);
		for (k = 0; k < n && seen[k] != c; k++)
			;
		if (k == n)
			seen[n++] = c;
	}
	return n;
}

/*
 * What the triangle must look like: clear colour in the corners, red
 * towards the bottom-left vertex, green bottom-right, blue at the top, and
 * a gradient (many colours) in between.
 */
#define EXPECT_TRIANGLE(f) do {						\
	const unsigned char *_bl = pix((f), 12, 10), *_br = pix((f), 51, 10);	\
	const unsigned char *_top = pix((f), 32, 50);			\
	EXPECT_TRUE(is_clear(pix((f), 0, 0)));				\
	EXPECT_TRUE(is_clear(pix((f), GR_W - 1, GR_H - 1)));		\
	EXPECT_FALSE(is_clear(pix((f), GR_W / 2, GR_H / 2)));		\
	EXPECT_GT(_bl[0], _bl[1] + 64);					\
	EXPECT_GT(_bl[0], _bl[2] + 64);					\
	EXPECT_GT(_br[1], _br[0] + 64);					\
	EXPECT_GT(_br[1], _br[2] + 64);					\
	EXPECT_GT(_top[2], _top[0] + 64);				\
	EXPECT_GT(_top[2], _top[1] + 64);				\
	EXPECT_GT(distinct_colours(f), 200);				\
} while (0)

TEST(namespace_render_matches_glibc)
{
	static struct child_frame g, k;

	SKIP_UNDER_ASAN();
	ASSERT_EQ(0, render_in_child(0, &g));
	if (g.err[0])
		SKIP(return, "no working GL stack through glibc: %s", g.err);
	TH_LOG("glibc: %s, %.1f ms", g.f.renderer, g.f.ms);
	EXPECT_NE(NULL, strstr(g.f.renderer, "llvmpipe"));
	EXPECT_TRIANGLE(&g.f);

	ASSERT_EQ(0, render_in_child(1, &k));
	if (k.err[0])
		TH_LOG("kdl: %s", k.err);
	ASSERT_EQ(0, k.err[0]);
	TH_LOG("kdl: %s, %.1f ms", k.f.renderer, k.f.ms);
	EXPECT_STREQ(g.f.renderer, k.f.renderer);
	EXPECT_TRIANGLE(&k.f);
	EXPECT_EQ(0, memcmp(g.f.px, k.f.px, sizeof(g.f.px)));
}

/* Both stacks in one process: kdl's namespace beside glibc's copy. */
TEST(side_by_side_with_glibc_copy)
{
	static struct gr_frame g, k;
	const char *e;

	SKIP_UNDER_ASAN();
	e = render_with(0, &g);
	if (e)
		SKIP(return, "no working GL stack through glibc: %s", e);
	e = render_with(1, &k);
	if (e)
		TH_LOG("kdl: %s", e);
	ASSERT_EQ(NULL, e);
	EXPECT_TRIANGLE(&k);
	EXPECT_EQ(0, memcmp(g.px, k.px, sizeof(g.px)));
}

TEST_HARNESS_MAIN

/*
 * fixtures_init_order_test.c - init/fini order across the dependency chain
 * libfx_order_a -> b -> c -> base.  Constructors log into base's
 * fx_order_log; destructors are seen through a sink callback set before
 * the close.  Within c: DT_INIT, then DT_INIT_ARRAY (priority 101 first);
 * on the way out DT_FINI_ARRAY in reverse, then DT_FINI.
 */
#include "kdl_test.h"
#include "kselftest_harness.h"

#define INIT_ORDER "base.ctor c.init c.ctor101 c.ctor c.initarray b.ctor a.ctor "
#define FINI_ORDER "a.dtor b.dtor c.finiarray c.dtor c.dtor101 c.fini base.dtor "

typedef void (*sink_fn)(const char *);
typedef void (*set_sink_fn)(sink_fn);

static char fini_log[512];

static void sink(const char *ev)
{
	size_t n = strlen(fini_log);

	snprintf(fini_log + n, sizeof(fini_log) - n, "%s ", ev);
}

TEST(constructors_run_dependencies_first)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_order_a.so"), RTLD_NOW);
	const char *log = KDL_SYM_OK(h, "fx_order_log");

	EXPECT_STREQ(INIT_ORDER, log);
	EXPECT_EQ(5, ((int (*)(void))KDL_SYM_OK(h, "fx_order_a_value"))());
	EXPECT_EQ(0, kdl_close(h));
}

TEST(destructors_run_in_reverse_on_last_close)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_order_a.so"), RTLD_NOW);

	((set_sink_fn)KDL_SYM_OK(h, "fx_order_set_sink"))(sink);
	fini_log[0] = '\0';
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_STREQ(FINI_ORDER, fini_log);
}

TEST(loaded_dependency_is_not_initialized_twice)
{
	void *hc = KDL_OPEN_OK(fx_path("libfx_order_c.so"), RTLD_NOW);
	void *ha = KDL_OPEN_OK(fx_path("libfx_order_a.so"), RTLD_NOW);

	EXPECT_STREQ(INIT_ORDER, (const char *)KDL_SYM_OK(ha, "fx_order_log"));
	((set_sink_fn)KDL_SYM_OK(ha, "fx_order_set_sink"))(sink);
	fini_log[0] = '\0';
	EXPECT_EQ(0, kdl_close(ha));
	/* c (and base) are still held by hc */
	EXPECT_STREQ("a.dtor b.dtor ", fini_log);
	fini_log[0] = '\0';
	EXPECT_EQ(0, kdl_close(hc));
	EXPECT_STREQ("c.finiarray c.dtor c.dtor101 c.fini base.dtor ", fini_log);
}

static int child_fd = -1;

static void child_sink(const char *ev)
{
	write_str(child_fd, ev);
	write_str(child_fd, " ");
}

/* In a fresh child: glibc's own dlopen/dlclose of the same chain. */
static void glibc_order(int fd, void *arg)
{
	void *h = dlopen(arg, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		write_str(fd, dlerror());
		_exit(1);
	}
	write_str(fd, dlsym(h, "fx_order_log"));
	write_str(fd, "| ");
	child_fd = fd;
	((set_sink_fn)dlsym(h, "fx_order_set_sink"))(child_sink);
	dlclose(h);
}

TEST(same_order_as_glibc)
{
	const char *path = fx_path("libfx_order_a.so");
	char glibc[1024], mine[1024];
	int status = run_in_child(glibc_order, (void *)path, glibc, sizeof(glibc));
	void *h;

	ASSERT_EQ(0, status);
	h = KDL_OPEN_OK(path, RTLD_NOW);
	snprintf(mine, sizeof(mine), "%s| ", (const char *)KDL_SYM_OK(h, "fx_order_log"));
	((set_sink_fn)KDL_SYM_OK(h, "fx_order_set_sink"))(sink);
	fini_log[0] = '\0';
	EXPECT_EQ(0, kdl_close(h));
	strncat(mine, fini_log, sizeof(mine) - strlen(mine) - 1);
	EXPECT_STREQ(glibc, mine);
}

TEST_HARNESS_MAIN

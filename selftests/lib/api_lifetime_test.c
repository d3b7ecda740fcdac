/*
 * api_lifetime_test.c - object lifetime: kdl_close runs destructors and
 * unmaps on the last reference, handles are reference-counted (also for
 * shared dependencies), RTLD_NOLOAD and RTLD_NODELETE.
 */
#include "kdl_test.h"
#include "kselftest_harness.h"

typedef void (*set_flag_fn)(int *);
typedef int (*int_fn)(void);

struct obj {
	void *h;
	uintptr_t range[2];
	int flag;
};

static void open_lifetime(struct __test_metadata *_metadata, struct obj *o, int mode)
{
	o->h = KDL_OPEN_OK(fx_path("libfx_lifetime.so"), mode);
	ASSERT_EQ(0, kdl_info(o->h, KDL_INFO_RANGE, o->range));
	o->flag = 0;
	((set_flag_fn)KDL_SYM_OK(o->h, "fx_lifetime_set_flag"))(&o->flag);
}

static int range_mapped(const struct obj *o)
{
	return maps_count_overlap(o->range[0], o->range[1]);
}

TEST(close_runs_destructor_and_unmaps)
{
	struct obj o;

	open_lifetime(_metadata, &o, RTLD_NOW);
	EXPECT_LT(0, range_mapped(&o));
	EXPECT_EQ(0, kdl_close(o.h));
	EXPECT_EQ(1, o.flag);
	EXPECT_EQ(0, range_mapped(&o));
	EXPECT_EQ(0, maps_count_path(fx_path("libfx_lifetime.so")));
}

TEST(open_twice_close_once_stays_mapped)
{
	struct obj o;
	void *h2;

	open_lifetime(_metadata, &o, RTLD_NOW);
	h2 = KDL_OPEN_OK(fx_path("libfx_lifetime.so"), RTLD_NOW);
	EXPECT_EQ(o.h, h2);
	EXPECT_EQ(1, ((int_fn)KDL_SYM_OK(h2, "fx_lifetime_ctor_count"))());
	EXPECT_EQ(0, kdl_close(o.h));
	EXPECT_EQ(0, o.flag);
	EXPECT_LT(0, range_mapped(&o));
	EXPECT_EQ(99, ((int_fn)KDL_SYM_OK(h2, "fx_lifetime_value"))());
	EXPECT_EQ(0, kdl_close(h2));
	EXPECT_EQ(1, o.flag);
	EXPECT_EQ(0, range_mapped(&o));
}

TEST(reload_after_close_is_a_fresh_object)
{
	struct obj o;

	open_lifetime(_metadata, &o, RTLD_NOW);
	EXPECT_EQ(0, kdl_close(o.h));
	open_lifetime(_metadata, &o, RTLD_NOW);
	EXPECT_EQ(1, ((int_fn)KDL_SYM_OK(o.h, "fx_lifetime_ctor_count"))());
	EXPECT_EQ(0, kdl_close(o.h));
	EXPECT_EQ(1, o.flag);
}

TEST(noload_fails_when_not_loaded)
{
	const char *path = fx_path("libfx_lifetime.so");

	EXPECT_EQ(NULL, kdl_open(path, RTLD_NOW | RTLD_NOLOAD, NULL));
	EXPECT_EQ(0, maps_count_path(path));
}

TEST(noload_returns_handle_when_loaded)
{
	struct obj o;
	void *h2;

	open_lifetime(_metadata, &o, RTLD_NOW);
	h2 = kdl_open(fx_path("libfx_lifetime.so"), RTLD_NOW | RTLD_NOLOAD, NULL);
	EXPECT_EQ(o.h, h2);
	ASSERT_NE(NULL, h2);
	/* NOLOAD took a reference of its own */
	EXPECT_EQ(0, kdl_close(h2));
	EXPECT_EQ(0, o.flag);
	EXPECT_LT(0, range_mapped(&o));
	EXPECT_EQ(0, kdl_close(o.h));
	EXPECT_EQ(1, o.flag);
	EXPECT_EQ(0, range_mapped(&o));
}

TEST(nodelete_keeps_object_mapped)
{
	struct obj o;
	int_fn value;

	open_lifetime(_metadata, &o, RTLD_NOW | RTLD_NODELETE);
	value = KDL_SYM_OK(o.h, "fx_lifetime_value");
	EXPECT_EQ(0, kdl_close(o.h));
	EXPECT_EQ(0, o.flag);
	EXPECT_LT(0, range_mapped(&o));
	EXPECT_EQ(99, value());
}

TEST(closing_user_unmaps_its_dependencies)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_order_a.so"), RTLD_NOW);
	const char *c = fx_path("libfx_order_c.so");
	const char *base = fx_path("libfx_order_base.so");

	EXPECT_LT(0, maps_count_path(c));
	EXPECT_LT(0, maps_count_path(base));
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(0, maps_count_path(c));
	EXPECT_EQ(0, maps_count_path(base));
}

TEST(shared_dependency_is_refcounted)
{
	void *h1 = KDL_OPEN_OK(fx_path("libfx_versions_user_v1.so"), RTLD_NOW);
	void *h2 = KDL_OPEN_OK(fx_path("libfx_versions_user_v2.so"), RTLD_NOW);
	const char *dep = fx_path("libfx_versions.so");

	EXPECT_EQ(0, kdl_close(h1));
	EXPECT_LT(0, maps_count_path(dep));
	EXPECT_EQ(2, ((int_fn)KDL_SYM_OK(h2, "fx_versions_user_foo"))());
	EXPECT_EQ(0, kdl_close(h2));
	EXPECT_EQ(0, maps_count_path(dep));
}

TEST(dependency_opened_directly_outlives_its_user)
{
	void *ha = KDL_OPEN_OK(fx_path("libfx_order_a.so"), RTLD_NOW);
	void *hc = KDL_OPEN_OK(fx_path("libfx_order_c.so"), RTLD_NOW);
	const char *a = fx_path("libfx_order_a.so");

	EXPECT_EQ(0, kdl_close(ha));
	EXPECT_EQ(0, maps_count_path(a));
	EXPECT_EQ(3, ((int_fn)KDL_SYM_OK(hc, "fx_order_c_value"))());
	EXPECT_EQ(0, kdl_close(hc));
	EXPECT_EQ(0, maps_count_path(fx_path("libfx_order_c.so")));
}

TEST_HARNESS_MAIN

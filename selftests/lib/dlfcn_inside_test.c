/* dlfcn_inside_test.c - dlopen, dlsym, dlclose, dlerror, dladdr and
 * dl_iterate_phdr called by a kdl-loaded object are answered by kdl in
 * that object's namespace (and by glibc for what is glibc's). */
#include "kdl_test.h"
#include "kselftest_harness.h"

FIXTURE(inside) {
	void *h;
	void *(*open)(const char *);
	void *(*sym)(void *, const char *);
	int (*close)(void *);
	const char *(*error)(void);
	const char *(*addr_name)(const void *);
	const char *(*iterate_find)(const char *);
};

FIXTURE_SETUP(inside)
{
	self->h = KDL_OPEN_OK(fx_path("libfx_dlfcn.so"), RTLD_NOW);
	self->open = KDL_SYM_OK(self->h, "fx_dl_open");
	self->sym = KDL_SYM_OK(self->h, "fx_dl_sym");
	self->close = KDL_SYM_OK(self->h, "fx_dl_close");
	self->error = KDL_SYM_OK(self->h, "fx_dl_error");
	self->addr_name = KDL_SYM_OK(self->h, "fx_dl_addr_name");
	self->iterate_find = KDL_SYM_OK(self->h, "fx_dl_iterate_find");
}

FIXTURE_TEARDOWN(inside)
{
	EXPECT_EQ(0, kdl_close(self->h));
}

TEST_F(inside, dlopen_loads_with_kdl)
{
	void *h = self->open(fx_path("libfx_basic.so"));
	const char *path = NULL;

	ASSERT_NE(NULL, h);
	/* A kdl handle: kdl_info answers, glibc has never heard of it. */
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_PATH, &path));
	EXPECT_NE(NULL, strstr(path, "libfx_basic.so"));
	EXPECT_EQ(NULL, dlopen(fx_path("libfx_basic.so"), RTLD_NOW | RTLD_NOLOAD));
	EXPECT_NE(NULL, self->sym(h, "fx_basic_add"));
	EXPECT_EQ(kdl_sym(h, "fx_basic_add"), self->sym(h, "fx_basic_add"));
	EXPECT_EQ(0, self->close(h));
}

TEST_F(inside, dlerror_reports_kdls_failure)
{
	const char *e;

	EXPECT_EQ(NULL, self->open("libkdl-not-there-at-all.so.9"));
	e = self->error();
	ASSERT_NE(NULL, e);
	EXPECT_NE(NULL, strstr(e, "libkdl-not-there-at-all.so.9"));
	EXPECT_EQ(NULL, self->error());
}

TEST_F(inside, dlsym_default_reaches_the_process)
{
	EXPECT_EQ((void *)malloc, self->sym(RTLD_DEFAULT, "malloc"));
}

TEST_F(inside, dladdr_and_dl_iterate_phdr_see_kdl_objects)
{
	const char *name = self->addr_name(kdl_sym(self->h, "fx_dl_open"));

	ASSERT_NE(NULL, name);
	EXPECT_NE(NULL, strstr(name, "libfx_dlfcn.so"));
	name = self->iterate_find("libfx_dlfcn.so");
	ASSERT_NE(NULL, name);
	/* and glibc's own objects as well */
	EXPECT_NE(NULL, self->iterate_find("libc.so"));
}

TEST_HARNESS_MAIN

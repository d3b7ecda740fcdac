/*
 * fixtures_libc_binding_test.c - libfx_libc.so uses libc and libm: both
 * must be bound to the process's own copies (one malloc arena, one
 * stdout, never a second libc mapped).
 */
#include <math.h>

#include "kdl_test.h"
#include "kselftest_harness.h"

typedef void *(*ptr_fn)(void);

TEST(malloc_and_free_are_the_process_ones)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_libc.so"), RTLD_NOW);
	void *(*volatile my_malloc)(size_t) = malloc;
	void (*volatile my_free)(void *) = free;

	EXPECT_EQ((void *)my_malloc, ((ptr_fn)KDL_SYM_OK(h, "fx_libc_malloc_addr"))());
	EXPECT_EQ((void *)my_free, ((ptr_fn)KDL_SYM_OK(h, "fx_libc_free_addr"))());
	EXPECT_EQ(0, kdl_close(h));
}

TEST(memory_crosses_the_boundary)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_libc.so"), RTLD_NOW);
	char *(*dup)(const char *) = KDL_SYM_OK(h, "fx_libc_strdup");
	void (*lib_free)(void *) = KDL_SYM_OK(h, "fx_libc_free");
	char *s = dup("kdl");
	char *mine = strdup("mine");

	ASSERT_NE(NULL, s);
	EXPECT_STREQ("kdl", s);
	free(s);		/* allocated by the fixture, freed here */
	lib_free(mine);		/* and the other way round */
	EXPECT_EQ(0, kdl_close(h));
}

TEST(stdout_is_the_process_copy)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_libc.so"), RTLD_NOW);
	FILE **volatile mine = &stdout;

	EXPECT_EQ((void *)mine, ((ptr_fn)KDL_SYM_OK(h, "fx_libc_stdout_addr"))());
	EXPECT_EQ(0, kdl_close(h));
}

TEST(libm_is_the_process_copy)
{
	void *m = dlopen("libm.so.6", RTLD_NOW);
	void *h;
	double (*lib_cos)(double);

	ASSERT_NE(NULL, m);
	h = KDL_OPEN_OK(fx_path("libfx_libc.so"), RTLD_NOW);
	EXPECT_EQ(dlsym(m, "cos"), ((ptr_fn)KDL_SYM_OK(h, "fx_libm_cos_addr"))());
	lib_cos = KDL_SYM_OK(h, "fx_libm_cos");
	EXPECT_EQ(((double (*)(double))dlsym(m, "cos"))(0.5), lib_cos(0.5));
	EXPECT_EQ(1, maps_count_exec("/libm.so.6"));
	EXPECT_EQ(0, kdl_close(h));
	dlclose(m);
}

TEST(no_second_libc_is_mapped)
{
	int before = maps_count_exec("/libc.so.6");
	void *h = KDL_OPEN_OK(fx_path("libfx_libc.so"), RTLD_NOW);
	int (*fmt)(char *, size_t, int) = KDL_SYM_OK(h, "fx_libc_format");
	char buf[16];

	EXPECT_EQ(1, before);
	EXPECT_EQ(before, maps_count_exec("/libc.so.6"));
	EXPECT_LE(maps_count_exec("/libm.so.6"), 1);
	EXPECT_EQ(4, fmt(buf, sizeof(buf), 42));
	EXPECT_STREQ("v=42", buf);
	EXPECT_EQ(0, kdl_close(h));
}

TEST_HARNESS_MAIN

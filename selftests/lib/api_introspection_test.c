/*
 * api_introspection_test.c - kdl_addr, kdl_iterate_phdr and kdl_info on a
 * loaded fixture (libfx_basic.so): names, addresses and ranges agree with
 * each other and with /proc/self/maps.
 */
#include "kdl_test.h"
#include "kselftest_harness.h"

static int same_file(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	return a && b && realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

TEST(addr_names_object_and_symbol)
{
	const char *path = fx_path("libfx_basic.so");
	void *h = KDL_OPEN_OK(path, RTLD_NOW);
	void *f = KDL_SYM_OK(h, "fx_basic_add");
	uintptr_t range[2];
	Dl_info info;

	memset(&info, 0, sizeof(info));
	ASSERT_NE(0, kdl_addr(f, &info));
	ASSERT_NE(NULL, info.dli_fname);
	EXPECT_TRUE(same_file(path, info.dli_fname));
	ASSERT_NE(NULL, info.dli_sname);
	EXPECT_STREQ("fx_basic_add", info.dli_sname);
	EXPECT_EQ(f, info.dli_saddr);
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_RANGE, range));
	EXPECT_EQ(range[0], (uintptr_t)info.dli_fbase);
	EXPECT_EQ(0, kdl_close(h));
}

TEST(addr_inside_function_finds_its_start)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW);
	char *f = KDL_SYM_OK(h, "fx_basic_add");
	Dl_info info;

	ASSERT_NE(0, kdl_addr(f + 1, &info));
	ASSERT_NE(NULL, info.dli_sname);
	EXPECT_STREQ("fx_basic_add", info.dli_sname);
	EXPECT_EQ(f, info.dli_saddr);
	EXPECT_EQ(0, kdl_close(h));
}

TEST(addr_of_data_symbol)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW);
	int *counter = KDL_SYM_OK(h, "fx_basic_counter");
	Dl_info info;

	EXPECT_EQ(3, *counter);
	ASSERT_NE(0, kdl_addr(counter, &info));
	ASSERT_NE(NULL, info.dli_sname);
	EXPECT_STREQ("fx_basic_counter", info.dli_sname);
	EXPECT_EQ(0, kdl_close(h));
}

TEST(addr_outside_objects_fails)
{
	void *heap = malloc(64);
	Dl_info info;

	EXPECT_EQ(0, kdl_addr(heap, &info));
	free(heap);
}

TEST(addr_after_close_fails)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW);
	void *f = KDL_SYM_OK(h, "fx_basic_add");
	Dl_info info;

	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(0, kdl_addr(f, &info));
}

struct phdr_probe {
	const char *suffix;
	uintptr_t addr;		/* must lie in an executable PT_LOAD */
	uintptr_t bias;
	int found, in_exec_load, stop;
};

static int probe_cb(struct dl_phdr_info *pi, size_t sz, void *data)
{
	struct phdr_probe *p = data;

	if (sz < offsetof(struct dl_phdr_info, dlpi_phnum) + sizeof(pi->dlpi_phnum))
		return -1;
	if (!pi->dlpi_name || !str_ends_with(pi->dlpi_name, p->suffix))
		return 0;
	p->found++;
	p->bias = pi->dlpi_addr;
	for (int i = 0; i < pi->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &pi->dlpi_phdr[i];
		uintptr_t lo = pi->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    p->addr >= lo && p->addr < lo + ph->p_memsz)
			p->in_exec_load = 1;
	}
	return p->stop;
}

TEST(iterate_phdr_lists_loaded_object)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW);
	struct phdr_probe p = { .suffix = "/libfx_basic.so" };
	uintptr_t bias;

	p.addr = (uintptr_t)KDL_SYM_OK(h, "fx_basic_add");
	EXPECT_EQ(0, kdl_iterate_phdr(probe_cb, &p));
	EXPECT_EQ(1, p.found);
	EXPECT_TRUE(p.in_exec_load);
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_BIAS, &bias));
	EXPECT_EQ(bias, p.bias);
	EXPECT_EQ(0, kdl_close(h));
}

TEST(iterate_phdr_returns_callback_value)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW);
	struct phdr_probe p = { .suffix = "/libfx_basic.so", .stop = 42 };

	EXPECT_EQ(42, kdl_iterate_phdr(probe_cb, &p));
	EXPECT_EQ(1, p.found);
	EXPECT_EQ(0, kdl_close(h));
}

TEST(iterate_phdr_forgets_closed_object)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW);
	struct phdr_probe p = { .suffix = "/libfx_basic.so" };

	EXPECT_EQ(0, kdl_close(h));
	kdl_iterate_phdr(probe_cb, &p);
	EXPECT_EQ(0, p.found);
}

TEST(info_range_bias_and_path_agree_with_maps)
{
	const char *path = fx_path("libfx_basic.so");
	void *h = KDL_OPEN_OK(path, RTLD_NOW);
	uintptr_t range[2], bias, f, d;
	const char *ipath = NULL;
	struct maps_query q;

	f = (uintptr_t)KDL_SYM_OK(h, "fx_basic_add");
	d = (uintptr_t)KDL_SYM_OK(h, "fx_basic_counter");
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_RANGE, range));
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_BIAS, &bias));
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_PATH, &ipath));
	EXPECT_TRUE(same_file(path, ipath));
	EXPECT_LT(range[0], range[1]);
	EXPECT_TRUE(f >= range[0] && f < range[1]);
	EXPECT_TRUE(d >= range[0] && d < range[1]);
	EXPECT_LE(bias, range[0]);
	/* The first page is a file-backed mapping of the library. */
	memset(&q, 0, sizeof(q));
	q.lo = range[0];
	ASSERT_EQ(1, maps_each(maps_find_addr_cb, &q));
	EXPECT_TRUE(same_file(path, q.found.path));
	EXPECT_EQ(0, kdl_close(h));
}

TEST(info_backend_of_loaded_object)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW);
	int b = 0, now = 0;

	ASSERT_EQ(0, kdl_info(h, KDL_INFO_BACKEND, &b));
	ASSERT_EQ(0, kdl_info(NULL, KDL_INFO_BACKEND, &now));
	EXPECT_TRUE(b == KDL_BACKEND_USER || b == KDL_BACKEND_KERNEL);
	EXPECT_EQ(now, b);
	EXPECT_EQ(0, kdl_close(h));
}

TEST(info_rejects_unknown_request)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW);
	char buf[64];

	if (KDL_TEST_GLIBC) {
		kdl_close(h);
		SKIP(return, "kdl-only: kdl_info error reporting");
	}
	kdl_error();
	EXPECT_EQ(-1, kdl_info(h, 9999, buf));
	EXPECT_NE(NULL, kdl_error());
	EXPECT_EQ(0, kdl_close(h));
}

TEST_HARNESS_MAIN

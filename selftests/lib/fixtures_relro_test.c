/*
 * fixtures_relro_test.c - RELRO: libfx_relro.so (-z relro -z now) has a
 * relocated const pointer table in .data.rel.ro that must be correct and
 * read-only after the load; its ordinary data stays writable.
 */
#include <signal.h>

#include "kdl_test.h"
#include "kselftest_harness.h"

/* A child here must die of SIGSEGV; under ASan, let it. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "handle_segv=0";
}

TEST(relocated_table_points_at_its_targets)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_relro.so"), RTLD_NOW);
	int *const *table = KDL_SYM_OK(h, "fx_relro_table");
	int *(*target)(int) = KDL_SYM_OK(h, "fx_relro_target");
	int (*rd)(int) = KDL_SYM_OK(h, "fx_relro_read");

	EXPECT_EQ(target(0), table[0]);
	EXPECT_EQ(target(1), table[1]);
	EXPECT_EQ(1, rd(0));
	EXPECT_EQ(2, rd(1));
	EXPECT_EQ(0, kdl_close(h));
}

TEST(table_page_is_read_only_and_data_writable)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_relro.so"), RTLD_NOW);
	char prot[5];

	ASSERT_EQ(0, maps_prot(KDL_SYM_OK(h, "fx_relro_table"), prot));
	EXPECT_EQ('r', prot[0]);
	EXPECT_EQ('-', prot[1]);
	EXPECT_EQ('-', prot[2]);
	ASSERT_EQ(0, maps_prot(KDL_SYM_OK(h, "fx_relro_data"), prot));
	EXPECT_EQ('w', prot[1]);
	EXPECT_EQ(0, kdl_close(h));
}

struct relro_seg {
	const char *suffix;
	uintptr_t lo, hi;
	int found;
};

static int find_relro(struct dl_phdr_info *pi, size_t sz, void *data)
{
	struct relro_seg *r = data;

	if (!pi->dlpi_name || !str_ends_with(pi->dlpi_name, r->suffix))
		return 0;
	for (int i = 0; i < pi->dlpi_phnum; i++) {
		if (pi->dlpi_phdr[i].p_type != PT_GNU_RELRO)
			continue;
		r->lo = pi->dlpi_addr + pi->dlpi_phdr[i].p_vaddr;
		r->hi = r->lo + pi->dlpi_phdr[i].p_memsz;
		r->found = 1;
	}
	return r->found;
}

TEST(whole_relro_segment_is_read_only)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_relro.so"), RTLD_NOW);
	struct relro_seg r = { .suffix = "/libfx_relro.so" };
	uintptr_t page = sysconf(_SC_PAGESIZE);
	char prot[5];

	kdl_iterate_phdr(find_relro, &r);
	ASSERT_TRUE(r.found);
	/* Only whole pages can be protected: the end rounds down. */
	for (uintptr_t p = r.lo & ~(page - 1); p < (r.hi & ~(page - 1)); p += page) {
		ASSERT_EQ(0, maps_prot((void *)p, prot));
		EXPECT_EQ('-', prot[1]);
	}
	EXPECT_EQ(0, kdl_close(h));
}

TEST(write_to_table_faults)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_relro.so"), RTLD_NOW);
	int **table = KDL_SYM_OK(h, "fx_relro_table");
	int status;
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		*(int *volatile *)&table[0] = NULL;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGSEGV, WTERMSIG(status));
	EXPECT_EQ(0, kdl_close(h));
}

TEST_HARNESS_MAIN

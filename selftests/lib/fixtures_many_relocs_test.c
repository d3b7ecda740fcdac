/*
 * fixtures_many_relocs_test.c - libfx_many_relocs.so (generated: 5000
 * RELATIVE, 1000 R_X86_64_64 against exported functions, 1000 JUMP_SLOT)
 * and the same object with its relative relocations packed in DT_RELR.
 */
#include "kdl_test.h"
#include "kselftest_harness.h"

FIXTURE(many) {
	void *h;
};

FIXTURE_VARIANT(many) {
	const char *lib;
};

FIXTURE_VARIANT_ADD(many, rela) {
	.lib = "libfx_many_relocs.so",
};

FIXTURE_VARIANT_ADD(many, relr) {
	.lib = "libfx_many_relocs_relr.so",
};

FIXTURE_SETUP(many)
{
	self->h = KDL_OPEN_OK(fx_path(variant->lib), RTLD_NOW);
}

FIXTURE_TEARDOWN(many)
{
	if (self->h)
		EXPECT_EQ(0, kdl_close(self->h));
}

TEST_F(many, relative_pointers_are_relocated)
{
	size_t n = *(const size_t *)KDL_SYM_OK(self->h, "fx_many_nptrs");
	int *const *ptrs = KDL_SYM_OK(self->h, "fx_many_ptrs");
	int *(*var)(size_t) = KDL_SYM_OK(self->h, "fx_many_var_addr");
	size_t bad = 0;

	ASSERT_EQ(5000, n);
	for (size_t i = 0; i < n; i++)
		bad += ptrs[i] != var(i);
	EXPECT_EQ(0, bad);
}

TEST_F(many, symbolic_pointers_match_lookup)
{
	size_t n = *(const size_t *)KDL_SYM_OK(self->h, "fx_many_nfuncs");
	int (*const *fns)(void) = KDL_SYM_OK(self->h, "fx_many_fns");
	size_t bad = 0;
	char name[32];

	ASSERT_EQ(1000, n);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "fx_many_f%zu", i);
		bad += (void *)fns[i] != kdl_sym(self->h, name);
		bad += fns[i]() != (int)i;
	}
	EXPECT_EQ(0, bad);
}

TEST_F(many, plt_calls_reach_every_function)
{
	long (*sum)(void) = KDL_SYM_OK(self->h, "fx_many_sum");

	EXPECT_EQ(999L * 1000 / 2, sum());
}

TEST_HARNESS_MAIN

/*
 * fixtures_hash_test.c - symbol lookup through a GNU hash table (with its
 * bloom filter) and through a SysV one: the same 1000+ symbols
 * (libfx_many_relocs.so vs libfx_many_relocs_sysv.so), hits and misses,
 * compared with glibc; and a GNU hash table that hashes no symbol at all
 * (libfx_gnu_hash_undef.so), whose symbol count the relocations give.
 */
#include "kdl_test.h"
#include "kselftest_harness.h"

FIXTURE(hash) {
	void *h, *g;
};

FIXTURE_VARIANT(hash) {
	const char *lib;
};

FIXTURE_VARIANT_ADD(hash, gnu) {
	.lib = "libfx_many_relocs.so",
};

FIXTURE_VARIANT_ADD(hash, sysv) {
	.lib = "libfx_many_relocs_sysv.so",
};

FIXTURE_SETUP(hash)
{
	self->h = KDL_OPEN_OK(fx_path(variant->lib), RTLD_NOW);
	self->g = dlopen(fx_path(variant->lib), RTLD_NOW | RTLD_LOCAL);
	ASSERT_NE(NULL, self->g);
}

FIXTURE_TEARDOWN(hash)
{
	if (self->g)
		dlclose(self->g);
	if (self->h)
		EXPECT_EQ(0, kdl_close(self->h));
}

TEST_F(hash, every_defined_symbol_is_found)
{
	size_t missing = 0, wrong = 0;
	char name[32];

	for (int i = 0; i < 1000; i++) {
		int (*f)(void);

		snprintf(name, sizeof(name), "fx_many_f%d", i);
		f = kdl_sym(self->h, name);
		missing += !f;
		if (f)
			wrong += f() != i;
	}
	EXPECT_EQ(0, missing);
	EXPECT_EQ(0, wrong);
}

TEST_F(hash, misses_agree_with_glibc)
{
	static const char *const names[] = {
		"fx_many_f1000", "fx_many_f", "fx_many_f00", "fx_many_", "",
		"fx_many_vars",	/* static: not exported */
		"fx_many_F1", "x_many_f1", "fx_many_f1 ", "fx_many_sum_",
	};
	int disagree = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int k = kdl_sym(self->h, names[i]) != NULL;
		int g = dlsym(self->g, names[i]) != NULL;

		if (k != g) {
			TH_LOG("\"%s\": kdl %d, glibc %d", names[i], k, g);
			disagree++;
		}
		EXPECT_EQ(0, k);
		kdl_error();
	}
	EXPECT_EQ(0, disagree);
}

TEST_F(hash, data_symbols_are_found)
{
	EXPECT_EQ(5000, *(const size_t *)KDL_SYM_OK(self->h, "fx_many_nptrs"));
	EXPECT_EQ(1000, *(const size_t *)KDL_SYM_OK(self->h, "fx_many_nfuncs"));
}

TEST(gnu_hash_without_hashed_symbols_loads_like_glibc)
{
	const char *path = fx_path("libfx_gnu_hash_undef.so");
	void *h, *g;

	unsetenv("FX_GNU_HASH_UNDEF");
	h = KDL_OPEN_OK(path, RTLD_NOW);
	EXPECT_STREQ("ran", getenv("FX_GNU_HASH_UNDEF"));
	g = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ASSERT_NE(NULL, g);
	EXPECT_STREQ("twice", getenv("FX_GNU_HASH_UNDEF"));
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

TEST_HARNESS_MAIN

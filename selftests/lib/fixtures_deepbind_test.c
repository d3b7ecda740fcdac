/*
 * fixtures_deepbind_test.c - RTLD_DEEPBIND orders relocation lookups:
 * with libfx_deep_global.so opened RTLD_GLOBAL first, libfx_deep_self.so's
 * call to its own (interposable) fx_deep_probe binds to the global
 * definition, unless it is opened RTLD_DEEPBIND.  kdl and glibc must give
 * the same answers, each in a process of its own.
 */
#include "kdl_test.h"
#include "kselftest_harness.h"

FIXTURE(deepbind) {
	void *global, *self_h;
};

FIXTURE_VARIANT(deepbind) {
	bool glibc;	/* open with dlopen instead of kdl_open */
	int mode;	/* extra RTLD_* for libfx_deep_self.so */
	int want;	/* what its fx_deep_call returns */
};

FIXTURE_VARIANT_ADD(deepbind, kdl_deepbind) { .mode = RTLD_DEEPBIND, .want = 2 };
FIXTURE_VARIANT_ADD(deepbind, kdl_default) { .mode = 0, .want = 1 };
FIXTURE_VARIANT_ADD(deepbind, glibc_deepbind) { .glibc = true, .mode = RTLD_DEEPBIND, .want = 2 };
FIXTURE_VARIANT_ADD(deepbind, glibc_default) { .glibc = true, .mode = 0, .want = 1 };

static void *open_with(bool glibc, const char *lib, int mode)
{
	return glibc ? dlopen(fx_path(lib), mode) : kdl_open(fx_path(lib), mode, NULL);
}

FIXTURE_SETUP(deepbind)
{
#ifdef __SANITIZE_ADDRESS__
	/* ASan's runtime refuses dlopen(RTLD_DEEPBIND) and exits. */
	if (variant->glibc && variant->mode & RTLD_DEEPBIND)
		SKIP(return, "glibc's RTLD_DEEPBIND is incompatible with the ASan runtime");
#endif
	self->global = open_with(variant->glibc, "libfx_deep_global.so", RTLD_NOW | RTLD_GLOBAL);
	ASSERT_NE(NULL, self->global);
	self->self_h = open_with(variant->glibc, "libfx_deep_self.so", RTLD_NOW | variant->mode);
	ASSERT_NE(NULL, self->self_h);
}

FIXTURE_TEARDOWN(deepbind)
{
}

TEST_F(deepbind, own_definition_first_only_under_deepbind)
{
	int (*call)(void);

	if (!self->self_h)
		return;
	call = variant->glibc ? dlsym(self->self_h, "fx_deep_call") :
				kdl_sym(self->self_h, "fx_deep_call");
	ASSERT_NE(NULL, call);
	EXPECT_EQ(variant->want, call());
}

TEST_HARNESS_MAIN

/* tls_real_test.c - objects with their own TLS: a fresh block after a
 * reload, blocks of threads that ended, the TLS descriptor resolver's
 * register contract, initial-exec like glibc, and real libraries whose
 * dependency trees carry TLS (libcurl pulls in GnuTLS), compared with the
 * same libraries loaded by glibc. */
#include <pthread.h>

#include "kdl_test.h"
#include "kselftest_harness.h"

static void *set_in_thread(void *arg)
{
	void (*set)(int) = arg;

	set(77);
	return NULL;
}

TEST(reload_starts_from_the_initial_image)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_tls.so"), RTLD_NOW);
	int (*get)(void) = KDL_SYM_OK(h, "fx_tls_get");
	void (*set)(int) = KDL_SYM_OK(h, "fx_tls_set");
	size_t id1 = 0, id2 = 0;

	set(42);
	EXPECT_EQ(42, get());
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_TLS_MODID, &id1));
	ASSERT_EQ(0, kdl_close(h));
	h = KDL_OPEN_OK(fx_path("libfx_tls.so"), RTLD_NOW);
	get = KDL_SYM_OK(h, "fx_tls_get");
	EXPECT_EQ(5, get());
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_TLS_MODID, &id2));
	EXPECT_NE(id1, id2);	/* ids are not reused: a stale index cannot alias */
	EXPECT_EQ(0, kdl_close(h));
}

TEST(threads_that_end_do_not_disturb_the_living)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_tls.so"), RTLD_NOW);
	int (*get)(void) = KDL_SYM_OK(h, "fx_tls_get");
	void (*set)(int) = KDL_SYM_OK(h, "fx_tls_set");
	pthread_t t[16];

	set(9);
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 16; i++)
			ASSERT_EQ(0, pthread_create(&t[i], NULL, set_in_thread, (void *)set));
		for (int i = 0; i < 16; i++)
			ASSERT_EQ(0, pthread_join(t[i], NULL));
	}
	EXPECT_EQ(9, get());
	EXPECT_EQ(0, kdl_close(h));
}

struct mix_call {
	double (*mix)(double, double);
	double got;
};

static void *mix_in_new_thread(void *arg)
{
	struct mix_call *c = arg;

	c->got = c->mix(2.0, 5.0);	/* first access in this thread: slow path */
	return NULL;
}

/* The TLS descriptor resolver's slow path (a block made on first use)
 * keeps the caller's vector registers. */
TEST(tls_descriptor_slow_path_preserves_vector_registers)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_tls_desc.so"), RTLD_NOW);
	struct mix_call c = { .mix = KDL_SYM_OK(h, "fx_tls_mix") };
	double want = (2.0 * 1.5 + 5.0) * (5.0 * 5.0 - 2.0) + 2.0 / (5.0 + 3.0);
	pthread_t t;

	for (int i = 0; i < 8; i++) {
		c.got = 0;
		ASSERT_EQ(0, pthread_create(&t, NULL, mix_in_new_thread, &c));
		ASSERT_EQ(0, pthread_join(t, NULL));
		EXPECT_EQ(want, c.got);
	}
	EXPECT_EQ(want, c.mix(2.0, 5.0));
	EXPECT_EQ(0, kdl_close(h));
}

TEST(curl_and_gnutls_load_and_agree_with_glibc)
{
	const char *(*kver)(void), *(*gver)(void);
	const char *(*kgnutls)(const char *);
	void *h, *g, *tls;
	size_t modid = 0;
	void *block = NULL;
	char kv[512];

	h = KDL_OPEN_OK("libcurl.so.4", RTLD_NOW);
	kver = KDL_SYM_OK(h, "curl_version");
	snprintf(kv, sizeof(kv), "%s", kver());
	EXPECT_EQ(0, ((int (*)(long))KDL_SYM_OK(h, "curl_global_init"))(3));
	/* GnuTLS (a dependency through librtmp) has its own TLS block. */
	tls = kdl_open("libgnutls.so.30", RTLD_NOW | RTLD_NOLOAD, NULL);
	ASSERT_NE(NULL, tls);
	ASSERT_EQ(0, kdl_info(tls, KDL_INFO_TLS_MODID, &modid));
	EXPECT_NE(0, modid);
	ASSERT_EQ(0, kdl_info(tls, KDL_INFO_TLS_BLOCK, &block));
	EXPECT_NE(NULL, block);
	kgnutls = KDL_SYM_OK(tls, "gnutls_check_version");
	EXPECT_NE(NULL, kgnutls("3.0.0"));
	EXPECT_EQ(0, kdl_close(tls));

	g = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	ASSERT_NE(NULL, g);
	gver = dlsym(g, "curl_version");
	ASSERT_NE(NULL, gver);
	EXPECT_STREQ(gver(), kv);
	EXPECT_NE((void *)gver, (void *)kver);
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

/* The GD fixture's source built initial-exec: kdl and glibc both load it
 * into static TLS, and each sees its own copy start from the image. */
TEST(initial_exec_fixture_loads_like_glibc)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_tls_ie.so"), RTLD_NOW);
	void *g = dlopen(fx_path("libfx_tls_ie.so"), RTLD_NOW | RTLD_LOCAL);
	int (*kget)(void) = KDL_SYM_OK(h, "fx_tls_get"), (*gget)(void);
	void (*kset)(int) = KDL_SYM_OK(h, "fx_tls_set");

	ASSERT_NE(NULL, g);
	gget = dlsym(g, "fx_tls_get");
	ASSERT_NE(NULL, gget);
	kset(40);
	EXPECT_EQ(40, kget());
	EXPECT_EQ(5, gget());
	EXPECT_EQ(1, ((int (*)(void))KDL_SYM_OK(h, "fx_tls_scratch_sum"))());
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

TEST_HARNESS_MAIN

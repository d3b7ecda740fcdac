/*
 * real_gmp_test.c - Debian's libgmp.so.10 (hand-written assembly, CPU
 * dispatch at first use) loaded with kdl: big-number arithmetic with
 * known answers, compared with glibc's copy.
 */
#include <gmp.h>

#include "kdl_test.h"
#include "kselftest_harness.h"

#define GAPI(X) X(__gmpz_init) X(__gmpz_clear) X(__gmpz_fac_ui) \
	X(__gmpz_ui_pow_ui) X(__gmpz_get_str) X(__gmpz_mul) X(__gmpz_mod) \
	X(__gmpz_set_str) X(__gmpz_probab_prime_p)

struct gapi {
	GAPI(KT_API_FIELD)
};

static int gbind(struct gapi *api, void *h, kt_lookup_fn lookup, const char **missing)
{
	GAPI(KT_API_BIND)
	return 0;
}

static const char fact100[] =
	"93326215443944152681699238856266700490715968264381621468592963895217599993"
	"22991560894146397615651828625369792082722375825118521091686400000000000000"
	"0000000000";

/* Writes 100!, 2^521-1 primality and (3^2000 mod 2^521-1) into out. */
static void workload(const struct gapi *a, char *out, size_t outsz)
{
	mpz_t f, m, p;
	char *s, *t;
	int prime;

	a->__gmpz_init(f);
	a->__gmpz_init(m);
	a->__gmpz_init(p);
	a->__gmpz_fac_ui(f, 100);
	s = a->__gmpz_get_str(NULL, 10, f);
	a->__gmpz_set_str(m, "6864797660130609714981900799081393217269435300143305409394"
			  "46345918554318339765605212255964066145455497729631139148085"
			  "8037121987999716643812574028291115057151", 10);
	prime = a->__gmpz_probab_prime_p(m, 25);
	a->__gmpz_ui_pow_ui(p, 3, 2000);
	a->__gmpz_mul(p, p, f);
	a->__gmpz_mod(p, p, m);
	t = a->__gmpz_get_str(NULL, 16, p);
	snprintf(out, outsz, "%s %d %s", s, prime, t);
	free(s);	/* GMP's default allocator is the process's malloc */
	free(t);
	a->__gmpz_clear(f);
	a->__gmpz_clear(m);
	a->__gmpz_clear(p);
}

TEST(known_answers_and_same_as_glibc)
{
	void *h = KDL_OPEN_OK("libgmp.so.10", RTLD_NOW), *g = DL_OPEN_OK("libgmp.so.10");
	struct gapi k, d;
	char kout[1024], dout[1024];

	KT_BIND_OK(gbind, &k, h, kt_kdl_lookup);
	KT_BIND_OK(gbind, &d, g, kt_dl_lookup);
	EXPECT_SEPARATE_COPY(k.__gmpz_mul, d.__gmpz_mul);
	workload(&k, kout, sizeof(kout));
	workload(&d, dout, sizeof(dout));
	EXPECT_EQ(0, strncmp(kout, fact100, strlen(fact100)));
	/* M521 is prime: mpz_probab_prime_p says 1 (probably) or 2 (surely) */
	EXPECT_TRUE(strstr(kout, " 1 ") || strstr(kout, " 2 "));
	EXPECT_STREQ(dout, kout);
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

TEST(version_string_matches)
{
	void *h = KDL_OPEN_OK("libgmp.so.10", RTLD_NOW), *g = DL_OPEN_OK("libgmp.so.10");
	const char *const *kv = KDL_SYM_OK(h, "__gmp_version");
	const char *const *dv = dlsym(g, "__gmp_version");

	ASSERT_NE(NULL, dv);
	EXPECT_STREQ(*dv, *kv);
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

TEST_HARNESS_MAIN

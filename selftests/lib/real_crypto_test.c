/*
 * real_crypto_test.c - Debian's OpenSSL libcrypto.so.3 loaded with kdl:
 * SHA-256 known answers, EVP digests and HMAC of a large buffer compared
 * with the copy glibc loads, DF_1_NODELETE honoured, and a process that
 * used and closed it still exits cleanly (OpenSSL registers an atexit
 * handler, so kdl must run or keep it).
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <signal.h>

#include "kdl_test.h"
#include "kselftest_harness.h"

#define CAPI(X) X(OpenSSL_version) X(SHA256) X(EVP_Digest) X(EVP_sha256) \
	X(EVP_sha512) X(EVP_sha3_256) X(HMAC)

struct capi {
	CAPI(KT_API_FIELD)
};

static int cbind(struct capi *api, void *h, kt_lookup_fn lookup, const char **missing)
{
	CAPI(KT_API_BIND)
	return 0;
}

#define BIG (1024 * 1024)

FIXTURE(crypto) {
	void *h;
	struct capi k;
};

FIXTURE_SETUP(crypto)
{
	self->h = KDL_OPEN_OK("libcrypto.so.3", RTLD_NOW);
	KT_BIND_OK(cbind, &self->k, self->h, kt_kdl_lookup);
}

FIXTURE_TEARDOWN(crypto)
{
	if (self->h)
		EXPECT_EQ(0, kdl_close(self->h));
}

TEST_F(crypto, sha256_known_answers)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1];

	self->k.SHA256((const unsigned char *)"abc", 3, md);
	hex_string(md, sizeof(md), hex);
	EXPECT_STREQ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex);
	self->k.SHA256((const unsigned char *)"", 0, md);
	hex_string(md, sizeof(md), hex);
	EXPECT_STREQ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", hex);
}

TEST_F(crypto, hmac_known_answer)
{
	static const char msg[] = "The quick brown fox jumps over the lazy dog";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	ASSERT_NE(NULL, self->k.HMAC(self->k.EVP_sha256(), "key", 3,
				     (const unsigned char *)msg, strlen(msg), md, &len));
	ASSERT_EQ(32, len);
	hex_string(md, len, hex);
	EXPECT_STREQ("f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8", hex);
}

TEST_F(crypto, digests_match_glibc)
{
	void *g = DL_OPEN_OK("libcrypto.so.3");
	struct capi d;
	unsigned char *buf = malloc(BIG), km[EVP_MAX_MD_SIZE], dm[EVP_MAX_MD_SIZE];
	unsigned int kl, dl;

	KT_BIND_OK(cbind, &d, g, kt_dl_lookup);
	EXPECT_SEPARATE_COPY(self->k.EVP_Digest, d.EVP_Digest);
	EXPECT_STREQ(d.OpenSSL_version(0), self->k.OpenSSL_version(0));
	ASSERT_NE(NULL, buf);
	fill_sample(buf, BIG, 3);
	ASSERT_EQ(1, self->k.EVP_Digest(buf, BIG, km, &kl, self->k.EVP_sha256(), NULL));
	ASSERT_EQ(1, d.EVP_Digest(buf, BIG, dm, &dl, d.EVP_sha256(), NULL));
	ASSERT_EQ(dl, kl);
	EXPECT_EQ(0, memcmp(km, dm, kl));
	ASSERT_EQ(1, self->k.EVP_Digest(buf, BIG, km, &kl, self->k.EVP_sha512(), NULL));
	ASSERT_EQ(1, d.EVP_Digest(buf, BIG, dm, &dl, d.EVP_sha512(), NULL));
	ASSERT_EQ(64, kl);
	EXPECT_EQ(0, memcmp(km, dm, kl));
	ASSERT_EQ(1, self->k.EVP_Digest(buf, BIG, km, &kl, self->k.EVP_sha3_256(), NULL));
	ASSERT_EQ(1, d.EVP_Digest(buf, BIG, dm, &dl, d.EVP_sha3_256(), NULL));
	EXPECT_EQ(0, memcmp(km, dm, kl));
	free(buf);
	dlclose(g);
}

/* libcrypto.so.3 is linked -z nodelete: closing must not unmap it. */
TEST_F(crypto, nodelete_object_stays_mapped)
{
	uintptr_t range[2];
	unsigned char md[SHA256_DIGEST_LENGTH];

	ASSERT_EQ(0, kdl_info(self->h, KDL_INFO_RANGE, range));
	self->k.SHA256((const unsigned char *)"abc", 3, md);
	EXPECT_EQ(0, kdl_close(self->h));
	self->h = NULL;
	EXPECT_LT(0, maps_count_overlap(range[0], range[1]));
	self->k.SHA256((const unsigned char *)"abc", 3, md);
	EXPECT_EQ(0xba, md[0]);
}

static void use_close_exit(int fd, void *arg)
{
	void *h = kdl_open("libcrypto.so.3", RTLD_NOW, NULL);
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned int len;
	int (*digest)(const void *, size_t, unsigned char *, unsigned int *,
		      const EVP_MD *, ENGINE *);
	const EVP_MD *(*sha256)(void);

	if (!h)
		_exit(3);
	digest = kdl_sym(h, "EVP_Digest");
	sha256 = kdl_sym(h, "EVP_sha256");
	if (!digest || !sha256 || digest("abc", 3, md, &len, sha256(), NULL) != 1)
		_exit(4);
	if (kdl_close(h))
		_exit(5);
	exit(0);	/* runs atexit handlers, OpenSSL's among them */
}

TEST_F(crypto, process_exits_cleanly_after_use_and_close)
{
	char out[16];
	int status = run_in_child(use_close_exit, NULL, out, sizeof(out));

	ASSERT_NE(-1, status);
	EXPECT_FALSE(WIFSIGNALED(status));
	if (WIFSIGNALED(status))
		TH_LOG("child killed by signal %d", WTERMSIG(status));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN

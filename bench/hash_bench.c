/*
 * hash_bench.c - the relocation cache's checksum, chosen by measurement
 * (not a test): XXH3-64 against zlib's crc32 and adler32 over the page
 * sizes a load hashes (libz's 8 KiB of writable pages to libpython's
 * 1.3 MiB), best of 50 rounds, in GB/s; and that the SSE2 and AVX2 builds
 * of XXH3 give one digest.
 *
 *   hash_bench
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/platform/x86.h>
#include <sys/uio.h>
#include <time.h>
#include <zlib.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ull + t.tv_nsec;
}

/* lib/cache_hash_avx2.c, linked in: the AVX2 build of the same hash. */
uint64_t kdl_ce_hash_iov_avx2(const struct iovec *iov, size_t n);

static uint64_t h_xxh3(const void *p, size_t n) { return XXH3_64bits(p, n); }
static uint64_t h_xxh3_avx2(const void *p, size_t n)
{
	struct iovec v = { (void *)p, n };

	return kdl_ce_hash_iov_avx2(&v, 1);
}
static uint64_t h_crc32(const void *p, size_t n) { return crc32(0, p, n); }
static uint64_t h_adler(const void *p, size_t n) { return adler32(1, p, n); }

int main(void)
{
	static const size_t sizes[] = { 8 << 10, 400 << 10, 1300 << 10 };
	static const struct { const char *name; uint64_t (*fn)(const void *, size_t); } h[] = {
		{ "XXH3-64 SSE2", h_xxh3 }, { "XXH3-64 AVX2", h_xxh3_avx2 },
		{ "crc32 (zlib)", h_crc32 }, { "adler32 (zlib)", h_adler },
	};
	unsigned char *buf = malloc(sizes[2]);
	volatile uint64_t sink = 0;

	for (size_t i = 0; i < sizes[2]; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	printf("%-16s %12s %12s %12s   (GB/s, best of 50)\n", "hash", "8 KiB", "400 KiB",
	       "1.3 MiB");
	for (size_t k = 0; k < sizeof(h) / sizeof(h[0]); k++) {
		printf("%-16s", h[k].name);
		for (size_t s = 0; s < 3; s++) {
			uint64_t best = UINT64_MAX;

			for (int r = 0; r < 50; r++) {
				uint64_t t0 = now_ns();

				sink += h[k].fn(buf, sizes[s]);
				t0 = now_ns() - t0;
				if (t0 < best)
					best = t0;
			}
			printf(" %12.2f", (double)sizes[s] / (best ? best : 1));
		}
		printf("\n");
	}
	if (CPU_FEATURE_ACTIVE(AVX2))
		printf("SSE2 and AVX2 digests %s\n",
		       h_xxh3(buf, sizes[2]) == h_xxh3_avx2(buf, sizes[2]) ? "agree" : "DIFFER");
	free(buf);
	return sink == 42;
}

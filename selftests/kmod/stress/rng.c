// SPDX-License-Identifier: GPL-2.0
/*
 * rng.c - random numbers of the stress: one stream per (worker, iteration).
 */
#include "stress.h"

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t rnext(struct rng *g)
{
	g->s += 0x9e3779b97f4a7c15ULL;
	return mix64(g->s);
}

uint64_t rnd(struct rng *g, uint64_t n)
{
	return n ? rnext(g) % n : 0;
}

bool chance(struct rng *g, unsigned int pct)
{
	return rnd(g, 100) < pct;
}

/* Iteration @idx of stream @stream draws the same numbers whatever the
 * other threads did: a failure names (worker, iteration) to replay. */
struct rng rng_for(uint64_t seed, uint64_t stream, uint64_t idx)
{
	struct rng g = { mix64(seed ^ mix64((stream << 40) ^ idx)) };

	return g;
}

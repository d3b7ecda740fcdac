// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - the tables of the closing note: counts of results, flows,
 * single mutations, edges.
 */
#include "stress.h"

void print_table(const char *title, uint32_t (*c)[NERR], int from, int to)
{
	bool used[NERR] = { false };
	char line[1024];
	int r, e, n;

	for (r = from; r < to; r++)
		for (e = 0; e < NERR; e++)
			if (c[r][e])
				used[e] = true;
	n = snprintf(line, sizeof(line), "# %-28s", title);
	for (e = 0; e < NERR; e++)
		if (used[e])
			n += snprintf(line + n, sizeof(line) - n, " %9s", ename(e));
	printf("%s\n", line);
	for (r = from; r < to; r++) {
		uint64_t tot = 0;

		for (e = 0; e < NERR; e++)
			tot += c[r][e];
		if (!tot)
			continue;
		n = snprintf(line, sizeof(line), "# %-28s", cnt_name[r]);
		for (e = 0; e < NERR; e++)
			if (used[e])
				n += snprintf(line + n, sizeof(line) - n, " %9u",
					      c[r][e]);
		printf("%s\n", line);
	}
}

static void print_dist(const char *name, const uint32_t *c)
{
	char line[512];
	int e, n = snprintf(line, sizeof(line), "#   %-36s", name);

	for (e = 0; e < NERR; e++)
		if (c[e])
			n += snprintf(line + n, sizeof(line) - n, " %s %u",
				      ename(e), c[e]);
	printf("%s\n", line);
}

void print_summary(struct worker *fw, struct racer *rc, long long ms)
{
	static uint32_t mstat[NMUT_MAX][NERR], estat[NEDGE_MAX][NERR];
	uint64_t req = 0, img = 0, mir = 0, lay = 0, part = 0, rob = 0;
	int i, r, e;

	memset(S->cnt, 0, sizeof(S->cnt));
	memset(mstat, 0, sizeof(mstat));
	memset(estat, 0, sizeof(estat));
	for (i = 0; i < NWORKERS + 1 + NRACERS; i++) {
		uint32_t (*c)[NERR] = i < NWORKERS ? S->w[i]->cnt :
				      i == NWORKERS ? fw->cnt :
				      rc[i - NWORKERS - 1].cnt;

		for (r = 0; r < NCNT; r++)
			for (e = 0; e < NERR; e++)
				S->cnt[r][e] += c[r][e];
	}
	for (i = 0; i < NWORKERS; i++) {
		struct worker *w = S->w[i];

		req += w->nreq;
		img += w->images_checked;
		mir += w->images_mirrored;
		lay += w->layouts_checked;
		part += w->batches_partial;
		rob += w->ro_batch_left;
		for (r = 0; r < nmut; r++)
			for (e = 0; e < NERR; e++)
				mstat[r][e] += w->mstat[r][e];
		for (r = 0; r < NEDGE; r++)
			for (e = 0; e < NERR; e++)
				estat[r][e] += w->estat[r][e];
	}
	printf("# seed %#lx: %lu requests in %.1f s (%.0f/s), %d workers, "
	       "%d racers, %d forker\n", (unsigned long)S->seed,
	       (unsigned long)req, ms / 1000.0, req * 1000.0 / (ms ? ms : 1),
	       NWORKERS, S->nracers, S->fork);
	for (r = 0; r < NFLOW; r++) {
		uint64_t ns = 0, cnt = 0, rq = 0;

		for (i = 0; i < NWORKERS; i++) {
			ns += S->w[i]->flow_ns[r];
			cnt += S->w[i]->flow_n[r];
			rq += S->w[i]->flow_req[r];
		}
		printf("#   flow %-14s %7lu times, %7lu requests, %8.1f s thread "
		       "time, %6.0f us/request\n", flows[r].name,
		       (unsigned long)cnt, (unsigned long)rq, ns / 1e9,
		       rq ? ns / 1e3 / rq : 0.0);
	}
	printf("# reservation VMAs found after a phase (racers moved "
	       "reservations mid-call): %ld\n", S->moved_reservations);
	printf("# images checked byte by byte %lu (mirrored %lu), layouts "
	       "checked in /proc/self/maps %lu, partial batches %lu, images a "
	       "read-only batch left %lu\n", (unsigned long)img,
	       (unsigned long)mir, (unsigned long)lay, (unsigned long)part,
	       (unsigned long)rob);
	print_table("requests", S->cnt, 0, C_REQUESTS);
	print_table("racers, forker", S->cnt, C_REQUESTS, NCNT);
	printf("# single mutations of a valid private request:\n");
	for (r = 0; r < nmut; r++)
		print_dist(mutations[r].name, mstat[r]);
	printf("# edges of the address space (TASK_SIZE %#lx, mmap_min_addr "
	       "%#lx):\n", (unsigned long)S->task_size,
	       (unsigned long)S->mmap_min);
	for (r = 0; r < NEDGE; r++)
		print_dist(edge_name[r], estat[r]);
}

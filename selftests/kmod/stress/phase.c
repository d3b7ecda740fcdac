// SPDX-License-Identifier: GPL-2.0
/*
 * phase.c - running a phase: workers, racers, forker, and a watchdog that
 * reports a hang.
 */
#include <dirent.h>
#include <time.h>

#include "stress.h"

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void dump_hang(void)
{
	char path[300], buf[4096];
	int i, fd;
	ssize_t n;
	DIR *d;
	struct dirent *e;

	printf("# HANG: no request finished for %d s\n", S->hang_secs);
	for (i = 0; i < NWORKERS; i++)
		printf("#   worker %d: iteration %lu, %s, %lu requests\n", i,
		       (unsigned long)S->w[i]->iter, S->w[i]->flow,
		       (unsigned long)S->w[i]->nreq);
	d = opendir("/proc/self/task");
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stack", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = 0;
			printf("#   task %s kernel stack:\n%s", e->d_name, buf);
		}
	}
	if (d)
		closedir(d);
	fflush(stdout);
}

static void shrinker_tick(uint64_t i)
{
	/* the file a source names shrinks and grows under the requests */
	if (i % 16 == 0)
		if (ftruncate(S->files[F_SHRINK].fd, (i / 16) % 2 ? PG : 8 * PG))
			(void)0;
}

void run_phase(uint64_t per_worker, struct worker *forker_w, struct racer *rc)
{
	pthread_t th[NWORKERS], fth;
	long last = -1, stalled = 0;
	int i;

	for (i = 0; i < NWORKERS; i++) {
		S->w[i]->quota = S->w[i]->nreq + per_worker;
		pthread_create(&th[i], NULL, worker_main, S->w[i]);
	}
	atomic_store(&S->stop, 0);
	for (i = 0; i < S->nracers; i++) {
		rc[i].id = i;
		pthread_create(&rc[i].th, NULL, racer_main, &rc[i]);
	}
	if (S->fork)
		pthread_create(&fth, NULL, forker_main, forker_w);
	for (;;) {
		long p = atomic_load(&S->progress);
		bool done = true;

		for (i = 0; i < NWORKERS; i++)
			if (strcmp(S->w[i]->flow, "done"))
				done = false;
		if (done)
			break;
		usleep(250000);
		shrinker_tick(p);
		if (p == last) {
			if (++stalled >= S->hang_secs * 4) {
				dump_hang();
				fail(NULL, "hang: no progress for %d s",
				     S->hang_secs);
				printf("%s", S->log);
				fflush(stdout);
				abort();
			}
		} else {
			stalled = 0;
			last = p;
		}
	}
	for (i = 0; i < NWORKERS; i++)
		pthread_join(th[i], NULL);
	atomic_store(&S->stop, 1);
	for (i = 0; i < S->nracers; i++)
		pthread_join(rc[i].th, NULL);
	if (S->fork)
		pthread_join(fth, NULL);
	clean_shared();
	drop_records();
	/* the shrinking file back to 8 written pages, for Shmem */
	if (ftruncate(S->files[F_SHRINK].fd, 8 * PG) ||
	    pwrite(S->files[F_SHRINK].fd, S->files[F_IMG].bytes, 8 * PG, 0) !=
	    (ssize_t)(8 * PG))
		fail(NULL, "restoring the shrinking file");
	for (i = 0; i < NWORKERS; i++) {
		S->w[i]->nhot = 0;
		probe_private(S->w[i], "the phase");
	}
}

/*
 * api_threads_test.c - thread safety: 8 threads doing kdl_open / kdl_sym /
 * kdl_close on fixtures concurrently (bounded iterations), one library
 * opened from many threads at once, and (kdl only) other threads not
 * blocked by a constructor that is still running.
 */
#include <pthread.h>
#include <time.h>

#include "kdl_test.h"
#include "kselftest_harness.h"

#define NTHREADS 8
#define ITERS 100

struct lib_case {
	const char *lib, *sym;
	int want;
};

static const struct lib_case cases[] = {
	{ "libfx_basic.so", "fx_basic_get_counter", 3 },
	{ "libfx_versions.so", "foo", 2 },
	{ "libfx_weak.so", "fx_weak_call_dep_only", 3 },
	{ "libfx_ifunc_user.so", "fx_ifunc_resolver_ran", 1 },
	{ "libfx_lifetime.so", "fx_lifetime_value", 99 },
	{ "libfx_relro.so", "fx_relro_data", -1 },
	{ "origin/libfx_origin.so", "fx_origin_value", 41 },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

struct worker {
	int id;
	const char *paths[NCASES];
	int failures;
	char err[256];
};

static void *churn(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < ITERS; i++) {
		size_t c = (w->id + i) % NCASES;
		void *h = kdl_open(w->paths[c], RTLD_NOW, NULL);
		void *s;
		const char *e;

		if (!h) {
			e = kdl_error();
			snprintf(w->err, sizeof(w->err), "open %s: %s", w->paths[c], e ? e : "?");
			w->failures++;
			return NULL;
		}
		s = kdl_sym(h, cases[c].sym);
		if (!s) {
			e = kdl_error();
			snprintf(w->err, sizeof(w->err), "sym %s: %s", cases[c].sym, e ? e : "?");
			w->failures++;
		} else if (cases[c].want >= 0 && ((int (*)(void))s)() < cases[c].want) {
			snprintf(w->err, sizeof(w->err), "%s() wrong", cases[c].sym);
			w->failures++;
		}
		if (kdl_close(h)) {
			snprintf(w->err, sizeof(w->err), "close %s failed", w->paths[c]);
			w->failures++;
		}
	}
	return NULL;
}

TEST(concurrent_open_sym_close)
{
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	int failures = 0;

	for (int i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		for (size_t c = 0; c < NCASES; c++)
			w[i].paths[c] = fx_path(cases[c].lib);
	}
	for (int i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, churn, &w[i]));
	for (int i = 0; i < NTHREADS; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		if (w[i].failures)
			TH_LOG("thread %d: %d failures, last: %s", i, w[i].failures, w[i].err);
		failures += w[i].failures;
	}
	EXPECT_EQ(0, failures);
	/* Everything was closed as often as opened. */
	for (size_t c = 0; c < NCASES; c++)
		EXPECT_EQ(0, maps_count_path(fx_path(cases[c].lib)));
}

struct same_lib {
	const char *path;
	void *expect;
	int mismatches;
	int (*ctor_count)(void);
};

static void *open_same(void *arg)
{
	struct same_lib *s = arg;

	for (int i = 0; i < ITERS; i++) {
		void *h = kdl_open(s->path, RTLD_NOW, NULL);
		int (*value)(void) = h ? kdl_sym(h, "fx_lifetime_value") : NULL;

		if (h != s->expect || !value || value() != 99)
			__atomic_add_fetch(&s->mismatches, 1, __ATOMIC_RELAXED);
		if (h)
			kdl_close(h);
	}
	return NULL;
}

TEST(one_library_from_many_threads_is_one_object)
{
	struct same_lib s = { .path = fx_path("libfx_lifetime.so") };
	pthread_t t[NTHREADS];
	int dtors = 0;

	s.expect = KDL_OPEN_OK(s.path, RTLD_NOW);
	((void (*)(int *))KDL_SYM_OK(s.expect, "fx_lifetime_set_flag"))(&dtors);
	for (int i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, open_same, &s));
	for (int i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	EXPECT_EQ(0, s.mismatches);
	EXPECT_EQ(1, ((int (*)(void))KDL_SYM_OK(s.expect, "fx_lifetime_ctor_count"))());
	EXPECT_EQ(0, dtors);
	EXPECT_EQ(0, kdl_close(s.expect));
	EXPECT_EQ(1, dtors);
	EXPECT_EQ(0, maps_count_path(s.path));
}

/*
 * A constructor (libfx_ctor_hook.so) starts a thread that uses the loader
 * and waits for it, up to a deadline.  glibc holds its loader lock across
 * constructors, so there the thread blocks until the constructor gives up;
 * kdl must let it through (kdl_sym never serializes on a global lock, and
 * no internal lock is held across user code).
 */
enum { HOOK_SYM, HOOK_OPEN };

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int mode, done, ok;
	void *held;
	const char *other;
	pthread_t t;
} hook = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void *hook_worker(void *arg)
{
	int ok;

	if (hook.mode == HOOK_SYM) {
		int (*add)(int, int) = kdl_sym(hook.held, "fx_basic_add");

		ok = add && add(2, 3) == 5;
	} else {
		void *h = kdl_open(hook.other, RTLD_NOW, NULL);

		ok = h && kdl_sym(h, "fx_lifetime_value");
		if (h)
			kdl_close(h);
	}
	pthread_mutex_lock(&hook.mu);
	hook.done = 1;
	hook.ok = ok;
	pthread_cond_signal(&hook.cv);
	pthread_mutex_unlock(&hook.mu);
	return NULL;
}

static void hook_fn(void)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	if (pthread_create(&hook.t, NULL, hook_worker, NULL))
		return;
	pthread_mutex_lock(&hook.mu);
	while (!hook.done)
		if (pthread_cond_timedwait(&hook.cv, &hook.mu, &deadline))
			break;
	pthread_mutex_unlock(&hook.mu);
}

static void run_hooked_load(struct __test_metadata *_metadata, int mode)
{
	char env[32];
	void *h;
	int done;

	if (KDL_TEST_GLIBC)
		SKIP(return, "kdl-only: glibc holds its loader lock across constructors");
	hook.mode = mode;
	hook.held = KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW);
	hook.other = fx_path("libfx_lifetime.so");
	snprintf(env, sizeof(env), "%lx", (unsigned long)(uintptr_t)hook_fn);
	setenv("FX_CTOR_HOOK", env, 1);
	h = KDL_OPEN_OK(fx_path("libfx_ctor_hook.so"), RTLD_NOW);
	pthread_mutex_lock(&hook.mu);
	done = hook.done;	/* as seen when the constructor returned */
	pthread_mutex_unlock(&hook.mu);
	pthread_join(hook.t, NULL);
	EXPECT_TRUE(done);
	EXPECT_TRUE(hook.ok);
	EXPECT_EQ(7, ((int (*)(void))KDL_SYM_OK(h, "fx_ctor_hook_value"))());
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(0, kdl_close(hook.held));
}

TEST(sym_from_other_thread_during_constructor)
{
	run_hooked_load(_metadata, HOOK_SYM);
}

TEST(open_from_other_thread_during_constructor)
{
	run_hooked_load(_metadata, HOOK_OPEN);
}

TEST_HARNESS_MAIN

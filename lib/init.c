/* init.c - run constructors and destructors, never under kdl_lock. */
#include <stdlib.h>

#include "obj.h"

static int saved_argc;
static char **saved_argv, **saved_envp;
static unsigned int init_counter;

void kdl_capture_args(int argc, char **argv, char **envp)
{
	saved_argc = argc;
	saved_argv = argv;
	saved_envp = envp;
}

/* glibc passes (argc, argv, envp) to the initialisers of shared objects;
 * so does libkdl's own, which is how we learn them. */
__attribute__((constructor)) static void kdl_self_init(int argc, char **argv, char **envp)
{
	kdl_capture_args(argc, argv, envp);
}

typedef void (*init_fn)(int, char **, char **);
typedef void (*fini_fn)(void);

static bool code_ptr(const struct kdl_obj *o, uintptr_t p)
{
	return p >= o->bias && kdl_elf_contains(o->elf, p - o->bias, 1, PF_X);
}

static void call_inits(struct kdl_obj *o)
{
	if (o->init && code_ptr(o, o->bias + o->init))
		((init_fn)(o->bias + o->init))(saved_argc, saved_argv, saved_envp);
	for (size_t i = 0; i < o->ninit_array; i++) {
		uintptr_t f = o->init_array[i];

		if (f && f != (uintptr_t)-1 && code_ptr(o, f))
			((init_fn)f)(saved_argc, saved_argv, saved_envp);
	}
}

/* Post-order: dependencies before the objects that need them. */
static int order(struct kdl_obj *o, struct kdl_obj ***out, size_t *n, size_t *cap,
		 unsigned int depth)
{
	if (o->system || o->init_state == KDL_INIT_DONE || depth > 4096)
		return 0;
	for (size_t i = 0; i < *n; i++)
		if ((*out)[i] == o)
			return 0;
	/* Mark as visited before descending so cycles end. */
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct kdl_obj **na = realloc(*out, nc * sizeof(*na));

		if (!na)
			return -1;
		*out = na;
		*cap = nc;
	}
	(*out)[(*n)++] = o;
	size_t me = *n - 1;
	for (size_t i = 0; i < o->ndeps; i++)
		if (order(o->deps[i], out, n, cap, depth + 1))
			return -1;
	/* Move self after its dependencies. */
	for (size_t i = me; i + 1 < *n; i++)
		(*out)[i] = (*out)[i + 1];
	(*out)[*n - 1] = o;
	return 0;
}

void kdl_run_inits(struct kdl_obj *root)
{
	struct kdl_obj **list = NULL;
	size_t n = 0, cap = 0;
	pthread_t self = pthread_self();

	pthread_mutex_lock(&kdl_lock);
	order(root, &list, &n, &cap, 0);
	pthread_mutex_unlock(&kdl_lock);
	for (size_t i = 0; i < n; i++) {
		struct kdl_obj *o = list[i];

		pthread_mutex_lock(&kdl_lock);
		while (o->init_state == KDL_INIT_RUNNING && !pthread_equal(o->init_owner, self))
			pthread_cond_wait(&kdl_init_cond, &kdl_lock);
		if (o->init_state != KDL_INIT_NONE) {
			pthread_mutex_unlock(&kdl_lock);
			continue;
		}
		o->init_state = KDL_INIT_RUNNING;
		o->init_owner = self;
		pthread_mutex_unlock(&kdl_lock);

		call_inits(o);

		pthread_mutex_lock(&kdl_lock);
		o->init_state = KDL_INIT_DONE;
		o->init_seq = ++init_counter;
		pthread_cond_broadcast(&kdl_init_cond);
		pthread_mutex_unlock(&kdl_lock);
	}
	free(list);
}

/* DT_FINI_ARRAY in reverse, then DT_FINI; only if the constructors ran. */
void kdl_run_fini(struct kdl_obj *o)
{
	if (o->init_state != KDL_INIT_DONE || o->finalized)
		return;
	o->finalized = true;
	for (size_t i = o->nfini_array; i-- > 0;) {
		uintptr_t f = o->fini_array[i];

		if (f && f != (uintptr_t)-1 && code_ptr(o, f))
			((fini_fn)f)();
	}
	if (o->fini && code_ptr(o, o->bias + o->fini))
		((fini_fn)(o->bias + o->fini))();
}

static int later_first(const void *a, const void *b)
{
	const struct kdl_obj *x = *(struct kdl_obj *const *)a, *y = *(struct kdl_obj *const *)b;

	return x->init_seq < y->init_seq ? 1 : x->init_seq > y->init_seq ? -1 : 0;
}

/*
 * At exit, run the destructors of objects still loaded, latest
 * constructed first, as glibc does for its own objects.  Each round takes
 * the objects not finalized yet, sorted once (a process with ten thousand
 * namespaces exits in one pass, not a search per object), and holds a
 * reference on each, so a destructor's kdl_close cannot free one still
 * in the list.  What a destructor loads meanwhile is the next round's.
 */
__attribute__((destructor)) static void kdl_self_fini(void)
{
	for (;;) {
		struct kdl_obj **list = NULL;
		size_t n = 0, cap = 0;

		pthread_mutex_lock(&kdl_lock);
		for (struct kdl_obj *o = kdl_objs; o; o = o->next) {
			if (o->init_state != KDL_INIT_DONE || o->finalized)
				continue;
			if (n == cap) {
				struct kdl_obj **nl = realloc(list, (cap = cap ? cap * 2 : 64) * sizeof(*nl));

				if (!nl)
					break;
				list = nl;
			}
			o->refcnt++;
			list[n++] = o;
		}
		pthread_mutex_unlock(&kdl_lock);
		if (!n) {
			free(list);
			break;
		}
		qsort(list, n, sizeof(*list), later_first);
		for (size_t i = 0; i < n; i++)
			kdl_run_fini(list[i]);
		free(list);
	}
}

/* once.h - run-once initialisation, as pthread_once but without its
 * syscall: glibc's pthread_once ends every first call with a futex wake,
 * waiters or not (strace of a first kdl_open: one per once). */
#ifndef KDL_ONCE_H
#define KDL_ONCE_H

#include <pthread.h>
#include <stdatomic.h>

struct kdl_once {
	atomic_int done;
	pthread_mutex_t lock;
};

#define KDL_ONCE_INIT { 0, PTHREAD_MUTEX_INITIALIZER }

static inline void kdl_once(struct kdl_once *o, void (*fn)(void))
{
	if (atomic_load_explicit(&o->done, memory_order_acquire))
		return;
	pthread_mutex_lock(&o->lock);
	if (!atomic_load_explicit(&o->done, memory_order_relaxed)) {
		fn();
		atomic_store_explicit(&o->done, 1, memory_order_release);
	}
	pthread_mutex_unlock(&o->lock);
}

#endif

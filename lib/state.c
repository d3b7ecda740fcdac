/* state.c - the list of objects kdl loaded and the lock guarding it. */
#include "obj.h"

/* Lock order: kdl_lock before glibc's loader lock (taken inside
 * dl_iterate_phdr and dlopen); never the other way round. */
pthread_mutex_t kdl_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
pthread_cond_t kdl_init_cond = PTHREAD_COND_INITIALIZER;
struct kdl_obj *kdl_objs, *kdl_objs_tail;
struct kdl_ns kdl_default_ns = { .name = "default", .sees_process = true };

void kdl_obj_link(struct kdl_obj *o)
{
	o->prev = kdl_objs_tail;
	o->next = NULL;
	if (kdl_objs_tail)
		kdl_objs_tail->next = o;
	else
		kdl_objs = o;
	kdl_objs_tail = o;
	kdl_index_addr_add(o);
}

void kdl_obj_unlink(struct kdl_obj *o)
{
	kdl_index_addr_del(o);
	if (o->prev)
		o->prev->next = o->next;
	else
		kdl_objs = o->next;
	if (o->next)
		o->next->prev = o->prev;
	else
		kdl_objs_tail = o->prev;
	o->next = o->prev = NULL;
}

struct kdl_obj *kdl_obj_by_addr(uintptr_t addr)
{
	bool complete;
	struct kdl_obj *found = kdl_index_addr(addr, &complete);

	if (found || complete)
		return found;
	for (struct kdl_obj *o = kdl_objs; o; o = o->next)
		if (addr >= o->map.start && addr < o->map.start + o->map.len)
			return o;
	return NULL;
}

bool kdl_obj_valid(const struct kdl_obj *o)
{
	return o && o->magic == KDL_OBJ_MAGIC;
}

/* debug.h - debugger visibility: kdl's objects as a link-map namespace
 * chained after glibc's, announced through glibc's r_brk. */
#ifndef KDL_DEBUG_H
#define KDL_DEBUG_H

#include <stddef.h>

#include "kdl_internal.h"

struct kdl_obj;

/* Under kdl_lock, after @objs are linked into kdl_objs and before their
 * constructors run: add their link-map records and tell the debugger. */
KDL_HIDDEN void kdl_debug_publish(struct kdl_obj *const *objs, size_t n);
/* After the destructors of @objs ran and before they are unmapped: drop
 * their records and tell the debugger.  Takes kdl_lock. */
KDL_HIDDEN void kdl_debug_unpublish(struct kdl_obj *const *objs, size_t n);

#endif

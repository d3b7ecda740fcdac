/* SPDX-License-Identifier: GPL-2.0 */
/* kdl_internal.h - state shared by the files of kdl.ko. */
#ifndef KDL_INTERNAL_H
#define KDL_INTERNAL_H

#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/types.h>

#define KDL_MAX_SEGMENTS	64
#define KDL_MAX_BATCH		256

/*
 * struct kdl_file - one open of /dev/kdl.
 * @mm:   the opener's mm (mmgrab'd); every ioctl from another mm fails.
 * @lock: serialises the image list of this file.  Lock order:
 *        kdl_file.lock, then mmap_lock (taken inside vm_mmap/vm_munmap).
 */
struct kdl_file {
	struct mm_struct *mm;
	struct mutex lock;
};

#endif /* KDL_INTERNAL_H */

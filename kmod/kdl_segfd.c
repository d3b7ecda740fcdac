// SPDX-License-Identifier: GPL-2.0
/* kdl_segfd.c - KDL_IOC_SEGMENT_FD: a new fd for a mirrored writable segment's shmem object. */
#include <linux/build_bug.h>
#include <linux/cred.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "kdl_internal.h"

/**
 * kdl_segment_fd() - KDL_IOC_SEGMENT_FD.
 * @kf:   the open file's state.
 * @sfd:  the request, copied in (its size field is the caller's size).
 * @usfd: the caller's struct, where the outputs are written.
 *
 * 1. Check the request; 2. take a reference to the segment's shmem
 * under kf->lock, and drop the lock; 3. reserve an fd number and open a
 * new file description of the object; 4. write the outputs; 5. install
 * the fd, the one step that cannot be undone, last.  Nothing but the
 * reference is done under kf->lock, so neither the fd table's lock nor
 * a fault in copy_to_user() (mmap_lock) nests inside it.
 *
 * A new open file description, not the record's file: the caller gets
 * its own file offset and status flags, and the module's reference is
 * never shared with userspace.  dentry_open() runs security_file_open()
 * for the caller; the path is the object's own, so a copy on the noexec
 * instance stays noexec.
 *
 * Context: process context of the bound mm; no lock held on entry.
 * Return: 0 with the fd installed and the outputs written, or a negative
 * errno with no fd installed.
 */
int kdl_segment_fd(struct kdl_file *kf, struct kdl_segment_fd *sfd,
		   struct kdl_segment_fd __user *usfd)
{
	size_t usize = sfd->size;
	unsigned long len = 0;
	struct file *shm, *f;
	int fd, ret;

	BUILD_BUG_ON(sizeof(struct kdl_segment_fd) != KDL_SEGMENT_FD_SIZE_VER0);

	/* 1. */
	if (sfd->flags & ~KDL_SEGFD_ALL_FLAGS)
		return -EINVAL;
	if (sfd->fd || sfd->offset || sfd->len ||
	    memchr_inv(sfd->reserved, 0, sizeof(sfd->reserved)))
		return -EINVAL;

	/* 2. */
	shm = kdl_image_shm(kf, sfd->base, sfd->index, &len);
	if (IS_ERR(shm))
		return PTR_ERR(shm);

	/* 3. */
	fd = get_unused_fd_flags((sfd->flags & KDL_SEGFD_CLOEXEC) ?
				 O_CLOEXEC : 0);
	if (fd < 0) {
		ret = fd;
		goto out_shm;
	}
	f = dentry_open(&shm->f_path, O_RDWR | O_LARGEFILE, current_cred());
	if (IS_ERR(f)) {
		ret = PTR_ERR(f);
		goto out_fd;
	}

	/* 4. */
	sfd->fd = fd;
	sfd->offset = 0;
	sfd->len = len;
	if (copy_to_user(usfd, sfd, min(usize, sizeof(*sfd)))) {
		ret = -EFAULT;
		goto out_file;
	}

	/* 5. */
	fd_install(fd, f);
	fput(shm);
	return 0;

out_file:
	fput(f);
out_fd:
	put_unused_fd(fd);
out_shm:
	fput(shm);
	return ret;
}

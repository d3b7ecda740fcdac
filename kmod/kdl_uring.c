// SPDX-License-Identifier: GPL-2.0
/* kdl_uring.c - io_uring passthrough (IORING_OP_URING_CMD) onto the ioctl commands. */
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

#include "kdl_internal.h"

/*
 * The 16 bytes of sqe->cmd (what 6.1 hands a driver as ioucmd->cmd) are
 * struct kdl_uring_cmd of the uapi header: a user pointer to the same
 * struct the ioctl takes, then 8 reserved bytes that must be zero.
 */
static unsigned int kdl_uring_to_ioctl(u32 cmd_op)
{
	switch (cmd_op) {
	case KDL_URING_CMD_MAP:
		return KDL_IOC_MAP;
	case KDL_URING_CMD_UNMAP:
		return KDL_IOC_UNMAP;
	case KDL_URING_CMD_MAP_BATCH:
		return KDL_IOC_MAP_BATCH;
	}
	return 0;
}

/**
 * kdl_uring_cmd() - f_op->uring_cmd of /dev/kdl.
 *
 * Mapping takes mmap_lock and may sleep, so a non-blocking issue gets
 * -EAGAIN and io_uring retries from an io-wq worker, a thread of the
 * submitting process sharing its mm (io_uring/uring_cmd.c copies the
 * command bytes before the retry).  The command completes synchronously:
 * the CQE's res is 0 or -errno, as the ioctl would return.
 */
int kdl_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	const struct kdl_uring_cmd *c = ioucmd->cmd;
	unsigned int cmd = kdl_uring_to_ioctl(ioucmd->cmd_op);
	u64 addr;

	BUILD_BUG_ON(sizeof(struct kdl_uring_cmd) != 16);
	if (!cmd)
		return -ENOTTY;
	if (READ_ONCE(c->reserved))
		return -EINVAL;
	if (issue_flags & IO_URING_F_NONBLOCK)
		return -EAGAIN;
	addr = READ_ONCE(c->addr);
	return kdl_dispatch(ioucmd->file, cmd, u64_to_user_ptr(addr));
}

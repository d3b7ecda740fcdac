// SPDX-License-Identifier: GPL-2.0
/* kdl_dev.c - the /dev/kdl misc device: open, release, ioctl dispatch. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/kdl.h>

#include "kdl_internal.h"

static int kdl_open(struct inode *inode, struct file *file)
{
	struct kdl_file *kf;

	if (!current->mm)
		return -EINVAL;
	kf = kzalloc(sizeof(*kf), GFP_KERNEL);
	if (!kf)
		return -ENOMEM;
	mutex_init(&kf->lock);
	mmgrab(current->mm);
	kf->mm = current->mm;
	file->private_data = kf;
	return 0;
}

static int kdl_release(struct inode *inode, struct file *file)
{
	struct kdl_file *kf = file->private_data;

	mmdrop(kf->mm);
	mutex_destroy(&kf->lock);
	kfree(kf);
	return 0;
}

static int kdl_ioc_query(struct kdl_file *kf, void *arg)
{
	struct kdl_query *q = arg;

	if (q->abi_version || q->features || q->max_segments || q->max_batch ||
	    memchr_inv(q->reserved, 0, sizeof(q->reserved)))
		return -EINVAL;
	q->abi_version = KDL_ABI_VERSION;
	q->features = 0;
	q->max_segments = KDL_MAX_SEGMENTS;
	q->max_batch = KDL_MAX_BATCH;
	return 0;
}

struct kdl_ioctl_op {
	int (*fn)(struct kdl_file *kf, void *arg);
	size_t ksize;		/* sizeof() of the struct this module knows */
	size_t min_size;	/* its VER0 size */
	bool copy_out;
};

#define KDL_OP(_nr, _fn, _struct, _ver0, _out)				\
	[_IOC_NR(_nr)] = { .fn = _fn, .ksize = sizeof(struct _struct),	\
			   .min_size = _ver0, .copy_out = _out }

static const struct kdl_ioctl_op kdl_ops[] = {
	KDL_OP(KDL_IOC_QUERY, kdl_ioc_query, kdl_query, KDL_QUERY_SIZE_VER0,
	       true),
};

/*
 * Dispatch on the command number alone: the struct's own size field says
 * which version the caller speaks (see uapi/linux/kdl.h).
 */
static long kdl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct kdl_file *kf = file->private_data;
	void __user *uarg = (void __user *)arg;
	const struct kdl_ioctl_op *op;
	unsigned int nr = _IOC_NR(cmd);
	u32 usize;
	void *kbuf;
	long ret;

	if (_IOC_TYPE(cmd) != KDL_IOC_MAGIC || nr >= ARRAY_SIZE(kdl_ops) ||
	    !kdl_ops[nr].fn)
		return -ENOTTY;
	if (current->mm != kf->mm)
		return -EPERM;
	op = &kdl_ops[nr];
	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < op->min_size)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;

	kbuf = kzalloc(op->ksize, GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	ret = copy_struct_from_user(kbuf, op->ksize, uarg, usize);
	if (ret)
		goto out_free;
	*(u32 *)kbuf = op->ksize;
	ret = op->fn(kf, kbuf);
	if (ret)
		goto out_free;
	*(u32 *)kbuf = usize;
	if (op->copy_out && copy_to_user(uarg, kbuf, min_t(size_t, usize,
							  op->ksize)))
		ret = -EFAULT;
out_free:
	kfree(kbuf);
	return ret;
}

static const struct file_operations kdl_fops = {
	.owner = THIS_MODULE,
	.open = kdl_open,
	.release = kdl_release,
	.unlocked_ioctl = kdl_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice kdl_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kdl",
	.fops = &kdl_fops,
	.mode = 0666,
};

static int __init kdl_init(void)
{
	BUILD_BUG_ON(sizeof(struct kdl_query) != KDL_QUERY_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kdl_map) != KDL_MAP_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kdl_unmap) != KDL_UNMAP_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kdl_map_batch) != KDL_MAP_BATCH_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kdl_segment) != 40);
	return misc_register(&kdl_misc);
}

static void __exit kdl_exit(void)
{
	misc_deregister(&kdl_misc);
}

module_init(kdl_init);
module_exit(kdl_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kdl: kernel-assisted dynamic loader device");

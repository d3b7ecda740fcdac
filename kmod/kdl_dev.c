// SPDX-License-Identifier: GPL-2.0
/* kdl_dev.c - the /dev/kdl misc device: open, release, ioctl dispatch. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
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
	INIT_LIST_HEAD(&kf->images);
	spin_lock_init(&kf->pending_lock);
	INIT_LIST_HEAD(&kf->pending);
	mmgrab(current->mm);
	kf->mm = current->mm;
	file->private_data = kf;
	return 0;
}

/*
 * Runs when the last reference goes (a reservation VMA holds one only
 * without KDL_ANON_RESERVE, kdl_window.c): no map call can be in flight.  Mapped images stay; only the records
 * that let KDL_IOC_UNMAP find them go.
 */
static int kdl_release(struct inode *inode, struct file *file)
{
	struct kdl_file *kf = file->private_data;

	kdl_forget_images(kf);
	mmdrop(kf->mm);
	mutex_destroy(&kf->lock);
	kfree(kf);
	return 0;
}

static u64 kdl_features(void)
{
	u64 f = KDL_FEAT_MAP | KDL_FEAT_MIRROR | KDL_FEAT_SRC_ADDR |
		KDL_FEAT_BATCH | KDL_FEAT_DATA_FD | KDL_FEAT_SEGMENT_FD;

	if (IS_ENABLED(CONFIG_IO_URING))
		f |= KDL_FEAT_URING_CMD;
	return f;
}

static int kdl_ioc_query(struct kdl_file *kf, struct file *file, void *arg,
			 void __user *uarg)
{
	struct kdl_query *q = arg;

	if (q->abi_version || q->features || q->max_segments || q->max_batch ||
	    memchr_inv(q->reserved, 0, sizeof(q->reserved)))
		return -EINVAL;
	q->abi_version = KDL_ABI_VERSION;
	q->features = kdl_features();
	q->max_segments = KDL_MAX_SEGMENTS;
	q->max_batch = KDL_MAX_BATCH;
	return 0;
}

static int kdl_ioc_map(struct kdl_file *kf, struct file *file, void *arg,
		       void __user *uarg)
{
	return kdl_map_image(kf, file, arg, uarg);
}

static int kdl_ioc_unmap(struct kdl_file *kf, struct file *file, void *arg,
			 void __user *uarg)
{
	struct kdl_unmap *u = arg;

	if (u->flags || memchr_inv(u->reserved, 0, sizeof(u->reserved)))
		return -EINVAL;
	return kdl_unmap_image(kf, u->base);
}

/*
 * Copies a size-versioned struct in: @usize is the caller's size, at
 * least @min_size and at most a page; bytes past @ksize must be zero.
 */
static int kdl_copy_in(void *kbuf, size_t ksize, const void __user *uarg,
		       size_t min_size)
{
	u32 usize;
	int ret;

	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (usize < min_size)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	ret = copy_struct_from_user(kbuf, ksize, uarg, usize);
	if (ret)
		return ret;
	*(u32 *)kbuf = usize;
	return 0;
}

/*
 * KDL_IOC_MAP_BATCH: requests run in order and the first failure stops
 * the batch; [0, done) stay mapped, each with its base written back.
 * When @done cannot be written the caller cannot tell what is mapped, so
 * the batch is undone and fails (EFAULT unless a request failed first), as
 * KDL_IOC_MAP is when it cannot write @base.  ptrs[i] holds request i's base once it is mapped.
 */
static int kdl_ioc_map_batch(struct kdl_file *kf, struct file *file,
			     void *arg, void __user *uarg)
{
	struct kdl_map_batch *b = arg;
	struct kdl_map_batch __user *ub = uarg;
	struct kdl_map *map;
	u64 *ptrs;
	u32 done = 0;
	int ret = 0;

	if (b->flags || b->done || memchr_inv(b->reserved, 0,
					      sizeof(b->reserved)))
		return -EINVAL;
	if (!b->count || b->count > KDL_MAX_BATCH)
		return -EINVAL;
	ptrs = memdup_user(u64_to_user_ptr(b->maps),
			   array_size(b->count, sizeof(*ptrs)));
	if (IS_ERR(ptrs))
		return PTR_ERR(ptrs);
	map = kmalloc(sizeof(*map), GFP_KERNEL);
	if (!map) {
		ret = -ENOMEM;
		goto out_ptrs;
	}
	for (done = 0; done < b->count; done++) {
		struct kdl_map __user *umap = u64_to_user_ptr(ptrs[done]);

		ret = kdl_copy_in(map, sizeof(*map), umap, KDL_MAP_SIZE_VER0);
		if (!ret)
			ret = kdl_map_image(kf, file, map, umap);
		if (ret)
			break;
		ptrs[done] = map->base;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			done++;
			break;
		}
	}
	if (put_user(done, &ub->done)) {
		while (done--)
			kdl_unmap_image(kf, ptrs[done]);
		if (!ret)
			ret = -EFAULT;
	}
	kfree(map);
out_ptrs:
	kfree(ptrs);
	return ret;
}

static int kdl_ioc_segment_fd(struct kdl_file *kf, struct file *file,
			      void *arg, void __user *uarg)
{
	return kdl_segment_fd(kf, arg, uarg);
}

struct kdl_ioctl_op {
	int (*fn)(struct kdl_file *kf, struct file *file, void *arg,
		  void __user *uarg);
	size_t ksize;		/* sizeof() of the struct this module knows */
	size_t min_size;	/* its VER0 size */
	bool copy_out;		/* else fn writes its outputs itself */
};

#define KDL_OP(_nr, _fn, _struct, _ver0, _out)				\
	[_IOC_NR(_nr)] = { .fn = _fn, .ksize = sizeof(struct _struct),	\
			   .min_size = _ver0, .copy_out = _out }

static const struct kdl_ioctl_op kdl_ops[] = {
	KDL_OP(KDL_IOC_QUERY, kdl_ioc_query, kdl_query, KDL_QUERY_SIZE_VER0,
	       true),
	KDL_OP(KDL_IOC_MAP, kdl_ioc_map, kdl_map, KDL_MAP_SIZE_VER0, false),
	KDL_OP(KDL_IOC_UNMAP, kdl_ioc_unmap, kdl_unmap, KDL_UNMAP_SIZE_VER0,
	       false),
	KDL_OP(KDL_IOC_MAP_BATCH, kdl_ioc_map_batch, kdl_map_batch,
	       KDL_MAP_BATCH_SIZE_VER0, false),
	/* Installs an fd: writes its outputs before fd_install(), itself. */
	KDL_OP(KDL_IOC_SEGMENT_FD, kdl_ioc_segment_fd, kdl_segment_fd,
	       KDL_SEGMENT_FD_SIZE_VER0, false),
};

/*
 * Room for any command's struct as this module knows it, on the stack of
 * kdl_dispatch(): every one is a few words (at most 128 bytes), and an
 * allocation per call showed in the per-image cost (ioctl-abi.md,
 * Performance).
 */
union kdl_ioc_buf {
	struct kdl_query query;
	struct kdl_map map;
	struct kdl_unmap unmap;
	struct kdl_map_batch batch;
	struct kdl_segment_fd segment_fd;
};

/**
 * kdl_dispatch() - run command @cmd on @uarg for the open file @file.
 *
 * Dispatches on the command number alone: the struct's own size field
 * says which version the caller speaks (see uapi/linux/kdl.h).  Shared by
 * the ioctl and the io_uring entry points.
 */
long kdl_dispatch(struct file *file, unsigned int cmd, void __user *uarg)
{
	struct kdl_file *kf = file->private_data;
	const struct kdl_ioctl_op *op;
	unsigned int nr = _IOC_NR(cmd);
	union kdl_ioc_buf buf;
	void *kbuf = &buf;
	u32 usize;
	long ret;

	if (_IOC_TYPE(cmd) != KDL_IOC_MAGIC || nr >= ARRAY_SIZE(kdl_ops) ||
	    !kdl_ops[nr].fn)
		return -ENOTTY;
	if (current->mm != kf->mm)
		return -EPERM;
	op = &kdl_ops[nr];

	/* Fills all of op->ksize bytes: copied, or zeroed past usize. */
	ret = kdl_copy_in(kbuf, op->ksize, uarg, op->min_size);
	if (ret)
		return ret;
	/*
	 * @fn sees the caller's size: it tells which fields the caller has
	 * (kdl_map.data_fd needs KDL_MAP_SIZE_VER1), as in a batch.
	 */
	usize = *(u32 *)kbuf;
	ret = op->fn(kf, file, kbuf, uarg);
	if (ret || !op->copy_out)
		return ret;
	if (copy_to_user(uarg, kbuf, min_t(size_t, usize, op->ksize)))
		return -EFAULT;
	return 0;
}

static long kdl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return kdl_dispatch(file, cmd, (void __user *)arg);
}

static const struct file_operations kdl_fops = {
	.owner = THIS_MODULE,
	.open = kdl_open,
	.release = kdl_release,
	.unlocked_ioctl = kdl_ioctl,
	.mmap = kdl_mmap,
	.get_unmapped_area = kdl_get_unmapped_area,
#ifdef CONFIG_IO_URING
	.uring_cmd = kdl_uring_cmd,
#endif
	.llseek = noop_llseek,
};

/*
 * The node's mode when devtmpfs creates it.  The device grants nothing
 * mmap() would refuse (every mapping goes through vm_mmap()), hence 0666
 * by default; an administrator who wants the ioctl surface closed to
 * most users loads the module with mode=0660 (or lets the udev rule,
 * 60-kdl.rules, set group and mode).  Read once, at load.
 */
static ushort mode = 0666;
module_param(mode, ushort, 0444);
MODULE_PARM_DESC(mode, "permission bits of /dev/kdl at creation (default 0666)");

static struct miscdevice kdl_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kdl",
	.fops = &kdl_fops,
};

static int __init kdl_init(void)
{
	int ret;

	BUILD_BUG_ON(sizeof(struct kdl_query) != KDL_QUERY_SIZE_VER0);
	BUILD_BUG_ON(offsetof(struct kdl_map, data_fd) != KDL_MAP_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kdl_map) != KDL_MAP_SIZE_VER1);
	BUILD_BUG_ON(_IOC_SIZE(KDL_IOC_MAP) != KDL_MAP_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kdl_unmap) != KDL_UNMAP_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kdl_map_batch) != KDL_MAP_BATCH_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kdl_segment) != 40);
	if (mode & ~0777) {
		pr_err("mode=%#o: only permission bits (0777) are allowed\n", mode);
		return -EINVAL;
	}
	kdl_misc.mode = mode;
	ret = kdl_shmem_init();
	if (ret)
		return ret;
	ret = misc_register(&kdl_misc);
	if (ret)
		kdl_shmem_exit();
	return ret;
}

static void __exit kdl_exit(void)
{
	misc_deregister(&kdl_misc);
	kdl_shmem_exit();
}

module_init(kdl_init);
module_exit(kdl_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kdl: kernel-assisted dynamic loader device");
MODULE_VERSION(KDL_VERSION);

// SPDX-License-Identifier: GPL-2.0
/* kdl_mirror.c - shmem copies of segment pages: mirrored writable segments, zeroed read-only tails. */
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/shmem_fs.h>

#include "kdl_internal.h"

/*
 * A private tmpfs instance marked noexec, for copies of a source that
 * lies on a noexec mount.  A copy on the kernel's shm mount would accept
 * PROT_EXEC (at mmap and at a later mprotect) for bytes that mmap of
 * their own file refuses to execute; on this mount do_mmap() clears
 * VM_MAYEXEC exactly as it does for the source.
 */
static struct vfsmount *kdl_noexec_mnt;

int kdl_shmem_init(void)
{
	struct file_system_type *type = get_fs_type("tmpfs");
	struct vfsmount *mnt;

	if (!type)
		return -ENODEV;
	mnt = kern_mount(type);
	module_put(type->owner);	/* get_fs_type's reference */
	if (IS_ERR(mnt))
		return PTR_ERR(mnt);
	/* Not yet visible to anyone: no mount lock needed. */
	mnt->mnt_flags |= MNT_NOEXEC | MNT_NOSUID | MNT_NODEV;
	kdl_noexec_mnt = mnt;
	return 0;
}

/* fs/exec.c's path_noexec(), which modules cannot call. */
static bool kdl_path_noexec(const struct path *path)
{
	return (path->mnt->mnt_flags & MNT_NOEXEC) ||
	       (path->mnt->mnt_sb->s_iflags & SB_I_NOEXEC);
}

void kdl_shmem_exit(void)
{
	kern_unmount(kdl_noexec_mnt);
}

/**
 * kdl_shmem_copy() - a new shmem object of @size bytes whose first @len
 * bytes are the source's bytes at @pos; the rest reads as zero.
 *
 * The copy may be executed only if its source may: it lives on the
 * noexec instance when the source's mount is noexec.
 *
 * Return: the shmem file (the caller owns the reference) or an ERR_PTR.
 */
struct file *kdl_shmem_copy(struct kdl_req *req, loff_t pos, size_t len,
			    size_t size)
{
	struct file *shm;
	loff_t wpos = 0;
	void *buf;
	int ret = 0;

	if (kdl_path_noexec(&req->src->f_path))
		shm = shmem_file_setup_with_mnt(kdl_noexec_mnt, "kdl-mirror",
						size, VM_NORESERVE);
	else
		shm = shmem_file_setup("kdl-mirror", size, VM_NORESERVE);
	if (IS_ERR(shm) || !len)
		return shm;
	buf = (void *)__get_free_page(GFP_KERNEL);
	if (!buf) {
		ret = -ENOMEM;
		goto out_put;
	}
	while (len) {
		ssize_t n = kernel_read(req->src, buf,
					min_t(size_t, len, PAGE_SIZE), &pos);
		ssize_t w;

		if (n <= 0) {
			ret = n ? n : -EIO;	/* the file shrank */
			break;
		}
		w = kernel_write(shm, buf, n, &wpos);
		if (w != n) {
			ret = w < 0 ? w : -EIO;
			break;
		}
		len -= n;
		cond_resched();
	}
	free_page((unsigned long)buf);
	if (!ret)
		return shm;
out_put:
	fput(shm);
	return ERR_PTR(ret);
}

/*
 * Fixes the size of a mirror's shmem object: KDL_IOC_SEGMENT_FD hands it
 * out writable, and a holder's ftruncate() must not take pages from under
 * the views (a fault there is SIGBUS).  shmem_file_setup() leaves it
 * F_SEAL_SEAL, so nobody can change the seals afterwards; mm/memfd.c
 * adds seals under the inode lock, as here.
 */
static void kdl_shmem_fix_size(struct file *shm)
{
	struct inode *inode = file_inode(shm);

	inode_lock(inode);
	SHMEM_I(inode)->seals |= F_SEAL_SHRINK | F_SEAL_GROW;
	inode_unlock(inode);
}

/**
 * kdl_mirror_fill_writable() - map writable segment @s in both views.
 * @out: on success, the shmem object (the caller owns a reference, for
 *       KDL_IOC_SEGMENT_FD) and the bytes of it the views map.
 *
 * Private file pages cannot be mirrored: a write copies the page in one
 * view only.  So the segment's pages go into a fresh shmem object,
 * filled from the file, and both views map it MAP_SHARED; a store
 * through either view is seen through the other.  The VMAs hold the
 * shmem file too; the last of them and of @out's reference frees it.
 */
int kdl_mirror_fill_writable(struct kdl_req *req,
			     const struct kdl_segment *s,
			     struct kdl_image_seg *out)
{
	unsigned long pstart = round_down(s->vaddr, PAGE_SIZE);
	unsigned long len = PAGE_ALIGN(s->vaddr + s->memsz) - pstart;
	unsigned long flags = MAP_SHARED | MAP_FIXED;
	struct file *shm;
	unsigned long r;

	/*
	 * Map the source over the span first, though the shmem replaces it
	 * at once: mmap's checks (LSM, noexec, seals) must judge the file
	 * the bytes come from, not the shmem copy.
	 */
	if (s->filesz) {
		r = vm_mmap(req->src, req->base + pstart,
			    PAGE_ALIGN(s->vaddr + s->filesz) - pstart, s->prot,
			    MAP_PRIVATE | MAP_FIXED,
			    req->src_off + round_down(s->offset, PAGE_SIZE));
		if (IS_ERR_VALUE(r))
			return r;
	}
	/* The file bytes from the segment's first page up to filesz. */
	shm = kdl_shmem_copy(req, req->src_off + round_down(s->offset,
							    PAGE_SIZE),
			     s->filesz ? offset_in_page(s->vaddr) + s->filesz : 0,
			     len);
	if (IS_ERR(shm))
		return PTR_ERR(shm);
	kdl_shmem_fix_size(shm);
	r = vm_mmap(shm, req->base + pstart, len, s->prot, flags, 0);
	if (!IS_ERR_VALUE(r))
		r = vm_mmap(shm, req->mirror + pstart, len, s->prot, flags, 0);
	if (IS_ERR_VALUE(r)) {
		fput(shm);
		return r;
	}
	out->shm = shm;
	out->len = len;
	return 0;
}

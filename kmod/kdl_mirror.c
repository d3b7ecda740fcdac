// SPDX-License-Identifier: GPL-2.0
/* kdl_mirror.c - writable segments of a mirrored image: one shmem object shared by both views. */
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/shmem_fs.h>

#include "kdl_internal.h"

/*
 * Copies the file bytes of @s, from the start of its first page up to
 * vaddr + filesz, to offset 0 of @shm.  The rest of @shm stays zero,
 * which gives the zero tail and the cleared partial page for free.
 */
static int kdl_mirror_copy(struct kdl_req *req, const struct kdl_segment *s,
			   struct file *shm)
{
	loff_t rpos = req->src_off + round_down(s->offset, PAGE_SIZE);
	size_t left = offset_in_page(s->vaddr) + s->filesz;
	loff_t wpos = 0;
	void *buf;
	int ret = 0;

	buf = (void *)__get_free_page(GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	while (left) {
		ssize_t n = kernel_read(req->src, buf, min_t(size_t, left,
							     PAGE_SIZE), &rpos);
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
		left -= n;
		cond_resched();
	}
	free_page((unsigned long)buf);
	return ret;
}

/**
 * kdl_mirror_fill_writable() - map writable segment @s in both views.
 *
 * Private file pages cannot be mirrored: a write copies the page in one
 * view only.  So the segment's pages go into a fresh shmem object,
 * filled from the file, and both views map it MAP_SHARED; a store
 * through either view is seen through the other.  The VMAs hold the
 * shmem file; the last unmap frees it.
 */
int kdl_mirror_fill_writable(struct kdl_req *req,
			     const struct kdl_segment *s)
{
	unsigned long pstart = round_down(s->vaddr, PAGE_SIZE);
	unsigned long len = PAGE_ALIGN(s->vaddr + s->memsz) - pstart;
	unsigned long flags = MAP_SHARED | MAP_FIXED;
	struct file *shm;
	unsigned long r;
	int ret;

	shm = shmem_file_setup("kdl-mirror", len, VM_NORESERVE);
	if (IS_ERR(shm))
		return PTR_ERR(shm);
	if (s->filesz) {
		ret = kdl_mirror_copy(req, s, shm);
		if (ret)
			goto out_put;
	}
	r = vm_mmap(shm, req->base + pstart, len, s->prot, flags, 0);
	if (!IS_ERR_VALUE(r))
		r = vm_mmap(shm, req->mirror + pstart, len, s->prot, flags, 0);
	ret = IS_ERR_VALUE(r) ? (int)r : 0;
out_put:
	fput(shm);
	return ret;
}

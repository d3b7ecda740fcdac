// SPDX-License-Identifier: GPL-2.0
/* kdl_map.c - maps an image (reserve, fill segments, roll back) and tracks what each open file mapped. */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kdl_internal.h"

static int kdl_vm_mmap(struct file *f, unsigned long addr, unsigned long len,
		       unsigned long prot, unsigned long flags, u64 off)
{
	unsigned long r = vm_mmap(f, addr, len, prot, flags | MAP_FIXED, off);

	return IS_ERR_VALUE(r) ? (int)r : 0;
}

/*
 * The file segment @s takes its file pages from, and in @off the offset
 * there of its first page: the source at file_base + offset, or for
 * KDL_SEG_DATA_FD data_fd at the absolute, page-aligned offset.
 */
static struct file *kdl_seg_file(const struct kdl_req *req,
				 const struct kdl_segment *s, u64 *off)
{
	if (s->flags & KDL_SEG_DATA_FD) {
		*off = s->offset;
		return req->data;
	}
	*off = req->src_off + round_down(s->offset, PAGE_SIZE);
	return req->src;
}

/*
 * Maps segment @s of the image at @start: the file pages privately, the
 * zero tail anonymously.  The bytes past filesz on the last file page must
 * read as zero: a writable segment gets them cleared in its private copy
 * (as the ELF loader does); a read-only one, which cannot be written once
 * mapped, takes that page from @tail, a shmem copy with the tail zeroed.
 * A KDL_SEG_DATA_FD segment's pages are mapped as data_fd has them: its
 * tail is already zero there, and clearing it would dirty (copy) a page
 * that is meant to stay the page cache's, clean and shared.
 */
static int kdl_fill_view(struct kdl_req *req, const struct kdl_segment *s,
			 unsigned long start, struct file *tail)
{
	unsigned long pstart = round_down(s->vaddr, PAGE_SIZE);
	unsigned long fend = s->vaddr + s->filesz;
	unsigned long mend = PAGE_ALIGN(s->vaddr + s->memsz);
	unsigned long astart = pstart;
	struct file *f;
	u64 off;
	int ret;

	if (s->filesz) {
		/*
		 * The file is mapped even where @tail then replaces it, so
		 * that mmap's checks (LSM, noexec, seals) judge the source.
		 */
		astart = PAGE_ALIGN(fend);
		f = kdl_seg_file(req, s, &off);
		ret = kdl_vm_mmap(f, start + pstart, astart - pstart, s->prot,
				  MAP_PRIVATE, off);
		if (ret)
			return ret;
		if (tail) {
			ret = kdl_vm_mmap(tail, start + astart - PAGE_SIZE,
					  PAGE_SIZE, s->prot, MAP_PRIVATE, 0);
			if (ret)
				return ret;
		}
		if (s->memsz > s->filesz && (s->prot & PROT_WRITE) &&
		    !(s->flags & KDL_SEG_DATA_FD) &&
		    clear_user((void __user *)(start + fend), astart - fend))
			return -EFAULT;
	}
	if (mend > astart)
		return kdl_vm_mmap(NULL, start + astart, mend - astart, s->prot,
				   MAP_PRIVATE | MAP_ANONYMOUS, 0);
	return 0;
}

/* A read-only segment whose zero tail starts inside a source page. */
static bool kdl_needs_tail_page(const struct kdl_segment *s)
{
	return s->filesz && s->memsz > s->filesz &&
	       offset_in_page(s->vaddr + s->filesz) &&
	       !(s->prot & PROT_WRITE) && !(s->flags & KDL_SEG_DATA_FD);
}

/* @out: what a mirrored image keeps of @s (unused without a mirror). */
static int kdl_fill_segment(struct kdl_req *req, const struct kdl_segment *s,
			    struct kdl_image_seg *out)
{
	size_t part = offset_in_page(s->vaddr + s->filesz);
	struct file *tail = NULL;
	int ret;

	/* Never a KDL_SEG_DATA_FD segment: validation refuses a mirror. */
	if (req->mirror && (s->prot & PROT_WRITE))
		return kdl_mirror_fill_writable(req, s, out);
	if (kdl_needs_tail_page(s)) {
		tail = kdl_shmem_copy(req, req->src_off + s->offset +
				      s->filesz - part, part, PAGE_SIZE);
		if (IS_ERR(tail))
			return PTR_ERR(tail);
	}
	ret = kdl_fill_view(req, s, req->base, tail);
	/* Read-only: the same pages seen from both views. */
	if (!ret && req->mirror)
		ret = kdl_fill_view(req, s, req->mirror, tail);
	if (tail)
		fput(tail);
	return ret;
}

/* 4. The mirror view's reservation, at base + mirror_base. */
static int kdl_reserve_mirror(struct file *dev, struct kdl_req *req)
{
	unsigned long addr, end;
	long r;

	if (check_add_overflow(req->base, req->mirror_off, &addr) ||
	    check_add_overflow(addr, req->span, &end) || end > TASK_SIZE)
		return -EINVAL;
	r = kdl_reserve(dev, (req->map->flags & KDL_MAP_MIRROR_NOREPLACE) ?
			KDL_PLACE_FIXED_NOREPLACE : KDL_PLACE_FIXED,
			addr, 0, 0, req->span, PAGE_SIZE);
	if (IS_ERR_VALUE(r))
		return r;
	req->mirror = addr;
	return 0;
}

/* Frees a record and drops the shmem references it holds. */
static void kdl_image_free(struct kdl_image *img)
{
	unsigned int i;

	for (i = 0; i < img->nr_seg; i++)
		if (img->seg[i].shm)
			fput(img->seg[i].shm);
	kfree(img);
}

/* [@a, @a + @alen) and [@b, @b + @blen) share a byte (0: no range). */
static bool kdl_ranges_meet(unsigned long a, unsigned long alen,
			    unsigned long b, unsigned long blen)
{
	return a && b && a < b + blen && b < a + alen;
}

/*
 * Drops records whose range the new image now occupies: their mappings
 * were unmapped or replaced behind the device's back (munmap, MAP_FIXED,
 * KDL_MAP_FIXED), so KDL_IOC_UNMAP must no longer act on them.
 */
static void kdl_forget_overlapping(struct kdl_file *kf,
				   const struct kdl_image *new)
{
	struct kdl_image *img, *tmp;

	lockdep_assert_held(&kf->lock);
	list_for_each_entry_safe(img, tmp, &kf->images, node) {
		unsigned long a = img->span, b = new->span;

		/* Each range with its own length: one length for both
		 * forgot images that merely lay next to the new one. */
		if (kdl_ranges_meet(img->base, a, new->base, b) ||
		    kdl_ranges_meet(img->base, a, new->mirror, b) ||
		    kdl_ranges_meet(img->mirror, a, new->base, b) ||
		    kdl_ranges_meet(img->mirror, a, new->mirror, b)) {
			list_del(&img->node);
			kdl_image_free(img);
		}
	}
}

/**
 * kdl_map_image() - KDL_IOC_MAP: validate, reserve, fill, record.
 * @kf:   the open file's state.
 * @dev:  the open /dev/kdl (reservations are mappings of it).
 * @map:  the request, copied in; @map->base is set on success.
 * @umap: the caller's struct, whose base field is written here so that a
 *        fault on the way out can still roll the image back.
 *
 * Context: process context of the bound mm; takes kf->lock and, inside
 * vm_mmap/vm_munmap, mmap_lock, never both at once.
 * Return: 0, or a negative errno with nothing left mapped in the span
 * (nor in the mirror span).
 */
int kdl_map_image(struct kdl_file *kf, struct file *dev, struct kdl_map *map,
		  struct kdl_map __user *umap)
{
	struct kdl_req req = {};
	struct kdl_image *img;
	unsigned int i, nr_seg;
	long r;
	int ret;

	/* 1. Check everything before touching the address space. */
	ret = kdl_req_init(&req, map);
	if (ret)
		goto out_req;
	/* A mirror keeps its writable segments' shmem for KDL_IOC_SEGMENT_FD. */
	nr_seg = req.mirror_off ? map->nr_segments : 0;
	img = kzalloc(struct_size(img, seg, nr_seg), GFP_KERNEL_ACCOUNT);
	if (!img) {
		ret = -ENOMEM;
		goto out_req;
	}
	img->nr_seg = nr_seg;

	/* 2. Reserve the span: search and insert under one mmap_lock hold. */
	r = kdl_reserve(dev, req.place, req.addr, req.lo, req.hi, req.span,
			req.align);
	if (IS_ERR_VALUE(r)) {
		ret = r;
		goto out_img;
	}
	req.base = r;
	if (req.mirror_off) {
		ret = kdl_reserve_mirror(dev, &req);
		if (ret)
			goto out_unmap;
	}

	/* 3. Fill: each segment replaces its part of the reservation. */
	for (i = 0; i < map->nr_segments; i++) {
		ret = kdl_fill_segment(&req, &req.segs[i],
				       nr_seg ? &img->seg[i] : NULL);
		if (ret)
			goto out_unmap;
	}
	ret = kdl_release_gaps(&req, req.base);
	if (!ret && req.mirror)
		ret = kdl_release_gaps(&req, req.mirror);
	if (ret)
		goto out_unmap;

	/* 4. Tell the caller, then remember the image for KDL_IOC_UNMAP. */
	if (put_user((u64)req.base, &umap->base)) {
		ret = -EFAULT;
		goto out_unmap;
	}
	map->base = req.base;
	img->base = req.base;
	img->span = req.span;
	img->mirror = req.mirror;
	mutex_lock(&kf->lock);
	kdl_forget_overlapping(kf, img);
	list_add(&img->node, &kf->images);
	mutex_unlock(&kf->lock);
	goto out_req;

out_unmap:
	vm_munmap(req.base, req.span);
	if (req.mirror)
		vm_munmap(req.mirror, req.span);
out_img:
	kdl_image_free(img);
out_req:
	kdl_req_destroy(&req);
	return ret;
}

/**
 * kdl_unmap_image() - KDL_IOC_UNMAP: unmap an image and its mirror.
 *
 * Return: 0, or -ENOENT if this open file has no image at @base.
 */
int kdl_unmap_image(struct kdl_file *kf, unsigned long base)
{
	struct kdl_image *img, *found = NULL;
	int ret;

	mutex_lock(&kf->lock);
	list_for_each_entry(img, &kf->images, node) {
		if (img->base == base) {
			found = img;
			list_del(&img->node);
			break;
		}
	}
	mutex_unlock(&kf->lock);
	if (!found)
		return -ENOENT;

	ret = vm_munmap(found->base, found->span);
	if (found->mirror) {
		int ret2 = vm_munmap(found->mirror, found->span);

		ret = ret ? ret : ret2;
	}
	kdl_image_free(found);
	return ret;
}

/*
 * Called at release: the images stay mapped, only the records (and their
 * shmem references; the VMAs hold their own) go.
 */
void kdl_forget_images(struct kdl_file *kf)
{
	struct kdl_image *img, *tmp;

	list_for_each_entry_safe(img, tmp, &kf->images, node) {
		list_del(&img->node);
		kdl_image_free(img);
	}
}

/**
 * kdl_image_shm() - the shmem object of writable segment @index of the
 * mirrored image at @base, for KDL_IOC_SEGMENT_FD.
 * @len: out: bytes of the segment's pages in it, from offset 0.
 *
 * Context: takes and drops kf->lock; holds no lock on return.
 * Return: the file with a reference for the caller; ERR_PTR(-ENOENT) if
 * this open file has no image at @base, ERR_PTR(-EINVAL) if the image is
 * not mirrored, @index is out of range or names a read-only segment.
 */
struct file *kdl_image_shm(struct kdl_file *kf, unsigned long base,
			   u32 index, unsigned long *len)
{
	struct file *shm = ERR_PTR(-ENOENT);
	struct kdl_image *img;

	mutex_lock(&kf->lock);
	list_for_each_entry(img, &kf->images, node) {
		if (img->base != base)
			continue;
		shm = ERR_PTR(-EINVAL);
		if (index < img->nr_seg && img->seg[index].shm) {
			shm = get_file(img->seg[index].shm);
			*len = img->seg[index].len;
		}
		break;
	}
	mutex_unlock(&kf->lock);
	return shm;
}

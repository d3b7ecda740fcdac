/* elf_image.h - ELF intake: validated facts about an image, no loader state. */
#ifndef KDL_ELF_IMAGE_H
#define KDL_ELF_IMAGE_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#define KDL_MAX_PHDRS	64	/* more program headers is refused */
#define KDL_MAX_LOADS	16	/* more PT_LOADs is refused */
#define KDL_MAX_SPAN	(1ULL << 36)

struct kdl_elf_load {
	uint64_t vaddr;		/* p_vaddr */
	uint64_t offset;	/* p_offset */
	uint64_t filesz;
	uint64_t memsz;
	uint32_t flags;		/* PF_* */
};

/*
 * struct kdl_elf - what the program headers of a shared object promise,
 * every range already checked against the file size and the image span.
 */
struct kdl_elf {
	Elf64_Ehdr ehdr;
	Elf64_Phdr phdr[KDL_MAX_PHDRS];
	unsigned int nphdr;
	struct kdl_elf_load load[KDL_MAX_LOADS];
	unsigned int nload;
	uint64_t min_vaddr;	/* first PT_LOAD, page aligned down */
	uint64_t span;		/* bytes from min_vaddr to the last page end */
	uint64_t align;		/* largest p_align of the PT_LOADs */
	const Elf64_Phdr *dynamic;
	const Elf64_Phdr *tls;
	const Elf64_Phdr *relro;
	const Elf64_Phdr *eh_frame_hdr;
};

/*
 * Parse and validate the ELF header and program headers.  @head holds the
 * first @head_len bytes of the image, @file_size is the image's size.
 * Returns 0, or -1 with kdl_error() naming @name and the failed check.
 * When the program headers lie past @head_len, returns 1 and sets *need to
 * the number of bytes of head needed: call again with more.
 */
int kdl_elf_parse(struct kdl_elf *e, const void *head, size_t head_len,
		  uint64_t file_size, const char *name, size_t *need);

/* 1 if [vaddr, vaddr + len) lies inside one PT_LOAD's memory whose flags
 * include all of @pf, else 0. */
int kdl_elf_contains(const struct kdl_elf *e, uint64_t vaddr, uint64_t len,
		     uint32_t pf);

#endif

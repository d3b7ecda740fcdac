/* elf_image.c - validate an ELF header and program headers before use. */
#include <string.h>

#include "elf_image.h"
#include "kdl_internal.h"

#define PAGE 4096ULL

static int fail(const char *name, const char *what)
{
	kdl_set_error("%s: %s", name, what);
	return -1;
}

static int check_ident(const Elf64_Ehdr *h, const char *name)
{
	if (memcmp(h->e_ident, ELFMAG, SELFMAG))
		return fail(name, "not an ELF file (bad magic)");
	if (h->e_ident[EI_CLASS] != ELFCLASS64) {
		kdl_set_error("%s: ELF class: found %s, expected 64-bit", name,
			      h->e_ident[EI_CLASS] == ELFCLASS32 ? "32-bit" : "invalid");
		return -1;
	}
	if (h->e_ident[EI_DATA] != ELFDATA2LSB)
		return fail(name, "byte order: found big-endian or invalid, expected little-endian");
	if (h->e_ident[EI_VERSION] != EV_CURRENT || h->e_version != EV_CURRENT)
		return fail(name, "ELF version: found unknown, expected 1");
	if (h->e_ident[EI_OSABI] != ELFOSABI_SYSV && h->e_ident[EI_OSABI] != ELFOSABI_GNU) {
		kdl_set_error("%s: OS ABI: found %u, expected SYSV or GNU", name,
			      h->e_ident[EI_OSABI]);
		return -1;
	}
	if (h->e_machine != EM_X86_64) {
		kdl_set_error("%s: machine: found %u, expected x86-64 (%u)", name,
			      h->e_machine, EM_X86_64);
		return -1;
	}
	if (h->e_type != ET_DYN) {
		kdl_set_error("%s: ELF type: found %u, expected a shared object (ET_DYN)",
			      name, h->e_type);
		return -1;
	}
	if (h->e_ehsize < sizeof(Elf64_Ehdr))
		return fail(name, "ELF header size too small");
	if (h->e_phentsize != sizeof(Elf64_Phdr)) {
		kdl_set_error("%s: program header size: found %u, expected %zu", name,
			      h->e_phentsize, sizeof(Elf64_Phdr));
		return -1;
	}
	if (h->e_phnum == 0 || h->e_phnum == PN_XNUM || h->e_phnum > KDL_MAX_PHDRS) {
		kdl_set_error("%s: program header count: found %u, expected 1..%u", name,
			      h->e_phnum, KDL_MAX_PHDRS);
		return -1;
	}
	return 0;
}

static int check_load(struct kdl_elf *e, const Elf64_Phdr *p, uint64_t file_size,
		      const char *name)
{
	struct kdl_elf_load *l;
	uint64_t end;

	if (e->nload == KDL_MAX_LOADS)
		return fail(name, "too many PT_LOAD segments");
	if (p->p_filesz > p->p_memsz) {
		kdl_set_error("%s: PT_LOAD at 0x%llx: file size 0x%llx exceeds memory size 0x%llx",
			      name, (unsigned long long)p->p_vaddr,
			      (unsigned long long)p->p_filesz, (unsigned long long)p->p_memsz);
		return -1;
	}
	if (__builtin_add_overflow(p->p_offset, p->p_filesz, &end) || end > file_size) {
		kdl_set_error("%s: PT_LOAD at 0x%llx: file range ends at 0x%llx, past the end of the file (0x%llx)",
			      name, (unsigned long long)p->p_vaddr,
			      (unsigned long long)p->p_offset + p->p_filesz,
			      (unsigned long long)file_size);
		return -1;
	}
	if (__builtin_add_overflow(p->p_vaddr, p->p_memsz, &end) || end > KDL_MAX_SPAN)
		return fail(name, "PT_LOAD memory range overflows");
	if (p->p_align > 1 && (p->p_align & (p->p_align - 1)))
		return fail(name, "PT_LOAD alignment is not a power of two");
	if ((p->p_vaddr - p->p_offset) % PAGE) {
		kdl_set_error("%s: PT_LOAD at 0x%llx: address and file offset 0x%llx differ modulo the page size",
			      name, (unsigned long long)p->p_vaddr,
			      (unsigned long long)p->p_offset);
		return -1;
	}
	if (e->nload) {
		const struct kdl_elf_load *prev = &e->load[e->nload - 1];
		uint64_t prev_end = (prev->vaddr + prev->memsz + PAGE - 1) & ~(PAGE - 1);

		if (p->p_vaddr < prev->vaddr)
			return fail(name, "PT_LOAD segments are not sorted by address");
		if ((p->p_vaddr & ~(PAGE - 1)) < prev_end) {
			kdl_set_error("%s: PT_LOAD at 0x%llx overlaps the page of the previous one (ends 0x%llx)",
				      name, (unsigned long long)p->p_vaddr,
				      (unsigned long long)(prev->vaddr + prev->memsz));
			return -1;
		}
	}
	l = &e->load[e->nload++];
	l->vaddr = p->p_vaddr;
	l->offset = p->p_offset;
	l->filesz = p->p_filesz;
	l->memsz = p->p_memsz;
	l->flags = p->p_flags;
	if (p->p_align > e->align)
		e->align = p->p_align;
	return 0;
}

int kdl_elf_contains(const struct kdl_elf *e, uint64_t vaddr, uint64_t len, uint32_t pf)
{
	uint64_t end;

	if (__builtin_add_overflow(vaddr, len, &end))
		return 0;
	for (unsigned int i = 0; i < e->nload; i++) {
		const struct kdl_elf_load *l = &e->load[i];

		if (vaddr >= l->vaddr && end <= l->vaddr + l->memsz)
			return (l->flags & pf) == pf;
	}
	return 0;
}

static int check_inside(const struct kdl_elf *e, const Elf64_Phdr *p,
			const char *what, const char *name)
{
	if (!kdl_elf_contains(e, p->p_vaddr, p->p_memsz, 0)) {
		kdl_set_error("%s: %s at 0x%llx+0x%llx lies outside every PT_LOAD", name,
			      what, (unsigned long long)p->p_vaddr,
			      (unsigned long long)p->p_memsz);
		return -1;
	}
	return 0;
}

int kdl_elf_parse(struct kdl_elf *e, const void *head, size_t head_len,
		  uint64_t file_size, const char *name, size_t *need)
{
	const Elf64_Ehdr *h = head;
	uint64_t ph_end;
	const struct kdl_elf_load *last;

	memset(e, 0, sizeof(*e));
	if (head_len < sizeof(Elf64_Ehdr) || file_size < sizeof(Elf64_Ehdr))
		return fail(name, "file too short for an ELF header");
	if (check_ident(h, name))
		return -1;
	if (__builtin_add_overflow(h->e_phoff, (uint64_t)h->e_phnum * sizeof(Elf64_Phdr), &ph_end) ||
	    ph_end > file_size) {
		kdl_set_error("%s: program headers at 0x%llx run past the end of the file (0x%llx)",
			      name, (unsigned long long)h->e_phoff,
			      (unsigned long long)file_size);
		return -1;
	}
	if (ph_end > head_len) {
		*need = ph_end;
		return 1;
	}
	e->ehdr = *h;
	e->nphdr = h->e_phnum;
	memcpy(e->phdr, (const char *)head + h->e_phoff, e->nphdr * sizeof(Elf64_Phdr));

	for (unsigned int i = 0; i < e->nphdr; i++) {
		const Elf64_Phdr *p = &e->phdr[i];

		switch (p->p_type) {
		case PT_LOAD:
			if (check_load(e, p, file_size, name))
				return -1;
			break;
		case PT_DYNAMIC:
			if (e->dynamic)
				return fail(name, "more than one PT_DYNAMIC");
			e->dynamic = p;
			break;
		case PT_TLS:
			e->tls = p;
			break;
		case PT_GNU_RELRO:
			e->relro = p;
			break;
		case PT_GNU_EH_FRAME:
			e->eh_frame_hdr = p;
			break;
		}
	}
	if (!e->nload)
		return fail(name, "no PT_LOAD segment");
	if (!e->dynamic)
		return fail(name, "no PT_DYNAMIC segment (not a dynamic shared object)");
	if (e->dynamic->p_memsz < sizeof(Elf64_Dyn) || e->dynamic->p_memsz % sizeof(Elf64_Dyn))
		return fail(name, "PT_DYNAMIC size is not a multiple of the entry size");
	if (check_inside(e, e->dynamic, "PT_DYNAMIC", name))
		return -1;
	if (e->relro && check_inside(e, e->relro, "PT_GNU_RELRO", name))
		return -1;
	if (e->eh_frame_hdr && check_inside(e, e->eh_frame_hdr, "PT_GNU_EH_FRAME", name))
		return -1;
	if (e->tls && (e->tls->p_filesz > e->tls->p_memsz ||
		       (e->tls->p_align & (e->tls->p_align - 1)) ||
		       (e->tls->p_filesz && !kdl_elf_contains(e, e->tls->p_vaddr, e->tls->p_filesz, 0))))
		return fail(name, "PT_TLS is malformed");
	e->min_vaddr = e->load[0].vaddr & ~(PAGE - 1);
	last = &e->load[e->nload - 1];
	e->span = ((last->vaddr + last->memsz + PAGE - 1) & ~(PAGE - 1)) - e->min_vaddr;
	if (e->align < PAGE)
		e->align = PAGE;
	if (e->align > (1ULL << 30))
		return fail(name, "PT_LOAD alignment above 1 GiB");
	return 0;
}

/* carrier.c - minimal ELF objects made at run time for glibc's dlopen. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "carrier.h"

/*
 * One read-write PT_LOAD at address 0 holds everything: the headers, a
 * dynamic section, a one-entry SysV hash over the null symbol, one
 * R_X86_64_TPOFF64 against symbol 0 (the carrier's own module) and the
 * word it writes, then the TLS init image.  PT_GNU_STACK is there because
 * without it glibc makes every thread's stack executable.  glibc chooses
 * static TLS for a module because one of its relocations needs it
 * (elf/dl-reloc.c, CHECK_STATIC_TLS), so the relocation is the request.
 */
enum { PH_LOAD, PH_DYNAMIC, PH_STACK, PH_TLS, NPHDR };
enum { NDYN = 10 };

struct carrier_head {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[NPHDR];
	Elf64_Dyn dyn[NDYN];
	uint32_t hash[4];		/* nbucket 1, nchain 1, bucket, chain */
	Elf64_Sym sym[1];
	Elf64_Rela rela[1];
	uint64_t tpoff;			/* the word glibc relocates */
	char strtab[8];
};

#define HEAD_SIZE sizeof(struct carrier_head)
#define OFF(f) offsetof(struct carrier_head, f)

static void fill_head(struct carrier_head *h, const struct kdl_carrier_spec *s,
		      uint64_t tls_off, uint64_t size)
{
	bool tls = s->tls_memsz != 0;
	unsigned int nph = tls ? NPHDR : NPHDR - 1, n = 0;

	memcpy(h->eh.e_ident, ELFMAG, SELFMAG);
	h->eh.e_ident[EI_CLASS] = ELFCLASS64;
	h->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	h->eh.e_ident[EI_VERSION] = EV_CURRENT;
	h->eh.e_ident[EI_OSABI] = ELFOSABI_SYSV;
	h->eh.e_type = ET_DYN;
	h->eh.e_machine = EM_X86_64;
	h->eh.e_version = EV_CURRENT;
	h->eh.e_phoff = OFF(ph);
	h->eh.e_ehsize = sizeof(h->eh);
	h->eh.e_phentsize = sizeof(Elf64_Phdr);
	h->eh.e_phnum = nph;

	h->ph[PH_LOAD] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W,
				       .p_filesz = size, .p_memsz = size, .p_align = 4096 };
	h->ph[PH_DYNAMIC] = (Elf64_Phdr){ .p_type = PT_DYNAMIC, .p_flags = PF_R | PF_W,
					  .p_offset = OFF(dyn), .p_vaddr = OFF(dyn),
					  .p_paddr = OFF(dyn), .p_filesz = sizeof(h->dyn),
					  .p_memsz = sizeof(h->dyn), .p_align = 8 };
	h->ph[PH_STACK] = (Elf64_Phdr){ .p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W,
					.p_align = 16 };
	if (tls)
		h->ph[PH_TLS] = (Elf64_Phdr){ .p_type = PT_TLS, .p_flags = PF_R,
					      .p_offset = tls_off, .p_vaddr = tls_off,
					      .p_paddr = tls_off, .p_filesz = s->tls_filesz,
					      .p_memsz = s->tls_memsz, .p_align = s->tls_align };

	h->hash[0] = 1;
	h->hash[1] = 1;
	h->dyn[n++] = (Elf64_Dyn){ DT_HASH, { OFF(hash) } };
	h->dyn[n++] = (Elf64_Dyn){ DT_STRTAB, { OFF(strtab) } };
	h->dyn[n++] = (Elf64_Dyn){ DT_SYMTAB, { OFF(sym) } };
	h->dyn[n++] = (Elf64_Dyn){ DT_STRSZ, { sizeof(h->strtab) } };
	h->dyn[n++] = (Elf64_Dyn){ DT_SYMENT, { sizeof(Elf64_Sym) } };
	if (tls) {
		h->rela[0] = (Elf64_Rela){ OFF(tpoff), ELF64_R_INFO(0, R_X86_64_TPOFF64), 0 };
		h->dyn[n++] = (Elf64_Dyn){ DT_RELA, { OFF(rela) } };
		h->dyn[n++] = (Elf64_Dyn){ DT_RELASZ, { sizeof(h->rela) } };
		h->dyn[n++] = (Elf64_Dyn){ DT_RELAENT, { sizeof(Elf64_Rela) } };
	}
	h->dyn[n] = (Elf64_Dyn){ DT_NULL, { 0 } };
}

int kdl_carrier_memfd(const struct kdl_carrier_spec *s)
{
	size_t align = s->tls_align ? s->tls_align : 1;
	uint64_t tls_off = (HEAD_SIZE + align - 1) & ~(uint64_t)(align - 1);
	uint64_t size = s->tls_memsz ? tls_off + s->tls_filesz : HEAD_SIZE;
	struct carrier_head h = { 0 };
	int fd;

	if (align & (align - 1) || s->tls_filesz > s->tls_memsz || align > 4096) {
		kdl_set_error("%s: carrier: TLS of %zu/%zu bytes aligned to %zu is not valid",
			      s->name, s->tls_filesz, s->tls_memsz, align);
		return -1;
	}
	fill_head(&h, s, tls_off, size);
	fd = memfd_create(s->name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		kdl_set_error("%s: memfd_create for a carrier object: %s", s->name,
			      strerror(errno));
		return -1;
	}
	if (ftruncate(fd, (off_t)size) || pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    (s->tls_filesz && pwrite(fd, s->tls_image, s->tls_filesz, (off_t)tls_off) !=
				      (ssize_t)s->tls_filesz) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)) {
		kdl_set_error("%s: writing a carrier object: %s", s->name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void *kdl_carrier_dlopen(int fd, char *err, size_t errlen)
{
	char path[48];
	void *h;

	/* By pid, not "self": a debugger opens the name in its own process. */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), fd);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();

		snprintf(err, errlen, "%s", e ? e : "dlopen failed");
	}
	return h;
}

static uintptr_t carrier_base(void *handle)
{
	struct link_map *lm = NULL;

	if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) || !lm)
		return 0;
	return lm->l_addr;
}

intptr_t kdl_carrier_tpoff(void *handle)
{
	return (intptr_t)*(const uint64_t *)(carrier_base(handle) + OFF(tpoff));
}

/* elf_reloc_fuzz.c - libFuzzer target over a whole load of one object as
 * load.c's load_one and load_locked do it, short of dependencies and
 * constructors: intake, userspace mapping, dynamic section, TLS module,
 * relocation (RELR, RELA, JMPREL, IRELATIVE and TPOFF passes, symbol
 * binding against the object itself and the process), RELRO, and the
 * rollback that unmaps it all (kdl_obj_destroy).
 *
 * No byte of the input ever runs.  Relocation calls into the image for
 * IRELATIVE resolvers and STT_GNU_IFUNC definitions; here the image is
 * mapped without PROT_EXEC, so such a call faults on its first
 * instruction fetch, and the SIGSEGV handler below returns from it as if
 * the resolver had returned 0.  That holds only for calls into the
 * image's span, so an input is relocated only when every resolver
 * address lies in the span and no table relocation reads lies in a
 * writable segment (relocation could rewrite it after the check).
 * DT_NEEDED is not followed (no file of the machine is loaded) and
 * DT_INIT/DT_INIT_ARRAY never run. */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "../../lib/obj.h"
#include "../../lib/tls.h"

static volatile uintptr_t span_lo, span_hi;	/* the image being relocated */
static struct sigaction chained;		/* the handler before ours */

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
	greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
	uintptr_t pc = (uintptr_t)g[REG_RIP], ret;

	/* A call into the image: the fetch of its first instruction. */
	if (pc == (uintptr_t)si->si_addr && pc >= span_lo && pc < span_hi) {
		memcpy(&ret, (void *)g[REG_RSP], sizeof(ret));
		g[REG_RIP] = (greg_t)ret;
		g[REG_RSP] += sizeof(ret);
		g[REG_RAX] = 0;
		return;
	}
	/* Anything else is a finding: the faulting instruction runs again
	 * under the sanitizer's handler, which reports it. */
	(void)sig;
	sigaction(SIGSEGV, &chained, NULL);
}

static void install_handler(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_NODEFER };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &chained))
		abort();
}

static bool in_span(uintptr_t a)
{
	return a >= span_lo && a < span_hi;
}

static bool in_writable(const struct kdl_obj *o, const void *p, size_t n, size_t size)
{
	uintptr_t a = (uintptr_t)p, len = n * size;

	for (unsigned int i = 0; p && n && i < o->elf->nload; i++) {
		const struct kdl_elf_load *l = &o->elf->load[i];
		uintptr_t lo = o->bias + l->vaddr, hi = lo + l->memsz;

		if ((l->flags & PF_W) && a < hi && a + len > lo)
			return true;
	}
	return false;
}

/* Every call relocation can make into the image lands in its span, and
 * nothing it reads to decide those calls can change while it runs. */
static bool calls_are_caught(const struct kdl_obj *o)
{
	const struct kdl_dyninfo *d = &o->dyn;
	const Elf64_Rela *tabs[2] = { o->rela, o->jmprel };
	size_t ns[2] = { o->nrela, o->njmprel };

	if (in_writable(o, o->rela, o->nrela, sizeof(Elf64_Rela)) ||
	    in_writable(o, o->jmprel, o->njmprel, sizeof(Elf64_Rela)) ||
	    in_writable(o, o->relr, o->nrelr, 8) ||
	    in_writable(o, d->symtab, d->nsyms, sizeof(Elf64_Sym)))
		return false;
	for (int t = 0; t < 2; t++)
		for (size_t i = 0; i < ns[t]; i++)
			if (ELF64_R_TYPE(tabs[t][i].r_info) == R_X86_64_IRELATIVE &&
			    !in_span(o->bias + tabs[t][i].r_addend))
				return false;
	for (size_t i = 0; d->symtab && i < d->nsyms; i++) {
		const Elf64_Sym *s = &d->symtab[i];

		if (ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC && s->st_shndx != SHN_UNDEF &&
		    !in_span(s->st_shndx == SHN_ABS ? s->st_value : o->bias + s->st_value))
			return false;
	}
	return true;
}

/* Steps 1-3 of load_one for an object, on the userspace backend, with
 * every segment mapped without execute permission. */
static int load_one(struct kdl_obj *o, int fd, const uint8_t *data, size_t size)
{
	struct kdl_placement pl = { 0 };
	struct kdl_src src = { .fd = fd, .size = size };
	struct kdl_elf noexec;
	size_t need = 0;

	if (kdl_elf_parse(o->elf, data, size, size, o->name, &need))
		return -1;
	noexec = *o->elf;
	for (unsigned int i = 0; i < noexec.nload; i++)
		noexec.load[i].flags &= ~PF_X;
	if (kdl_map_user(&noexec, &src, &pl, &o->map, o->name))
		return -1;
	o->bias = o->map.bias;
	o->phdr = o->elf->phdr;
	o->nphdr = o->elf->nphdr;
	if (kdl_dyn_read(o, o->elf))
		return -1;
	if (o->elf->tls && o->elf->tls->p_memsz) {
		const Elf64_Phdr *p = o->elf->tls;

		o->tls_modid = kdl_tls_register((const void *)(o->bias + p->p_vaddr), p->p_filesz,
						p->p_memsz, p->p_align, o->name);
		if (!o->tls_modid)
			return -1;
	}
	if (!o->soname)
		o->soname = o->name;
	if (o->elf->relro) {
		o->relro_start = (o->bias + o->elf->relro->p_vaddr) & ~4095ull;
		o->relro_end = (o->bias + o->elf->relro->p_vaddr + o->elf->relro->p_memsz) & ~4095ull;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct kdl_obj *o;

	if (fd < 0) {
		fd = memfd_create("kdl-reloc-fuzz", MFD_CLOEXEC);
		install_handler();
	}
	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	o = kdl_obj_alloc();
	if (!o || !(o->path = strdup("fuzz.so")))
		abort();
	o->magic = KDL_OBJ_MAGIC;
	o->name = o->path;
	o->ns = &kdl_default_ns;
	pthread_mutex_lock(&kdl_lock);
	if (!kdl_process_refresh() && !load_one(o, fd, data, size)) {
		span_lo = o->map.start;
		span_hi = o->map.start + o->map.len;
		if (calls_are_caught(o) && !kdl_reloc_obj(o, &o, 1))
			kdl_protect_relro(o);
		span_lo = span_hi = 0;
	}
	pthread_mutex_unlock(&kdl_lock);
	kdl_obj_destroy(o);
	kdl_error();
	return 0;
}

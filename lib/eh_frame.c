/* eh_frame.c - register kdl objects' unwind tables with the process's
 * unwinder, so C++ exceptions can cross their frames. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "obj.h"

/*
 * The unwinder (libgcc_s, part of the runtime group) finds FDEs in objects
 * registered with __register_frame_info before it walks dl_iterate_phdr,
 * which does not list kdl's objects.  It wants the start of .eh_frame; the
 * PT_GNU_EH_FRAME header holds it as its second field, encoded
 * (version u8, eh_frame_ptr_enc u8, fde_count_enc u8, table_enc u8, then
 * eh_frame_ptr).  The object record is opaque to us: libgcc's struct
 * object is six words; we give it more.
 */
#define DW_EH_PE_sdata4 0x0b
#define DW_EH_PE_sdata8 0x0c
#define DW_EH_PE_pcrel 0x10
#define EH_OBJECT_BYTES 128

typedef void (*register_fn)(const void *, void *);
typedef void *(*deregister_fn)(const void *);

static const void *eh_frame_start(const struct kdl_obj *o)
{
	const Elf64_Phdr *p = o->elf->eh_frame_hdr;
	const unsigned char *h;
	int64_t v;

	if (!p || p->p_memsz < 8 || !kdl_elf_contains(o->elf, p->p_vaddr, 12, PF_R))
		return NULL;
	h = (const unsigned char *)(o->bias + p->p_vaddr);
	if (h[0] != 1)
		return NULL;
	switch (h[1]) {
	case DW_EH_PE_pcrel | DW_EH_PE_sdata4: {
		int32_t d;

		memcpy(&d, h + 4, 4);
		v = (int64_t)(uintptr_t)(h + 4) + d;
		break;
	}
	case DW_EH_PE_pcrel | DW_EH_PE_sdata8:
		memcpy(&v, h + 4, 8);
		v += (int64_t)(uintptr_t)(h + 4);
		break;
	default:
		return NULL;
	}
	if (!kdl_elf_contains(o->elf, (uint64_t)v - o->bias, 4, PF_R))
		return NULL;
	return (const void *)(uintptr_t)v;
}

/* From the process's libgcc_s, which glibc may hold RTLD_LOCAL (out of
 * RTLD_DEFAULT's reach); NULL when no C++ runtime is loaded. */
static void *unwinder_sym(const char *name)
{
	struct kdl_obj *g = kdl_process_find("libgcc_s.so.1");
	struct kdl_symref r;
	const Elf64_Sym *s;

	kdl_symref_init(&r, name, NULL);
	if (!g) {
		/* The process's global scope, as dlsym(RTLD_DEFAULT) would
		 * search it -- but a miss (a C program: no libgcc_s) costs no
		 * dlerror(), whose message glibc formats through gettext and
		 * asprintf, four page faults in a fresh process. */
		struct kdl_def d;

		return kdl_lookup(NULL, &r, NULL, 0, &d) ? NULL : (void *)kdl_sym_value(d.obj, d.sym);
	}
	s = kdl_sym_in(g, &r);
	return s ? (void *)kdl_sym_value(g, s) : NULL;
}

/* Called with kdl_lock held, after relocation. */
void kdl_eh_register(struct kdl_obj *o)
{
	const void *start;
	register_fn reg;

	/* The unwinder first: without one (a C program) the header's page
	 * is never touched. */
	reg = (register_fn)unwinder_sym("__register_frame_info");
	if (!reg || !(start = eh_frame_start(o)))
		return;
	o->eh_object = calloc(1, EH_OBJECT_BYTES);
	if (!o->eh_object)
		return;
	o->eh_frame = start;
	reg(start, o->eh_object);
}

void kdl_eh_deregister(struct kdl_obj *o)
{
	deregister_fn dereg;

	if (!o->eh_object)
		return;
	pthread_mutex_lock(&kdl_lock);
	dereg = (deregister_fn)unwinder_sym("__deregister_frame_info");
	pthread_mutex_unlock(&kdl_lock);
	if (dereg)
		dereg(o->eh_frame);
	free(o->eh_object);
	o->eh_object = NULL;
}

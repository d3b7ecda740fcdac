/* elf_load_fuzz.c - libFuzzer target over libkdl's intake and mapping:
 * ELF and program headers, the userspace mapping of the segments, and the
 * dynamic section with its string, symbol, hash and version tables.
 * Relocation and constructors are left out: they run the image's code
 * (elf_reloc_fuzz relocates, without running any). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../lib/obj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct kdl_placement pl = { 0 };
	struct kdl_src src = { 0 };
	struct kdl_obj *o;
	size_t need = 0;

	if (fd < 0)
		fd = memfd_create("kdl-fuzz", MFD_CLOEXEC);
	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	o = kdl_obj_alloc();
	if (!o)
		abort();
	o->name = "fuzz";
	if (kdl_elf_parse(o->elf, data, size, size, "fuzz", &need) != 0)
		goto out;
	src.fd = fd;
	src.size = size;
	if (kdl_map_user(o->elf, &src, &pl, &o->map, "fuzz"))
		goto out;
	o->bias = o->map.bias;
	if (!kdl_dyn_read(o, o->elf)) {
		/* Exercise the lookup path on what was accepted. */
		struct kdl_symref r;

		kdl_symref_init(&r, "deflate", NULL);
		kdl_sym_in(o, &r);
		kdl_symref_init(&r, "inflate", "ZLIB_1.2.0");
		kdl_sym_in(o, &r);
	}
	kdl_dyninfo_free(&o->dyn);
	kdl_unmap_user(&o->map);
out:
	kdl_error();
	free(o);
	return 0;
}

/* arch_x86_64.h - x86-64 relocation numbers mapped onto the neutral names
 * reloc.c switches on. */
#ifndef KDL_ARCH_H
#define KDL_ARCH_H

#include <elf.h>

enum kdl_rel {
	REL_NONE, REL_ABS64, REL_PC32, REL_GOT, REL_PLT, REL_RELATIVE, REL_ABS32,
	REL_ABS32S, REL_PC64, REL_SIZE32, REL_SIZE64, REL_COPY, REL_IRELATIVE,
	REL_DTPMOD, REL_DTPOFF, REL_TPOFF, REL_TLSDESC, REL_UNKNOWN,
};

static inline enum kdl_rel kdl_rel_kind(unsigned int type)
{
	switch (type) {
	case R_X86_64_NONE: return REL_NONE;
	case R_X86_64_64: return REL_ABS64;
	case R_X86_64_PC32: return REL_PC32;
	case R_X86_64_GLOB_DAT: return REL_GOT;
	case R_X86_64_JUMP_SLOT: return REL_PLT;
	case R_X86_64_RELATIVE: return REL_RELATIVE;
	case R_X86_64_32: return REL_ABS32;
	case R_X86_64_32S: return REL_ABS32S;
	case R_X86_64_PC64: return REL_PC64;
	case R_X86_64_SIZE32: return REL_SIZE32;
	case R_X86_64_SIZE64: return REL_SIZE64;
	case R_X86_64_COPY: return REL_COPY;
	case R_X86_64_IRELATIVE: return REL_IRELATIVE;
	case R_X86_64_DTPMOD64: return REL_DTPMOD;
	case R_X86_64_DTPOFF64: return REL_DTPOFF;
	case R_X86_64_TPOFF64: return REL_TPOFF;
	case R_X86_64_TLSDESC: return REL_TLSDESC;
	default: return REL_UNKNOWN;
	}
}

/* Bytes a relocation of this kind writes. */
static inline unsigned int kdl_rel_width(enum kdl_rel k)
{
	switch (k) {
	case REL_PC32: case REL_ABS32: case REL_ABS32S: case REL_SIZE32: return 4;
	case REL_TLSDESC: return 16;
	default: return 8;
	}
}

#endif

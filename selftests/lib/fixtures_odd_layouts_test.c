/*
 * fixtures_odd_layouts_test.c - layouts that are legal but unusual, which
 * the fuzzers found kdl mishandling (issue 9), each compared with glibc:
 * relocations at addresses that are not 8-byte aligned (pointers in
 * packed structs), and a GNU hash bloom shift of 32 or more.  Without
 * the fixes the ASan/UBSan suite stops on both ("store to misaligned
 * address", "shift exponent 40 is too large").
 */
#include <elf.h>
#include <stdint.h>

#include "kdl_src_test.h"
#include "kdl_test.h"
#include "kselftest_harness.h"

struct __attribute__((packed)) fx_packed {
	char tag;
	const void *self_ptr;
	char pad[2];
	void *(*ext_ptr)(size_t);
};

TEST(pointers_at_unaligned_addresses_are_relocated_like_glibc)
{
	const char *path = fx_path("libfx_packed.so");
	void *h = KDL_OPEN_OK(path, RTLD_NOW), *g = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	const struct fx_packed *kd = KDL_SYM_OK(h, "fx_packed_data");
	const struct fx_packed *ke = KDL_SYM_OK(h, "fx_packed_ext");
	const void *(*klocal)(void) = KDL_SYM_OK(h, "fx_packed_local");

	ASSERT_NE(NULL, g);
	const struct fx_packed *gd = dlsym(g, "fx_packed_data");
	const struct fx_packed *ge = dlsym(g, "fx_packed_ext");

	ASSERT_NE(NULL, gd);
	ASSERT_NE(NULL, ge);
	/* RELATIVE at an odd address, and 64 against two symbols. */
	EXPECT_EQ(klocal(), kd->self_ptr);
	EXPECT_EQ(7, *(const int *)kd->self_ptr);
	EXPECT_EQ(KDL_SYM_OK(h, "fx_packed_target"), ke->self_ptr);
	EXPECT_EQ(42, *(const int *)ke->self_ptr);
	EXPECT_EQ((void *(*)(size_t))malloc, ke->ext_ptr);
	/* glibc's copy says the same of its own image. */
	EXPECT_EQ(7, *(const int *)gd->self_ptr);
	EXPECT_EQ(ge->ext_ptr, ke->ext_ptr);
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

/* The file offset of the DT_GNU_HASH table of the ELF image @b. */
static size_t gnu_hash_offset(const unsigned char *b)
{
	const Elf64_Ehdr *e = (const Elf64_Ehdr *)b;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(b + e->e_phoff);
	uint64_t addr = 0;

	for (int i = 0; i < e->e_phnum; i++) {
		if (ph[i].p_type != PT_DYNAMIC)
			continue;
		for (const Elf64_Dyn *d = (const Elf64_Dyn *)(b + ph[i].p_offset);
		     d->d_tag != DT_NULL; d++)
			if (d->d_tag == DT_GNU_HASH)
				addr = d->d_un.d_ptr;
	}
	for (int i = 0; i < e->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && addr >= ph[i].p_vaddr &&
		    addr < ph[i].p_vaddr + ph[i].p_filesz)
			return addr - ph[i].p_vaddr + ph[i].p_offset;
	return 0;
}

/*
 * glibc's bloom shift is a 32-bit shift, which x86 masks to 5 bits: a
 * shift of 32 or more counts modulo 32 (measured: the fixture, built with
 * shift 13, loads and finds everything patched to 13 + 32 and to 32, and
 * nothing at the others).  kdl must find exactly what glibc finds, in the
 * same patched copy, and load exactly when glibc does.
 */
TEST(bloom_shift_of_32_and_more_finds_what_glibc_finds)
{
	size_t len, off;
	unsigned char *b = slurp(fx_path("libfx_many_relocs_relr.so"), &len);
	char path[] = "/tmp/kdl-bloom-XXXXXX", name[32];

	ASSERT_NE(NULL, b);
	off = gnu_hash_offset(b);
	ASSERT_NE(0, off);
	for (uint32_t shift = 32; shift < 64; shift++) {
		int fd = mkstemp(path), found = 0, disagree = 0;

		ASSERT_LE(0, fd);
		memcpy(b + off + 12, &shift, 4);	/* nbuckets, symoffset, bloom_size, shift */
		ASSERT_EQ((ssize_t)len, write(fd, b, len));
		close(fd);
		void *h = kdl_open(path, RTLD_LAZY, NULL), *g = dlopen(path, RTLD_LAZY | RTLD_LOCAL);

		EXPECT_EQ(g != NULL, h != NULL) {
			TH_LOG("shift %u: kdl %s, glibc %s", shift, h ? "loaded" : kdl_error(),
			       g ? "loaded" : dlerror());
		}
		for (int i = 0; h && g && i < 1000; i++) {
			snprintf(name, sizeof(name), "fx_many_f%d", i);
			int k = kdl_sym(h, name) != NULL, gl = dlsym(g, name) != NULL;

			found += k;
			disagree += k != gl;
		}
		EXPECT_EQ(0, disagree) {
			TH_LOG("shift %u: %d disagreements, kdl found %d", shift, disagree, found);
		}
		if (h)
			kdl_close(h);
		if (g)
			dlclose(g);
		unlink(path);
		strcpy(path, "/tmp/kdl-bloom-XXXXXX");
	}
	free(b);
}

TEST_HARNESS_MAIN

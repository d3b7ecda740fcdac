/*
 * fixtures_ifunc_test.c - IFUNC: an exported GNU_IFUNC symbol (kdl_sym and
 * JUMP_SLOT), a local one (R_X86_64_IRELATIVE, run after the other
 * relocations) and a reference from another object.
 */
#include <elf.h>

#include "kdl_leaks.h"
#include "kdl_src_test.h"
#include "kdl_test.h"
#include "kselftest_harness.h"

typedef int (*int_fn)(void);
typedef void *(*ptr_fn)(void);

TEST(sym_returns_resolved_implementation)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_ifunc.so"), RTLD_NOW);
	int want = ((int_fn)KDL_SYM_OK(h, "fx_ifunc_expected"))();
	int_fn f = (int_fn)KDL_SYM_OK(h, "fx_ifunc");

	EXPECT_EQ(want, f());
	EXPECT_GE(((int_fn)KDL_SYM_OK(h, "fx_ifunc_resolver_ran"))(), 1);
	EXPECT_EQ(0, kdl_close(h));
}

TEST(plt_and_irelative_calls_reach_chosen_implementation)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_ifunc.so"), RTLD_NOW);
	int want = ((int_fn)KDL_SYM_OK(h, "fx_ifunc_expected"))();
	int_fn *ptr = KDL_SYM_OK(h, "fx_ifunc_ptr");

	EXPECT_EQ(want, ((int_fn)KDL_SYM_OK(h, "fx_ifunc_call_exported"))());
	EXPECT_EQ(want, ((int_fn)KDL_SYM_OK(h, "fx_ifunc_call_local"))());
	ASSERT_NE(NULL, *ptr);
	EXPECT_EQ(want, (*ptr)());
	/* IRELATIVE stored the implementation, as kdl_sym returned it */
	EXPECT_EQ((void *)*ptr, kdl_sym(h, "fx_ifunc"));
	EXPECT_EQ(0, kdl_close(h));
}

TEST(other_object_binds_to_resolved_address)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_ifunc_user.so"), RTLD_NOW);
	int want = ((int_fn)KDL_SYM_OK(h, "fx_ifunc_expected"))();

	EXPECT_EQ(want, ((int_fn)KDL_SYM_OK(h, "fx_ifunc_user_call"))());
	EXPECT_EQ(kdl_sym(h, "fx_ifunc"),
		  ((ptr_fn)KDL_SYM_OK(h, "fx_ifunc_user_addr"))());
	EXPECT_EQ(0, kdl_close(h));
}

TEST(same_choice_as_glibc)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_ifunc.so"), RTLD_NOW);
	int k = ((int_fn)KDL_SYM_OK(h, "fx_ifunc"))();
	void *g = dlopen(fx_path("libfx_ifunc.so"), RTLD_NOW | RTLD_LOCAL);

	ASSERT_NE(NULL, g);
	EXPECT_EQ(((int_fn)dlsym(g, "fx_ifunc"))(), k);
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

/* The file offset of virtual address @v of the ELF image @b (0: none). */
static size_t vaddr_offset(const unsigned char *b, uint64_t v)
{
	const Elf64_Ehdr *e = (const Elf64_Ehdr *)b;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(b + e->e_phoff);

	for (int i = 0; i < e->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && v >= ph[i].p_vaddr && v < ph[i].p_vaddr + ph[i].p_filesz)
			return v - ph[i].p_vaddr + ph[i].p_offset;
	return 0;
}

/* An IRELATIVE whose resolver lies in data: glibc jumps there and
 * crashes; kdl refuses the object, leaving no fd behind. */
TEST(irelative_resolver_outside_the_code_is_refused)
{
	size_t len, dyn = 0, rela = 0, relasz = 0, patched = 0;
	unsigned char *b = slurp(fx_path("libfx_ifunc.so"), &len);
	char path[] = "/tmp/kdl-irel-XXXXXX";
	const Elf64_Ehdr *e = (const Elf64_Ehdr *)b;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(b + e->e_phoff);

	ASSERT_NE(NULL, b);
	for (int i = 0; i < e->e_phnum; i++)
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = ph[i].p_offset;
	ASSERT_NE(0, dyn);
	for (const Elf64_Dyn *d = (const Elf64_Dyn *)(b + dyn); d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_RELA)
			rela = vaddr_offset(b, d->d_un.d_ptr);
		if (d->d_tag == DT_RELASZ)
			relasz = d->d_un.d_val;
	}
	ASSERT_NE(0, rela);
	for (Elf64_Rela *r = (Elf64_Rela *)(b + rela); (size_t)((unsigned char *)r - b) < rela + relasz; r++)
		if (ELF64_R_TYPE(r->r_info) == R_X86_64_IRELATIVE) {
			r->r_addend = r->r_offset;	/* a word of writable data */
			patched++;
		}
	ASSERT_LT(0, patched);
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)len, write(fd, b, len));
	close(fd);
	free(b);
	int backend, fds;

	ASSERT_EQ(0, kdl_info(NULL, KDL_INFO_BACKEND, &backend));	/* opens /dev/kdl once */
	fds = leak_fd_count();
	void *h = kdl_open(path, RTLD_NOW, NULL);
	const char *err = kdl_error();

	EXPECT_EQ(NULL, h);
	ASSERT_NE(NULL, err);
	EXPECT_NE(NULL, strstr(err, "IRELATIVE resolver")) {
		TH_LOG("%s", err);
	}
	EXPECT_EQ(fds, leak_fd_count());
	unlink(path);
}

TEST_HARNESS_MAIN

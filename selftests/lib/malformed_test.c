/* malformed_test.c - broken images get a precise error and leave nothing
 * behind: /proc/self/maps and the fd table are unchanged after the failure. */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kdl.h"
#include "kdl_leaks.h"
#include "kselftest_harness.h"

#define BASE_LIB "/lib/x86_64-linux-gnu/libz.so.1"

struct image {
	unsigned char *b;
	size_t len;
};

static void image_read(struct image *im)
{
	int fd = open(BASE_LIB, O_RDONLY);
	struct stat st;

	if (fd < 0 || fstat(fd, &st))
		abort();
	im->len = st.st_size;
	im->b = malloc(im->len);
	if (!im->b || pread(fd, im->b, im->len, 0) != (ssize_t)im->len)
		abort();
	close(fd);
}

static Elf64_Ehdr *eh(struct image *im) { return (Elf64_Ehdr *)im->b; }
static Elf64_Phdr *ph(struct image *im, int i)
{
	return (Elf64_Phdr *)(im->b + eh(im)->e_phoff) + i;
}

static Elf64_Phdr *ph_type(struct image *im, unsigned int type, int nth)
{
	for (int i = 0; i < eh(im)->e_phnum; i++)
		if (ph(im, i)->p_type == type && nth-- == 0)
			return ph(im, i);
	abort();
}

/* File offset of virtual address @v. */
static size_t v2o(struct image *im, uint64_t v)
{
	for (int i = 0; i < eh(im)->e_phnum; i++) {
		Elf64_Phdr *p = ph(im, i);

		if (p->p_type == PT_LOAD && v >= p->p_vaddr && v < p->p_vaddr + p->p_filesz)
			return p->p_offset + (v - p->p_vaddr);
	}
	abort();
}

static Elf64_Dyn *dyn_tag(struct image *im, int64_t tag)
{
	Elf64_Dyn *d = (Elf64_Dyn *)(im->b + ph_type(im, PT_DYNAMIC, 0)->p_offset);

	for (; d->d_tag != DT_NULL; d++)
		if (d->d_tag == tag)
			return d;
	abort();
}

static Elf64_Rela *first_rela(struct image *im, int64_t tag)
{
	return (Elf64_Rela *)(im->b + v2o(im, dyn_tag(im, tag)->d_un.d_ptr));
}

/* Each case breaks one thing and names the words the error must contain. */
struct bad_case {
	const char *name;
	void (*mutate)(struct image *im);
	const char *expect;
};

static void m_empty(struct image *im) { im->len = 0; }
static void m_trunc_ehdr(struct image *im) { im->len = 40; }
static void m_trunc_phdr(struct image *im) { im->len = eh(im)->e_phoff + 20; }
static void m_trunc_half(struct image *im) { im->len /= 2; }
static void m_magic(struct image *im) { im->b[1] = 'X'; }
static void m_class(struct image *im) { im->b[EI_CLASS] = ELFCLASS32; }
static void m_endian(struct image *im) { im->b[EI_DATA] = ELFDATA2MSB; }
static void m_version(struct image *im) { im->b[EI_VERSION] = 9; }
static void m_machine(struct image *im) { eh(im)->e_machine = EM_AARCH64; }
static void m_type(struct image *im) { eh(im)->e_type = ET_REL; }
static void m_phentsize(struct image *im) { eh(im)->e_phentsize = 40; }
static void m_phnum0(struct image *im) { eh(im)->e_phnum = 0; }
static void m_phnum_huge(struct image *im) { eh(im)->e_phnum = 5000; }
static void m_phoff(struct image *im) { eh(im)->e_phoff = im->len - 8; }
static void m_filesz(struct image *im)
{
	Elf64_Phdr *p = ph_type(im, PT_LOAD, 0);
	p->p_filesz = p->p_memsz + 4096;
}
static void m_load_offset(struct image *im) { ph_type(im, PT_LOAD, 1)->p_offset = 1ull << 40; }
static void m_load_overlap(struct image *im)
{
	Elf64_Phdr *a = ph_type(im, PT_LOAD, 0), *b = ph_type(im, PT_LOAD, 1);
	b->p_vaddr = a->p_vaddr + 4096 + (b->p_vaddr & 4095);
	b->p_offset = (b->p_vaddr & 4095) + 4096;
	if (b->p_offset + b->p_filesz > im->len) b->p_filesz = 16;
}
static void m_load_unsorted(struct image *im)
{
	Elf64_Phdr *a = ph_type(im, PT_LOAD, 0), *b = ph_type(im, PT_LOAD, 1), t = *a;
	*a = *b;
	*b = t;
}
static void m_congruence(struct image *im) { ph_type(im, PT_LOAD, 1)->p_offset += 8; }
static void m_align(struct image *im) { ph_type(im, PT_LOAD, 0)->p_align = 3000; }
static void m_no_dynamic(struct image *im) { ph_type(im, PT_DYNAMIC, 0)->p_type = PT_NULL; }
static void m_dynamic_outside(struct image *im) { ph_type(im, PT_DYNAMIC, 0)->p_vaddr = 1ull << 33; }
static void m_dynamic_size(struct image *im) { ph_type(im, PT_DYNAMIC, 0)->p_memsz = 13; }
static void m_strtab(struct image *im) { dyn_tag(im, DT_STRTAB)->d_un.d_ptr = 1ull << 32; }
static void m_symtab(struct image *im) { dyn_tag(im, DT_SYMTAB)->d_un.d_ptr = 1ull << 32; }
static void m_syment(struct image *im) { dyn_tag(im, DT_SYMENT)->d_un.d_val = 16; }
static void m_strsz(struct image *im) { dyn_tag(im, DT_STRSZ)->d_un.d_val = 1ull << 40; }
static void m_needed(struct image *im) { dyn_tag(im, DT_NEEDED)->d_un.d_val = 1u << 30; }
static void m_no_hash(struct image *im) { dyn_tag(im, DT_GNU_HASH)->d_tag = DT_DEBUG; }
static void m_gnu_bloom(struct image *im)
{
	uint32_t *h = (uint32_t *)(im->b + v2o(im, dyn_tag(im, DT_GNU_HASH)->d_un.d_ptr));
	h[2] = 3;	/* bloom size not a power of two */
}
static void m_gnu_buckets(struct image *im)
{
	uint32_t *h = (uint32_t *)(im->b + v2o(im, dyn_tag(im, DT_GNU_HASH)->d_un.d_ptr));
	h[0] = 0;
}
static void m_gnu_bucket_value(struct image *im)
{
	uint32_t *h = (uint32_t *)(im->b + v2o(im, dyn_tag(im, DT_GNU_HASH)->d_un.d_ptr));
	uint32_t *buckets = h + 4 + 2 * h[2];
	for (uint32_t i = 0; i < h[0]; i++)
		if (buckets[i]) { buckets[i] = 1; break; }
}
static void m_rela_sym(struct image *im)
{
	Elf64_Rela *r = first_rela(im, DT_JMPREL);
	r->r_info = ELF64_R_INFO(0xfffff, ELF64_R_TYPE(r->r_info));
}
static void m_rela_type(struct image *im)
{
	Elf64_Rela *r = first_rela(im, DT_JMPREL);
	r->r_info = ELF64_R_INFO(ELF64_R_SYM(r->r_info), 200);
}
static void m_rela_offset(struct image *im) { first_rela(im, DT_RELA)->r_offset = 0x10; }
static void m_relasz(struct image *im) { dyn_tag(im, DT_RELASZ)->d_un.d_val += 5; }
static void m_pltrel(struct image *im) { dyn_tag(im, DT_PLTREL)->d_un.d_val = DT_REL; }
static void m_textrel(struct image *im) { dyn_tag(im, DT_RELACOUNT)->d_tag = DT_TEXTREL; }
static void m_copy(struct image *im)
{
	Elf64_Rela *r = first_rela(im, DT_JMPREL);
	r->r_info = ELF64_R_INFO(ELF64_R_SYM(r->r_info), R_X86_64_COPY);
}
static void m_verneed(struct image *im)
{
	Elf64_Verneed *vn = (Elf64_Verneed *)(im->b + v2o(im, dyn_tag(im, DT_VERNEED)->d_un.d_ptr));
	vn->vn_version = 7;
}
static void m_init(struct image *im) { dyn_tag(im, DT_INIT)->d_un.d_ptr = 1ull << 33; }

static const struct bad_case cases[] = {
	{ "empty file", m_empty, "too short" },
	{ "truncated inside the ELF header", m_trunc_ehdr, "too short" },
	{ "truncated inside the program headers", m_trunc_phdr, "program headers" },
	{ "truncated in the middle", m_trunc_half, "past the end of the file" },
	{ "bad magic", m_magic, "bad magic" },
	{ "32-bit class", m_class, "ELF class: found 32-bit" },
	{ "big endian", m_endian, "byte order" },
	{ "bad ELF version", m_version, "ELF version" },
	{ "other machine", m_machine, "machine: found 183" },
	{ "relocatable object", m_type, "expected a shared object" },
	{ "wrong phentsize", m_phentsize, "program header size: found 40" },
	{ "no program headers", m_phnum0, "program header count: found 0" },
	{ "too many program headers", m_phnum_huge, "program header" },
	{ "program headers past the end", m_phoff, "program headers" },
	{ "filesz above memsz", m_filesz, "exceeds memory size" },
	{ "segment offset past the end", m_load_offset, "past the end of the file" },
	{ "overlapping segments", m_load_overlap, "overlaps" },
	{ "unsorted segments", m_load_unsorted, "not sorted" },
	{ "address and offset not congruent", m_congruence, "differ modulo the page size" },
	{ "alignment not a power of two", m_align, "not a power of two" },
	{ "no PT_DYNAMIC", m_no_dynamic, "no PT_DYNAMIC" },
	{ "PT_DYNAMIC outside the image", m_dynamic_outside, "outside every PT_LOAD" },
	{ "PT_DYNAMIC of odd size", m_dynamic_size, "multiple of the entry size" },
	{ "DT_STRTAB outside the image", m_strtab, "DT_STRTAB" },
	{ "DT_SYMTAB outside the image", m_symtab, "DT_SYMTAB" },
	{ "wrong DT_SYMENT", m_syment, "DT_SYMENT: found 16" },
	{ "DT_STRSZ past the image", m_strsz, "DT_STRTAB" },
	{ "DT_NEEDED string past DT_STRSZ", m_needed, "DT_NEEDED string offset" },
	{ "no hash table", m_no_hash, "neither DT_HASH nor DT_GNU_HASH" },
	{ "GNU hash bloom size not a power of two", m_gnu_bloom, "DT_GNU_HASH header is malformed" },
	{ "GNU hash with zero buckets", m_gnu_buckets, "DT_GNU_HASH header is malformed" },
	{ "GNU hash bucket below symoffset", m_gnu_bucket_value, "DT_GNU_HASH bucket" },
	{ "relocation symbol out of range", m_rela_sym, "past the" },
	{ "unknown relocation type", m_rela_type, "relocation type 200 is not supported" },
	{ "relocation outside writable segments", m_rela_offset, "outside the writable segments" },
	{ "DT_RELASZ not a multiple", m_relasz, "not a multiple" },
	{ "DT_PLTREL is DT_REL", m_pltrel, "DT_PLTREL" },
	{ "text relocations", m_textrel, "DT_TEXTREL" },
	{ "copy relocation", m_copy, "R_X86_64_COPY" },
	{ "bad verneed revision", m_verneed, "DT_VERNEED" },
	{ "DT_INIT outside the image", m_init, "DT_INIT" },
};

TEST(table_of_broken_images)
{
	char path[] = "/tmp/kdl-malformed-XXXXXX";
	int tfd = mkstemp(path);

	ASSERT_LE(0, tfd);
	close(tfd);
	/* Warm up libkdl's one-time state (backend probe, ld.so.cache, the
	 * process's objects) so it does not count as a change. */
	void *warm = kdl_open("libfx_none_such.so", RTLD_NOW, NULL);
	int backend;

	ASSERT_EQ(NULL, warm);
	kdl_error();
	ASSERT_EQ(0, kdl_info(NULL, KDL_INFO_BACKEND, &backend));	/* opens /dev/kdl once */

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct image im;
		static char maps_before[LEAK_MAPS_MAX], maps_after[LEAK_MAPS_MAX];
		int fds_before, fd;
		void *h;
		const char *err;

		image_read(&im);
		cases[i].mutate(&im);
		fd = open(path, O_WRONLY | O_TRUNC);
		ASSERT_LE(0, fd);
		ASSERT_EQ((ssize_t)im.len, write(fd, im.b, im.len));
		close(fd);
		free(im.b);

		leak_maps_snapshot(maps_before);
		fds_before = leak_fd_count();
		h = kdl_open(path, RTLD_NOW, NULL);
		err = kdl_error();
		leak_maps_snapshot(maps_after);
		EXPECT_EQ(NULL, h) {
			TH_LOG("%s: loaded", cases[i].name);
		}
		ASSERT_NE(NULL, err) {
			TH_LOG("%s: no error message", cases[i].name);
		}
		EXPECT_NE(NULL, strstr(err, cases[i].expect)) {
			TH_LOG("%s: error \"%s\" lacks \"%s\"", cases[i].name, err, cases[i].expect);
		}
		EXPECT_NE(NULL, strstr(err, "kdl-malformed-")) {
			TH_LOG("%s: error \"%s\" does not name the file", cases[i].name, err);
		}
		EXPECT_STREQ(maps_before, maps_after) {
			TH_LOG("%s: /proc/self/maps changed", cases[i].name);
		}
		EXPECT_EQ(fds_before, leak_fd_count()) {
			TH_LOG("%s: fd leaked", cases[i].name);
		}
	}
	unlink(path);
}

TEST(directory_is_refused)
{
	EXPECT_EQ(NULL, kdl_open("/tmp/", RTLD_NOW, NULL));
	EXPECT_NE(NULL, kdl_error());
}

TEST(unknown_mode_bits_are_refused)
{
	const char *e;

	EXPECT_EQ(NULL, kdl_open(BASE_LIB, RTLD_NOW | 0x40000000, NULL));
	e = kdl_error();
	ASSERT_NE(NULL, e);
	EXPECT_NE(NULL, strstr(e, "unknown bits"));
}

TEST(missing_library_names_it)
{
	const char *e;

	EXPECT_EQ(NULL, kdl_open("libkdl-no-such-library.so.7", RTLD_NOW, NULL));
	e = kdl_error();
	ASSERT_NE(NULL, e);
	EXPECT_NE(NULL, strstr(e, "libkdl-no-such-library.so.7"));
}

TEST_HARNESS_MAIN

/* cache_entry.h - the relocation cache's files: where they live, their
 * format, and the checks that decide whether one may be used at all
 * (Documentation/reloc-cache.md).  No loader state: the kdl tool links
 * this file too. */
#ifndef KDL_CACHE_ENTRY_H
#define KDL_CACHE_ENTRY_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kdl_internal.h"

#define KDL_CE_MAGIC	"KDLRCE\0"	/* 8 bytes with the NUL */
#define KDL_CE_VERSION	2u
#define KDL_CE_MAX_META	(1u << 24)	/* key, scope, tables: 16 MiB at most */
#define KDL_CE_MAX_SEGS	16
#define KDL_CE_NAME_LEN	32		/* hex digest of the object key */

/* What names a file's contents (an object, a process object, libkdl):
 * ctime moves on every write, and no one can set it back. */
struct kdl_ce_id {
	uint64_t dev, ino, offset, size;
	uint64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
};

struct stat;
KDL_HIDDEN void kdl_ce_id_from_stat(struct kdl_ce_id *id, const struct stat *st,
				    uint64_t offset);

/* The identity of the object holding @addr (libkdl, or the program
 * libkdl.a is linked into): its GNU build-id, in the last four fields
 * with dev, ino and offset 0 and size its length; else its file's. */
KDL_HIDDEN bool kdl_ce_self_id(const void *addr, struct kdl_ce_id *id);

/* An entry's key: its file name is the digest of it, and all of it is
 * stored in the entry and compared. */
struct kdl_ce_key {
	uint64_t version;	/* KDL_CE_VERSION */
	struct kdl_ce_id kdl;	/* libkdl's own file: the code that relocated */
	struct kdl_ce_id id;	/* the object's; offset: inside its file */
	uint64_t base, span;
};

/* The file's first bytes.  Both hashes are XXH3-64: meta_hash over this
 * header (meta_hash and data_hash read as 0) and everything up to
 * data_start, data_hash over the pages. */
struct kdl_ce_header {
	char magic[8];
	uint32_t version;
	uint32_t hdr_size;	/* sizeof(struct kdl_ce_header) */
	uint64_t file_size;
	uint64_t base;		/* the object's start address */
	uint32_t key_len, scope_len, path_len, nseg;
	uint32_t nfix;
	uint32_t nsyms;		/* the object's dynamic symbol count */
	uint64_t data_start;	/* page aligned */
	uint64_t data_len;
	uint64_t meta_hash;
	uint64_t data_hash;
};

/* One writable PT_LOAD's file pages [vaddr, vaddr + len), relocated, at
 * byte @off of the entry file. */
struct kdl_ce_seg {
	uint32_t load;		/* index among the image's PT_LOADs */
	uint32_t flags;		/* 0 */
	uint64_t vaddr;		/* image vaddr, page aligned */
	uint64_t len;		/* page multiple */
	uint64_t off;		/* in the entry file, page aligned */
};

/*
 * A relocation every process applies again, as the entry's writer applied
 * it (reloc_cache.c): the relocation itself, and the definition its
 * symbol was bound to -- symbol @sym of the object at @obj in the entry's
 * scope, with that symbol's value and type, or one of the values below --
 * so that a later process reads neither the object's tables nor the
 * definer's.  @hash, the name's GNU hash, tells whether a process object
 * searched before the definition may define the name now.
 */
#define KDL_CE_BIND_NAME	0xffffffffu	/* look it up by name */
#define KDL_CE_BIND_UNDEF	0xfffffffeu	/* an undefined weak reference */
#define KDL_CE_SYM_ABS		0x100u		/* in info: st_shndx is SHN_ABS */
struct kdl_ce_fix {
	uint32_t index;		/* into DT_RELA, then DT_JMPREL */
	uint32_t obj, sym, hash;
	uint32_t info;		/* the definition's st_info, | KDL_CE_SYM_ABS */
	uint32_t pad;
	uint64_t value;		/* the definition's st_value */
	Elf64_Rela rel;
};

/* An entry opened and checked up to its pages (which the caller hashes
 * where it maps them). */
struct kdl_ce {
	int fd;			/* -1 when closed */
	struct kdl_ce_header h;
	void *meta;		/* key, scope, path, segments, fixups */
	const void *key, *scope;
	const char *path;	/* the object's file when written (informative) */
	const struct kdl_ce_seg *seg;
	const struct kdl_ce_fix *fix;
	bool system;		/* found in the system cache */
	uint64_t mtime_s, mtime_ns;	/* the file's, when opened */
};

enum kdl_ce_dir { KDL_CE_USER, KDL_CE_SYSTEM };

/* The directory of @which (NULL: none, e.g. no $HOME), honouring
 * KDL_CACHE_DIR and KDL_CACHE_SYSTEM_DIR. */
KDL_HIDDEN const char *kdl_ce_dir(enum kdl_ce_dir which);
/* Whether @dir may be trusted: a directory owned by @uid (or root for the
 * system cache), writable by no one else.  Errors in @why. */
KDL_HIDDEN bool kdl_ce_dir_ok(const char *dir, bool system, const char **why);

/* An entry file name: 32 hex digits of a digest of @a and @b. */
KDL_HIDDEN void kdl_ce_name(const void *a, size_t alen, const void *b, size_t blen,
			    char name[KDL_CE_NAME_LEN + 1]);
/* Whether @name is an entry's file name (exactly KDL_CE_NAME_LEN
 * lowercase hex digits), or the temporary name kdl_ce_write gives a file
 * before renaming it into place (.NAME.PID.tmp). */
KDL_HIDDEN bool kdl_ce_is_name(const char *name);
KDL_HIDDEN bool kdl_ce_is_temp_name(const char *name);
/* Why a file or directory with status @st may not be trusted in the
 * user (@system: the system) cache; NULL when it may. */
KDL_HIDDEN const char *kdl_ce_untrusted(const struct stat *st, bool system);

/*
 * Open the entry @name of @dir and check it: a regular file (not a
 * link) owned by the euid or root for the system cache, writable by no
 * one else; its size, header, tables and meta hash; with @key, that it
 * was written for that key.  0 on success, else -1 with *why saying
 * what was wrong (nothing left open).
 */
KDL_HIDDEN int kdl_ce_open(const char *dir, bool system, const char *name, const void *key,
			   size_t key_len, struct kdl_ce *ce, const char **why);
KDL_HIDDEN void kdl_ce_close(struct kdl_ce *ce);

/*
 * Whether @ce's pages were checked against data_hash in the boot
 * @boot_id (36 characters) and the file was not written since: its
 * "user.kdl.verified" extended attribute names that boot, the file's
 * size and mtime and the hash.  A load then need not hash the pages
 * again; a file system without user xattrs always hashes them.
 */
KDL_HIDDEN bool kdl_ce_verified(const struct kdl_ce *ce, const char *boot_id);
/* Record that the pages of the entry open at @fd were checked (or
 * written) with hash @data_hash in boot @boot_id. */
KDL_HIDDEN void kdl_ce_mark_verified(int fd, const char *boot_id, uint64_t data_hash);

/* XXH3-64 of the pages as they lie in @ce's file (kdl cache verify). */
KDL_HIDDEN int kdl_ce_file_data_hash(const struct kdl_ce *ce, uint64_t *hash);

/* XXH3-64 of the bytes @iov names, in order (pages where they are
 * mapped), with AVX2 when the CPU has it. */
struct iovec;
KDL_HIDDEN uint64_t kdl_ce_hash_iov(const struct iovec *iov, size_t n);
KDL_HIDDEN uint64_t kdl_ce_hash_iov_avx2(const struct iovec *iov, size_t n);
KDL_HIDDEN uint64_t kdl_ce_hash(const void *p, size_t len);

/* What one entry holds, for kdl_ce_write. */
struct kdl_ce_content {
	uint64_t base;
	const void *key, *scope;
	size_t key_len, scope_len;
	const char *path;
	const struct kdl_ce_seg *seg;	/* off relative to the first page */
	size_t nseg;
	const struct kdl_ce_fix *fix;
	size_t nfix;
	uint32_t nsyms;
	const void *data;		/* the pages, segment after segment */
	size_t data_len;
	const char *boot_id;		/* marks it verified in this boot */
};

/* mkdir -p @dir, each directory made getting @mode whatever the umask. */
KDL_HIDDEN int kdl_ce_make_dir(const char *dir, mode_t mode);

/* Write @c as entry @name of @dir, and under @alt too (NULL: no other
 * name): a new file renamed into place, so a reader sees the old entry or
 * the whole new one (mode 0600, 0644 in the system cache).  Creates a
 * missing user cache directory 0700. */
KDL_HIDDEN int kdl_ce_write(const char *dir, bool system, const char *name, const char *alt,
			    const struct kdl_ce_content *c);

#endif

/* obj.h - struct kdl_obj, the loader's record of one object, and the
 * functions of each loading phase. */
#ifndef KDL_OBJ_H
#define KDL_OBJ_H

#include <elf.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"
#include "kdl_internal.h"
#include "map.h"

/* Symbol lookup tables read from a PT_DYNAMIC (ours or the process's). */
struct kdl_dyninfo {
	const char *strtab;
	size_t strsz;
	const Elf64_Sym *symtab;
	size_t nsyms;
	const uint32_t *sysv_hash;	/* nbucket, nchain, buckets, chains */
	uint32_t gnu_nbuckets, gnu_symoffset, gnu_bloom_size, gnu_bloom_shift;
	const uint64_t *gnu_bloom;
	const uint32_t *gnu_buckets;
	const uint32_t *gnu_chain;	/* indexed by symbol index - symoffset */
	bool nsyms_unsure;		/* GNU hash without hashed symbols */
	const Elf64_Half *versym;
	const Elf64_Verdef *verdef;
	size_t verdefnum;
	const Elf64_Verneed *verneed;
	size_t verneednum;
	/* Version index -> name and ELF hash, from DT_VERDEF and DT_VERNEED
	 * alike (an executable's copy-relocated definitions carry DT_VERNEED
	 * indexes).  NULL name: no such index. */
	const char **vername;
	uint32_t *verhash;
	size_t nver;
};

enum kdl_init_state { KDL_INIT_NONE, KDL_INIT_RUNNING, KDL_INIT_DONE };

struct kdl_ns_link;
struct kdl_pending;
struct debug_rec;

/* A namespace.  All fields under kdl_lock once it is in use. */
struct kdl_ns {
	const char *name;
	unsigned int flags;		/* KDL_NS_* it was created with */
	struct kdl_obj **global;	/* RTLD_GLOBAL objects, in order */
	size_t nglobal, capglobal;
	bool sees_process;		/* every process object, not only
					   the shared ones (the default
					   namespace and shared children) */
	bool isolated;			/* KDL_NS_ISOLATED: loads confined */
	char *library_path;		/* searched before ld.so.cache */
	char **permitted;		/* isolated: canonical directories */
	size_t npermitted;
	bool *permitted_tree;		/* ... and their subdirectories */
	char **shared;			/* sonames taken from the process */
	size_t nshared;
	struct kdl_ns_link *links;	/* sonames taken from other namespaces */
	size_t nlinks;
	unsigned int linked_by;		/* links of other namespaces to this */
	struct kdl_obj *objs, *objs_tail; /* its own objects, load order */
	size_t nobjs;
	struct kdl_obj **inherited;	/* KDL_NS_SHARED: the parent's objects
					   at creation, a reference held */
	size_t ninherited;
	struct kdl_placement pl;	/* window and mirror of every load */
	unsigned int load_flags;	/* backend of every load */
};

/* ns.c */
/* The process's copy serves @soname in @ns: the runtime group, or a
 * soname the namespace was created to share. */
KDL_HIDDEN bool kdl_ns_shares(const struct kdl_ns *ns, const char *soname);
/* The namespace @ns takes @soname from before looking itself (a link
 * listing it), or NULL. */
KDL_HIDDEN struct kdl_ns *kdl_ns_link_target(const struct kdl_ns *ns, const char *soname);
/* The namespace of @ns's @i-th link that shares all sonames, or NULL
 * past the last: where a soname @ns cannot find is looked for. */
KDL_HIDDEN struct kdl_ns *kdl_ns_fallback(const struct kdl_ns *ns, size_t i);
/* Whether an isolated @ns may load the file at canonical @path (always,
 * for a namespace that is not isolated). */
KDL_HIDDEN bool kdl_ns_permits(const struct kdl_ns *ns, const char *path);
/* The error for @path refused by @ns; @what names the load. */
KDL_HIDDEN void kdl_ns_refuse(const struct kdl_ns *ns, const char *what, const char *path);
/* Membership: indexed (index.c) and on the namespace's list. */
KDL_HIDDEN int kdl_ns_add_obj(struct kdl_obj *o);
KDL_HIDDEN void kdl_ns_del_obj(struct kdl_obj *o);
/* @ns's object of @soname or file, its own or inherited, or NULL. */
KDL_HIDDEN struct kdl_obj *kdl_ns_find_soname(const struct kdl_ns *ns, const char *soname);
KDL_HIDDEN struct kdl_obj *kdl_ns_find_file(const struct kdl_ns *ns, dev_t dev, ino_t ino,
					    uint64_t off);

/* index.c: every namespace's objects by file identity and by soname. */
KDL_HIDDEN int kdl_index_add(struct kdl_obj *o);
KDL_HIDDEN void kdl_index_del(struct kdl_obj *o);
KDL_HIDDEN struct kdl_obj *kdl_index_file(const struct kdl_ns *ns, dev_t dev, ino_t ino,
					  uint64_t off);
KDL_HIDDEN struct kdl_obj *kdl_index_soname(const struct kdl_ns *ns, const char *soname);
/* The published objects by address; *complete is false once memory ran
 * out for the index (then only the list is sure). */
KDL_HIDDEN void kdl_index_addr_add(struct kdl_obj *o);
KDL_HIDDEN void kdl_index_addr_del(struct kdl_obj *o);
KDL_HIDDEN struct kdl_obj *kdl_index_addr(uintptr_t addr, bool *complete);

#define KDL_OBJ_MAGIC 0x6b646c6f626a3031ull	/* "kdlobj01" */

struct kdl_obj {
	uint64_t magic;			/* KDL_OBJ_MAGIC while alive */
	struct kdl_obj *next, *prev;	/* kdl_objs list, load order */
	char *path;			/* file it came from */
	char *name;			/* display name */
	char *origin;			/* directory of path, for $ORIGIN */
	const char *soname;		/* DT_SONAME or the base name */
	struct kdl_ns *ns;
	struct kdl_obj *ns_next, *ns_prev;	/* ns->objs list */
	struct kdl_obj *file_next, *soname_next; /* index.c chains */
	bool indexed;
	bool system;			/* the process's own object, not ours */
	bool file_id_known;		/* system: dev/ino looked up */
	void *glibc_handle;		/* dlopen handle keeping a system object */

	struct kdl_mapping map;
	uintptr_t bias;
	Elf64_Phdr *phdr;
	unsigned int nphdr;
	const Elf64_Dyn *dynamic;
	struct kdl_dyninfo dyn;
	dev_t dev;
	ino_t ino;
	uint64_t src_base;		/* image offset inside its file */
	bool zero_copy;			/* mapped from the source's own pages */
	bool path_opened;		/* opened from path by its load */
	char *container;		/* zip it came from, for DT_NEEDED */
	char *container_dir;		/* its directory inside the zip */

	const Elf64_Rela *rela, *jmprel;
	size_t nrela, njmprel;
	const uint64_t *relr;
	size_t nrelr;
	uintptr_t init, fini;
	const uintptr_t *init_array, *fini_array;
	size_t ninit_array, nfini_array;
	const char *rpath, *runpath;
	bool symbolic, bind_now, nodelete, textrel;
	uint64_t relro_start, relro_end;	/* absolute, page aligned */
	uint64_t wr_lo, wr_hi;		/* first writable PT_LOAD, image vaddrs */
	size_t nrelative;		/* DT_RELACOUNT: leading RELATIVE entries */
	size_t known_nsyms;		/* a cache entry's count of dynsym, or 0 */
	void **tlsdesc;			/* TLS descriptor arguments it owns */
	size_t ntlsdesc, captlsdesc;
	const void *eh_frame;		/* registered with the unwinder */
	void *eh_object;
	size_t tls_modid;
	uint64_t tls_size, tls_align;

	struct kdl_obj **deps;		/* direct DT_NEEDED, in order */
	size_t ndeps;
	struct kdl_obj **scope;		/* self + deps breadth-first */
	size_t nscope;

	unsigned int refcnt;		/* under kdl_lock */
	unsigned int mode;		/* RTLD_* it was first opened with */
	bool relocated, relro_done, global, finalized;
	enum kdl_init_state init_state;	/* under kdl_lock */
	pthread_t init_owner;
	unsigned int init_seq;		/* order constructors completed */

	struct kdl_cache_obj *cache;	/* reloc_cache.c; NULL: not cached */
	struct debug_rec *debug;	/* debug.c: its link_map, if published */
	/* KDL_LOAD_NORELOC: mapped, not relocated (load.c).  The root of
	 * such a load holds what kdl_relocate() must finish or kdl_close()
	 * undo; every object it brought in points to that root. */
	struct kdl_pending *pending;
	struct kdl_obj *unrelocated;	/* the root, until kdl_relocate() */

	/* Validated headers, allocated with the record (load.c); NULL for a
	 * process object, whose record is read at the first kdl_open of the
	 * process and so is kept small. */
	struct kdl_elf *elf;
};

/* state.c: the object list and the lock that guards it.  kdl_lock is
 * recursive so constructors may call kdl_open; it is never held while a
 * constructor or destructor runs. */
extern KDL_HIDDEN pthread_mutex_t kdl_lock;
extern KDL_HIDDEN pthread_cond_t kdl_init_cond;
extern KDL_HIDDEN struct kdl_obj *kdl_objs, *kdl_objs_tail;
extern KDL_HIDDEN struct kdl_ns kdl_default_ns;
KDL_HIDDEN void kdl_obj_link(struct kdl_obj *o);
KDL_HIDDEN void kdl_obj_unlink(struct kdl_obj *o);
KDL_HIDDEN struct kdl_obj *kdl_obj_by_addr(uintptr_t addr);
KDL_HIDDEN bool kdl_obj_valid(const struct kdl_obj *o);

/* Relocation targets must lie in a writable PT_LOAD: the common case,
 * the first writable segment, is checked inline. */
static inline bool kdl_elf_contains_mapped(const struct kdl_obj *o, uint64_t vaddr,
					   uint64_t len)
{
	if (vaddr >= o->wr_lo && vaddr + len <= o->wr_hi && vaddr + len > vaddr)
		return true;
	return kdl_elf_contains(o->elf, vaddr, len, PF_W);
}

/* Steps along DT_VERDEF / DT_VERNEED chains, whose links the intake
 * checked (dynamic.c); NULL at the end of a chain. */
static inline const Elf64_Verdef *verdef_next(const Elf64_Verdef *vd)
{
	return vd->vd_next ? (const void *)((const char *)vd + vd->vd_next) : NULL;
}

static inline const Elf64_Verdaux *verdef_aux(const Elf64_Verdef *vd)
{
	return (const void *)((const char *)vd + vd->vd_aux);
}

static inline const Elf64_Verneed *verneed_next(const Elf64_Verneed *vn)
{
	return vn->vn_next ? (const void *)((const char *)vn + vn->vn_next) : NULL;
}

static inline const Elf64_Vernaux *verneed_aux(const Elf64_Verneed *vn)
{
	return (const void *)((const char *)vn + vn->vn_aux);
}

static inline const Elf64_Vernaux *vernaux_next(const Elf64_Vernaux *a)
{
	return a->vna_next ? (const void *)((const char *)a + a->vna_next) : NULL;
}

/* dynamic.c */
KDL_HIDDEN int kdl_dyn_read(struct kdl_obj *o, const struct kdl_elf *e);
KDL_HIDDEN int kdl_dyn_lookup_tables(struct kdl_dyninfo *d, const Elf64_Dyn *dyn,
				     size_t ndyn, uintptr_t bias, bool relocated,
				     const struct kdl_elf *e, const char *name,
				     size_t known_nsyms);

KDL_HIDDEN void kdl_dyninfo_free(struct kdl_dyninfo *d);

/* symbol.c */
struct kdl_symref {
	const char *name;
	uint32_t gnu_hash;
	uint32_t sysv_hash;	/* computed lazily: 0xffffffff until needed */
	const char *version;	/* NULL: unversioned */
	uint32_t version_hash;
	bool hidden_ok;		/* a reference may bind a hidden version */
};
KDL_HIDDEN uint32_t kdl_gnu_hash(const char *name);
/* False only when @o surely defines no symbol of GNU hash @gnu_hash (its
 * Bloom filter and bucket say so; one or two words read). */
KDL_HIDDEN bool kdl_sym_may_define(const struct kdl_obj *o, uint32_t gnu_hash);
KDL_HIDDEN void kdl_symref_init(struct kdl_symref *r, const char *name,
				const char *version);
KDL_HIDDEN void kdl_symref_init_hashed(struct kdl_symref *r, const char *name,
				       const char *version, uint32_t version_hash);
KDL_HIDDEN const Elf64_Sym *kdl_sym_in(const struct kdl_obj *o,
				       struct kdl_symref *r);
/* Whether looking up the name and version that @o's symbol @idx carries
 * in @o itself finds @idx (false when that cannot be told cheaply). */
KDL_HIDDEN bool kdl_sym_finds_itself(const struct kdl_obj *o, size_t idx);
KDL_HIDDEN uintptr_t kdl_sym_value(const struct kdl_obj *o, const Elf64_Sym *s);

/* process.c: the process's own objects (the runtime group and, in the
 * default namespace, every object glibc loaded). */
KDL_HIDDEN int kdl_process_refresh(void);
KDL_HIDDEN struct kdl_obj *kdl_process_find(const char *soname);
/* The process's object mapped from the file @dev/@ino, or NULL; with
 * @soname, only an object of that soname is asked (the file of each is
 * looked up once). */
KDL_HIDDEN struct kdl_obj *kdl_process_find_file(dev_t dev, ino_t ino, const char *soname);
/* Keep the process's object @o loaded for as long as the process runs
 * (glibc's reference, taken once), as a dlopen of it would. */
KDL_HIDDEN void kdl_process_hold(struct kdl_obj *o);
KDL_HIDDEN bool kdl_is_runtime_group(const char *soname);
KDL_HIDDEN struct kdl_obj *kdl_process_runtime_dep(const char *soname,
						   const char *needed_by);
KDL_HIDDEN struct kdl_obj *const *kdl_process_objs(size_t *n);

/* lookup.c: symbol resolution in a scope. */
struct kdl_def {
	const struct kdl_obj *obj;
	const Elf64_Sym *sym;
};
KDL_HIDDEN int kdl_lookup(const struct kdl_obj *requester, struct kdl_symref *r,
			  struct kdl_obj *const *local, size_t nlocal,
			  struct kdl_def *out);
KDL_HIDDEN const struct kdl_obj *kdl_lookup_first(const struct kdl_obj *requester,
						 struct kdl_obj *const *local,
						 size_t nlocal);

/* reloc.c */
struct kdl_tls_index;
KDL_HIDDEN struct kdl_tls_index *kdl_obj_tlsdesc_arg(struct kdl_obj *o, size_t modid,
						     size_t offset);
KDL_HIDDEN int kdl_reloc_obj(struct kdl_obj *o, struct kdl_obj *const *local,
			    size_t nlocal);
KDL_HIDDEN int kdl_protect_relro(struct kdl_obj *o);

/* search.c */
struct kdl_head;	/* source.h */
/* @head (may be NULL): filled with the first bytes of what a directory
 * search opened; len 0 for an explicit path, opened as is. */
KDL_HIDDEN int kdl_search(const char *name, const struct kdl_obj *loader,
			  struct kdl_ns *ns, char **path, struct kdl_head *head);
KDL_HIDDEN char *kdl_expand_dst(const char *s, const char *origin);
KDL_HIDDEN const char *kdl_ldcache_find(const char *soname);
/* The same lookup in a cache image in memory (the fuzz target's entry). */
KDL_HIDDEN const char *kdl_ldcache_lookup(const char *cache_img, size_t img_len,
					  const char *soname);

/* load.c: what kdl_open, kdl_fdopen and kdl_memopen ask for. */
struct kdl_request {
	const char *name;	/* path, soname, "zip!/entry", or display name */
	int fd;			/* kdl_fdopen: the fd, else -1 */
	uint64_t offset;
	const void *buf;	/* kdl_memopen: the image */
	size_t len;
	const struct kdl_obj *loader;	/* whose RPATH/RUNPATH/$ORIGIN apply */
};
KDL_HIDDEN struct kdl_obj *kdl_load_tree(const struct kdl_request *req, int mode,
					 const struct kdl_load_args *args);
KDL_HIDDEN int kdl_unload(struct kdl_obj *o);
/* Whether @o may serve a call (@what, for the error): not while its
 * KDL_LOAD_NORELOC load waits for kdl_relocate(). */
KDL_HIDDEN bool kdl_obj_relocated(const struct kdl_obj *o, const char *what);
/* kdl_relocate(3): the rest of a KDL_LOAD_NORELOC load of @root. */
KDL_HIDDEN int kdl_load_finish(struct kdl_obj *root);
KDL_HIDDEN struct kdl_obj *kdl_obj_alloc(void);
KDL_HIDDEN void kdl_obj_destroy(struct kdl_obj *o);

/* eh_frame.c */
KDL_HIDDEN void kdl_eh_register(struct kdl_obj *o);
KDL_HIDDEN void kdl_eh_deregister(struct kdl_obj *o);

/* dlfcn_shim.c: the kdl answer to a dlfcn call kdl-loaded code makes,
 * or NULL when @name is not one. */
KDL_HIDDEN void *kdl_dlfcn_shim(const char *name);

/* init.c */
KDL_HIDDEN void kdl_run_inits(struct kdl_obj *root);
KDL_HIDDEN void kdl_run_fini(struct kdl_obj *o);
KDL_HIDDEN void kdl_capture_args(int argc, char **argv, char **envp);

#endif

/* debug.c - debugger visibility: kdl's objects published as one link-map
 * namespace, an r_debug_extended chained after glibc's, announced through
 * glibc's r_brk (and, where ld.so has rtld probes, through them). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "carrier.h"
#include "debug.h"
#include "obj.h"
#include "tls.h"

/*
 * glibc 2.36's struct link_map is 1192 bytes (sizeof in the DWARF of
 * Debian's libc6-dbg for ld.so).  libthread_db reads l_tls_modid (offset
 * 1152) and l_tls_offset (1144) of a record gdb hands it, so a record of
 * ours carries the public head and then zeros up to that size: modid 0
 * means "no TLS" to libthread_db instead of a read past the record.
 */
#define GLIBC_LINK_MAP_SIZE 1192

#define GLIBC_L_TLS_MODID 1152

struct debug_rec {
	struct link_map lm;		/* l_addr, l_name, l_ld, l_next, l_prev */
	char glibc_private[GLIBC_L_TLS_MODID - sizeof(struct link_map)];
	size_t tls_modid;		/* glibc's l_tls_modid */
	char glibc_rest[GLIBC_LINK_MAP_SIZE - GLIBC_L_TLS_MODID - sizeof(size_t)];
	/* Ours, past what any reader of glibc's records looks at. */
	struct kdl_obj *obj;
	int fd;				/* debugger's copy of an offset image, or -1 */
};

_Static_assert(offsetof(struct debug_rec, obj) == GLIBC_LINK_MAP_SIZE,
	       "records must be as long as glibc's struct link_map");
_Static_assert(offsetof(struct debug_rec, tls_modid) == GLIBC_L_TLS_MODID,
	       "l_tls_modid where libthread_db reads it");

enum { DEBUG_UNSET, DEBUG_OFF, DEBUG_ON };

/* All below under kdl_lock. */
static int debug_state;
static bool force_probes, force_copy;
static struct r_debug_extended *glibc_rd;
static struct r_debug_extended kdl_rd;
static struct debug_rec *recs_tail;
static int notify_fd = -2;		/* the carrier without TLS, made once */

static int find_dt_debug(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	for (size_t i = 0; i < info->dlpi_phnum; i++) {
		const Elf64_Dyn *d;

		if (info->dlpi_phdr[i].p_type != PT_DYNAMIC)
			continue;
		for (d = (const void *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
		     d->d_tag != DT_NULL; d++)
			if (d->d_tag == DT_DEBUG)
				*(uintptr_t *)data = d->d_un.d_ptr;
	}
	return 1;	/* the main program comes first; it is the only one asked */
}

/* glibc 2.35 made _r_debug an r_debug_extended; before, r_next is not ours
 * to write. */
static bool glibc_has_r_next(void)
{
	const char *v = gnu_get_libc_version();
	unsigned int n[2] = { 0, 0 };

	/* By hand, not sscanf or strtoul: their code and locale tables are
	 * pages a fresh process would fault in for two numbers. */
	for (int i = 0; i < 2; i++, v++) {
		if (*v < '0' || *v > '9')
			return false;
		for (; *v >= '0' && *v <= '9' && n[i] < 1000; v++)
			n[i] = n[i] * 10 + (unsigned int)(*v - '0');
		if (!i && *v != '.')
			return false;
	}
	return n[0] > 2 || (n[0] == 2 && n[1] >= 35);
}

/*
 * Does ld.so carry rtld stap probes?  Then gdb uses them, never r_brk, and
 * reloads every namespace only on init_complete and unmap_complete, where
 * it keeps a breakpoint while the process runs.  The notes sit in a
 * non-allocated section: read the file, once.  A note's descriptor is
 * the probe's address, the link-time address of .stapsdt.base and the
 * semaphore's, then "provider\0name\0arguments\0".
 */
static uintptr_t probe_pc[2];	/* init_complete, unmap_complete; 0: none */

static void note_rtld_probes(const char *buf, size_t len, uintptr_t bias, uint64_t base_addr)
{
	static const char *const wanted[2] = { "init_complete", "unmap_complete" };

	for (size_t off = 0; off + sizeof(Elf64_Nhdr) <= len;) {
		const Elf64_Nhdr *n = (const void *)(buf + off);
		size_t name = off + sizeof(*n), desc = name + ((n->n_namesz + 3) & ~3u);
		size_t next = desc + ((n->n_descsz + 3) & ~3u);
		uint64_t a[3];

		if (next > len || next <= off)
			return;
		if (n->n_type == 3 && n->n_namesz == 8 && !memcmp(buf + name, "stapsdt", 8) &&
		    n->n_descsz > 24 + 5 && !memcmp(buf + desc + 24, "rtld", 5)) {
			const char *pn = buf + desc + 24 + 5;
			size_t room = n->n_descsz - 24 - 5;

			memcpy(a, buf + desc, sizeof(a));
			for (int i = 0; i < 2; i++)
				if (strnlen(pn, room) < room && !strcmp(pn, wanted[i]))
					probe_pc[i] = bias + a[0] + (base_addr - a[1]);
		}
		off = next;
	}
}

static void read_rtld_probes(const char *path, uintptr_t bias)
{
	Elf64_Ehdr eh;
	Elf64_Shdr *sh = NULL;
	char *names = NULL, *notes = NULL;
	uint64_t base_addr = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (kdl_pread_all(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_shentsize != sizeof(*sh) || !eh.e_shnum || eh.e_shnum > 256 ||
	    eh.e_shstrndx >= eh.e_shnum)
		goto out;
	sh = calloc(eh.e_shnum, sizeof(*sh));
	if (!sh || kdl_pread_all(fd, sh, eh.e_shnum * sizeof(*sh), eh.e_shoff))
		goto out;
	if (sh[eh.e_shstrndx].sh_size > 65536 || !(names = calloc(1, sh[eh.e_shstrndx].sh_size + 1)) ||
	    kdl_pread_all(fd, names, sh[eh.e_shstrndx].sh_size, sh[eh.e_shstrndx].sh_offset))
		goto out;
	for (unsigned int i = 0; i < eh.e_shnum; i++)
		if (sh[i].sh_name < sh[eh.e_shstrndx].sh_size &&
		    !strcmp(names + sh[i].sh_name, ".stapsdt.base"))
			base_addr = sh[i].sh_addr;
	for (unsigned int i = 0; i < eh.e_shnum; i++) {
		if (sh[i].sh_type != SHT_NOTE || sh[i].sh_name >= sh[eh.e_shstrndx].sh_size ||
		    strcmp(names + sh[i].sh_name, ".note.stapsdt") || sh[i].sh_size > 1 << 20)
			continue;
		free(notes);
		notes = malloc(sh[i].sh_size);
		if (notes && !kdl_pread_all(fd, notes, sh[i].sh_size, sh[i].sh_offset))
			note_rtld_probes(notes, sh[i].sh_size, bias, base_addr);
	}
out:
	free(notes);
	free(names);
	free(sh);
	close(fd);
}

static int find_ldso(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	if (info->dlpi_addr != getauxval(AT_BASE) || !info->dlpi_name[0])
		return 0;
	read_rtld_probes(info->dlpi_name, info->dlpi_addr);
	return 1;
}

/*
 * Whether a debugger waits on ld.so's probes: the breakpoint it keeps on
 * one while the process runs (strace, a tracer without breakpoints, does
 * not count).  ld.so's notes are read at the first change, about 10 us
 * here; TracerPid, which this replaces, cost about 60 us at the first
 * change and 20 us at each later one, and said nothing of breakpoints.
 */
static bool debugger_on_probes(void)
{
	static bool read;

	if (!read) {
		read = true;
		dl_iterate_phdr(find_ldso, NULL);
	}
	for (int i = 0; i < 2; i++)
		if (probe_pc[i] && *(const volatile unsigned char *)probe_pc[i] == 0xcc)
			return true;
	return false;
}

/* KDL_DEBUG: unset or 1 publish; 0 does not; a ','-separated list may add
 * "probes" (load and unload the notification object on every change even
 * without a debugger or ld.so probes) and "copy" (give an image inside a
 * larger file a copy gdb can open even when no debugger is attached). */
static void debug_setup(void)
{
	const char *env = getenv("KDL_DEBUG");
	uintptr_t rd = 0;

	debug_state = DEBUG_OFF;
	if (env && !strcmp(env, "0"))
		return;
	force_probes = env && strstr(env, "probes");
	force_copy = env && strstr(env, "copy");
	if (!glibc_has_r_next())
		return;
	dl_iterate_phdr(find_dt_debug, &rd);
	if (!rd || ((struct r_debug *)rd)->r_version < 1 || !((struct r_debug *)rd)->r_brk)
		return;
	glibc_rd = (struct r_debug_extended *)rd;
	debug_state = DEBUG_ON;
}

/* Chained at the first publication, never unchained: glibc appends the
 * namespaces dlmopen creates after the last one, which may then be ours.
 * gdb follows r_next only while every r_version on the way is >= 2. */
static void chain_in(void)
{
	struct r_debug_extended *p = glibc_rd;

	kdl_rd.base.r_version = 2;
	kdl_rd.base.r_map = NULL;
	kdl_rd.base.r_brk = glibc_rd->base.r_brk;
	kdl_rd.base.r_ldbase = glibc_rd->base.r_ldbase;
	kdl_rd.base.r_state = RT_CONSISTENT;
	kdl_rd.r_next = NULL;
	while (p->r_next) {
		if (p == &kdl_rd)
			return;
		p = p->r_next;
	}
	__atomic_store_n(&p->r_next, &kdl_rd, __ATOMIC_RELEASE);
	if (glibc_rd->base.r_version < 2)
		__atomic_store_n(&glibc_rd->base.r_version, 2, __ATOMIC_RELEASE);
}

static bool debug_on(void)
{
	if (debug_state == DEBUG_UNSET) {
		debug_setup();
		if (debug_state == DEBUG_ON)
			chain_in();
	}
	return debug_state == DEBUG_ON;
}

/* glibc's r_brk is _dl_debug_state, where a debugger without probes
 * stops to reread every namespace. */
static void announce(int state)
{
	__atomic_store_n(&kdl_rd.base.r_state, state, __ATOMIC_RELEASE);
	((void (*)(void))glibc_rd->base.r_brk)();
}

/* TracerPid in /proc/self/status is not 0 (about 20 us here), parsed by
 * hand: strstr and strtol would be code pages more to fault in. */
static bool traced(void)
{
	static const char key[] = "\nTracerPid:";
	char buf[4096];
	ssize_t n;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	for (ssize_t i = 0; n > 0 && i + (ssize_t)sizeof(key) <= n; i++) {
		if (buf[i] != '\n' || memcmp(buf + i, key, sizeof(key) - 1))
			continue;
		for (i += sizeof(key) - 1; i < n && (buf[i] == ' ' || buf[i] == '\t'); i++)
			;
		return i < n && buf[i] >= '1' && buf[i] <= '9';
	}
	return false;
}

/* A debugger on rtld probes rereads kdl's namespace only when glibc
 * unloads something: load and unload an object of no consequence. */
static void fire_probes(void)
{
	char path[64];
	void *h;
	int fd;

	if (!force_probes && !debugger_on_probes())
		return;
	if (notify_fd == -2) {
		notify_fd = kdl_carrier_memfd(&(struct kdl_carrier_spec){ .name = "kdl:debug-notify" });
		kdl_clear_error();
	}
	fd = notify_fd;
	if (fd < 0)
		return;
	/* Named by pid, not /proc/self: gdb or gdbserver opens l_name in its
	 * own process while the object is listed. */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), fd);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h)
		dlclose(h);
	else
		dlerror();
}

/* The mapping that starts the image, from /proc/self/maps. */
struct first_map {
	uintptr_t start, end;
	uint64_t offset;
	char path[PATH_MAX];
};

static int find_first_map(uintptr_t addr, struct first_map *m)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[PATH_MAX + 128];
	int r = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end, off;
		int pos = 0;

		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s%n", &start, &end, &off, &pos) < 3 ||
		    start != addr)
			continue;
		while (line[pos] == ' ')
			pos++;
		line[strcspn(line, "\n")] = 0;
		m->start = start;
		m->end = end;
		m->offset = off;
		snprintf(m->path, sizeof(m->path), "%s", line + pos);
		r = 0;
		break;
	}
	fclose(f);
	return r;
}

/*
 * The same answer in one readlink when the object's first mapping is its
 * first segment's file pages from file offset 0 (a memory image's memfd,
 * say): /proc/self/map_files names a mapping only by its exact range.
 * Another range (merged with the next segment's mapping) fails, and
 * /proc/self/maps is read instead -- the whole file, some 100 us here.
 */
static int guess_first_map(const struct kdl_obj *o, struct first_map *m)
{
	const struct kdl_elf_load *l = o->elf && o->elf->nload ? &o->elf->load[0] : NULL;
	char link[64];
	ssize_t n;

	if (!l || o->src_base || l->offset >= 4096 || !l->filesz)
		return -1;
	m->start = o->map.start;
	m->end = (o->bias + l->vaddr + l->filesz + 4095) & ~(uintptr_t)4095;
	m->offset = 0;
	snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", (unsigned long)m->start,
		 (unsigned long)m->end);
	n = readlink(link, m->path, sizeof(m->path) - 1);
	if (n <= 0)
		return -1;
	m->path[n] = 0;
	return 0;
}

/* The ELF file's extent: its headers, segments and section headers. */
static uint64_t image_size(int fd, uint64_t base)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	uint64_t end;

	if (kdl_pread_all(fd, &eh, sizeof(eh), base) || memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return 0;
	end = eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize;
	for (unsigned int i = 0; i < eh.e_phnum && i < 4096; i++) {
		if (kdl_pread_all(fd, &ph, sizeof(ph), base + eh.e_phoff + (uint64_t)i * sizeof(ph)))
			return 0;
		if (ph.p_offset + ph.p_filesz > end)
			end = ph.p_offset + ph.p_filesz;
	}
	return end;
}

/* An image inside a larger file (a zip entry, an fd at an offset): gdb
 * opens files, not ranges, so it gets a sealed memfd copy, named by the
 * fd this record keeps open. */
static int copy_for_debugger(struct debug_rec *r, const char *path, uint64_t base)
{
	int from = open(path, O_RDONLY | O_CLOEXEC), to = -1;
	uint64_t size, done = 0;
	char label[64];

	if (from < 0)
		return -1;
	size = image_size(from, base);
	if (!size || size > 1ull << 32)
		goto fail;
	snprintf(label, sizeof(label), "kdl-debug:%.40s", r->obj->soname);
	to = memfd_create(label, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (to < 0)
		goto fail;
	/* sendfile: copy_file_range refuses to cross file systems. */
	while (done < size) {
		off_t in = base + done;
		ssize_t n = sendfile(to, from, &in, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += n;
	}
	if (fcntl(to, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL))
		goto fail;
	close(from);
	r->fd = to;
	return 0;
fail:
	if (to >= 0)
		close(to);
	close(from);
	return -1;
}

/*
 * l_name is a file gdb can open and find the image at offset 0 in:
 *  - a file mapped from its start: its path;
 *  - a memfd copy made by the loader: /proc/<pid>/map_files/<range> of
 *    its first mapping (the loader closed the memfd; opening map_files
 *    needs CAP_SYS_ADMIN in the debugger, which gdb run by root has);
 *  - an image inside a larger file: a copy held by the record,
 *    /proc/<pid>/fd/<n>, made when a debugger is attached (or KDL_DEBUG
 *    has "copy"); otherwise the display name, which gdb lists unread.
 */
static char *rec_name(struct debug_rec *r)
{
	const struct kdl_obj *o = r->obj;
	struct first_map m;
	struct stat st;
	char *name = NULL;
	char *del;

	/* A path the load opened is the file (as glibc's l_name is); any
	 * other is taken only if it still names the file mapped. */
	if (o->zero_copy && !o->src_base && o->path[0] == '/' &&
	    (o->path_opened || (!stat(o->path, &st) && st.st_dev == o->dev && st.st_ino == o->ino)))
		return strdup(o->path);
	if (guess_first_map(o, &m) && find_first_map(o->map.start, &m))
		return strdup(o->name);
	if ((del = strstr(m.path, " (deleted)")))
		*del = 0;
	if (m.offset == 0 && !strncmp(m.path, "/memfd:", 7)) {
		if (asprintf(&name, "/proc/%d/map_files/%lx-%lx", (int)getpid(),
			     (unsigned long)m.start, (unsigned long)m.end) < 0)
			name = NULL;
		return name;
	}
	if (m.offset == 0 && m.path[0] == '/' && !del)
		return strdup(m.path);
	if (m.path[0] == '/' && !del && m.offset >= (o->elf->load[0].offset & ~4095ull) &&
	    (force_copy || traced()) &&
	    !copy_for_debugger(r, m.path, m.offset - (o->elf->load[0].offset & ~4095ull))) {
		if (asprintf(&name, "/proc/%d/fd/%d", (int)getpid(), r->fd) < 0)
			name = NULL;
		return name;
	}
	return strdup(o->name);
}

static void rec_free(struct debug_rec *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->lm.l_name);
	free(r);
}

static struct debug_rec *rec_new(struct kdl_obj *o)
{
	struct debug_rec *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->obj = o;
	r->fd = -1;
	r->lm.l_addr = o->bias;
	r->lm.l_ld = (Elf64_Dyn *)o->dynamic;
	/* A module with a static block lives in its carrier's, which
	 * libthread_db knows by glibc's module id: gdb can print it. */
	if (o->tls_modid)
		r->tls_modid = kdl_tls_glibc_modid(o->tls_modid);
	r->lm.l_name = rec_name(r);
	if (!r->lm.l_name) {
		rec_free(r);
		return NULL;
	}
	return r;
}

static struct debug_rec *rec_of(struct kdl_obj *o)
{
	struct debug_rec *r = o->debug;

	o->debug = NULL;
	return r;
}

/* A record is complete before the store that makes it reachable. */
static void rec_link(struct debug_rec *r)
{
	r->lm.l_prev = recs_tail ? &recs_tail->lm : NULL;
	r->lm.l_next = NULL;
	if (recs_tail)
		__atomic_store_n(&recs_tail->lm.l_next, &r->lm, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&kdl_rd.base.r_map, &r->lm, __ATOMIC_RELEASE);
	recs_tail = r;
}

static void rec_unlink(struct debug_rec *r)
{
	struct debug_rec *prev = (struct debug_rec *)r->lm.l_prev;
	struct debug_rec *next = (struct debug_rec *)r->lm.l_next;

	if (prev)
		prev->lm.l_next = r->lm.l_next;
	else
		kdl_rd.base.r_map = r->lm.l_next;
	if (next)
		next->lm.l_prev = r->lm.l_prev;
	else
		recs_tail = prev;
}

void kdl_debug_publish(struct kdl_obj *const *objs, size_t n)
{
	if (!n || !debug_on())
		return;
	announce(RT_ADD);
	for (size_t i = 0; i < n; i++) {
		struct debug_rec *r = rec_new(objs[i]);

		if (r) {
			rec_link(r);
			objs[i]->debug = r;
		}
	}
	announce(RT_CONSISTENT);
	fire_probes();
}

void kdl_debug_unpublish(struct kdl_obj *const *objs, size_t n)
{
	struct debug_rec **gone = NULL;
	size_t ngone = 0;

	pthread_mutex_lock(&kdl_lock);
	if (!n || debug_state != DEBUG_ON || !(gone = calloc(n, sizeof(*gone))))
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((gone[ngone] = rec_of(objs[i])))
			ngone++;
	if (!ngone)
		goto out;
	announce(RT_DELETE);
	for (size_t i = 0; i < ngone; i++)
		rec_unlink(gone[i]);
	announce(RT_CONSISTENT);
	fire_probes();
out:
	pthread_mutex_unlock(&kdl_lock);
	for (size_t i = 0; i < ngone; i++)
		rec_free(gone[i]);
	free(gone);
}

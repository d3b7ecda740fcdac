// SPDX-License-Identifier: GPL-2.0
/*
 * setup.c - setting the process up: the files, fds and the SRC_ADDR area,
 * the workers' fds and arenas; and closing it all again.
 */
#include <linux/capability.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "stress.h"

/* The run: allocated and filled in by FIXTURE_SETUP(stress). */
struct stress *S;

void drop_rawio(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	/* as an ordinary process: no mappings below mmap_min_addr */
	if (syscall(SYS_capget, &h, d))
		return;
	d[0].effective &= ~(1U << CAP_SYS_RAWIO);
	d[0].permitted &= ~(1U << CAP_SYS_RAWIO);
	d[0].inheritable &= ~(1U << CAP_SYS_RAWIO);
	syscall(SYS_capset, &h, d);
}

static void *map_at(uintptr_t a, size_t len, int prot, int flags, int fd,
		    off_t off)
{
	void *p = mmap((void *)a, len, prot, flags | MAP_FIXED_NOREPLACE, fd, off);

	return p == (void *)a ? p : NULL;
}

static void add_vma(uintptr_t start, size_t len, int file, uint64_t off, int prot)
{
	S->vmas[S->nvmas++] = (struct vma_desc){ start, start + len, file, off,
						 prot };
}

static void add_fd(int fd, int file, int err1, int err2, const char *name)
{
	struct fd_entry *f = &S->fds[S->nfds++];

	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->file = file;
	f->name = name;
	if (err1)
		es_add(&f->err, err1);
	if (err2)
		es_add(&f->err, err2);
}

static void add_source(const char *name, int file, int fd, uintptr_t addr,
		       uint64_t off, uint64_t len)
{
	S->src[S->nsrc++] = (struct source){ name, file, fd, addr, off, len };
}

static int write_file(const char *path, const uint8_t *bytes, size_t len)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);

	if (fd < 0 || pwrite(fd, bytes, len, 0) != (ssize_t)len)
		return -1;
	return fd;
}

static uint8_t *slurp(int fd, uint64_t *len)
{
	struct stat st;
	uint8_t *buf;

	if (fstat(fd, &st))
		return NULL;
	buf = malloc(st.st_size + PG);
	if (!buf || pread(fd, buf, st.st_size, 0) != st.st_size)
		return NULL;
	*len = st.st_size;
	return buf;
}

/* Files, fds, the SRC_ADDR area. Returns NULL or what failed. */
const char *setup_files(void)
{
	struct file_info *f = S->files;
	uint64_t img_len = IMG_PAGES * PG, exe_len;
	uint8_t *img = malloc(img_len);
	static const char *const sysfs[] = {
		"/sys/kernel/mm/transparent_hugepage/enabled",
		"/sys/kernel/uevent_seqnum", "/sys/kernel/profiling" };
	int fd, p[2], sv[2], i, exe_fd, memfd;
	uint8_t *exe;
	ssize_t n;

	fill_pattern(img, 0, img_len);
	snprintf(S->img_path, sizeof(S->img_path), "/tmp/kdl-stress-%d.so",
		 getpid());
	snprintf(S->short_path, sizeof(S->short_path),
		 "/tmp/kdl-stress-short-%d", getpid());
	snprintf(S->shrink_path, sizeof(S->shrink_path),
		 "/tmp/kdl-stress-shrink-%d", getpid());
	fd = write_file(S->img_path, img, img_len);
	if (fd < 0)
		return "image file";
	close(fd);
	S->sfd_img_ro = open(S->img_path, O_RDONLY | O_CLOEXEC);
	memfd = memfd_create("kdl-stress-img", MFD_CLOEXEC);
	if (S->sfd_img_ro < 0 || memfd < 0 ||
	    pwrite(memfd, img, img_len, 0) != (ssize_t)img_len)
		return "memfd";
	n = readlink("/proc/self/exe", S->exe_path, sizeof(S->exe_path) - 1);
	exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	exe = exe_fd >= 0 ? slurp(exe_fd, &exe_len) : NULL;
	if (n <= 0 || !exe)
		return "/proc/self/exe";
	S->exe_path[n] = 0;

	f[F_ANON] = (struct file_info){ "anonymous", NULL, 0, false, -1, 0 };
	f[F_IMG] = (struct file_info){ "image", img, img_len, true,
				       S->sfd_img_ro, 0 };
	f[F_MEMFD] = (struct file_info){ "memfd", img, img_len, true, memfd, 0 };
	f[F_EXE] = (struct file_info){ "exe (9p in the VM)", exe, exe_len, true,
				       exe_fd, 0 };
	fd = write_file(S->short_path, img, SHORT_SIZE);
	if (fd < 0)
		return "short file";
	f[F_SHORT] = (struct file_info){ "short", img, SHORT_SIZE, true, fd, 0 };
	f[F_SHANON] = (struct file_info){ "shared anonymous", img, img_len, true,
					  -1, 0 };
	f[F_DEVZERO] = (struct file_info){ "/dev/zero", NULL, 0, false, -1, 0 };
	f[F_PROC] = (struct file_info){ "/proc/self/status", NULL, 0, true,
					-1, ENODEV };
	f[F_SYSFS] = (struct file_info){ "sysfs attribute", NULL, PG, true, -1,
					 ENODEV };
	f[F_SHRINK] = (struct file_info){ "shrinking file", NULL, ~0UL, true,
					  -1, 0 };

	/* 1. the fds a request can name */
	add_fd(S->sfd_img_ro, F_IMG, 0, 0, "image O_RDONLY");
	add_fd(open(S->img_path, O_RDWR | O_CLOEXEC), F_IMG, 0, 0,
	       "image O_RDWR");
	add_fd(open(S->img_path, O_WRONLY | O_CLOEXEC), F_NONE, EACCES, 0,
	       "image O_WRONLY");
	add_fd(memfd, F_MEMFD, 0, 0, "memfd");
	add_fd(exe_fd, F_EXE, 0, 0, "exe");
	add_fd(f[F_SHORT].fd, F_SHORT, 0, 0, "short file");
	fd = write_file(S->shrink_path, img, 8 * PG);
	f[F_SHRINK].fd = fd;
	add_fd(fd, F_SHRINK, 0, 0, "shrinking file");
	add_fd(open(S->img_path, O_PATH | O_CLOEXEC), F_NONE, EBADF, 0,
	       "image O_PATH");
	add_fd(open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC), F_NONE, EBADF, 0,
	       "directory O_PATH");
	if (pipe2(p, O_CLOEXEC) || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
					      0, sv))
		return "pipe/socket";
	add_fd(p[0], F_NONE, ENODEV, 0, "pipe read end");
	add_fd(p[1], F_NONE, ENODEV, EACCES, "pipe write end");
	add_fd(sv[0], F_NONE, ENODEV, 0, "unix socket");
	add_fd(open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC), F_NONE, ENODEV,
	       0, "directory");
	add_fd(open("/dev/null", O_RDONLY | O_CLOEXEC), F_NONE, ENODEV, 0,
	       "/dev/null");
	add_fd(open("/dev/zero", O_RDONLY | O_CLOEXEC), F_NONE, ENODEV, 0,
	       "/dev/zero");
	add_fd(eventfd(0, EFD_CLOEXEC), F_NONE, ENODEV, 0, "eventfd");
	add_fd(S->dev, F_NONE, ENODEV, 0, "/dev/kdl (shared)");
	if (S->have_uring)
		add_fd(S->child_ring.ring_fd, F_NONE, ENODEV, 0, "io_uring");
	f[F_PROC].fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	add_fd(f[F_PROC].fd, F_PROC, 0, 0, "/proc/self/status");
	for (i = 0; i < 3 && f[F_SYSFS].fd < 0; i++)
		f[F_SYSFS].fd = open(sysfs[i], O_RDONLY | O_CLOEXEC);
	if (f[F_SYSFS].fd >= 0)
		add_fd(f[F_SYSFS].fd, F_SYSFS, 0, 0, "sysfs attribute");
	add_fd(900, F_NONE, EBADF, 0, "closed (900)");
	add_fd(-1, F_NONE, EBADF, 0, "-1");
	add_fd(INT32_MIN, F_NONE, EBADF, 0, "INT_MIN");
	add_fd(INT32_MAX, F_NONE, EBADF, 0, "INT_MAX");
	for (i = 0; i < S->nfds; i++)
		if (S->fds[i].fd == -1 && strcmp(S->fds[i].name, "-1"))
			return S->fds[i].name;

	/* 2. the SRC_ADDR area: files mapped, and what is not one file */
#define AT(pg)	(SRC_AREA + (uintptr_t)(pg) * PG)
	fd = S->sfd_img_ro;
	if (!map_at(AT(0), img_len, PROT_READ, MAP_SHARED, fd, 0) ||
	    !map_at(AT(64), img_len, PROT_READ, MAP_PRIVATE, fd, 0) ||
	    !map_at(AT(128), img_len - 4 * PG, PROT_READ, MAP_SHARED, fd, 4 * PG) ||
	    !map_at(AT(192), img_len, PROT_READ, MAP_SHARED, memfd, 0) ||
	    !map_at(AT(256), img_len, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0) ||
	    !map_at(AT(320), 8 * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ||
	    !map_at(AT(384), 8 * PG, PROT_READ, MAP_PRIVATE,
		    open("/dev/zero", O_RDONLY | O_CLOEXEC), 0) ||
	    !map_at(AT(448), img_len, PROT_NONE, MAP_SHARED, fd, 0) ||
	    !map_at(AT(512), 4 * PG, PROT_READ, MAP_SHARED, fd, 0) ||
	    !map_at(AT(516), 4 * PG, PROT_READ, MAP_SHARED, memfd, 0) ||
	    !map_at(AT(576), 4 * PG, PROT_READ, MAP_SHARED, fd, 0) ||
	    !map_at(AT(580), 4 * PG, PROT_READ, MAP_SHARED, fd, 8 * PG) ||
	    !map_at(AT(640), 4 * PG, PROT_READ, MAP_SHARED, fd, 0) ||
	    !map_at(AT(644), 4 * PG, PROT_READ, MAP_SHARED, fd, 4 * PG) ||
	    !map_at(AT(704), PAGE_UP(exe_len), PROT_READ, MAP_PRIVATE, exe_fd, 0))
		return "the SRC_ADDR area";
	memcpy((void *)AT(256), img, img_len);
	mprotect((void *)AT(256), img_len, PROT_READ);
	memcpy((void *)AT(320), img, 8 * PG);
	mprotect((void *)AT(320), 8 * PG, PROT_READ);
	add_vma(AT(0), img_len, F_IMG, 0, PROT_READ);
	add_vma(AT(64), img_len, F_IMG, 0, PROT_READ);
	add_vma(AT(128), img_len - 4 * PG, F_IMG, 4 * PG, PROT_READ);
	add_vma(AT(192), img_len, F_MEMFD, 0, PROT_READ);
	add_vma(AT(256), img_len, F_SHANON, 0, PROT_READ);
	add_vma(AT(320), 8 * PG, F_ANON, 0, PROT_READ);
	add_vma(AT(384), 8 * PG, F_DEVZERO, 0, PROT_READ);
	add_vma(AT(448), img_len, F_IMG, 0, PROT_NONE);
	add_vma(AT(512), 4 * PG, F_IMG, 0, PROT_READ);
	add_vma(AT(516), 4 * PG, F_MEMFD, 0, PROT_READ);
	add_vma(AT(576), 4 * PG, F_IMG, 0, PROT_READ);
	add_vma(AT(580), 4 * PG, F_IMG, 8 * PG, PROT_READ);
	add_vma(AT(640), 4 * PG, F_IMG, 0, PROT_READ);
	add_vma(AT(644), 4 * PG, F_IMG, 4 * PG, PROT_READ);
	add_vma(AT(704), PAGE_UP(exe_len), F_EXE, 0, PROT_READ);
	S->src_hi = AT(704) + PAGE_UP(exe_len) + PG;

	/* 3. the valid sources of the generator */
	add_source("image fd", F_IMG, S->sfd_img_ro, 0, 0, 0);
	add_source("image fd O_RDWR", F_IMG, S->fds[1].fd, 0, 0, 0);
	add_source("memfd", F_MEMFD, memfd, 0, 0, 0);
	add_source("exe", F_EXE, exe_fd, 0, 0, 0);
	add_source("short file", F_SHORT, f[F_SHORT].fd, 0, 0, 0);
	add_source("image mapped shared", F_IMG, -1, AT(0), 0, img_len);
	add_source("image mapped private", F_IMG, -1, AT(64), 0, img_len);
	add_source("image mapped from 4 pages", F_IMG, -1, AT(128), 4 * PG,
		   img_len - 4 * PG);
	add_source("memfd mapped", F_MEMFD, -1, AT(192), 0, img_len);
	add_source("shared anonymous", F_SHANON, -1, AT(256), 0, img_len);
	add_source("image mapped PROT_NONE", F_IMG, -1, AT(448), 0, img_len);
	add_source("image mapped twice, consecutive", F_IMG, -1, AT(640), 0,
		   8 * PG);
	add_source("exe mapped", F_EXE, -1, AT(704), 0, exe_len);
#undef AT
	return NULL;
}

const char *setup_worker(struct worker *w, int id)
{
	uintptr_t a = ARENA_BASE + (uintptr_t)id * ARENA_STRIDE;

	w->id = id;
	w->lo = PRIV_BASE + (uintptr_t)id * GIB;
	w->hi = w->lo + PRIV_LEN;
	w->arena = a;
	w->iter = 0;
	w->flow = "idle";
	w->maps = malloc(1 << 20);
	w->fd = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	w->ro_memfd = memfd_create("kdl-stress-ro", MFD_CLOEXEC);
	if (!w->maps || w->fd < 0 || w->ro_memfd < 0 ||
	    ftruncate(w->ro_memfd, 2 * PG))
		return "worker fds";
	if (!map_at(a, (A_PRE_NONE + 1) * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ||
	    !map_at(apage(w, A_NONE), PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0) ||
	    !map_at(apage(w, A_RO), 2 * PG, PROT_READ, MAP_SHARED, w->ro_memfd, 0) ||
	    !map_at(apage(w, A_ROW), 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		    w->ro_memfd, 0) ||
	    !map_at(apage(w, A_PRE_HOLE), PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
		return "worker arena";
	return NULL;
}

/* The debug kernel of tools/vm/debug-kernel.sh boots with kasan_multi_shot. */
bool kernel_is_debug(void)
{
	char buf[1024] = "";
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(fd);
	}
	return strstr(buf, "kasan") != NULL;
}

uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

void close_everything(void)
{
	int i, fd;

	for (i = 0; i < NWORKERS; i++)
		if (S->w[i]->fd >= 0)
			close(S->w[i]->fd);
	fd = atomic_exchange(&S->churn_fd, -1);
	if (fd >= 0)
		close(fd);
	if (S->have_uring)
		io_uring_queue_exit(&S->child_ring);
	S->have_uring = false;
	close(S->dev);
}

/* namespaces_window_test.c - a namespace that carries a window and a
 * mirror places every object it ever loads there: the whole dependency
 * tree, and what its objects dlopen later; the pages of a mirrored
 * writable segment are handed out as a file another process can map.
 * Runs on both backends. */
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kdl_test.h"
#include "kselftest_harness.h"

#define WINDOW_LO 0x10000000ull
#define WINDOW_HI 0x100000000ull
#define MIRROR_BASE 0x200000000000ull

static struct kdl_ns *vm_ns(unsigned int flags)
{
	struct kdl_ns_config cfg = {
		.size = sizeof(cfg), .name = "guest", .load_flags = flags,
		.window_lo = WINDOW_LO, .window_hi = WINDOW_HI, .mirror_base = MIRROR_BASE,
	};

	return kdl_ns_create(&cfg);
}

static void *open_in(struct kdl_ns *ns, const char *path)
{
	struct kdl_load_args args = { .size = sizeof(args), .ns = ns };

	return kdl_open(path, RTLD_NOW, &args);
}

/* @h lies in the window, and is mirrored at MIRROR_BASE + its address. */
static int placed(void *h)
{
	uintptr_t range[2], mirror = 0;

	if (kdl_info(h, KDL_INFO_RANGE, range) || kdl_info(h, KDL_INFO_MIRROR, &mirror))
		return 0;
	return range[0] >= WINDOW_LO && range[1] <= WINDOW_HI && mirror == MIRROR_BASE + range[0] &&
	       !memcmp((void *)range[0], (void *)mirror, 4096);
}

TEST(a_namespace_window_places_the_whole_tree_and_later_dlopens_mirrored)
{
	struct kdl_ns *ns = vm_ns(KDL_LOAD_WINDOW | KDL_LOAD_MIRROR);
	struct kdl_info_dep dep = { 0 };
	void *plugin, *dlfcn, *inner, *plain;
	void *(*dl_open)(const char *);
	int (*dl_close)(void *);
	uintptr_t range[2];

	ASSERT_NE(NULL, ns) {
		TH_LOG("%s", kdl_error());
	}
	plugin = open_in(ns, fx_path("ns/a/libfx_plugin_a.so"));
	ASSERT_NE(NULL, plugin) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_TRUE(placed(plugin));
	ASSERT_EQ(0, kdl_info(plugin, KDL_INFO_DEP, &dep));
	EXPECT_TRUE(placed(dep.handle));	/* its dependency too */
	/* A dlopen from inside the namespace, long after: there too. */
	dlfcn = open_in(ns, fx_path("libfx_dlfcn.so"));
	ASSERT_NE(NULL, dlfcn);
	dl_open = (void *(*)(const char *))KDL_SYM_OK(dlfcn, "fx_dl_open");
	dl_close = (int (*)(void *))KDL_SYM_OK(dlfcn, "fx_dl_close");
	inner = dl_open(fx_path("libfx_basic.so"));
	ASSERT_NE(NULL, inner);
	EXPECT_TRUE(placed(inner));
	/* Negative control: the same library outside the namespace is
	 * placed anywhere, unmirrored. */
	plain = KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW);
	ASSERT_EQ(0, kdl_info(plain, KDL_INFO_RANGE, range));
	EXPECT_FALSE(placed(plain));
	EXPECT_LE(WINDOW_HI, range[0]);
	EXPECT_EQ(0, kdl_close(plain));
	EXPECT_EQ(0, dl_close(inner));
	EXPECT_EQ(0, kdl_close(dlfcn));
	EXPECT_EQ(0, kdl_close(plugin));
	EXPECT_EQ(0, kdl_ns_destroy(ns));
}

TEST(a_load_may_narrow_a_namespace_window_but_not_leave_it)
{
	struct kdl_ns *ns = vm_ns(KDL_LOAD_WINDOW);
	struct kdl_load_args args = {
		.size = sizeof(args), .ns = ns, .flags = KDL_LOAD_WINDOW,
		.window_lo = 0x40000000, .window_hi = 0x80000000,
	};
	uintptr_t range[2];
	void *h;

	ASSERT_NE(NULL, ns);
	h = kdl_open(fx_path("libfx_basic.so"), RTLD_NOW, &args);
	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_RANGE, range));
	EXPECT_LE(0x40000000u, range[0]);
	EXPECT_GE(0x80000000u, range[1]);
	EXPECT_EQ(0, kdl_close(h));
	args.window_hi = WINDOW_HI + 0x10000000;
	EXPECT_EQ(NULL, kdl_open(fx_path("libfx_basic.so"), RTLD_NOW, &args));
	EXPECT_NE(NULL, strstr(kdl_error(), "namespace guest"));
	args.flags = KDL_LOAD_FIXED;
	args.fixed_addr = 0x7f0000000000ull;
	EXPECT_EQ(NULL, kdl_open(fx_path("libfx_basic.so"), RTLD_NOW, &args));
	EXPECT_NE(NULL, strstr(kdl_error(), "outside"));
	EXPECT_EQ(0, maps_count_path(fx_path("libfx_basic.so")));
	EXPECT_EQ(0, kdl_ns_destroy(ns));
}

/* The mirrored writable segment's pages as a file: mapped by another
 * process, a write there is seen in both views here, and back. */
TEST(a_mirrored_writable_segment_is_handed_out_as_a_shared_file)
{
	struct kdl_ns *ns = vm_ns(KDL_LOAD_WINDOW | KDL_LOAD_MIRROR);
	struct kdl_info_segment_fd sfd = { 0 };
	volatile int *counter, *mirrored;
	uintptr_t mirror = 0, range[2];
	size_t nload = 0;
	int status, found = 0;
	void *h;
	pid_t pid;

	ASSERT_NE(NULL, ns);
	h = open_in(ns, fx_path("libfx_basic.so"));
	ASSERT_NE(NULL, h);
	counter = KDL_SYM_OK(h, "fx_basic_counter");
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_MIRROR, &mirror));
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_RANGE, range));
	mirrored = (volatile int *)((uintptr_t)counter + mirror - range[0]);
	/* Find the writable segment holding the counter; read-only ones
	 * are refused. */
	for (sfd.index = 0; sfd.index < 16 && !found; sfd.index++) {
		if (kdl_info(h, KDL_INFO_SEGMENT_FD, &sfd)) {
			const char *e = kdl_error();

			if (e && strstr(e, "no such segment"))
				break;
			EXPECT_NE(NULL, strstr(e, "read-only"));
			nload++;
			continue;
		}
		if ((uintptr_t)counter >= sfd.addr && (uintptr_t)counter < sfd.addr + sfd.len)
			found = 1;
		else
			close(sfd.fd);
	}
	ASSERT_TRUE(found) {
		TH_LOG("no segment fd covers the counter");
	}
	EXPECT_LT(0u, nload);	/* the read-only ones were refused */
	*counter = 5;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *p = mmap(NULL, sfd.len, PROT_READ | PROT_WRITE, MAP_SHARED, sfd.fd, sfd.offset);
		volatile int *c;

		if (p == MAP_FAILED)
			_exit(2);
		/* A fresh mapping: the child sees the same pages, not a copy. */
		c = (volatile int *)(p + ((uintptr_t)counter - sfd.addr));
		if (*c != 5)
			_exit(3);
		*c = 123;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(123, *counter);
	EXPECT_EQ(123, *mirrored);
	close(sfd.fd);
	/* Not mirrored: no segment fd. */
	{
		void *plain = KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW);
		struct kdl_info_segment_fd none = { .index = sfd.index - 1 };

		EXPECT_EQ(-1, kdl_info(plain, KDL_INFO_SEGMENT_FD, &none));
		EXPECT_NE(NULL, strstr(kdl_error(), "KDL_LOAD_MIRROR"));
		EXPECT_EQ(0, kdl_close(plain));
	}
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(0, kdl_ns_destroy(ns));
}

TEST_HARNESS_MAIN

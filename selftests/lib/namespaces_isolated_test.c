/* namespaces_isolated_test.c - bionic's namespace model: an isolated
 * namespace loads only from its paths (refusing a path outside them given
 * directly, found by name, by $ORIGIN, by LD_LIBRARY_PATH or through a
 * dependency), a shared one starts with its parent's objects, links share
 * a list of sonames or all of them, RTLD_GLOBAL is global within one
 * namespace, and kdl_ns_iterate_phdr walks one namespace. */
#include <sys/stat.h>
#include <unistd.h>

#include "kdl_test.h"
#include "kselftest_harness.h"

static char tmp_root[64];

/* A fresh directory under one per-test root, with copies of fixtures. */
static const char *tmp_dir(const char *sub)
{
	static char buf[8][4096];
	static int next;
	char *p = buf[next++ % 8];

	if (!tmp_root[0]) {
		snprintf(tmp_root, sizeof(tmp_root), "/tmp/kdl-nsiso.XXXXXX");
		if (!mkdtemp(tmp_root))
			return NULL;
	}
	snprintf(p, 4096, "%s/%s", tmp_root, sub);
	mkdir(p, 0755);
	return p;
}

static int copy_file(const char *from, const char *dir)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/'", from, dir);
	return system(cmd);
}

static void rm_tmp(void)
{
	char cmd[128];

	if (tmp_root[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_root);
		if (system(cmd))
			return;
		tmp_root[0] = '\0';
	}
}

static struct kdl_ns *ns_make(const char *name, unsigned int flags, const char *library_path,
			      const char *permitted, struct kdl_ns *parent)
{
	struct kdl_ns_config cfg = {
		.size = sizeof(cfg), .name = name, .flags = flags, .library_path = library_path,
		.permitted_paths = permitted, .parent = parent,
	};

	return kdl_ns_create(&cfg);
}

static void *open_in(struct kdl_ns *ns, const char *path, int mode)
{
	struct kdl_load_args args = { .size = sizeof(args), .ns = ns };

	return kdl_open(path, mode, &args);
}

static int call_int(void *h, const char *sym)
{
	int (*f)(void) = (int (*)(void))kdl_sym(h, sym);

	return f ? f() : -1;
}

static char last_err[1024];

/* The refusal names the namespace and the path refused. */
#define EXPECT_REFUSED(h, ns_name, path_part) do {				\
	const char *e_ = kdl_error();						\
	EXPECT_EQ(NULL, (h));							\
	ASSERT_NE(NULL, e_);							\
	snprintf(last_err, sizeof(last_err), "%s", e_);				\
	EXPECT_NE(NULL, strstr(e_, "isolated namespace \"" ns_name "\"")) {	\
		TH_LOG("%s", e_);						\
	}									\
	EXPECT_NE(NULL, strstr(e_, (path_part))) {				\
		TH_LOG("%s", e_);						\
	}									\
} while (0)

TEST(an_isolated_namespace_loads_what_lies_inside_its_paths)
{
	char origin_dir[4096];
	struct kdl_ns *ns;
	void *dual, *origin;

	snprintf(origin_dir, sizeof(origin_dir), "%s", fx_path("origin"));
	ns = ns_make("app", KDL_NS_ISOLATED, fx_path("ns/a"), origin_dir, NULL);
	ASSERT_NE(NULL, ns);
	/* By name, from its library_path. */
	dual = open_in(ns, "libfx_dual.so.1", RTLD_NOW);
	ASSERT_NE(NULL, dual) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(1, call_int(dual, "fx_dual_version"));
	/* By path under a permitted tree, its $ORIGIN/sub dependency too. */
	origin = open_in(ns, fx_path("origin/libfx_origin.so"), RTLD_NOW);
	ASSERT_NE(NULL, origin) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(0, kdl_close(origin));
	EXPECT_EQ(0, kdl_close(dual));
	EXPECT_EQ(0, kdl_ns_destroy(ns));
}

TEST(an_isolated_namespace_refuses_a_path_outside_given_directly_or_by_name)
{
	struct kdl_ns *ns = ns_make("app", KDL_NS_ISOLATED, fx_path("ns/a"), NULL, NULL);
	struct kdl_ns *open_ns = ns_make("open", 0, fx_path("ns/a"), NULL, NULL);
	void *h;

	ASSERT_NE(NULL, ns);
	ASSERT_NE(NULL, open_ns);
	h = open_in(ns, fx_path("libfx_basic.so"), RTLD_NOW);
	EXPECT_REFUSED(h, "app", "/libfx_basic.so");
	/* By name: ld.so.cache finds libz, outside. */
	h = open_in(ns, "libz.so.1", RTLD_NOW);
	EXPECT_REFUSED(h, "app", "/libz.so.1");
	EXPECT_EQ(0, maps_count_path(fx_path("libfx_basic.so")));
	/* Negative control: the same loads in a namespace that is not. */
	h = open_in(open_ns, fx_path("libfx_basic.so"), RTLD_NOW);
	ASSERT_NE(NULL, h);
	EXPECT_EQ(0, kdl_close(h));
	h = open_in(open_ns, "libz.so.1", RTLD_NOW);
	ASSERT_NE(NULL, h);
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(0, kdl_ns_destroy(ns));
	EXPECT_EQ(0, kdl_ns_destroy(open_ns));
}

/* library_path permits its directories, not their subdirectories (as
 * bionic's search paths): an $ORIGIN/sub dependency lies outside. */
TEST(an_isolated_namespace_refuses_a_dependency_found_by_origin)
{
	const char *in = tmp_dir("in"), *sub = tmp_dir("in/sub");
	char root[4200];
	struct kdl_ns *ns, *open_ns;
	void *h;

	ASSERT_NE(NULL, in);
	ASSERT_EQ(0, copy_file(fx_path("origin/libfx_origin.so"), in));
	ASSERT_EQ(0, copy_file(fx_path("origin/sub/libfx_origin_dep.so"), sub));
	snprintf(root, sizeof(root), "%s/libfx_origin.so", in);
	ns = ns_make("plugins", KDL_NS_ISOLATED, in, NULL, NULL);
	open_ns = ns_make("open", 0, NULL, NULL, NULL);
	ASSERT_NE(NULL, ns);
	h = open_in(ns, root, RTLD_NOW);
	EXPECT_REFUSED(h, "plugins", "/in/sub/libfx_origin_dep.so");
	EXPECT_NE(NULL, strstr(last_err, "libfx_origin_dep.so needed by ")) {
		TH_LOG("%s", last_err);
	}
	EXPECT_EQ(0, maps_count_path(root));
	h = open_in(open_ns, root, RTLD_NOW);
	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(0, kdl_ns_destroy(ns));
	EXPECT_EQ(0, kdl_ns_destroy(open_ns));
	rm_tmp();
}

/* LD_LIBRARY_PATH is searched, but what it finds outside is refused:
 * the root by name, and a permitted root's dependency. */
TEST(an_isolated_namespace_refuses_what_ld_library_path_finds_outside)
{
	const char *alone = tmp_dir("alone");
	char root[4200], *old = getenv("LD_LIBRARY_PATH");
	struct kdl_ns *ns, *open_ns;
	void *h;

	ASSERT_NE(NULL, alone);
	ASSERT_EQ(0, copy_file(fx_path("ns/b/libfx_plugin_b.so"), alone));
	snprintf(root, sizeof(root), "%s/libfx_plugin_b.so", alone);
	old = old ? strdup(old) : NULL;
	setenv("LD_LIBRARY_PATH", fx_path("ns/b"), 1);
	ns = ns_make("sandbox", KDL_NS_ISOLATED, NULL, alone, NULL);
	open_ns = ns_make("open", 0, NULL, NULL, NULL);
	ASSERT_NE(NULL, ns);
	h = open_in(ns, "libfx_dual.so.1", RTLD_NOW);
	EXPECT_REFUSED(h, "sandbox", "/ns/b/libfx_dual.so.1");
	/* The copy of plugin_b is inside; its libfx_dual.so.1 is not. */
	h = open_in(ns, root, RTLD_NOW);
	EXPECT_REFUSED(h, "sandbox", "/ns/b/libfx_dual.so.1");
	EXPECT_EQ(0, maps_count_path(root));
	h = open_in(open_ns, root, RTLD_NOW);
	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(2, call_int(h, "fx_plugin_dual"));
	EXPECT_EQ(0, kdl_close(h));
	if (old)
		setenv("LD_LIBRARY_PATH", old, 1);
	else
		unsetenv("LD_LIBRARY_PATH");
	free(old);
	EXPECT_EQ(0, kdl_ns_destroy(ns));
	EXPECT_EQ(0, kdl_ns_destroy(open_ns));
	rm_tmp();
}

/* The opened file's canonical path is judged: a link inside leads out. */
TEST(an_isolated_namespace_refuses_a_symbolic_link_leading_out)
{
	const char *in = tmp_dir("links");
	char link_path[4200];
	struct kdl_ns *ns;
	void *h;

	ASSERT_NE(NULL, in);
	snprintf(link_path, sizeof(link_path), "%s/libfx_basic.so", in);
	ASSERT_EQ(0, symlink(fx_path("libfx_basic.so"), link_path));
	ns = ns_make("linked", KDL_NS_ISOLATED, NULL, in, NULL);
	ASSERT_NE(NULL, ns);
	h = open_in(ns, link_path, RTLD_NOW);
	EXPECT_REFUSED(h, "linked", fx_path("libfx_basic.so"));
	EXPECT_EQ(0, kdl_ns_destroy(ns));
	rm_tmp();
}

TEST(a_shared_namespace_starts_with_its_parents_objects)
{
	struct kdl_ns *parent = ns_make("parent", 0, fx_path("ns/a"), NULL, NULL), *child;
	struct kdl_ns *plain;
	struct kdl_info_dep dep = { 0 };
	void *pa, *ca, *cdual, *later, *clater, *pdual;

	ASSERT_NE(NULL, parent);
	pa = open_in(parent, fx_path("ns/a/libfx_plugin_a.so"), RTLD_NOW);
	ASSERT_NE(NULL, pa);
	ASSERT_EQ(0, kdl_info(pa, KDL_INFO_DEP, &dep));
	pdual = dep.handle;
	child = ns_make("child", KDL_NS_SHARED, NULL, NULL, parent);
	plain = ns_make("plain", 0, NULL, NULL, NULL);
	ASSERT_NE(NULL, child) {
		TH_LOG("%s", kdl_error());
	}
	/* The same objects, by path and by soname. */
	ca = open_in(child, fx_path("ns/a/libfx_plugin_a.so"), RTLD_NOW);
	EXPECT_EQ(pa, ca);
	cdual = open_in(child, "libfx_dual.so.1", RTLD_NOW);
	EXPECT_EQ(pdual, cdual);
	/* Negative control: a namespace that is not shared loads its own. */
	later = open_in(plain, fx_path("ns/a/libfx_plugin_a.so"), RTLD_NOW);
	ASSERT_NE(NULL, later);
	EXPECT_NE(pa, later);
	EXPECT_EQ(0, kdl_close(later));
	/* What the parent loads afterwards is not the child's. */
	later = open_in(parent, fx_path("libfx_basic.so"), RTLD_NOW);
	clater = open_in(child, fx_path("libfx_basic.so"), RTLD_NOW);
	ASSERT_NE(NULL, later);
	ASSERT_NE(NULL, clater);
	EXPECT_NE(later, clater);
	/* The child holds what it inherited past the parent's close. */
	EXPECT_EQ(0, kdl_close(ca));
	EXPECT_EQ(0, kdl_close(cdual));
	EXPECT_EQ(0, kdl_close(pa));
	EXPECT_EQ(0, kdl_close(later));
	EXPECT_LT(0, maps_count_path(fx_path("ns/a/libfx_plugin_a.so")));
	EXPECT_EQ(-1, kdl_ns_destroy(child));
	EXPECT_EQ(0, kdl_close(clater));
	EXPECT_EQ(0, kdl_ns_destroy(child));
	EXPECT_EQ(0, maps_count_path(fx_path("ns/a/libfx_plugin_a.so")));
	EXPECT_EQ(0, kdl_ns_destroy(parent));
	EXPECT_EQ(0, kdl_ns_destroy(plain));
}

/* A child of the default namespace sees every process object, as the
 * default namespace does; a plain namespace only the runtime group. */
TEST(a_shared_child_of_the_default_namespace_sees_the_process)
{
	void *glibc_z = DL_OPEN_OK("libz.so.1");
	struct kdl_ns *child = ns_make("child", KDL_NS_SHARED, NULL, NULL, NULL);
	struct kdl_ns *plain = ns_make("plain", 0, NULL, NULL, NULL);
	void *zc, *zp;
	int sys = -1;

	ASSERT_NE(NULL, child);
	zc = open_in(child, "/lib/x86_64-linux-gnu/libz.so.1", RTLD_NOW);
	zp = open_in(plain, "/lib/x86_64-linux-gnu/libz.so.1", RTLD_NOW);
	ASSERT_NE(NULL, zc);
	ASSERT_NE(NULL, zp);
	ASSERT_EQ(0, kdl_info(zc, KDL_INFO_SYSTEM, &sys));
	EXPECT_EQ(1, sys);
	ASSERT_EQ(0, kdl_info(zp, KDL_INFO_SYSTEM, &sys));
	EXPECT_EQ(0, sys);
	EXPECT_EQ(0, kdl_close(zc));
	EXPECT_EQ(0, kdl_close(zp));
	EXPECT_EQ(0, kdl_ns_destroy(child));
	EXPECT_EQ(0, kdl_ns_destroy(plain));
	dlclose(glibc_z);
}

/* A link sharing all sonames is where a namespace looks for what it
 * cannot find itself. */
TEST(a_link_sharing_all_sonames_serves_what_the_namespace_lacks)
{
	const char *alone = tmp_dir("alone_all");
	struct kdl_ns *base = ns_make("base", 0, fx_path("ns/a"), NULL, NULL);
	struct kdl_ns *user = ns_make("user", 0, NULL, NULL, NULL);
	struct kdl_ns *unlinked = ns_make("unlinked", 0, NULL, NULL, NULL);
	struct kdl_info_dep dep = { 0 };
	struct kdl_ns *got = NULL;
	char root[4200];
	void *h;

	ASSERT_NE(NULL, alone);
	ASSERT_EQ(0, copy_file(fx_path("ns/b/libfx_plugin_b.so"), alone));
	snprintf(root, sizeof(root), "%s/libfx_plugin_b.so", alone);
	/* Negative control: alone, plugin_b's libfx_dual.so.1 is nowhere. */
	EXPECT_EQ(NULL, open_in(unlinked, root, RTLD_NOW));
	EXPECT_NE(NULL, strstr(kdl_error(), "libfx_dual.so.1"));
	ASSERT_EQ(0, kdl_ns_link_all(user, base));
	h = open_in(user, root, RTLD_NOW);
	ASSERT_NE(NULL, h) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(1, call_int(h, "fx_plugin_dual"));	/* base's version */
	ASSERT_EQ(0, kdl_info(h, KDL_INFO_DEP, &dep));
	ASSERT_EQ(0, kdl_info(dep.handle, KDL_INFO_NS, &got));
	EXPECT_EQ(base, got);
	/* By name too. */
	EXPECT_EQ(dep.handle, open_in(user, "libfx_dual.so.1", RTLD_NOW));
	EXPECT_EQ(0, kdl_close(dep.handle));
	EXPECT_EQ(0, kdl_close(h));
	EXPECT_EQ(-1, kdl_ns_destroy(base));	/* user links to it */
	EXPECT_EQ(0, kdl_ns_destroy(user));
	EXPECT_EQ(0, kdl_ns_destroy(base));
	EXPECT_EQ(0, kdl_ns_destroy(unlinked));
	rm_tmp();
}

/* Several such links are tried in the order they were made, for a root
 * by name as for a dependency; when none has it, the namespace's own
 * failure is told. */
TEST(links_sharing_all_sonames_are_tried_in_order)
{
	struct kdl_ns *empty = ns_make("empty", 0, NULL, NULL, NULL);
	struct kdl_ns *base = ns_make("base", 0, fx_path("ns/a"), NULL, NULL);
	struct kdl_ns *user = ns_make("user", 0, NULL, NULL, NULL);
	struct kdl_ns *got = NULL;
	void *dual;

	ASSERT_EQ(0, kdl_ns_link_all(user, empty));
	ASSERT_EQ(0, kdl_ns_link_all(user, base));
	dual = open_in(user, "libfx_dual.so.1", RTLD_NOW);
	ASSERT_NE(NULL, dual) {
		TH_LOG("%s", kdl_error());
	}
	ASSERT_EQ(0, kdl_info(dual, KDL_INFO_NS, &got));
	EXPECT_EQ(base, got);
	EXPECT_EQ(NULL, open_in(user, "libfx_nowhere.so.7", RTLD_NOW));
	EXPECT_NE(NULL, strstr(kdl_error(), "libfx_nowhere.so.7: cannot find"));
	EXPECT_EQ(0, kdl_close(dual));
	EXPECT_EQ(0, kdl_ns_destroy(user));
	EXPECT_EQ(0, kdl_ns_destroy(base));
	EXPECT_EQ(0, kdl_ns_destroy(empty));
}

/* A link by list: the listed soname comes from the other namespace even
 * when the namespace would find its own copy; others do not. */
TEST(a_link_by_list_shares_only_the_listed_sonames)
{
	struct kdl_ns *base = ns_make("base", 0, fx_path("ns/a"), NULL, NULL);
	struct kdl_ns *user = ns_make("user", 0, fx_path("ns/b"), NULL, NULL);
	struct kdl_ns *got = NULL;
	void *dual, *plugin;

	ASSERT_EQ(0, kdl_ns_link(user, base, "libfx_dual.so.1"));
	dual = open_in(user, "libfx_dual.so.1", RTLD_NOW);
	ASSERT_NE(NULL, dual) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(1, call_int(dual, "fx_dual_version"));
	ASSERT_EQ(0, kdl_info(dual, KDL_INFO_NS, &got));
	EXPECT_EQ(base, got);
	/* Not listed: plugin_b is the user's own. */
	plugin = open_in(user, "libfx_plugin_b.so", RTLD_NOW);
	ASSERT_NE(NULL, plugin);
	ASSERT_EQ(0, kdl_info(plugin, KDL_INFO_NS, &got));
	EXPECT_EQ(user, got);
	EXPECT_EQ(1, call_int(plugin, "fx_plugin_dual"));
	EXPECT_EQ(0, kdl_close(plugin));
	EXPECT_EQ(0, kdl_close(dual));
	EXPECT_EQ(0, kdl_ns_destroy(user));
	EXPECT_EQ(0, kdl_ns_destroy(base));
}

/* RTLD_GLOBAL in a namespace serves later loads there, and only there. */
TEST(rtld_global_is_global_within_its_namespace)
{
	struct kdl_ns *a = ns_make("a", 0, NULL, NULL, NULL), *b = ns_make("b", 0, NULL, NULL, NULL);
	struct kdl_ns *c = ns_make("c", 0, NULL, NULL, NULL);
	void *prov, *user, *local_prov;

	prov = open_in(a, fx_path("libfx_undef_provider.so"), RTLD_NOW | RTLD_GLOBAL);
	ASSERT_NE(NULL, prov);
	user = open_in(a, fx_path("libfx_undef.so"), RTLD_NOW);
	ASSERT_NE(NULL, user) {
		TH_LOG("%s", kdl_error());
	}
	EXPECT_EQ(42, call_int(user, "fx_undef_call"));
	/* Not in another namespace, nor in the default one. */
	EXPECT_EQ(NULL, open_in(b, fx_path("libfx_undef.so"), RTLD_NOW));
	EXPECT_NE(NULL, strstr(kdl_error(), "fx_undef_missing"));
	EXPECT_EQ(NULL, kdl_open(fx_path("libfx_undef.so"), RTLD_NOW, NULL));
	EXPECT_NE(NULL, strstr(kdl_error(), "fx_undef_missing"));
	/* Negative control: the provider opened RTLD_LOCAL does not serve. */
	local_prov = open_in(c, fx_path("libfx_undef_provider.so"), RTLD_NOW);
	ASSERT_NE(NULL, local_prov);
	EXPECT_EQ(NULL, open_in(c, fx_path("libfx_undef.so"), RTLD_NOW));
	EXPECT_EQ(0, kdl_close(local_prov));
	EXPECT_EQ(0, kdl_close(user));
	EXPECT_EQ(0, kdl_close(prov));
	EXPECT_EQ(0, kdl_ns_destroy(a));
	EXPECT_EQ(0, kdl_ns_destroy(b));
	EXPECT_EQ(0, kdl_ns_destroy(c));
}

struct seen {
	int count;
	int a, b;
};

static int count_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct seen *s = data;

	(void)size;
	s->count++;
	s->a += strstr(info->dlpi_name, "/ns/a/") != NULL;
	s->b += strstr(info->dlpi_name, "/ns/b/") != NULL;
	return 0;
}

TEST(kdl_ns_iterate_phdr_walks_one_namespace)
{
	struct kdl_ns *n1 = ns_make("one", 0, NULL, NULL, NULL), *n2 = ns_make("two", 0, NULL, NULL, NULL);
	struct kdl_ns *child;
	struct seen s1 = { 0 }, s2 = { 0 }, sd = { 0 }, sc = { 0 }, all = { 0 };
	void *a = open_in(n1, fx_path("ns/a/libfx_plugin_a.so"), RTLD_NOW);
	void *b = open_in(n2, fx_path("ns/b/libfx_plugin_b.so"), RTLD_NOW);

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	child = ns_make("child", KDL_NS_SHARED, NULL, NULL, n1);
	ASSERT_NE(NULL, child);
	EXPECT_EQ(0, kdl_ns_iterate_phdr(n1, count_cb, &s1));
	EXPECT_EQ(0, kdl_ns_iterate_phdr(n2, count_cb, &s2));
	EXPECT_EQ(0, kdl_ns_iterate_phdr(NULL, count_cb, &sd));
	EXPECT_EQ(0, kdl_ns_iterate_phdr(child, count_cb, &sc));
	EXPECT_EQ(0, kdl_iterate_phdr(count_cb, &all));
	EXPECT_EQ(2, s1.count);
	EXPECT_EQ(2, s1.a);
	EXPECT_EQ(0, s1.b);
	EXPECT_EQ(2, s2.count);
	EXPECT_EQ(2, s2.b);
	EXPECT_EQ(0, sd.a + sd.b);
	EXPECT_EQ(2, sc.a);
	EXPECT_EQ(4, all.a + all.b);
	EXPECT_EQ(0, kdl_ns_destroy(child));
	EXPECT_EQ(0, kdl_close(a));
	EXPECT_EQ(0, kdl_close(b));
	EXPECT_EQ(0, kdl_ns_destroy(n1));
	EXPECT_EQ(0, kdl_ns_destroy(n2));
}

TEST(bad_namespace_configs_are_refused)
{
	struct kdl_ns_config cfg = { .size = sizeof(cfg) };
	struct kdl_ns *p = ns_make("p", 0, NULL, NULL, NULL);

	ASSERT_NE(NULL, p);
	cfg.parent = p;	/* a parent without KDL_NS_SHARED */
	EXPECT_EQ(NULL, kdl_ns_create(&cfg));
	EXPECT_NE(NULL, strstr(kdl_error(), "KDL_NS_SHARED"));
	cfg.parent = NULL;
	cfg.load_flags = KDL_LOAD_FIXED;
	EXPECT_EQ(NULL, kdl_ns_create(&cfg));
	EXPECT_NE(NULL, kdl_error());
	cfg.load_flags = KDL_LOAD_WINDOW;
	cfg.window_lo = cfg.window_hi = 0x10000000;
	EXPECT_EQ(NULL, kdl_ns_create(&cfg));
	EXPECT_NE(NULL, strstr(kdl_error(), "empty"));
	cfg.load_flags = KDL_LOAD_MIRROR;
	cfg.mirror_base = 12;
	EXPECT_EQ(NULL, kdl_ns_create(&cfg));
	EXPECT_NE(NULL, strstr(kdl_error(), "mirror"));
	EXPECT_EQ(-1, kdl_ns_link_all(p, p));
	EXPECT_EQ(-1, kdl_ns_link_all(NULL, p));
	EXPECT_EQ(0, kdl_ns_destroy(p));
}

TEST_HARNESS_MAIN

/*
 * tls_static_test.c - initial-exec TLS in objects kdl loads, served from
 * glibc's static TLS: threads that existed before the load and threads
 * made after it see the relocated init image at one offset from their
 * thread pointer; another object reaches the variable through
 * initial-exec, general-dynamic and TLSDESC code alike and gets the same
 * address; close and reopen give the space back; exhaustion is an error
 * naming the object, the bytes and the tunable.
 */
#include <pthread.h>

#include "kdl_leaks.h"
#include "kdl_test.h"
#include "kselftest_harness.h"

struct ie_api {
	int (*get)(void);
	void (*set)(int);
	void *(*addr)(void);
	int (*ptr_ok)(void);
};

static void ie_bind(struct __test_metadata *_metadata, void *h, struct ie_api *a)
{
	a->get = KDL_SYM_OK(h, "fx_ie_get");
	a->set = KDL_SYM_OK(h, "fx_ie_set");
	a->addr = KDL_SYM_OK(h, "fx_ie_addr");
	a->ptr_ok = KDL_SYM_OK(h, "fx_ie_ptr_ok");
}

/* What one thread sees of the owner. */
struct ie_view {
	struct ie_api api;
	void *h;
	pthread_barrier_t *loaded;	/* an early thread waits here */
	int value, ptr_ok;
	void *addr, *sym, *block;
	int info_rc;
};

static void ie_look(struct ie_view *v)
{
	v->value = v->api.get();
	v->ptr_ok = v->api.ptr_ok();
	v->addr = v->api.addr();
	v->sym = kdl_sym(v->h, "fx_ie_counter");
	v->info_rc = kdl_info(v->h, KDL_INFO_TLS_BLOCK, &v->block);
	v->api.set(v->value + 100);
}

static void *early_thread(void *arg)
{
	struct ie_view *v = arg;

	pthread_barrier_wait(v->loaded);	/* started before the load */
	ie_look(v);
	return NULL;
}

static void *late_thread(void *arg)
{
	ie_look(arg);
	return NULL;
}

static void expect_fresh_view(struct __test_metadata *_metadata, const struct ie_view *v,
			      const void *main_addr)
{
	EXPECT_EQ(5, v->value);
	EXPECT_EQ(1, v->ptr_ok);
	EXPECT_NE(main_addr, v->addr);
	EXPECT_EQ(v->addr, v->sym);
	ASSERT_EQ(0, v->info_rc);
	/* The block holds the variable. */
	EXPECT_LE((uintptr_t)v->block, (uintptr_t)v->addr);
	EXPECT_GT((uintptr_t)v->block + 64, (uintptr_t)v->addr);
}

TEST(initial_exec_tls_in_threads_from_before_and_after_the_load)
{
	pthread_barrier_t loaded;
	struct ie_view early = { .loaded = &loaded }, late = { 0 };
	struct ie_api a;
	pthread_t te, tl;
	void *h;

	ASSERT_EQ(0, pthread_barrier_init(&loaded, NULL, 2));
	ASSERT_EQ(0, pthread_create(&te, NULL, early_thread, &early));
	h = KDL_OPEN_OK(fx_path("libfx_tls_ie_owner.so"), RTLD_NOW);
	ie_bind(_metadata, h, &a);
	EXPECT_EQ(5, a.get());
	EXPECT_EQ(1, a.ptr_ok());	/* .tdata taken after its RELATIVE */
	a.set(9);
	early.api = late.api = a;
	early.h = late.h = h;
	pthread_barrier_wait(&loaded);
	ASSERT_EQ(0, pthread_join(te, NULL));
	ASSERT_EQ(0, pthread_create(&tl, NULL, late_thread, &late));
	ASSERT_EQ(0, pthread_join(tl, NULL));
	expect_fresh_view(_metadata, &early, a.addr());
	expect_fresh_view(_metadata, &late, a.addr());
	/* The offset from the thread pointer is one for all threads. */
	EXPECT_EQ((char *)early.addr - (char *)early.block,
		  (char *)late.addr - (char *)late.block);
	EXPECT_EQ(9, a.get());
	EXPECT_EQ(a.addr(), kdl_sym(h, "fx_ie_counter"));
	pthread_barrier_destroy(&loaded);
	EXPECT_EQ(0, kdl_close(h));
}

struct user_probe {
	void *(*owner_addr)(void);
	void *(*user_addr[3])(void);
	void *owner, *user[3];
};

static void *probe_users(void *arg)
{
	struct user_probe *p = arg;

	p->owner = p->owner_addr();
	for (int i = 0; i < 3; i++)
		p->user[i] = p->user_addr[i]();
	return NULL;
}

/* Initial-exec, general-dynamic and TLSDESC code in other objects reach
 * the owner's variable at the owner's address, in every thread. */
TEST(other_objects_reach_the_variable_through_every_model)
{
	static const char *const users[3] = { "libfx_tls_ie_user.so", "libfx_tls_ie_user_gd.so",
					      "libfx_tls_ie_user_desc.so" };
	struct user_probe mine = { 0 }, other;
	void *h[3], *owner;
	int (*bump)(void);
	pthread_t t;

	for (int i = 0; i < 3; i++) {
		h[i] = KDL_OPEN_OK(fx_path(users[i]), RTLD_NOW);
		mine.user_addr[i] = KDL_SYM_OK(h[i], "fx_ie_user_addr");
	}
	owner = KDL_OPEN_OK(fx_path("libfx_tls_ie_owner.so"), RTLD_NOW | RTLD_NOLOAD);
	mine.owner_addr = KDL_SYM_OK(owner, "fx_ie_addr");
	other = mine;
	probe_users(&mine);
	ASSERT_EQ(0, pthread_create(&t, NULL, probe_users, &other));
	ASSERT_EQ(0, pthread_join(t, NULL));
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(mine.owner, mine.user[i]);
		EXPECT_EQ(other.owner, other.user[i]);
	}
	EXPECT_NE(mine.owner, other.owner);
	bump = KDL_SYM_OK(h[0], "fx_ie_user_bump");
	EXPECT_EQ(6, bump());
	EXPECT_EQ(6, ((int (*)(void))KDL_SYM_OK(owner, "fx_ie_get"))());
	EXPECT_EQ(0, kdl_close(owner));
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(0, kdl_close(h[i]));
}

/* Two objects with initial-exec TLS loaded at once get a block each. */
TEST(two_initial_exec_objects_get_separate_blocks)
{
	void *h1 = KDL_OPEN_OK(fx_path("libfx_tls_ie_owner.so"), RTLD_NOW);
	void *h2 = KDL_OPEN_OK(fx_path("libfx_tls_ie.so"), RTLD_NOW);
	struct ie_api a;
	void (*set2)(int) = KDL_SYM_OK(h2, "fx_tls_set");
	int (*get2)(void) = KDL_SYM_OK(h2, "fx_tls_get");
	void *b1 = NULL, *b2 = NULL;

	ie_bind(_metadata, h1, &a);
	a.set(9);
	set2(40);
	EXPECT_EQ(9, a.get());
	EXPECT_EQ(40, get2());
	EXPECT_EQ(1, a.ptr_ok());
	ASSERT_EQ(0, kdl_info(h1, KDL_INFO_TLS_BLOCK, &b1));
	ASSERT_EQ(0, kdl_info(h2, KDL_INFO_TLS_BLOCK, &b2));
	EXPECT_NE(b1, b2);
	EXPECT_NE(a.addr(), ((void *(*)(void))KDL_SYM_OK(h2, "fx_tls_addr"))());
	EXPECT_EQ(0, kdl_close(h2));
	EXPECT_EQ(0, kdl_close(h1));
}

/* Each reopen starts from the init image, and closing gives the static
 * space back: 200 loads take far more than glibc's surplus. */
TEST(close_and_reopen_reuse_the_static_space)
{
	for (int i = 0; i < 200; i++) {
		void *h = KDL_OPEN_OK(fx_path("libfx_tls_ie_owner.so"), RTLD_NOW);
		struct ie_api a;

		ie_bind(_metadata, h, &a);
		ASSERT_EQ(5, a.get());
		a.set(i);
		ASSERT_EQ(1, a.ptr_ok());
		ASSERT_EQ(0, kdl_close(h));
	}
}

TEST(exhausted_surplus_names_the_object_the_bytes_and_the_tunable)
{
	const char *path = fx_path("libfx_tls_ie_big.so");
	const char *e;
	void *g;
	int fds;

	/* A first load opens the backend (/dev/kdl) for good. */
	EXPECT_EQ(0, kdl_close(KDL_OPEN_OK(fx_path("libfx_basic.so"), RTLD_NOW)));
	fds = leak_fd_count();

	EXPECT_EQ(NULL, kdl_open(path, RTLD_NOW, NULL));
	e = kdl_error();
	ASSERT_NE(NULL, e);
	TH_LOG("%s", e);
	EXPECT_NE(NULL, strstr(e, "libfx_tls_ie_big.so"));
	EXPECT_NE(NULL, strstr(e, "initial-exec"));
	EXPECT_NE(NULL, strstr(e, "bytes of static TLS"));
	EXPECT_NE(NULL, strstr(e, "glibc.rtld.optional_static_tls"));
	EXPECT_EQ(0, maps_count_path(path));
	EXPECT_EQ(0, maps_count_path("/memfd:kdl:tls"));
	EXPECT_EQ(fds, leak_fd_count());
	/* glibc refuses it for the same reason. */
	g = dlopen(path, RTLD_NOW);
	EXPECT_EQ(NULL, g);
	if (g)
		dlclose(g);
	/* The failure left the surplus as it was. */
	EXPECT_NE(NULL, kdl_open(fx_path("libfx_tls_ie_owner.so"), RTLD_NOW, NULL));
}

TEST_HARNESS_MAIN

/* fixtures_cxx_test.c - C++ exceptions unwind through an object kdl
 * loaded: its .eh_frame is registered with the process's unwinder. */
#include <signal.h>

#include "kdl_test.h"
#include "kselftest_harness.h"

TEST(exception_thrown_and_caught_inside_the_object)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_cxx.so"), RTLD_NOW);
	int (*catch_it)(int) = KDL_SYM_OK(h, "fx_cxx_catch");

	EXPECT_EQ(42, catch_it(0));
	EXPECT_EQ(42, catch_it(7));
	EXPECT_EQ(0, kdl_close(h));
}

TEST(unwinding_works_again_after_a_reload)
{
	for (int i = 0; i < 3; i++) {
		void *h = KDL_OPEN_OK(fx_path("libfx_cxx.so"), RTLD_NOW);
		int (*catch_it)(int) = KDL_SYM_OK(h, "fx_cxx_catch");

		EXPECT_EQ(42, catch_it(i + 1));
		EXPECT_EQ(0, kdl_close(h));
	}
}

/* An exception nobody catches ends in std::terminate, i.e. SIGABRT with
 * libstdc++'s message -- not a crash in the unwinder. */
static void throw_out(int fd, void *arg)
{
	void (*thrower)(void) = arg;

	(void)fd;
	thrower();
}

TEST(uncaught_exception_reaches_terminate)
{
	void *h = KDL_OPEN_OK(fx_path("libfx_cxx.so"), RTLD_NOW);
	void (*thrower)(void) = KDL_SYM_OK(h, "fx_cxx_throw");
	char out[64];
	int status = run_in_child(throw_out, (void *)thrower, out, sizeof(out));

	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGABRT, WTERMSIG(status));
	EXPECT_EQ(0, kdl_close(h));
}

TEST_HARNESS_MAIN

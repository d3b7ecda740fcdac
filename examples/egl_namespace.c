/* egl_namespace.c - the system GL stack (glvnd's libEGL, Mesa, llvmpipe,
 * LLVM) in a kdl namespace of its own: a GLES2 triangle rendered offscreen
 * on EGL's surfaceless platform, shown as text, and compared with the same
 * render through glibc's dlopen.  No link-time GL dependency. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kdl.h"
#include "gles_render.h"

static void *kdl_lookup(void *h, const char *name)
{
	return kdl_sym(h, name);
}

static void *dl_lookup(void *h, const char *name)
{
	return dlsym(h, name);
}

/* r, g or b for the strongest channel, upper case when bright. */
static void show(const struct gr_frame *f)
{
	for (int y = GR_H - 4; y >= 0; y -= 4) {
		for (int x = 0; x < GR_W; x += 2) {
			const unsigned char *p = f->px + 4 * (y * GR_W + x);
			int c = p[0] >= p[1] && p[0] >= p[2] ? 0 : p[1] >= p[2] ? 1 : 2;

			if (p[0] == GR_CLEAR_R && p[1] == GR_CLEAR_G && p[2] == GR_CLEAR_B)
				putchar('.');
			else
				putchar((p[c] > 160 ? "RGB" : "rgb")[c]);
		}
		putchar('\n');
	}
}

/* glibc's copy renders in a child, so this process holds kdl's stack only. */
static int render_glibc(struct gr_frame *f)
{
	int pfd[2], status;
	size_t got = 0;
	pid_t pid;

	if (pipe(pfd) || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		void *g = dlopen("libEGL.so.1", RTLD_NOW | RTLD_LOCAL);

		if (!g || gles_render(g, dl_lookup, f))
			_exit(1);
		_exit(write(pfd[1], f, sizeof(*f)) == sizeof(*f) ? 0 : 1);
	}
	close(pfd[1]);
	for (ssize_t r; got < sizeof(*f) &&
	     (r = read(pfd[0], (char *)f + got, sizeof(*f) - got)) > 0;)
		got += r;
	close(pfd[0]);
	waitpid(pid, &status, 0);
	return got == sizeof(*f) && WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

int main(void)
{
	static struct gr_frame k, g;
	struct kdl_ns_config cfg = { .size = sizeof(cfg), .name = "gl" };
	struct kdl_load_args args = { .size = sizeof(args) };
	void *egl;

	args.ns = kdl_ns_create(&cfg);
	egl = args.ns ? kdl_open("libEGL.so.1", RTLD_NOW, &args) : NULL;
	if (!egl) {
		fprintf(stderr, "egl_namespace: %s\n", kdl_error());
		return 1;
	}
	if (gles_render(egl, kdl_lookup, &k)) {
		fprintf(stderr, "egl_namespace: %s\n", k.err);
		return 1;
	}
	printf("namespace \"gl\": libEGL.so.1 from kdl, GL_RENDERER \"%s\", %dx%d in %.0f ms\n",
	       k.renderer, GR_W, GR_H, k.ms);
	show(&k);
	if (render_glibc(&g)) {
		fprintf(stderr, "egl_namespace: the render through glibc's dlopen failed\n");
		return 1;
	}
	printf("same pixels as through glibc's dlopen: %s\n",
	       memcmp(k.px, g.px, sizeof(k.px)) ? "no" : "yes");
	return memcmp(k.px, g.px, sizeof(k.px)) ? 1 : 0;
}

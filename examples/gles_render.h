/*
 * gles_render.h - an offscreen GLES2 render through whichever loader
 * opened libEGL.so.1, shared by examples/egl_namespace.c and
 * selftests/lib/real_egl_test.c.  EGL's entry points come from the loader
 * (kdl_sym or dlsym on the libEGL handle), GL's from eglGetProcAddress:
 * nothing is linked against GL.  Surfaceless platform, llvmpipe, a
 * context without surfaces drawing a shaded triangle into a renderbuffer
 * of an FBO, read back with glReadPixels.
 */
#ifndef GLES_RENDER_H
#define GLES_RENDER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES2/gl2.h>
#include <GLES2/gl2ext.h>

#define GR_W 64
#define GR_H 64

/* The clear colour: what every pixel outside the triangle must hold. */
#define GR_CLEAR_R 25
#define GR_CLEAR_G 51
#define GR_CLEAR_B 76

#define GR_EGL(X) X(eglGetProcAddress) X(eglQueryString) X(eglGetError) \
	X(eglInitialize) X(eglTerminate) X(eglBindAPI) X(eglChooseConfig) \
	X(eglCreateContext) X(eglDestroyContext) X(eglMakeCurrent) \
	X(eglReleaseThread)

#define GR_GL(X) X(glGetString) X(glGetError) X(glGenFramebuffers) \
	X(glBindFramebuffer) X(glGenRenderbuffers) X(glBindRenderbuffer) \
	X(glRenderbufferStorage) X(glFramebufferRenderbuffer) \
	X(glCheckFramebufferStatus) X(glViewport) X(glClearColor) X(glClear) \
	X(glCreateShader) X(glShaderSource) X(glCompileShader) \
	X(glGetShaderiv) X(glGetShaderInfoLog) X(glCreateProgram) \
	X(glAttachShader) X(glBindAttribLocation) X(glLinkProgram) \
	X(glGetProgramiv) X(glUseProgram) X(glVertexAttribPointer) \
	X(glEnableVertexAttribArray) X(glDrawArrays) X(glFinish) \
	X(glReadPixels) X(glDeleteProgram) X(glDeleteShader) \
	X(glDeleteRenderbuffers) X(glDeleteFramebuffers)

#define GR_FIELD(n) __typeof__(&n) n;

struct gr_api {
	GR_EGL(GR_FIELD)
	GR_GL(GR_FIELD)
	PFNEGLGETPLATFORMDISPLAYEXTPROC eglGetPlatformDisplayEXT;
};

struct gr_frame {
	char err[256];		/* empty when the render succeeded */
	char renderer[128];	/* GL_RENDERER */
	double ms;		/* from eglGetPlatformDisplayEXT to the read-back */
	unsigned char px[GR_W * GR_H * 4];	/* RGBA, bottom row first */
};

typedef void *(*gr_lookup_fn)(void *h, const char *name);

static const char gr_vs[] =
	"attribute vec2 pos;\n"
	"attribute vec3 col;\n"
	"varying vec3 v_col;\n"
	"void main() { v_col = col; gl_Position = vec4(pos, 0.0, 1.0); }\n";

/* Interpolated vertex colours with a stripe every 8 rows. */
static const char gr_fs[] =
	"precision mediump float;\n"
	"varying vec3 v_col;\n"
	"void main() {\n"
	"  float s = 0.75 + 0.25 * step(0.5, fract(gl_FragCoord.y / 8.0));\n"
	"  gl_FragColor = vec4(v_col * s, 1.0);\n"
	"}\n";

static int gr_fail(struct gr_frame *f, const char *what, unsigned int code)
{
	snprintf(f->err, sizeof(f->err), "%s failed (error 0x%x)", what, code);
	return -1;
}

static int gr_bind(struct gr_api *a, void *h, gr_lookup_fn lookup, struct gr_frame *f)
{
#define GR_BIND_EGL(n)							\
	if (!(a->n = (__typeof__(&n))lookup(h, #n)))			\
		return snprintf(f->err, sizeof(f->err), "no %s", #n), -1;
#define GR_BIND_GL(n)							\
	if (!(a->n = (__typeof__(&n))a->eglGetProcAddress(#n)))		\
		return snprintf(f->err, sizeof(f->err), "no %s", #n), -1;
	GR_EGL(GR_BIND_EGL)
	GR_GL(GR_BIND_GL)
	a->eglGetPlatformDisplayEXT = (PFNEGLGETPLATFORMDISPLAYEXTPROC)
		a->eglGetProcAddress("eglGetPlatformDisplayEXT");
	if (!a->eglGetPlatformDisplayEXT)
		return snprintf(f->err, sizeof(f->err), "no eglGetPlatformDisplayEXT"), -1;
	return 0;
#undef GR_BIND_EGL
#undef GR_BIND_GL
}

static GLuint gr_shader(const struct gr_api *a, GLenum type, const char *src,
			struct gr_frame *f)
{
	GLuint s = a->glCreateShader(type);
	GLint ok = 0;

	a->glShaderSource(s, 1, &src, NULL);
	a->glCompileShader(s);
	a->glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
	if (!ok) {
		char log[160] = "";

		a->glGetShaderInfoLog(s, sizeof(log), NULL, log);
		snprintf(f->err, sizeof(f->err), "shader compile: %s", log);
		a->glDeleteShader(s);
		return 0;
	}
	return s;
}

static int gr_draw(const struct gr_api *a, struct gr_frame *f)
{
	static const GLfloat pos[] = { -0.8f, -0.8f, 0.8f, -0.8f, 0.0f, 0.8f };
	static const GLfloat col[] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
	GLuint fbo, rb, vs, fs, prog;
	GLint linked = 0;
	int ret = -1;

	a->glGenFramebuffers(1, &fbo);
	a->glBindFramebuffer(GL_FRAMEBUFFER, fbo);
	a->glGenRenderbuffers(1, &rb);
	a->glBindRenderbuffer(GL_RENDERBUFFER, rb);
	a->glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8_OES, GR_W, GR_H);
	a->glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0,
				     GL_RENDERBUFFER, rb);
	if (a->glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE) {
		gr_fail(f, "glCheckFramebufferStatus", a->glGetError());
		goto out_fbo;
	}
	vs = gr_shader(a, GL_VERTEX_SHADER, gr_vs, f);
	fs = vs ? gr_shader(a, GL_FRAGMENT_SHADER, gr_fs, f) : 0;
	if (!fs)
		goto out_shaders;
	prog = a->glCreateProgram();
	a->glAttachShader(prog, vs);
	a->glAttachShader(prog, fs);
	a->glBindAttribLocation(prog, 0, "pos");
	a->glBindAttribLocation(prog, 1, "col");
	a->glLinkProgram(prog);
	a->glGetProgramiv(prog, GL_LINK_STATUS, &linked);
	if (!linked) {
		gr_fail(f, "glLinkProgram", a->glGetError());
		goto out_prog;
	}
	a->glViewport(0, 0, GR_W, GR_H);
	a->glClearColor(GR_CLEAR_R / 255.0f, GR_CLEAR_G / 255.0f, GR_CLEAR_B / 255.0f, 1);
	a->glClear(GL_COLOR_BUFFER_BIT);
	a->glUseProgram(prog);
	a->glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, pos);
	a->glVertexAttribPointer(1, 3, GL_FLOAT, GL_FALSE, 0, col);
	a->glEnableVertexAttribArray(0);
	a->glEnableVertexAttribArray(1);
	a->glDrawArrays(GL_TRIANGLES, 0, 3);
	a->glFinish();
	a->glReadPixels(0, 0, GR_W, GR_H, GL_RGBA, GL_UNSIGNED_BYTE, f->px);
	if (a->glGetError() != GL_NO_ERROR)
		gr_fail(f, "rendering", a->glGetError());
	else
		ret = 0;
	a->glUseProgram(0);
out_prog:
	a->glDeleteProgram(prog);
out_shaders:
	if (fs)
		a->glDeleteShader(fs);
	if (vs)
		a->glDeleteShader(vs);
out_fbo:
	a->glBindFramebuffer(GL_FRAMEBUFFER, 0);
	a->glDeleteRenderbuffers(1, &rb);
	a->glDeleteFramebuffers(1, &fbo);
	return ret;
}

static int gr_has_ext(const char *list, const char *ext)
{
	size_t n = strlen(ext);

	for (const char *p = list; p && (p = strstr(p, ext)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return 1;
	return 0;
}

/*
 * Renders one frame with the libEGL behind h; 0 on success, else -1 with
 * f->err saying which step failed.  Forces Mesa's software rasterizer.
 */
static int gles_render(void *h, gr_lookup_fn lookup, struct gr_frame *f)
{
	static const EGLint cfg_attr[] = {
		EGL_RENDERABLE_TYPE, EGL_OPENGL_ES2_BIT, EGL_SURFACE_TYPE, EGL_PBUFFER_BIT,
		EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_NONE,
	};
	static const EGLint ctx_attr[] = { EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE };
	struct gr_api a;
	struct timespec t0, t1;
	EGLDisplay dpy;
	EGLConfig cfg;
	EGLContext ctx;
	EGLint n = 0;
	int ret = -1;

	memset(f, 0, sizeof(*f));
	setenv("LIBGL_ALWAYS_SOFTWARE", "1", 1);
	setenv("GALLIUM_DRIVER", "llvmpipe", 1);
	setenv("MESA_SHADER_CACHE_DISABLE", "true", 1);
	if (gr_bind(&a, h, lookup, f))
		return -1;
	if (!gr_has_ext(a.eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS),
			"EGL_MESA_platform_surfaceless")) {
		snprintf(f->err, sizeof(f->err), "no EGL_MESA_platform_surfaceless");
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	dpy = a.eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA,
					 EGL_DEFAULT_DISPLAY, NULL);
	if (dpy == EGL_NO_DISPLAY)
		return gr_fail(f, "eglGetPlatformDisplayEXT", a.eglGetError());
	if (!a.eglInitialize(dpy, NULL, NULL))
		return gr_fail(f, "eglInitialize", a.eglGetError());
	if (!a.eglBindAPI(EGL_OPENGL_ES_API) ||
	    !a.eglChooseConfig(dpy, cfg_attr, &cfg, 1, &n) || n != 1) {
		gr_fail(f, "eglChooseConfig", a.eglGetError());
		goto out_terminate;
	}
	ctx = a.eglCreateContext(dpy, cfg, EGL_NO_CONTEXT, ctx_attr);
	if (ctx == EGL_NO_CONTEXT) {
		gr_fail(f, "eglCreateContext", a.eglGetError());
		goto out_terminate;
	}
	if (!a.eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx)) {
		gr_fail(f, "eglMakeCurrent", a.eglGetError());
		goto out_context;
	}
	snprintf(f->renderer, sizeof(f->renderer), "%s",
		 (const char *)a.glGetString(GL_RENDERER));
	ret = gr_draw(&a, f);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	f->ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	a.eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
out_context:
	a.eglDestroyContext(dpy, ctx);
out_terminate:
	a.eglTerminate(dpy);
	a.eglReleaseThread();
	return ret;
}

#endif /* GLES_RENDER_H */

/* cmd_info.c - "kdl info [NS-OPTIONS] [LIB]": the module's state and
 * libkdl's backend choice; with LIB, how it and its tree were loaded,
 * namespace by namespace. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kdl.h>

#include "kdl.h"
#include "cli.h"

static const char *const feature_names[] = {
	"map", "mirror", "src-addr", "batch", "uring-cmd", "data-fd", "segment-fd",
};

static void print_module(void)
{
	struct kdl_query q = { .size = sizeof(q) };
	int fd = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("module:      absent (%s: %s)\n", KDL_DEVICE_PATH, strerror(errno));
		return;
	}
	if (ioctl(fd, KDL_IOC_QUERY, &q) < 0) {
		printf("module:      present, query failed: %s\n", strerror(errno));
		close(fd);
		return;
	}
	close(fd);
	printf("module:      present (%s)\n", KDL_DEVICE_PATH);
	printf("abi:         %u (libkdl speaks %u)\n", q.abi_version, KDL_ABI_VERSION);
	printf("features:   ");
	if (!q.features)
		printf(" none");
	for (unsigned i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
		if (q.features & (1ULL << i))
			printf(" %s", feature_names[i]);
	printf("\nlimits:      %u segments per image, %u images per batch\n",
	       q.max_segments, q.max_batch);
}

struct ns_walk {
	const char *ns;
	int n;
};

static int print_phdr(struct dl_phdr_info *info, size_t size, void *data)
{
	struct ns_walk *w = data;

	(void)size;
	printf("  %-10s 0x%012lx %s\n", w->ns, (unsigned long)info->dlpi_addr, info->dlpi_name);
	w->n++;
	return 0;
}

/* Every object of the namespaces @h's tree lives in (each once). */
static void print_namespaces(void *h, struct kdl_seen *nss)
{
	struct kdl_ns *ns = NULL;
	size_t n = 0;
	int sys = 0;

	kdl_info(h, KDL_INFO_SYSTEM, &sys);
	if (sys)
		return;
	kdl_info(h, KDL_INFO_NS, &ns);
	if (!kdl_seen(nss, ns ? (void *)ns : (void *)nss)) {
		struct ns_walk w = { .ns = ns_name_of(h) };

		kdl_ns_iterate_phdr(ns, print_phdr, &w);
	}
	kdl_info(h, KDL_INFO_NDEPS, &n);
	for (size_t i = 0; i < n; i++) {
		struct kdl_info_dep d = { .index = i };

		if (!kdl_info(h, KDL_INFO_DEP, &d))
			print_namespaces(d.handle, nss);
	}
}

static int print_lib(const char *lib, struct ns_opts *o)
{
	static struct kdl_seen nss;
	void *h;
	int backend = 0, cached = 0, zc = 0;
	uintptr_t range[2] = { 0, 0 }, mirror = 0;

	if (ns_opts_make(o))
		return 1;
	h = kdl_open(lib, RTLD_NOW, &(struct kdl_load_args){
		.size = sizeof(struct kdl_load_args), .ns = o->ns });
	if (!h) {
		fprintf(stderr, "kdl info: %s\n", kdl_error());
		return 1;
	}
	kdl_info(h, KDL_INFO_BACKEND, &backend);
	kdl_info(h, KDL_INFO_RANGE, range);
	kdl_info(h, KDL_INFO_MIRROR, &mirror);
	kdl_info(h, KDL_INFO_CACHED, &cached);
	kdl_info(h, KDL_INFO_ZERO_COPY, &zc);
	printf("object:      %s\n", lib);
	printf("namespace:   %s\n", ns_name_of(h));
	printf("mapped:      0x%lx-0x%lx by the %s backend%s%s\n", (unsigned long)range[0],
	       (unsigned long)range[1], backend == KDL_BACKEND_KERNEL ? "kernel" : "user",
	       zc ? ", zero-copy" : "", cached ? ", relocated pages from the cache" : "");
	if (mirror)
		printf("mirror:      0x%lx\n", (unsigned long)mirror);
	printf("namespaces:\n");
	print_namespaces(h, &nss);
	kdl_close(h);
	return 0;
}

int cmd_info(int argc, char **argv)
{
	struct ns_opts o;
	int backend, i = ns_opts_parse(argc, argv, &o);

	if (i < 0 || i < argc - 1 || (o.wanted && i == argc)) {
		fprintf(stderr, "usage: kdl info [[NS-OPTIONS] LIB]  (NS-OPTIONS as for kdl ldd)\n");
		return 2;
	}
	print_module();
	if (kdl_info(NULL, KDL_INFO_BACKEND, &backend) < 0) {
		printf("backend:     none\n");
		fprintf(stderr, "kdl: %s\n", kdl_error());
		return 1;
	}
	printf("backend:     %s\n", backend == KDL_BACKEND_KERNEL ? "kernel" : "user");
	return i < argc ? print_lib(argv[i], &o) : 0;
}

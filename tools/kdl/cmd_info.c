/* cmd_info.c - "kdl info": the module's state and libkdl's backend choice. */
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
	"map", "mirror", "src-addr", "batch", "uring-cmd", "data-fd",
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

int cmd_info(int argc, char **argv)
{
	int backend;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: kdl info\n");
		return 2;
	}
	print_module();
	if (kdl_info(NULL, KDL_INFO_BACKEND, &backend) < 0) {
		printf("backend:     none\n");
		fprintf(stderr, "kdl: %s\n", kdl_error());
		return 1;
	}
	printf("backend:     %s\n", backend == KDL_BACKEND_KERNEL ? "kernel" : "user");
	return 0;
}

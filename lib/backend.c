/* backend.c - choose between the /dev/kdl backend and plain syscalls. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kdl.h>

#include "kdl_internal.h"
#include "map.h"
#include "once.h"

static struct kdl_backend_state kstate = { .kind = 0, .dev_fd = -1 };
static int kstate_errno;
static struct kdl_once kstate_once = KDL_ONCE_INIT;

static void kernel_probe(void)
{
	struct kdl_query q = { .size = sizeof(q) };
	int fd;

	fd = open(KDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		kstate_errno = errno;
		return;
	}
	if (ioctl(fd, KDL_IOC_QUERY, &q) < 0) {
		kstate_errno = errno;
		close(fd);
		return;
	}
	kstate.abi_version = q.abi_version;
	kstate.features = q.features;
	if (q.abi_version != KDL_ABI_VERSION) {
		kstate_errno = EPROTO;
		close(fd);
		return;
	}
	kstate.kind = KDL_BACKEND_KERNEL;
	kstate.dev_fd = fd;
}

/* The device is bound to the mm that opened it: a forked child probes
 * again with a fresh open. */
static void kernel_reset_in_child(void)
{
	if (kstate.dev_fd >= 0)
		close(kstate.dev_fd);
	memset(&kstate, 0, sizeof(kstate));
	kstate.dev_fd = -1;
	kstate_errno = 0;
	kstate_once = (struct kdl_once)KDL_ONCE_INIT;
}

static void kernel_init(void)
{
	pthread_atfork(NULL, NULL, kernel_reset_in_child);
	kernel_probe();
}

const struct kdl_backend_state *kdl_backend_kernel(void)
{
	kdl_once(&kstate_once, kernel_init);
	return kstate.kind == KDL_BACKEND_KERNEL ? &kstate : NULL;
}

bool kdl_kernel_has_data_fd(void)
{
	const struct kdl_backend_state *ks = kdl_backend_kernel();

	return ks && (ks->features & KDL_FEAT_DATA_FD);
}

static int want_from_env(void)
{
	const char *e = getenv("KDL_BACKEND");

	if (!e || !*e || !strcmp(e, "auto"))
		return 0;
	if (!strcmp(e, "user"))
		return KDL_BACKEND_USER;
	if (!strcmp(e, "kernel"))
		return KDL_BACKEND_KERNEL;
	return -1;
}

int kdl_backend_pick(unsigned int flags)
{
	unsigned int forced = flags & (KDL_LOAD_BACKEND_USER | KDL_LOAD_BACKEND_KERNEL);
	int want;

	if (forced == (KDL_LOAD_BACKEND_USER | KDL_LOAD_BACKEND_KERNEL)) {
		kdl_set_error("load args: both backends forced");
		return -1;
	}
	if (forced)
		want = forced == KDL_LOAD_BACKEND_USER ? KDL_BACKEND_USER :
							 KDL_BACKEND_KERNEL;
	else
		want = want_from_env();
	if (want < 0) {
		kdl_set_error("KDL_BACKEND=%s: found an unknown backend, expected user, kernel or auto",
			      getenv("KDL_BACKEND"));
		return -1;
	}
	if (want == KDL_BACKEND_USER)
		return KDL_BACKEND_USER;
	if (kdl_backend_kernel())
		return KDL_BACKEND_KERNEL;
	if (want == KDL_BACKEND_KERNEL) {
		if (kstate_errno == EPROTO)
			kdl_set_error("%s: ABI version: found %u, expected %u",
				      KDL_DEVICE_PATH, kstate.abi_version,
				      KDL_ABI_VERSION);
		else
			kdl_set_error("%s: kernel backend forced but unusable: %s",
				      KDL_DEVICE_PATH, strerror(kstate_errno));
		return -1;
	}
	return KDL_BACKEND_USER;
}

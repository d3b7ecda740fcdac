/* info.c - kdl_info(): what libkdl knows about a loaded object. */
#include "kdl_internal.h"

int kdl_info(void *handle, int request, void *arg)
{
	const struct kdl_backend_state *ks;
	int kind;

	if (!arg) {
		kdl_set_error("kdl_info: request %d: found a NULL argument", request);
		return -1;
	}
	if (handle) {
		kdl_set_error("kdl_info: found a handle, but no object is loaded yet");
		return -1;
	}
	switch (request) {
	case KDL_INFO_BACKEND:
		kind = kdl_backend_pick(0);
		if (kind < 0)
			return -1;
		*(int *)arg = kind;
		return 0;
	case KDL_INFO_ABI_VERSION:
		ks = kdl_backend_kernel();
		if (!ks) {
			kdl_set_error("kdl_info: ABI version: /dev/kdl is not usable");
			return -1;
		}
		*(unsigned int *)arg = ks->abi_version;
		return 0;
	default:
		kdl_set_error("kdl_info: request %d: unknown without a handle", request);
		return -1;
	}
}

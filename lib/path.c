/* path.c - a directory and a name joined into a path, without printf
 * (whose code a fresh process would fault in on a load's path). */
#include <string.h>

#include "kdl_internal.h"

bool kdl_path_join(char *out, size_t len, const char *dir, const char *name)
{
	size_t nd = strlen(dir), nn = strlen(name);

	if (nd + 1 + nn + 1 > len)
		return false;
	memcpy(out, dir, nd);
	out[nd] = '/';
	memcpy(out + nd + 1, name, nn + 1);
	return true;
}

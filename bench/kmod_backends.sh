#!/bin/sh
# kmod_backends.sh - what make bench-kmod runs inside the VM (not a test):
# the module's KDL_IOC_MAP against the userspace mapping sequence
# (kmod_map_bench), then whole loads through libkdl with each backend,
# side by side: glibc, kdl cold and kdl from the relocation cache
# (cache_bench, the kernel backend mapping entries with KDL_SEG_DATA_FD).
set -eu
b=${BUILD:-$(cd "$(dirname "$0")/../build" && pwd)}
"$b/bench/kmod_map_bench"
for backend in user kernel; do
	echo
	echo "### libkdl loads, KDL_BACKEND=$backend"
	KDL_BACKEND=$backend "$b/bench/cache_bench" -I -n "${KDL_BENCH_RUNS:-11}" \
		libcrypto.so.3 libz.so.1 libsqlite3.so.0
done

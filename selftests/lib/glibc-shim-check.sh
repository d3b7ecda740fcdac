#!/bin/bash
# glibc-shim-check.sh - TEST-ONLY validation of the library tests themselves:
# builds every test that uses kdl_test.h with -DKDL_TEST_WITH_GLIBC (kdl_*
# mapped onto glibc's dlfcn by kdl_glibc_shim.h) and runs it.  Not part of
# "make check"; needs the fixtures ("make fixtures") and the kselftest
# headers in $BUILD/kselftest.
#   selftests/lib/glibc-shim-check.sh [TEST.c...]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
out=${OUT:-$(mktemp -d /tmp/kdl-shim.XXXXXX)}
mkdir -p "$out"
if [ $# -eq 0 ]; then
	set -- $(grep -l '"kdl_test.h"' "$top"/selftests/lib/*_test.c "$top"/selftests/lib/pending/*_test.c 2>/dev/null)
fi
export KDL_FIXTURES_DIR=$build/fixtures
fail=0
for src in "$@"; do
	name=$(basename "$src" .c)
	if ! gcc -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-sign-compare \
		-Wno-unused-parameter -D_GNU_SOURCE -DKDL_TEST_WITH_GLIBC \
		-I"$top/lib/include" -I"$top/uapi" -I"$top/selftests/lib" \
		-I"$build/kselftest" -o "$out/$name" "$src" -ldl -lpthread; then
		echo "not ok - $name: build failed"
		fail=1
		continue
	fi
	start=$(date +%s.%N)
	"$out/$name" >"$out/$name.log" 2>&1
	rc=$?
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	summary=$(grep -E '^# (PASSED|FAILED|Totals)' "$out/$name.log" | tr '\n' ' ')
	if [ $rc -ne 0 ] && [ $rc -ne 4 ]; then
		echo "not ok - $name (rc $rc, ${secs}s) $summary"
		grep -E '^(not ok|#.*(Expected|SKIP|error))' "$out/$name.log" | head -20
		fail=1
	else
		echo "ok - $name (${secs}s) $summary"
		grep -E 'SKIP' "$out/$name.log" | head -10
	fi
done
echo "# logs in $out"
exit $fail

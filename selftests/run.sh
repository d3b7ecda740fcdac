#!/bin/bash
# run.sh - run one test suite and print its TAP on stdout.
#
#   selftests/run.sh host   library tests (userspace backend) + tool tests
#   selftests/run.sh vm     module tests, then library tests (kernel backend)
#                           + tool tests; meant to run inside tools/vm/run.sh
#
# A test program that exits non-zero without reporting a failure (a crash,
# a missing binary) is reported as one failed test of its own.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
suite=${1:?usage: run.sh host|vm}

# run_prog NAME CMD [ARG...]
run_prog() {
	local name=$1 out rc
	shift
	echo "# === $name"
	out=$(mktemp)
	"$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	if [ $rc -ne 0 ] && [ $rc -ne 4 ] && ! grep -q '^not ok' "$out"; then
		echo "not ok - $name exited with status $rc"
	fi
	rm -f "$out"
}

run_tests() {
	local t
	for t in "$build/selftests/$1"/*_test; do
		run_prog "${t#"$build"/}" "$t"
	done
}

run_bats() {
	local f
	for f in "$top"/selftests/tools/*.bats; do
		KDL=$build/tools/kdl run_prog "${f#"$top"/}" bats --tap "$f"
	done
}

case $suite in
host)
	export KDL_BACKEND=${KDL_BACKEND:-user}
	run_tests lib
	run_bats
	;;
vm)
	run_tests kmod
	run_tests lib
	run_bats
	;;
*)
	echo "run.sh: unknown suite '$suite'" >&2
	exit 2
	;;
esac

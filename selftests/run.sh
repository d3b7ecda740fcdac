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

# A short libFuzzer run over the ELF intake, seeded with real objects.
run_fuzz() {
	local f=$build/fuzz/elf_load_fuzz dir runs
	[ -x "$f" ] || return 0
	echo "# === fuzz/elf_load_fuzz"
	dir=$(mktemp -d)
	mkdir "$dir/seeds"
	cp /lib/x86_64-linux-gnu/libz.so.1 "$build"/fixtures/libfx_basic.so \
		"$build"/fixtures/libfx_versions.so "$dir/seeds/" 2>/dev/null
	if (cd "$dir" && "$f" -max_total_time="${KDL_FUZZ_SECONDS:-10}" -rss_limit_mb=2048 \
		seeds >log 2>&1); then
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$dir/log")
		echo "ok - fuzz: elf_load_fuzz, $runs inputs without a finding"
	else
		tail -n 30 "$dir/log"
		echo "not ok - fuzz: elf_load_fuzz found a crash (see above)"
	fi
	rm -rf "$dir"
}

case $suite in
host)
	export KDL_BACKEND=${KDL_BACKEND:-user}
	run_tests lib
	run_bats
	run_fuzz
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

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

# Short libFuzzer runs over what parses untrusted bytes, seeded with real
# inputs: ELF objects for the intake, zip containers for the zip reader.
fuzz_seeds() {
	local dir=$1 src
	src=$(mktemp -d)
	mkdir -p "$src/lib/x86_64"
	cp /lib/x86_64-linux-gnu/libz.so.1 "$build"/fixtures/libfx_basic.so \
		"$build"/fixtures/libfx_versions.so "$dir/" 2>/dev/null
	cp /lib/x86_64-linux-gnu/libz.so.1 "$src/lib/x86_64/"
	echo notes >"$src/notes.txt"
	(cd "$src" && zip -q -0 "$dir/stored.zip" lib/x86_64/libz.so.1 notes.txt &&
		zip -q "$dir/deflated.zip" notes.txt lib/x86_64/libz.so.1)
	rm -rf "$src"
}

run_fuzz() {
	local f dir runs name
	[ -n "${KDL_NO_FUZZ:-}" ] && return 0
	for f in "$build"/fuzz/*; do
		[ -x "$f" ] || continue
		name=${f##*/}
		echo "# === fuzz/$name"
		dir=$(mktemp -d)
		mkdir "$dir/seeds"
		fuzz_seeds "$dir/seeds"
		if (cd "$dir" && "$f" -max_total_time="${KDL_FUZZ_SECONDS:-8}" -rss_limit_mb=2048 \
			seeds >log 2>&1); then
			runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$dir/log")
			echo "ok - fuzz: $name, $runs inputs without a finding"
		else
			tail -n 30 "$dir/log"
			echo "not ok - fuzz: $name found a crash (see above)"
		fi
		rm -rf "$dir"
	done
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

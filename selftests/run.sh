#!/bin/bash
# run.sh - run one test suite and print its TAP on stdout.
#
#   selftests/run.sh host   library tests (userspace backend) + tool tests
#   selftests/run.sh vm     module tests (kselftest's own runner over
#                           $BUILD/kselftest_install), then library tests
#                           (kernel backend) + tool tests; meant to run
#                           inside tools/vm/run.sh
#   selftests/run.sh threads  the library tests that start threads (the
#                           tsan suite runs them on the TSan build)
#
# A test program that exits non-zero without reporting a failure (a crash,
# a missing binary) is reported as one failed test of its own.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
suite=${1:?usage: run.sh host|vm|threads}
export KDL_SUITE=$suite	# a test may leave to one suite what another covers

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

# The module tests as the kernel's tree runs its selftests: the installed
# collection (make kselftest-install) through run_kselftest.sh, whose TAP
# nests each program's results under "# " (tools/tap-summary.sh counts
# them).  The runner's per-program timeout (kmod/settings) is scaled like
# the harness's own (KDL_TEST_TIMEOUT_SCALE, the debug kernel's), so the
# directory is laid out again on the guest's /tmp (the tree is read-only
# there) with links to the programs, not copies: they must stay where
# they were built, the stress test maps its own executable as a file that
# is not shmem ("exe (9p in the VM)").
run_kselftest() {
	local inst=$build/kselftest_install dir f t scale=${KDL_TEST_TIMEOUT_SCALE:-1}
	if [ ! -x "$inst/run_kselftest.sh" ]; then
		echo "not ok - kselftest: $inst/run_kselftest.sh missing (make kselftest-install)"
		return
	fi
	dir=$(mktemp -d /tmp/kselftest.XXXXXX)
	cp -a "$inst/run_kselftest.sh" "$inst/kselftest" "$inst/kselftest-list.txt" "$dir/"
	mkdir "$dir/kmod"
	for f in "$inst"/kmod/*; do
		[ "${f##*/}" = settings ] || ln -s "$f" "$dir/kmod/"
	done
	t=$(sed -n 's/^timeout=//p' "$inst/kmod/settings")
	echo "timeout=$((t * scale))" >"$dir/kmod/settings"
	echo "# === kselftest: run_kselftest.sh (kmod: $(wc -l <"$dir/kselftest-list.txt") programs)"
	"$dir/run_kselftest.sh" 2>&1 || echo "not ok - kselftest: run_kselftest.sh exited with status $?"
	rm -rf "$dir"
}

# The relocation cache is on by default: the suites run with one of
# their own (never the user's), which the first pass fills; the
# real-library tests then run again in each mode named: reading it only
# (KDL_CACHE=ro: their objects come from the cache) and without it
# (KDL_CACHE=0).  The VM runs ro only (its kernel backend maps the
# entries); off is the host's, where it costs seconds, not minutes.
if [ -z "${KDL_CACHE_DIR:-}" ]; then
	KDL_CACHE_DIR=$(mktemp -d /tmp/kdl-suite-cache.XXXXXX)
	trap 'rm -rf "$KDL_CACHE_DIR"' EXIT
fi
export KDL_CACHE_DIR
run_cache_modes() {
	local t m
	for m in "$@"; do
		for t in "$build"/selftests/lib/real_*_test; do
			KDL_CACHE=$m run_prog "${t#"$build"/} (KDL_CACHE=$m)" "$t"
		done
	done
}

run_bats() {
	local f
	for f in "$top"/selftests/tools/*.bats; do
		KDL=$build/tools/kdl run_prog "${f#"$top"/}" bats --tap "$f"
	done
}

# Short libFuzzer runs over what parses untrusted bytes, seeded with the
# tree's corpus, selftests/fuzz/corpus/<target>/ (real libraries, zips and
# ld.so.cache files, minimized; only read: new inputs go to a scratch
# directory).  tools/fuzz-long.sh runs the long campaigns.
run_fuzz() {
	local f dir runs name seeds
	[ -n "${KDL_NO_FUZZ:-}" ] && return 0
	for f in "$build"/fuzz/*; do
		[ -x "$f" ] || continue
		name=${f##*/}
		echo "# === fuzz/$name"
		dir=$(mktemp -d)
		mkdir "$dir/new"
		seeds=$top/selftests/fuzz/corpus/$name
		[ -d "$seeds" ] || seeds=
		if (cd "$dir" && "$f" -max_total_time="${KDL_FUZZ_SECONDS:-8}" -rss_limit_mb=2048 \
			new ${seeds:+"$seeds"} >log 2>&1); then
			runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$dir/log")
			echo "ok - fuzz: $name, $runs inputs without a finding"
		else
			tail -n 30 "$dir/log"
			echo "not ok - fuzz: $name found a crash (see above)"
		fi
		rm -rf "$dir"
	done
}

# The library tests that start threads: their source calls pthread_create
# (the Makefile's TSAN_TESTS are the same ones).
run_threaded() {
	local src t
	for src in $(grep -l pthread_create "$top"/selftests/lib/*_test.c); do
		t=$build/selftests/lib/$(basename "$src" .c)
		run_prog "${t#"$build"/}" "$t"
	done
}

case $suite in
host)
	export KDL_BACKEND=${KDL_BACKEND:-user}
	run_tests lib
	run_cache_modes ro 0
	run_bats
	run_fuzz
	;;
threads)
	export KDL_BACKEND=${KDL_BACKEND:-user}
	run_threaded
	;;
vm)
	run_kselftest
	run_tests lib
	run_cache_modes ro
	run_bats
	;;
*)
	echo "run.sh: unknown suite '$suite'" >&2
	exit 2
	;;
esac

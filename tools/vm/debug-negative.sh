#!/bin/bash
# debug-negative.sh - prove that the debug kernel's reports fail a VM run:
# boot it with a deliberately broken kdl.ko (tools/vm/debug-kernel.sh
# --broken=KIND, the bug inserted into a staged copy only), run one module
# selftest, and expect tools/vm/run.sh to fail with the report in
# kernel-problems.log; the same run with the good kdl.ko is the control.
#
#   tools/vm/debug-negative.sh BUILD_DIR [TEST]   (TEST: kmod/map_test)
#
# Prints TAP and "N passed, N failed, N skipped"; exits 1 on a failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: debug-negative.sh BUILD_DIR [TEST]}" && pwd)
test=${2:-kmod/map_test}
prog=$build/selftests/$test
log=$build/test/vm-debug-negative.tap
mkdir -p "$build/test"
[ -x "$prog" ] || { echo "debug-negative.sh: $prog was not built" >&2; exit 2; }

n=0
# case KIND EXPECT DESCRIPTION: EXPECT is an ERE that kernel-problems.log
# must match (KIND "good": the run must pass and the log stay empty).
case_() {
	local kind=$1 expect=$2 what=$3 out dk bz ko append rc arg=
	n=$((n + 1))
	out=$build/vm-negative-$kind
	[ "$kind" = good ] || arg=--broken=$kind
	if ! dk=$("$top/tools/vm/debug-kernel.sh" $arg); then
		echo "not ok $n - $kind: tools/vm/debug-kernel.sh $arg failed"
		return
	fi
	bz=$(sed -n 's/^bzImage //p' <<<"$dk")
	ko=$(sed -n 's/^ko //p' <<<"$dk")
	append=$(sed -n 's/^append //p' <<<"$dk")
	"$top/tools/vm/run.sh" --kernel "$bz" --ko "$ko" --append "$append" --timeout 1800 \
		--out "$out" -- env BUILD="$build" "$prog" >"$out.log" 2>&1
	rc=$?
	sed 's/^/# /' "$out/kernel-problems.log" 2>/dev/null | head -n 20
	if [ "$kind" = good ]; then
		if [ $rc = 0 ] && [ ! -s "$out/kernel-problems.log" ]; then
			echo "ok $n - $what"
		else
			echo "not ok $n - $what (status $rc, see $out.log)"
		fi
	elif [ $rc != 0 ] && grep -qE "$expect" "$out/kernel-problems.log"; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what: status $rc, report /$expect/ $(grep -qE "$expect" "$out/kernel-problems.log" 2>/dev/null || echo "missing") (see $out.log)"
	fi
}

{
	echo "1..3"
	case_ good '' "control: $test passes on the debug kernel with the good kdl.ko"
	case_ lockdep 'WARNING: lock held when returning to user space' \
		"lockdep: a kdl.ko whose open returns holding a mutex fails the run"
	case_ kasan 'BUG: KASAN: [a-z-]*use-after-free in kdl_release' \
		"kasan: a kdl.ko whose release reads freed memory fails the run"
} | tee "$log"
"$top/tools/tap-summary.sh" "$log"

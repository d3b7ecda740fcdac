#!/usr/bin/env bats
# kdl_perf.bats - perf report names the functions of an image libkdl
# copied (kdl_memopen of heap memory): with KDL_PERF=1 the copy is a file
# perf can read back; without it, a memfd perf cannot open (the negative
# control).  gdb_target spin spends ~0.3 s in the copied libz's adler32.

bats_require_minimum_version 1.5.0

setup() {
	BUILD=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build
	[ -n "${KDL:-}" ] && BUILD=$(cd "$(dirname "$KDL")/.." && pwd)
	TARGET=$BUILD/selftests/tools/gdb_target
	command -v perf >/dev/null || skip "perf is not installed"
	[ -x "$TARGET" ] || skip "$TARGET not built"
	perf record -q -e cpu-clock -o "$BATS_TEST_TMPDIR/probe.data" -- true 2>/dev/null ||
		skip "perf record does not work here"
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/run
	mkdir -m 0700 "$XDG_RUNTIME_DIR"
}

# profile [ENV=V...]: perf record gdb_target spin, then perf report.
profile() {
	run env "$@" perf record -q -e cpu-clock -o "$BATS_TEST_TMPDIR/p.data" -- "$TARGET" spin
	[ "$status" -eq 0 ]
	run perf report -i "$BATS_TEST_TMPDIR/p.data" --stdio --sort dso,sym
}

@test "with KDL_PERF=1 perf report names the functions of a copied image" {
	profile KDL_PERF=1
	[ "$status" -eq 0 ]
	[[ "$output" == *"[.] adler32"* ]]
	# The copy is a file of the user's own, readable by nobody else.
	f=$(ls "$XDG_RUNTIME_DIR"/kdl-perf/)
	[ -n "$f" ]
	[ "$(stat -c %a "$XDG_RUNTIME_DIR/kdl-perf/$f")" = 600 ]
	[ "$(stat -c %a "$XDG_RUNTIME_DIR/kdl-perf")" = 700 ]
}

@test "negative control: without KDL_PERF the copy is a memfd perf cannot read" {
	profile
	[ "$status" -eq 0 ]
	[[ "$output" == *"memfd:kdl:"* ]]
	[[ "$output" != *"[.] adler32"* ]]
	[ ! -e "$XDG_RUNTIME_DIR/kdl-perf" ]
}

@test "KDL_PERF refuses a copy directory others may write" {
	mkdir -m 0777 "$XDG_RUNTIME_DIR/kdl-perf"
	chmod 0777 "$XDG_RUNTIME_DIR/kdl-perf"
	run env KDL_PERF=1 "$TARGET" spin
	[ "$status" -eq 1 ]
	[[ "$output" == *"kdl-perf is not a directory of this user's closed to others"* ]]
	[ -z "$(ls "$XDG_RUNTIME_DIR/kdl-perf")" ]
}

#!/usr/bin/env bats
# kdl_preload.bats - libkdl_preload.so, the better LD_PRELOAD: a tool loaded
# into its own namespace at start-up, without interposing on the program.

setup() {
	BUILD=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build
	[ -n "${KDL:-}" ] && BUILD=$(cd "$(dirname "$KDL")/.." && pwd)
	SHIM=$BUILD/lib/libkdl_preload.so
	TOOL=$BUILD/fixtures/libfx_preload_tool.so
	PROG=$BUILD/fixtures/fx_rand_prog
	# ASan's runtime must come first in a process: an ASan-built shim
	# cannot be preloaded into an uninstrumented program.
	if nm -D "$SHIM" 2>/dev/null | grep -q __asan_init; then
		skip "the shim is built with ASan"
	fi
}

@test "a tool preloaded by glibc interposes on the program (the problem)" {
	run env LD_PRELOAD="$TOOL" "$PROG"
	[ "$status" -eq 0 ]
	[[ "$output" == *"program rand: 4242"* ]]
}

@test "the same tool through kdl's shim runs but leaves the program alone" {
	run env LD_PRELOAD="$SHIM" KDL_PRELOAD="$TOOL@fx_preload_start" "$PROG"
	[ "$status" -eq 0 ]
	[[ "$output" == *"fx-preload-tool: constructed"* ]]
	[[ "$output" == *"fx-preload-tool: started, its rand() is 4242"* ]]
	[[ "$output" != *"program rand: 4242"* ]]
	[[ "$output" == *"program rand: "* ]]
}

@test "a tool that cannot load is reported and the program still runs" {
	run env LD_PRELOAD="$SHIM" KDL_PRELOAD="/nonexistent/tool.so" "$PROG"
	[ "$status" -eq 0 ]
	[[ "$output" == *"kdl-preload: /nonexistent/tool.so: cannot open"* ]]
	[[ "$output" == *"program rand: "* ]]
}

@test "without KDL_PRELOAD the shim does nothing" {
	run env LD_PRELOAD="$SHIM" "$PROG"
	[ "$status" -eq 0 ]
	[ "$output" = "$(env -u LD_PRELOAD "$PROG")" ]
}

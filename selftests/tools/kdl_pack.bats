#!/usr/bin/env bats
# kdl_pack.bats - "kdl pack" writes containers libkdl loads zero-copy;
# "kdl pack --check" judges containers from other tools.

bats_require_minimum_version 1.5.0

LIBDIR=/lib/x86_64-linux-gnu

setup() {
	KDL=${KDL:-$BATS_TEST_DIRNAME/../../build/tools/kdl}
	[ -r $LIBDIR/libpng16.so.16 ] && [ -r $LIBDIR/libz.so.1 ] ||
		skip "libpng16.so.16 or libz.so.1 missing in $LIBDIR"
	work=$(mktemp -d /tmp/kdl_pack.XXXXXX)
	mkdir -p "$work/tree/lib/x86_64"
	cp $LIBDIR/libpng16.so.16 $LIBDIR/libz.so.1 "$work/tree/lib/x86_64/"
	seq 1 3000 >"$work/tree/notes.txt"
	cd "$work/tree"
}

teardown() {
	cd /
	[ -n "${work:-}" ] && rm -rf "$work"
}

pack_app() {
	"$KDL" pack "$1" lib/x86_64/libpng16.so.16 ./lib/x86_64/libz.so.1 notes.txt
}

@test "kdl --help lists pack" {
	run "$KDL" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"pack"*"--check"* ]]
}

@test "pack writes a zip that unzip -t accepts" {
	run pack_app "$work/app.zip"
	[ "$status" -eq 0 ]
	run unzip -t "$work/app.zip"
	[ "$status" -eq 0 ]
	[[ "$output" == *"testing: lib/x86_64/libpng16.so.16"*OK* ]]
	[[ "$output" == *"testing: lib/x86_64/libz.so.1"*OK* ]]
	[[ "$output" == *"testing: notes.txt"*OK* ]]
	[[ "$output" == *"No errors detected"* ]]
	[ ! -e "$work/app.zip.tmp" ]
}

@test "pack stores shared objects and deflates other files" {
	pack_app "$work/app.zip"
	run unzip -v "$work/app.zip"
	[ "$status" -eq 0 ]
	[[ "$output" =~ Stored\ [^$'\n']*lib/x86_64/libpng16.so.16 ]]
	[[ "$output" =~ Stored\ [^$'\n']*lib/x86_64/libz.so.1 ]]
	[[ "$output" =~ Defl:[^$'\n']*notes.txt ]]
}

@test "pack stores a file deflate would not shrink" {
	head -c 5000 /dev/urandom >noise.bin
	"$KDL" pack "$work/n.zip" noise.bin
	run unzip -v "$work/n.zip"
	[[ "$output" =~ Stored\ [^$'\n']*noise.bin ]]
	unzip -tq "$work/n.zip"
}

@test "pack --check accepts what pack wrote" {
	pack_app "$work/app.zip"
	run "$KDL" pack --check "$work/app.zip"
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 shared objects, all stored page aligned"* ]]
}

@test "a packed library finds its dependency inside the container" {
	pack_app "$work/app.zip"
	run "$KDL" ldd "$work/app.zip!/lib/x86_64/libpng16.so.16"
	[ "$status" -eq 0 ]
	[[ "$output" == *"libz.so.1 => $work/app.zip!/lib/x86_64/libz.so.1 (loaded by kdl"* ]]
}

@test "kdl run calls a function of a packed library" {
	pack_app "$work/app.zip"
	# zlibVersion returns a pointer; run exits with its low byte.
	run "$KDL" run "$work/app.zip!/lib/x86_64/libz.so.1:zlibVersion"
	[ "$status" -ne 127 ]
	[[ "$output" != *"kdl run:"* ]]
}

@test "pack -C names entries relative to DIR" {
	cd /
	run "$KDL" pack -C "$work/tree" "$work/c.zip" lib/x86_64/libz.so.1 notes.txt
	[ "$status" -eq 0 ]
	run unzip -Z1 "$work/c.zip"
	[ "$output" = $'lib/x86_64/libz.so.1\nnotes.txt' ]
	"$KDL" pack --check "$work/c.zip"
}

@test "pack is deterministic" {
	pack_app "$work/a.zip"
	touch -d '2001-02-03 04:05' notes.txt lib/x86_64/libz.so.1
	pack_app "$work/b.zip"
	cmp "$work/a.zip" "$work/b.zip"
}

@test "pack refuses absolute paths" {
	run -1 "$KDL" pack "$work/bad.zip" "$work/tree/notes.txt"
	[[ "$output" == *"$work/tree/notes.txt: absolute path refused"* ]]
	[ ! -e "$work/bad.zip" ] && [ ! -e "$work/bad.zip.tmp" ]
}

@test "pack refuses '..' components" {
	mkdir sub
	run -1 "$KDL" pack "$work/bad.zip" notes.txt sub/../notes.txt
	[[ "$output" == *"sub/../notes.txt: '..' component refused"* ]]
	[ ! -e "$work/bad.zip" ] && [ ! -e "$work/bad.zip.tmp" ]
}

@test "pack names a missing file and leaves nothing behind" {
	run -1 "$KDL" pack "$work/bad.zip" notes.txt no-such-file
	[[ "$output" == *"no-such-file: cannot open"* ]]
	[ ! -e "$work/bad.zip" ] && [ ! -e "$work/bad.zip.tmp" ]
}

@test "pack refuses a name given twice" {
	run -1 "$KDL" pack "$work/bad.zip" notes.txt ./notes.txt
	[[ "$output" == *"notes.txt: given twice"* ]]
}

@test "pack --check flags an unaligned zip -0 archive" {
	command -v zip >/dev/null || skip "zip not installed"
	zip -q -0 "$work/z0.zip" notes.txt lib/x86_64/libz.so.1
	run -1 "$KDL" pack --check "$work/z0.zip"
	[[ "$output" =~ lib/x86_64/libz.so.1:\ stored\ at\ offset\ 0x[0-9a-f]+,\ not\ page\ aligned:\ loads\ through\ a\ copy ]]
}

@test "pack --check flags a deflated library" {
	command -v zip >/dev/null || skip "zip not installed"
	zip -q "$work/z9.zip" lib/x86_64/libz.so.1
	run -1 "$KDL" pack --check "$work/z9.zip"
	[[ "$output" == *"lib/x86_64/libz.so.1: compressed (deflate): will not load"* ]]
}

@test "pack --check fails with 2 on a file that is not a zip" {
	run -2 "$KDL" pack --check notes.txt
	[[ "$output" == *"notes.txt: malformed zip"* ]]
}

@test "pack --check fails with 2 on a truncated zip" {
	pack_app "$work/app.zip"
	head -c 300000 "$work/app.zip" >"$work/cut.zip"
	run -2 "$KDL" pack --check "$work/cut.zip"
	[[ "$output" == *"malformed zip"* ]]
}

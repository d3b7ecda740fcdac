#!/usr/bin/env bats
# kdl_install.bats - make install into a staging tree, then build and run a
# program against it the way a user would: pkg-config --cflags --libs kdl.

bats_require_minimum_version 1.5.0

setup() {
	KDL=${KDL:-$BATS_TEST_DIRNAME/../../build/tools/kdl}
	top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	build=$(cd "$(dirname "$KDL")/.." && pwd)
	[ "${KDL_SUITE:-host}" = vm ] && skip "the host suite covers it (the tree is read-only in the VM)"
	nm -D "$build/lib/libkdl.so" | grep -q __asan_init &&
		skip "a sanitizer build: the plain build's suite covers it"
	work=$(mktemp -d)
	stage=$work/stage
	# As a user runs it: not as a sub-make of make check.
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$top" B="$build" KDL_NO_DEPS=1 \
		PREFIX=/usr/local DESTDIR="$stage" install-user >"$work/install.log" 2>&1 ||
		{ cat "$work/install.log"; return 1; }
	export PKG_CONFIG_SYSROOT_DIR=$stage
	export PKG_CONFIG_LIBDIR=$stage/usr/local/lib/pkgconfig
}

teardown() {
	[ -z "${work:-}" ] || rm -rf "$work"
}

@test "the library is installed under its release with the soname's links" {
	local ver=$(cat "$top/VERSION")
	[ -f "$stage/usr/local/lib/libkdl.so.$ver" ] && [ ! -L "$stage/usr/local/lib/libkdl.so.$ver" ]
	[ "$(readlink "$stage/usr/local/lib/libkdl.so.0")" = "libkdl.so.$ver" ]
	[ "$(readlink "$stage/usr/local/lib/libkdl.so")" = libkdl.so.0 ]
	run readelf -d "$stage/usr/local/lib/libkdl.so.$ver"
	[[ "$output" == *"Library soname: [libkdl.so.0]"* ]]
}

@test "pkg-config names the staged headers, library and release" {
	run pkg-config --modversion kdl
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$top/VERSION")" ]
	run pkg-config --cflags --libs kdl
	[ "${output% }" = "-I$stage/usr/local/include -L$stage/usr/local/lib -lkdl" ]
	run pkg-config --static --libs kdl
	[[ "$output" == *"-lkdl -lpthread -ldl"* ]]
}

@test "a program built with pkg-config's flags loads a library through the staged libkdl" {
	cat >"$work/answer.c" <<'C'
int answer(void) { return 42; }
C
	cat >"$work/prog.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
#include <kdl.h>
#include <linux/kdl.h>

int main(int argc, char **argv)
{
	void *h = kdl_open(argv[1], RTLD_NOW, NULL);
	int (*answer)(void);

	(void)argc;
	if (!h) {
		fprintf(stderr, "%s\n", kdl_error());
		return 1;
	}
	answer = (int (*)(void))kdl_sym(h, "answer");
	if (!answer) {
		fprintf(stderr, "%s\n", kdl_error());
		return 1;
	}
	printf("answer %d abi %d\n", answer(), KDL_ABI_VERSION);
	return kdl_close(h);
}
C
	cc -shared -fPIC -o "$work/libanswer.so" "$work/answer.c"
	cc -o "$work/prog" "$work/prog.c" $(pkg-config --cflags --libs kdl)
	run readelf -d "$work/prog"
	[[ "$output" == *"Shared library: [libkdl.so.0]"* ]]
	run env LD_LIBRARY_PATH="$stage/usr/local/lib" KDL_CACHE=0 "$work/prog" "$work/libanswer.so"
	[ "$status" -eq 0 ]
	[[ "$output" == "answer 42 abi "* ]]
	# Without the staged tree on the path the program has no libkdl:
	# it ran the staged one, not one of the build tree's.
	run -127 env -u LD_LIBRARY_PATH "$work/prog" "$work/libanswer.so"
}

@test "kdl --version names the release and the staged libkdl file it runs" {
	local ver=$(cat "$top/VERSION")
	run "$stage/usr/local/bin/kdl" --version
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "kdl $ver" ]]
	[[ "$output" == *"libkdl: $stage/usr/local/lib/libkdl.so.$ver"* ]]
}

@test "the man pages are installed, kdl(4) among them" {
	[ -f "$stage/usr/local/share/man/man1/kdl.1" ]
	[ -f "$stage/usr/local/share/man/man3/kdl_open.3" ]
	[ -f "$stage/usr/local/share/man/man4/kdl.4" ]
}

@test "make install-module stages kdl.ko and the udev rule, and runs depmod" {
	local kver mods
	[ -f "$top/kmod/kdl.ko" ] || skip "kmod/kdl.ko was not built"
	kver=$("$top/tools/kver.sh")
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS PATH="$PATH:/usr/sbin:/sbin" make -s -C "$top" \
		B="$build" KDL_NO_DEPS=1 DESTDIR="$stage" install-module >"$work/module.log" 2>&1 ||
		{ cat "$work/module.log"; return 1; }
	mods=$stage/lib/modules/$kver
	[ -f "$mods/extra/kdl.ko" ]
	[ -f "$stage/lib/udev/rules.d/60-kdl.rules" ]
	# depmod ran on the staged tree: modprobe would find the module.
	grep -qx "extra/kdl.ko:" "$mods/modules.dep"
}

#!/usr/bin/env bats
# kdl_release.bats - the release is written once, in VERSION; every place
# that must spell it out agrees (Documentation/packaging.md).

bats_require_minimum_version 1.5.0

setup() {
	KDL=${KDL:-$BATS_TEST_DIRNAME/../../build/tools/kdl}
	top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	build=$(cd "$(dirname "$KDL")/.." && pwd)
	ver=$(cat "$top/VERSION")
}

@test "VERSION is MAJOR.MINOR.PATCH" {
	[[ "$ver" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "dkms.conf's PACKAGE_VERSION is VERSION" {
	run sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf"
	[ "$output" = "$ver" ]
}

@test "debian/changelog's newest entry is VERSION" {
	run sed -n '1s/^kdl (\([^)]*\)).*/\1/p' "$top/debian/changelog"
	[ "$output" = "$ver" ]
}

@test "libkdl's soname carries VERSION's major number" {
	run readelf -d "$build/lib/libkdl.so"
	[[ "$output" == *"Library soname: [libkdl.so.${ver%%.*}]"* ]]
}

@test "kdl --version prints VERSION" {
	run "$KDL" --version
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "kdl $ver" ]
}

@test "kdl.ko's MODULE_VERSION is VERSION" {
	[ -f "$top/kmod/kdl.ko" ] || skip "kmod/kdl.ko was not built"
	PATH=$PATH:/usr/sbin:/sbin run modinfo -F version "$top/kmod/kdl.ko"
	[ "$output" = "$ver" ]
}

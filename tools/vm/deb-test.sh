#!/bin/bash
# deb-test.sh - inside the VM on a writable root (tools/vm/run.sh
# --overlay --no-ko): install the .debs of DEB_DIR as a user would, let
# kdl-dkms build the module through DKMS, modprobe it, and use it with
# the packaged kdl and libkdl.  Prints TAP.  make check-deb runs it.
#   tools/vm/deb-test.sh DEB_DIR
set -eu
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive
debs=$(cd "${1:?usage: deb-test.sh DEB_DIR}" && pwd)
kver=$(uname -r)
n=0
fails=0

# check DESCRIPTION CMD [ARG...]: one TAP line; the output as comments.
# CMD exits 0 (ok), 77 (skip: its last line says why) or else (not ok).
check() {
	local desc=$1 out rc=0
	shift
	n=$((n + 1))
	out=$("$@" 2>&1) || rc=$?
	sed 's/^/# /' <<<"$out" | tail -n 40
	if [ $rc -eq 0 ]; then
		echo "ok $n - $desc"
	elif [ $rc -eq 77 ]; then
		echo "ok $n - $desc # SKIP $(tail -n 1 <<<"$out")"
	else
		echo "not ok $n - $desc (status $rc)"
		fails=$((fails + 1))
	fi
}

# The host may have kdl under DKMS already (the overlay shows its
# /var/lib/dkms): start from none, as a fresh machine would.
clean_dkms() {
	local v
	for v in /var/lib/dkms/kdl/*/; do
		[ -d "$v" ] || continue
		v=${v%/}
		dkms remove "kdl/${v##*/}" --all || true
	done
	rm -rf /var/lib/dkms/kdl /usr/src/kdl-* "/lib/modules/$kver/updates/dkms/kdl.ko"
	depmod "$kver"
}

install_debs() {
	dpkg -i "$debs"/libkdl0_*.deb "$debs"/libkdl-dev_*.deb "$debs"/kdl-tools_*.deb \
		"$debs"/kdl-dkms_*.deb
}

dkms_installed() {
	dkms status kdl
	dkms status kdl | grep -q "^kdl/.*, $kver, .*: installed"
}

modprobe_kdl() {
	modprobe kdl
	modinfo -F filename kdl
	modinfo -F filename kdl | grep -q /updates/dkms/
	test -c /dev/kdl
}

kdl_info_kernel() {
	env -u KDL_BACKEND kdl info
	env -u KDL_BACKEND kdl info | grep -q '^module: *present'
	env -u KDL_BACKEND kdl info | grep -q '^backend: *kernel'
}

kdl_version() {
	local ver
	ver=$(dpkg-query -W -f='${Version}' libkdl0)
	kdl --version
	kdl --version | grep -qx "kdl $ver"
	kdl --version | grep -qx "libkdl: /usr/lib/x86_64-linux-gnu/libkdl.so.$ver"
	kdl --version | grep -qx "module: $ver"
}

# The udev rule: the VM runs no udevd, and udevadm refuses to trigger
# events in a chroot (the guest's root is one), so udevadm test, which
# runs the rules on the device and reports what they set.
udev_rule() {
	local out gid
	gid=$(getent group kdl | cut -d: -f3)
	[ -n "$gid" ] || { echo "no kdl group"; return 1; }
	command -v udevadm >/dev/null || { echo "udev is not installed"; return 77; }
	out=$(udevadm test --action=add /sys/class/misc/kdl 2>&1) || true
	grep -E '60-kdl|GROUP|MODE|chroot' <<<"$out"
	grep -q 'Running in chroot' <<<"$out" && { echo "udevadm test refuses a chroot"; return 77; }
	grep -Eq "60-kdl.rules:[0-9]+ GROUP $gid" <<<"$out" &&
		grep -Eq "60-kdl.rules:[0-9]+ MODE 0666" <<<"$out"
}

pkg_config_build() {
	local dir
	dir=$(mktemp -d)
	cat >"$dir/p.c" <<'C'
#include <stdio.h>
#include <kdl.h>
int main(void)
{
	int backend;

	if (kdl_info(NULL, KDL_INFO_BACKEND, &backend) < 0)
		return 1;
	printf("backend %s\n", backend == KDL_BACKEND_KERNEL ? "kernel" : "user");
	return backend == KDL_BACKEND_KERNEL ? 0 : 1;
}
C
	# shellcheck disable=SC2046
	cc -o "$dir/p" "$dir/p.c" $(pkg-config --cflags --libs kdl)
	env -u KDL_BACKEND "$dir/p"
}

echo "# kernel $kver; packages: $(cd "$debs" && ls ./*.deb | grep -v dbgsym | tr '\n' ' ')"
clean_dkms >/dev/null 2>&1
check "the four packages install (kdl-dkms builds kdl.ko with DKMS)" install_debs
check "dkms status: kdl installed for $kver" dkms_installed
check "modprobe kdl loads the DKMS-built module and /dev/kdl appears" modprobe_kdl
check "kdl info: module present, backend kernel" kdl_info_kernel
check "kdl --version: the release, libkdl.so.RELEASE and the module's" kdl_version
check "the udev rule gives /dev/kdl the kdl group" udev_rule
check "a program built with pkg-config --cflags --libs kdl uses the module" pkg_config_build
check "the packages remove cleanly (kdl-dkms unloads nothing, removes the module)" \
	sh -c 'rmmod kdl && dpkg -r kdl-dkms kdl-tools libkdl-dev libkdl0 &&
		! dkms status kdl | grep -q . && ! modinfo kdl'
echo "1..$n"
# The results are the TAP above; a non-zero status is left to the VM's
# own failures (tools/check.sh reports those).
echo "# $fails failed"

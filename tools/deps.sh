#!/bin/sh
# deps.sh - install from Debian whatever kdl's build, tests and VM need.
# Idempotent and silent when everything is present; make calls it itself.
set -eu

pkgs="build-essential clang llvm lld libclang-rt-14-dev pkg-config
xz-utils cpio kmod busybox-static qemu-system-x86
linux-image-amd64 linux-headers-amd64 linux-source-6.1
flex bison bc libelf-dev
liburing-dev bats zip unzip python3 gdb linux-perf libxxhash-dev
zlib1g-dev libsqlite3-dev libssl-dev libpython3.11 libicu72 libxml2
libzstd1 liblzma5 libbz2-1.0 libpng16-16 libstdc++6 libcurl4
libegl1 libgles2 libegl-mesa0 libgl1-mesa-dri libegl-dev libgles-dev
dkms dh-dkms debhelper dpkg-dev fakeroot lintian rsync"

missing=
for p in $pkgs; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null

#!/bin/sh
# kver.sh - print the release of the newest installed Debian kernel image
# that has matching headers (the kernel the VM boots and kdl.ko targets).
set -eu
best=
for img in /boot/vmlinuz-*; do
	[ -e "$img" ] || continue
	rel=${img#/boot/vmlinuz-}
	[ -d "/lib/modules/$rel/build" ] || [ -d "/usr/src/linux-headers-$rel" ] || continue
	best=$(printf '%s\n%s\n' "$best" "$rel" | sed '/^$/d' | sort -V | tail -n 1)
done
[ -n "$best" ] || { echo "kver.sh: no /boot/vmlinuz-* with matching headers" >&2; exit 1; }
echo "$best"

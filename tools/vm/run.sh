#!/bin/bash
# run.sh - boot Debian's kernel under QEMU/TCG with kdl.ko and run commands.
#
#   tools/vm/run.sh [--ko PATH] [--timeout SEC] [--out DIR] -- CMD [ARG...]
#   tools/vm/run.sh [--ko PATH] --shell
#   options: --kernel BZIMAGE (boot it instead of /boot/vmlinuz-KVER, with
#   virtio/9p built in: no modules are copied), --mem MB (2048),
#   --append ARGS (more kernel command line), --overlay (a writable root:
#   the host's under a tmpfs overlay, for installing packages; see
#   tools/vm/deb-test.sh), --no-ko (boot without kdl.ko)
#
# The guest sees the host's root file system read-only over 9p (chrooted,
# with tmpfs on /tmp, /run and /dev/shm), so every binary and library of
# the host is there without packing them.  CMD runs in the current
# directory; its output and exit status come back.  The run fails when the
# kernel log shows a warning, oops, BUG or panic, or a debug kernel's
# report (KASAN, KFENCE, UBSAN, lockdep, list debugging, a hung task, a
# kmemleak leak of kdl.ko, lockdep turned off; see tools/vm/init).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
ko=$top/kmod/kdl.ko
timeout=300
out=$top/build/vm
shell=0
kernel=
mods=1
mem=2048
extra=
overlay=0
while [ $# -gt 0 ]; do
	case $1 in
	--ko) ko=$2; shift 2 ;;
	--no-ko) ko=; shift ;;
	--timeout) timeout=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--shell) shell=1; shift ;;
	--kernel) kernel=$2; mods=0; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--append) extra=$2; shift 2 ;;
	--overlay) overlay=1; shift ;;
	--) shift; break ;;
	-h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
[ $shell = 1 ] || [ $# -gt 0 ] || { echo "run.sh: no command given" >&2; exit 2; }

kver=$("$top/tools/kver.sh")
[ -n "$kernel" ] || kernel=/boot/vmlinuz-$kver
[ -f "$kernel" ] || { echo "run.sh: no kernel $kernel" >&2; exit 2; }
mkdir -p "$out"
stage=$(mktemp -d "$out/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# 1. The initramfs: busybox, /init, the 9p/virtio modules in load order
#    (resolved by modprobe from modules.dep), kdl.ko and the command.
mkdir -p "$stage/bin" "$stage/modules" "$stage/proc" "$stage/sys" "$stage/dev"
cp /bin/busybox "$stage/bin/busybox"
install -m 755 "$top/tools/vm/init" "$stage/init"
: >"$stage/modules/order"
vmods="virtio_pci 9pnet_virtio 9p"
[ $overlay = 0 ] || vmods="$vmods overlay"
for m in $vmods; do
	[ $mods = 1 ] || continue
	modprobe --show-depends -S "$kver" "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r path; do
	cp "$path" "$stage/modules/"
	basename "$path" >>"$stage/modules/order"
done
if [ -n "$ko" ]; then
	[ -f "$ko" ] || { echo "run.sh: $ko not built" >&2; exit 2; }
	cp "$ko" "$stage/kdl.ko"
fi
{
	echo "cd '$PWD' || exit 125"
	for v in KDL_BACKEND KDL_TEST_FILTER TAP_MODE; do
		[ -n "${!v:-}" ] && printf "export %s='%s'\n" "$v" "${!v}"
	done
	printf '%q ' "$@"
	echo
} >"$stage/cmd.sh"
echo "$PWD" >"$stage/cwd"
(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initramfs.cpio.gz"

# 2. Boot.
append="console=ttyS0 loglevel=4 panic=-1 oops=panic mitigations=off"
[ $shell = 1 ] && append="$append kdl.shell"
[ $overlay = 1 ] && append="$append kdl.overlay"
[ -n "$extra" ] && append="$append $extra"
qemu=(qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 2 -m "$mem"
	-kernel "$kernel" -initrd "$out/initramfs.cpio.gz"
	-append "$append" -display none -monitor none -no-reboot
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap)

if [ $shell = 1 ]; then
	exec "${qemu[@]}" -serial mon:stdio -serial null -serial null
fi

rm -f "$out/console.log" "$out/output.log" "$out/dmesg.log"
set +e
timeout -k 5 "$timeout" "${qemu[@]}" -serial "file:$out/console.log" \
	-serial "file:$out/output.log" -serial "file:$out/dmesg.log" </dev/null
qrc=$?
set -e

tr -d '\r' <"$out/output.log" | grep -v '^KDL-VM-EXIT ' || true
rc=$(tr -d '\r' <"$out/output.log" | sed -n 's/^KDL-VM-EXIT \([0-9]*\)$/\1/p' | tail -n 1)
bad='WARNING:|BUG:|Oops|Kernel panic|general protection fault|Call Trace|UBSAN:|KASAN:|kernel BUG|refcount_t:|list_add corruption|kdl-vm:'
# What the debug kernel (tools/vm/debug-kernel.sh) adds: lockdep's "INFO:"
# lines, list debugging, hung tasks, leaks.
bad="$bad|list_del corruption|INFO: lockdep is turned off|INFO: task .* blocked for more than|suspected memory leak"
if grep -aE "$bad" "$out/console.log" "$out/dmesg.log" >"$out/kernel-problems.log" 2>/dev/null; then
	echo "run.sh: the kernel log shows problems:" >&2
	cat "$out/kernel-problems.log" >&2
	exit 1
fi
if [ -z "$rc" ]; then
	echo "run.sh: the guest did not report an exit status (qemu exit $qrc); console:" >&2
	tail -n 40 "$out/console.log" >&2
	exit 1
fi
exit "$rc"

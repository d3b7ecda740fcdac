#!/bin/bash
# debug-kernel.sh - build the test VM's debug kernel (KASAN, lockdep,
# KFENCE, UBSAN, kmemleak, DEBUG_VM/LIST/ATOMIC_SLEEP) once, and kdl.ko
# against it every time (cheap when nothing changed).
#
#   tools/vm/debug-kernel.sh [-j N] [--broken=lockdep|kasan]
#   tools/vm/debug-kernel.sh --print-dir
#
# Everything goes to a cache outside the checkout, by default
# ${XDG_CACHE_HOME:-$HOME/.cache}/kdl/debug-kernel-VERSION (or
# $KDL_DEBUG_KERNEL_DIR): linux/ (Debian's linux-source-6.1, configured by
# `make tinyconfig` + tools/vm/debug.config and built), bzImage, kdl.ko.
# The kernel is built again only when the fragment changed.  kdl.ko is
# built out of tree from a staged copy of Kbuild, kmod/ and uapi/.
#
# --broken=KIND also builds kdl-broken-KIND.ko: the staged copy with a
# deliberate bug inserted (lockdep: the first open of /dev/kdl returns to
# user space holding a mutex; kasan: release reads the state it just
# freed), for tools/vm/debug-negative.sh to prove that the VM run fails.
# Progress goes to stderr; stdout gets only "bzImage PATH", "ko PATH" and
# "append ARGS" (the kernel command line to add: tools/vm/run.sh --append).
set -euo pipefail

# All in main(): bash reads a script as it runs, and this one runs for an
# hour; an edit meanwhile must not change what the running copy does.
main() {
top=$(cd "$(dirname "$0")/../.." && pwd)
tarball=/usr/src/linux-source-6.1.tar.xz
fragment=$top/tools/vm/debug.config
# Bump when the way the .config is made changes (base, steps).
recipe=tinyconfig+merge_config+olddefconfig/1
jobs=2
broken=
print_dir=0
while [ $# -gt 0 ]; do
	case $1 in
	-j) jobs=$2; shift 2 ;;
	-j*) jobs=${1#-j}; shift ;;
	--broken=*) broken=${1#--broken=}; shift ;;
	--print-dir) print_dir=1; shift ;;
	-h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "debug-kernel.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
case $broken in
''|lockdep|kasan) ;;
*) echo "debug-kernel.sh: --broken takes lockdep or kasan, not '$broken'" >&2; exit 2 ;;
esac

# The upstream version of the installed source package (6.1.192-3 -> 6.1.192).
version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
version=${version%%-*}
[ -n "$version" ] || version=6.1
cache=${KDL_DEBUG_KERNEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kdl/debug-kernel-$version}
if [ $print_dir = 1 ]; then
	echo "$cache"
	exit 0
fi

[ -f "$tarball" ] || { echo "debug-kernel.sh: $tarball missing (tools/deps.sh installs linux-source-6.1)" >&2; exit 1; }
case $cache in
"$top"/*) echo "debug-kernel.sh: the cache $cache must be outside the checkout" >&2; exit 2 ;;
esac
mkdir -p "$cache"
# One builder at a time per cache (two checkouts may share it).
exec 9>"$cache/.lock"
flock 9

src=$cache/linux
log=$cache/build.log

# run_logged LOG CMD...: run quietly into LOG; on failure say where it is.
run_logged() {
	local l=$1
	shift
	if ! "$@" >>"$l" 2>&1; then
		echo "debug-kernel.sh: failed: $*" >&2
		tail -n 30 "$l" >&2
		echo "debug-kernel.sh: the whole log is $l" >&2
		exit 1
	fi
}

# 1. The source, extracted once.
if [ ! -f "$src/.kdl-extracted" ]; then
	echo "debug-kernel.sh: extracting $tarball into $src" >&2
	rm -rf "$src" "$cache/extract.tmp"
	mkdir -p "$cache/extract.tmp"
	tar -xJf "$tarball" -C "$cache/extract.tmp"
	mv "$cache/extract.tmp/linux-source-6.1" "$src"
	rmdir "$cache/extract.tmp"
	touch "$src/.kdl-extracted"
fi

kmake() {
	make -C "$src" ARCH=x86_64 "$@"
}

# check_config: every line of the fragment must have survived olddefconfig
# (a dependency not met drops an option silently).
check_config() {
	local line sym missing=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" "$src/.config" && continue
			sym=${line%%=*}
			echo "debug-kernel.sh: $line did not survive; .config has: $(grep -E "^(# )?$sym[= ]" "$src/.config" || echo nothing)" >&2
			missing=1
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			grep -q "^$sym=" "$src/.config" || continue
			echo "debug-kernel.sh: $sym should be unset; .config has: $(grep "^$sym=" "$src/.config")" >&2
			missing=1
			;;
		esac
	done <"$fragment"
	[ $missing = 0 ] || { echo "debug-kernel.sh: $fragment is not what $src/.config says (see above)" >&2; exit 1; }
}

# 2. The kernel, built when the fragment (or the recipe) changed.
stamp=$( (echo "$recipe"; cat "$fragment") | sha256sum | cut -d' ' -f1)
if [ ! -f "$cache/bzImage" ] || [ "$(cat "$cache/kernel.stamp" 2>/dev/null)" != "$stamp" ]; then
	: >"$log"
	echo "debug-kernel.sh: configuring (make tinyconfig + $fragment)" >&2
	run_logged "$log" kmake tinyconfig
	run_logged "$log" env -C "$src" scripts/kconfig/merge_config.sh -m .config "$fragment"
	run_logged "$log" kmake olddefconfig
	check_config
	echo "debug-kernel.sh: building the kernel with -j$jobs (log: $log)" >&2
	t0=$(date +%s)
	run_logged "$log" kmake -j"$jobs" all
	t1=$(date +%s)
	cp "$src/arch/x86/boot/bzImage" "$cache/bzImage"
	cp "$src/.config" "$cache/config"
	echo "$((t1 - t0))" >"$cache/build-seconds"
	echo "$stamp" >"$cache/kernel.stamp"
	echo "debug-kernel.sh: kernel built in $((t1 - t0)) s ($(kmake -s kernelrelease))" >&2
fi

# put FILE: write stdin to FILE unless FILE already holds exactly that,
# so that kbuild rebuilds only what changed.
put() {
	local t
	mkdir -p "$(dirname "$1")"
	t=$(mktemp "$1.XXXXXX")
	cat >"$t"
	if cmp -s "$t" "$1"; then rm -f "$t"; else chmod 644 "$t"; mv "$t" "$1"; fi
}

# insert_after ANCHOR TEXT: filter that puts TEXT after the first line
# that is ANCHOR (leading white space ignored); fails if there is none.
insert_after() {
	# Through the environment: awk -v would expand the text's \n.
	A=$1 T=$2 awk '
		{ print; l = $0; sub(/^[ \t]+/, "", l) }
		!done && l == ENVIRON["A"] { print ENVIRON["T"]; done = 1 }
		END { exit done ? 0 : 1 }'
}

# patch_dev KIND: kmod/kdl_dev.c on stdin, with the deliberate bug of KIND
# (lockdep: the first open returns holding a mutex; kasan: release reads
# the state it just freed), each under #ifdef KDL_DEBUG_BREAK_KIND.
patch_dev() {
	case $1 in
	lockdep)
		insert_after '#include "kdl_internal.h"' '
#ifdef KDL_DEBUG_BREAK_LOCKDEP
/* Deliberately broken: the first open returns holding this mutex. */
static DEFINE_MUTEX(kdl_break_lock);
#endif' | insert_after 'file->private_data = kf;' '#ifdef KDL_DEBUG_BREAK_LOCKDEP
	(void)mutex_trylock(&kdl_break_lock);	/* no unlock */
#endif'
		;;
	kasan)
		insert_after 'kfree(kf);' '#ifdef KDL_DEBUG_BREAK_KASAN
	/* Deliberately broken: a read of the state just freed. */
	if (READ_ONCE(kf->mm) == (void *)1)
		pr_info("unreachable\n");
#endif'
		;;
	*)
		cat
		;;
	esac
}

# stage DIR KIND: make DIR a copy of what the top-level Kbuild builds
# (Kbuild, kmod/ and uapi/ sources, not the in-tree build's objects); for
# a KIND, kdl_dev.c carries the bug and kmod/Kbuild the -D that enables it.
stage() {
	local dir=$1 kind=$2 f want
	want=$(cd "$top" && ls Kbuild kmod/Kbuild kmod/Kconfig kmod/*.[ch] \
		$(find uapi -name '*.h') | grep -v '\.mod\.c$')
	for f in $want; do
		case $f in
		kmod/kdl_dev.c)
			patch_dev "$kind" <"$top/$f" >"$dir/$f.patched" || {
				rm -f "$dir/$f.patched"
				echo "debug-kernel.sh: $f no longer has the lines the --broken=$kind patch is anchored on; update patch_dev" >&2
				exit 1
			}
			put "$dir/$f" <"$dir/$f.patched"
			rm -f "$dir/$f.patched"
			;;
		kmod/Kbuild)
			{
				cat "$top/$f"
				[ -z "$kind" ] || echo "ccflags-y += -DKDL_DEBUG_BREAK_${kind^^}"
			} | put "$dir/$f"
			;;
		*)
			put "$dir/$f" <"$top/$f"
			;;
		esac
	done
	# Sources gone from the tree go from the copy too.
	(cd "$dir" && ls kmod/*.[ch] $(find uapi -name '*.h') 2>/dev/null) | grep -v '\.mod\.c$' |
		while read -r f; do
			printf '%s\n' $want | grep -qxF "$f" || rm -f "$dir/$f"
		done
}

# 3. kdl.ko (or the broken one) against that tree, out of tree.
if [ -n "$broken" ]; then
	kdir=$cache/kmod-build-broken-$broken
	ko=$cache/kdl-broken-$broken.ko
else
	kdir=$cache/kmod-build
	ko=$cache/kdl.ko
fi
klog=$kdir.log
mkdir -p "$kdir"
stage "$kdir" "$broken"
: >"$klog"
# -g: kdl.ko carries its own debug info, so that scripts/faddr2line
# turns a report's kdl_fn+0x12/0x80 into file:line.
run_logged "$klog" kmake -j"$jobs" M="$kdir" KCFLAGS=-g modules
cmp -s "$kdir/kmod/kdl.ko" "$ko" 2>/dev/null || cp "$kdir/kmod/kdl.ko" "$ko"
echo "bzImage $cache/bzImage"
echo "ko $ko"
# pci=noacpi: QEMU's _PRT method, interpreted under KASAN and lockdep on
# TCG, runs into ACPICA's 30 s loop timeout (AE_AML_LOOP_TIMEOUT) and
# holds the boot up; virtio uses MSI-X anyway.  kasan_multi_shot: every
# KASAN report, not only the first.
echo "append pci=noacpi kasan_multi_shot"
}

main "$@"
exit

#!/bin/bash
# run.sh - the corpus check: every shared object of the system library
# directory that glibc's dlopen loads must load with kdl_open too.
#
#   tools/corpus/run.sh [--build DIR] [--out DIR] [--jobs N] [--timeout SEC]
#                       [--sample N] [--dir LIBDIR] [--maxdepth N] [LIB...]
#
# The candidates are the ELF shared objects found under LIBDIR (default
# /usr/lib/x86_64-linux-gnu, its subdirectories included unless
# --maxdepth 1), symlinks deduplicated by their real path.
# Each library is opened in a fresh process, once by glibc and once by
# libkdl (tools/corpus/probe), under a timeout, N at a time (default 2).
# --sample N keeps every Nth candidate (for the slow VM); LIB... checks
# just those.  Prints the counts and the failures grouped by cause; leaves
# results.tsv (path, glibc status, kdl status, glibc message, kdl message),
# failures.txt and report.txt in the output directory.  Exit status 1 when
# kdl refuses a library glibc loads.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/build
out=
jobs=2
tmo=20
sample=1
dir=/usr/lib/x86_64-linux-gnu
depth=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--timeout) tmo=$2; shift 2 ;;
	--sample) sample=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--maxdepth) depth=(-maxdepth "$2"); shift 2 ;;
	-h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--) shift; break ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
build=$(cd "$build" && pwd)
probe=$build/tools/corpus/probe
[ -x "$probe" ] || { echo "run.sh: $probe not built (make corpus)" >&2; exit 2; }
out=${out:-$build/corpus}
mkdir -p "$out"

# 1. Candidates: real files behind every entry (symlinks deduplicated by
#    realpath) that are x86-64 ELF shared objects.
if [ $# -gt 0 ]; then
	printf '%s\n' "$@" | xargs -r realpath -e >"$out/candidates.txt"
else
	find "$dir" "${depth[@]}" \( -type f -o -type l \) -print0 |
		xargs -0 -r realpath -zqe | sort -zu |
		xargs -0 -r "$probe" elf | awk -v n="$sample" '(NR - 1) % n == 0' \
		>"$out/candidates.txt"
fi

# 2. Probe each in fresh processes.  Status: ok, fail, timeout,
#    signal N (a crash) or exit N (a constructor that exits).
probe_one() {
	local lib=$1 who msg rc st res=()

	for who in glibc kdl; do
		rc=0
		msg=$(cd "$scratch" && timeout -k 2 "$tmo" "$probe" "$who" "$lib" \
			2>&1 >/dev/null </dev/null) || rc=$?
		case $rc in
		0) st=ok; msg= ;;
		3) st=fail; msg=$(printf '%s\n' "$msg" | sed -n 's/^probe: //p' | tail -n 1) ;;
		124|137) st=timeout; msg="no answer within ${tmo}s" ;;
		*)
			if [ "$rc" -gt 128 ]; then
				st="signal $((rc - 128))"
			else
				st="exit $rc"
			fi
			msg=$(printf '%s\n' "$msg" | grep -v '^$' | tail -n 1 | cut -c1-300)
			;;
		esac
		res+=("$st" "${msg:0:1000}")
	done
	printf '%s\t%s\t%s\t%s\t%s\n' "$lib" "${res[0]}" "${res[2]}" "${res[1]}" "${res[3]}"
}
export -f probe_one
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export probe tmo scratch
start=$(date +%s)
# A throwaway HOME and no display: constructors find nothing to talk to.
# shellcheck disable=SC2016 # $1 is the inner shell's
env -u DISPLAY -u WAYLAND_DISPLAY -u DBUS_SESSION_BUS_ADDRESS HOME="$scratch" \
	xargs -r -a "$out/candidates.txt" -d '\n' -P "$jobs" -I{} \
	bash -c 'probe_one "$1"' _ {} | sort >"$out/results.tsv"
secs=$(($(date +%s) - start))

# 3. The report.
python3 "$top/tools/corpus/report.py" "$out/results.tsv" "$secs" "$jobs" \
	"${KDL_BACKEND:-auto}" "$out/failures.txt" | tee "$out/report.txt"
! grep -q . "$out/failures.txt"

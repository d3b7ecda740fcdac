#!/bin/bash
# check.sh - run the host suite and/or the VM suite and print the summary.
#   tools/check.sh BUILD_DIR [host|vm]   (both when no suite is named)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: check.sh BUILD_DIR [host|vm]}" && pwd)
suites=${2:-host vm}
logs=()
mkdir -p "$build/test"
export BUILD=$build

for s in $suites; do
	log=$build/test/$s.tap
	logs+=("$log")
	echo "### $s suite"
	case $s in
	host)
		"$top/selftests/run.sh" host | tee "$log"
		;;
	vm)
		if [ ! -f "$top/kmod/kdl.ko" ]; then
			echo "not ok - vm suite: kmod/kdl.ko was not built" | tee "$log"
			continue
		fi
		"$top/tools/vm/run.sh" --out "$build/vm" -- "$top/selftests/run.sh" vm | tee "$log"
		rc=${PIPESTATUS[0]}
		if [ "$rc" -ne 0 ]; then
			echo "not ok - vm suite: the VM run failed (status $rc, see $build/vm/)" | tee -a "$log"
		fi
		;;
	esac
done
"$top/tools/tap-summary.sh" "${logs[@]}"

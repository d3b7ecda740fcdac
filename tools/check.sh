#!/bin/bash
# check.sh - run the suites and print one summary line for them all.
#   tools/check.sh BUILD_DIR ["host san vm"]   (host and vm when none named)
# san is the host suite on the ASan/UBSan build in build-san/ (no fuzzing:
# the fuzz targets carry their own sanitizers).
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
	san)
		BUILD=$top/build-san KDL_NO_FUZZ=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
			"$top/selftests/run.sh" host | tee "$log"
		;;
	vm)
		if [ ! -f "$top/kmod/kdl.ko" ]; then
			echo "not ok - vm suite: kmod/kdl.ko was not built" | tee "$log"
			continue
		fi
		"$top/tools/vm/run.sh" --timeout 600 --out "$build/vm" -- "$top/selftests/run.sh" vm | tee "$log"
		rc=${PIPESTATUS[0]}
		if [ "$rc" -ne 0 ]; then
			echo "not ok - vm suite: the VM run failed (status $rc, see $build/vm/)" | tee -a "$log"
		fi
		;;
	esac
done
"$top/tools/tap-summary.sh" "${logs[@]}"

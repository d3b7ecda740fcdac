#!/bin/bash
# check.sh - run the suites and print one summary line for them all.
#   tools/check.sh BUILD_DIR ["host san tsan vm vm-debug deb"]   (host and vm when none named)
# san is the host suite on the ASan/UBSan build in build-san/ (no fuzzing:
# the fuzz targets carry their own sanitizers).  vm-debug is the vm suite
# booted on the debug kernel (KASAN, lockdep, ...) with the kdl.ko built
# against it, both from tools/vm/debug-kernel.sh, which it runs first (the
# kernel is built once, about half an hour; kdl.ko again when its sources change).
# tsan is the library tests that start threads (selftests/run.sh threads)
# on the ThreadSanitizer build in build-tsan/, with the fixtures of BUILD_DIR.
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
	tsan)
		# The first race, lock-order inversion or misuse ends its test
		# program, which the harness reports as a failed test.
		t0=$(date +%s)
		BUILD=$top/build-tsan KDL_FIXTURES_DIR=$build/fixtures \
			TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
			"$top/selftests/run.sh" threads | tee "$log"
		echo "# tsan: $(($(date +%s) - t0)) s"
		;;
	vm)
		# KDL_KO: another kdl.ko to boot with, e.g. the one DKMS built
		# (make check-vm KO=/lib/modules/KVER/updates/dkms/kdl.ko).
		ko=${KDL_KO:-}; ko=${ko:-$top/kmod/kdl.ko}
		if [ ! -f "$ko" ]; then
			echo "not ok - vm suite: $ko was not built" | tee "$log"
			continue
		fi
		echo "# kdl.ko: $ko ($(modinfo -F version "$ko" 2>/dev/null))"
		# The ioctl stress runs 20000 requests here (about a minute);
		# make check-vm-stress runs its full 10^5.
		"$top/tools/vm/run.sh" --ko "$ko" --timeout 900 --out "$build/vm" -- \
			env KDL_STRESS_REQUESTS="${KDL_STRESS_REQUESTS:-20000}" \
			"$top/selftests/run.sh" vm | tee "$log"
		rc=${PIPESTATUS[0]}
		if [ "$rc" -ne 0 ]; then
			echo "not ok - vm suite: the VM run failed (status $rc, see $build/vm/)" | tee -a "$log"
		fi
		;;
	deb)
		# The .debs of make deb, installed in the VM on a writable
		# (overlay) root: DKMS builds kdl.ko there, then modprobe, kdl info.
		if ! ls "$build"/deb/*.deb >/dev/null 2>&1; then
			echo "not ok - deb suite: no .debs in $build/deb (make deb)" | tee "$log"
			continue
		fi
		t0=$(date +%s)
		"$top/tools/vm/run.sh" --overlay --no-ko --timeout 900 --out "$build/vm-deb" -- \
			"$top/tools/vm/deb-test.sh" "$build/deb" | tee "$log"
		rc=${PIPESTATUS[0]}
		echo "# deb: $(($(date +%s) - t0)) s in the VM"
		if [ "$rc" -ne 0 ]; then
			echo "not ok - deb suite: the VM run failed (status $rc, see $build/vm-deb/)" | tee -a "$log"
		fi
		;;
	vm-debug)
		dk=$("$top/tools/vm/debug-kernel.sh") ||
			{ echo "not ok - vm-debug suite: tools/vm/debug-kernel.sh failed" | tee "$log"; continue; }
		bz=$(sed -n 's/^bzImage //p' <<<"$dk")
		ko=$(sed -n 's/^ko //p' <<<"$dk")
		append=$(sed -n 's/^append //p' <<<"$dk")
		t0=$(date +%s)
		"$top/tools/vm/run.sh" --kernel "$bz" --ko "$ko" --append "$append" \
			--timeout "${KDL_VM_DEBUG_TIMEOUT:-5400}" --out "$build/vm-debug" -- \
			env BUILD="$build" KDL_STRESS_REQUESTS="${KDL_STRESS_REQUESTS:-8000}" \
			KDL_TEST_TIMEOUT_SCALE="${KDL_TEST_TIMEOUT_SCALE:-10}" \
			"$top/selftests/run.sh" vm | tee "$log"
		rc=${PIPESTATUS[0]}
		echo "# vm-debug: $(($(date +%s) - t0)) s in the VM"
		if [ "$rc" -ne 0 ]; then
			echo "not ok - vm-debug suite: the VM run failed (status $rc, see $build/vm-debug/)" | tee -a "$log"
		fi
		;;
	esac
done
"$top/tools/tap-summary.sh" "${logs[@]}"

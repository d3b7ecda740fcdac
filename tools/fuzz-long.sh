#!/bin/bash
# fuzz-long.sh - a long libFuzzer campaign over every target in BUILD/fuzz/,
# seeded from the tree's corpus, and a table of what it reached.
#
#   tools/fuzz-long.sh BUILD_DIR [TARGET...]      (make fuzz-long)
#
#   FUZZ_TIME=600     seconds per target
#   FUZZ_JOBS=nproc   targets fuzzed at once, one single-threaded process each
#   FUZZ_CACHE=DIR    where new inputs go, one directory per target
#                     (default ${XDG_CACHE_HOME:-~/.cache}/kdl-fuzz); kept
#                     between runs, so a campaign resumes where the last ended
#   FUZZ_MERGE=1      afterwards merge (libFuzzer -merge=1) what raised
#                     coverage back into selftests/fuzz/corpus/TARGET/
#   FUZZ_MERGE_ARGS=  options of that merge, e.g. -max_len=8192 to keep
#                     only small inputs (the tree's corpus stays < 3 MB)
#   FUZZ_ARGS=...     more libFuzzer options
#
# The tree's corpus is only read: libFuzzer writes new inputs into the first
# corpus directory it is given, the cache.  Crashes, leaks, timeouts and
# OOMs are saved to BUILD/fuzz-long/findings/TARGET/ and make the run fail;
# logs are BUILD/fuzz-long/TARGET.log, the table BUILD/fuzz-long/summary.txt.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: fuzz-long.sh BUILD_DIR [TARGET...]}" && pwd)
shift
time=${FUZZ_TIME:-600}
jobs=${FUZZ_JOBS:-$(nproc)}
cache=${FUZZ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kdl-fuzz}
out=$build/fuzz-long
targets=("$@")
[ ${#targets[@]} -eq 0 ] && for f in "$build"/fuzz/*_fuzz; do targets+=("${f##*/}"); done
mkdir -p "$out"

# run_one NAME: one campaign; status 1 when it found something.
run_one() {
	local fz=$build/fuzz/$1 seeds=$top/selftests/fuzz/corpus/$1
	local work=$cache/$1 found=$out/findings/$1 log=$out/$1.log stamp rc n
	[ -x "$fz" ] || { echo "fuzz-long: $fz was not built" >"$log"; return 1; }
	mkdir -p "$work" "$found" "$seeds"
	stamp=$(mktemp)
	# shellcheck disable=SC2086 # FUZZ_ARGS is a list of options
	(cd "$out" && UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} "$fz" \
		-max_total_time="$time" -print_final_stats=1 -rss_limit_mb=2048 -timeout=25 \
		-artifact_prefix="$found/" ${FUZZ_ARGS:-} "$work" "$seeds") >"$log" 2>&1
	rc=$?
	n=$(find "$found" -type f -newer "$stamp" \
		\( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	rm -f "$stamp"
	echo "findings: $n status: $rc" >>"$log"
	if [ "${FUZZ_MERGE:-}" = 1 ] && [ "$n" -eq 0 ]; then
		# shellcheck disable=SC2086 # FUZZ_MERGE_ARGS is a list of options
		(cd "$out" && "$fz" -merge=1 -rss_limit_mb=2048 ${FUZZ_MERGE_ARGS:-} \
			"$seeds" "$work") >"$out/$1.merge.log" 2>&1
		tail -n 1 "$out/$1.merge.log" >>"$log"
	fi
	[ "$rc" -eq 0 ] && [ "$n" -eq 0 ]
}

# row NAME: the table line from its log.
row() {
	local log=$out/$1.log st
	st=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
	printf '%-16s %12s %8s %6s %7s %14s %8s\n' "$1" \
		"$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)" \
		"$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)" \
		"$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$st")" \
		"$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$st")" \
		"$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$st")" \
		"$(sed -n 's/^findings: \([0-9]*\).*/\1/p' "$log")"
}

echo "fuzz-long: ${#targets[@]} targets, ${time}s each, $jobs at once; new inputs in $cache"
pids=()
for t in "${targets[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
	echo "fuzz-long: $t started $(date +%T)"
	run_one "$t" &
	pids+=("$!")
done
fail=0
for i in "${!pids[@]}"; do
	if ! wait "${pids[$i]}"; then
		fail=1
		echo "fuzz-long: ${targets[$i]} failed, see $out/${targets[$i]}.log and $out/findings/${targets[$i]}/"
	fi
done

{
	printf '%-16s %12s %8s %6s %7s %14s %8s\n' target executions exec/s cov ft corpus crashes
	total=0
	for t in "${targets[@]}"; do
		row "$t"
		n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log" | tail -n 1)
		total=$((total + ${n:-0}))
	done
	printf '%-16s %12s\n' total "$total"
} | tee "$out/summary.txt"
exit $fail

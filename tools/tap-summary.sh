#!/bin/sh
# tap-summary.sh - sum TAP results of the given logs into one line
# "N passed, N failed, N skipped"; exit 1 if anything failed or ran nothing.
#
# Two shapes: plain TAP ("ok ..."/"not ok ..." at the start of a line,
# selftests/run.sh's own), and kselftest's runner (run_kselftest.sh),
# which opens each program with "# selftests: COLLECTION: PROG", nests
# the program's TAP under "# ", and closes with its own "ok N selftests:
# ..." line.  Inside such a program the nested results count; its closing
# line counts only when they say nothing more: a program with no nested
# result (one that does not speak TAP, or died first) counts as one, and
# a "not ok" close (a crash, a timeout) after nested passes only counts
# as a failure when no nested one was reported.
set -eu
awk '
function count(line) {
	if (line ~ /^ok /) {
		if (line ~ /# *[Ss][Kk][Ii][Pp]/) skipped++; else passed++
	} else if (line ~ /^not ok/) {
		if (line ~ /# *TODO/) skipped++; else failed++
	}
}
/^# selftests: [^ ]*: / { inprog = 1; nested = 0; nfail = 0; next }
inprog && /^# (ok|not ok) / {
	line = substr($0, 3)
	count(line)
	nested++
	if (line ~ /^not ok/ && line !~ /# *TODO/) nfail++
	next
}
inprog && /^(ok|not ok) [0-9]+ selftests: / {
	inprog = 0
	if (nested == 0 || ($0 ~ /^not ok/ && nfail == 0)) count($0)
	next
}
/^(ok |not ok)/ { count($0) }
END {
	printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped
	exit (failed > 0 || passed == 0) ? 1 : 0
}' "$@"

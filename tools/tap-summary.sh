#!/bin/sh
# tap-summary.sh - sum TAP results of the given logs into one line
# "N passed, N failed, N skipped"; exit 1 if anything failed or ran nothing.
awk '
/^ok / {
	if ($0 ~ /# *[Ss][Kk][Ii][Pp]/) skipped++; else passed++
	next
}
/^not ok/ {
	if ($0 ~ /# *TODO/) skipped++; else failed++
}
END {
	printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped
	exit (failed > 0 || passed == 0) ? 1 : 0
}' "$@"

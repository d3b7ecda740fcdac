#!/bin/bash
# demo-body.sh - what "make demo" runs on each side (host, then VM).
set -eu
build=$1
if [ -e /dev/kdl ]; then
	echo "\$ grep ^kdl /proc/modules"
	grep '^kdl ' /proc/modules
fi
echo "\$ kdl info"
"$build/tools/kdl" info
for ex in "$build"/examples/*; do
	[ -x "$ex" ] || continue
	echo "\$ ${ex#"$build"/}"
	"$ex"
done

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
echo "\$ kdl ldd libpython3.11.so.1.0"
"$build/tools/kdl" ldd libpython3.11.so.1.0
echo "\$ kdl run libpython3.11.so.1.0:Py_BytesMain -c 'import sys; print(...)'"
"$build/tools/kdl" run libpython3.11.so.1.0:Py_BytesMain -c \
	'import sys, zlib; print("Python", sys.version.split()[0], "running from a kdl-loaded libpython; zlib", zlib.ZLIB_RUNTIME_VERSION)'
dir=$(mktemp -d)
mkdir -p "$dir/lib/x86_64"
cp /lib/x86_64-linux-gnu/libpng16.so.16 /lib/x86_64-linux-gnu/libz.so.1 "$dir/lib/x86_64/"
echo "\$ kdl pack app.zip lib/x86_64/libpng16.so.16 lib/x86_64/libz.so.1 && kdl ldd 'app.zip!/lib/x86_64/libpng16.so.16'"
"$build/tools/kdl" pack -C "$dir" "$dir/app.zip" lib/x86_64/libpng16.so.16 lib/x86_64/libz.so.1
(cd "$dir" && "$build/tools/kdl" ldd 'app.zip!/lib/x86_64/libpng16.so.16')
rm -rf "$dir"

#!/bin/bash
# demo.sh - show kdl's main job on the host (userspace backend) and in the
# VM through /dev/kdl.  Called by "make demo" after the build.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)

printf '\n== host: libkdl without the module\n'
"$top/tools/demo-body.sh" "$build"

printf '\n== VM: Debian kernel %s under QEMU/TCG, kdl.ko loaded\n' "$("$top/tools/kver.sh")"
"$top/tools/vm/run.sh" --out "$build/vm" -- "$top/tools/demo-body.sh" "$build"

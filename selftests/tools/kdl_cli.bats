#!/usr/bin/env bats
# kdl_cli.bats - the kdl command as a user meets it.

bats_require_minimum_version 1.5.0

setup() {
	KDL=${KDL:-$BATS_TEST_DIRNAME/../../build/tools/kdl}
}

@test "kdl --help lists the commands" {
	run "$KDL" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"info"* ]]
	[[ "$output" == *"KDL_BACKEND"* ]]
}

@test "kdl with an unknown command fails with a hint" {
	run "$KDL" frobnicate
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown command 'frobnicate'"* ]]
}

@test "kdl info names the backend libkdl would use" {
	run env -u KDL_BACKEND "$KDL" info
	[ "$status" -eq 0 ]
	if [ -e /dev/kdl ]; then
		[[ "$output" == *"module:      present"* ]]
		[[ "$output" == *"backend:     kernel"* ]]
	else
		[[ "$output" == *"module:      absent"* ]]
		[[ "$output" == *"backend:     user"* ]]
	fi
}

@test "kdl info with KDL_BACKEND=user uses the user backend" {
	KDL_BACKEND=user run "$KDL" info
	[ "$status" -eq 0 ]
	[[ "$output" == *"backend:     user"* ]]
}

@test "kdl info with a forced kernel backend fails without the module" {
	[ -e /dev/kdl ] && skip "/dev/kdl present"
	KDL_BACKEND=kernel run "$KDL" info
	[ "$status" -eq 1 ]
	[[ "$output" == *"kernel backend forced but unusable"* ]]
}

@test "kdl run calls a symbol of a real library and returns its status" {
	run "$KDL" run libz.so.1:zlibCompileFlags
	# zlibCompileFlags() returns a bit mask; run exits with its low byte.
	want=$(python3 -c 'import ctypes; print(ctypes.CDLL("libz.so.1").zlibCompileFlags() & 255)')
	[ "$status" -eq "$want" ]
}

@test "kdl run runs Python's main from libpython" {
	# Python does not free everything at exit: not a leak of ours.
	ASAN_OPTIONS=detect_leaks=0 run "$KDL" run libpython3.11.so.1.0:Py_BytesMain \
		-c 'import sys; print("sum", sum(range(10)))'
	[ "$status" -eq 0 ]
	[[ "$output" == *"sum 45"* ]]
}

@test "kdl run: Python's C extension modules load through kdl's dlopen" {
	# _ssl, _hashlib, _ctypes and _decimal live in lib-dynload and bind to
	# the kdl-loaded libpython: glibc's dlopen could not resolve them.
	ASAN_OPTIONS=detect_leaks=0 run "$KDL" run libpython3.11.so.1.0:Py_BytesMain -c '
import _ssl, _hashlib, _ctypes, _decimal, sys
print("ssl", _ssl.OPENSSL_VERSION.split()[0])
print("ext", _decimal.__file__.split("/")[-1])
print("dec", _decimal.Decimal(1) / 8)'
	[ "$status" -eq 0 ]
	[[ "$output" == *"ssl OpenSSL"* ]]
	[[ "$output" == *"ext _decimal.cpython-311-x86_64-linux-gnu.so"* ]]
	[[ "$output" == *"dec 0.125"* ]]
}

@test "kdl run with a missing symbol fails with its name" {
	run -127 "$KDL" run libz.so.1:no_such_function_here
	[ "$status" -eq 127 ]
	[[ "$output" == *"undefined symbol: no_such_function_here"* ]]
}

@test "kdl ldd shows kdl-loaded and process-bound objects" {
	run "$KDL" ldd libpython3.11.so.1.0
	[ "$status" -eq 0 ]
	[[ "$output" == *"libz.so.1 => "*"loaded by kdl"* ]]
	[[ "$output" == *"libexpat.so.1 => "*"loaded by kdl"* ]]
	[[ "$output" == *"libc.so.6 => "*"process's copy"* ]]
	[[ "$output" == *"libm.so.6 => "*"process's copy"* ]]
}

@test "kdl ldd names each object's namespace" {
	fx=$(dirname "$KDL")/../fixtures
	run "$KDL" ldd --ns plugins --library-path "$fx/ns/a" libfx_plugin_a.so
	[ "$status" -eq 0 ]
	[[ "$output" == *"libfx_plugin_a.so => "*"/ns/a/libfx_plugin_a.so (loaded by kdl at 0x"*", ns plugins)"* ]]
	[[ "$output" == *"libfx_dual.so.1 => "*"/ns/a/libfx_dual.so.1 (loaded by kdl at 0x"*", ns plugins)"* ]]
	[[ "$output" == *"libc.so.6 => "*"(process's copy, 0x"*", ns process)"* ]]
	run "$KDL" ldd "$fx/libfx_basic.so"
	[[ "$output" == *"libfx_basic.so => "*", ns default)"* ]]
}

@test "kdl ldd --isolated refuses what lies outside, naming the namespace" {
	fx=$(cd "$(dirname "$KDL")/../fixtures" && pwd)
	run "$KDL" ldd --ns app --isolated --library-path "$fx/ns/a" "$fx/ns/a/libfx_plugin_a.so"
	[ "$status" -eq 0 ]
	run "$KDL" ldd --ns app --isolated --library-path "$fx/ns/a" libpng16.so.16
	[ "$status" -eq 1 ]
	[[ "$output" == *"libpng16.so"*"is outside the paths of isolated namespace \"app\" ($fx/ns/a)"* ]]
	# Negative control: the same namespace, not isolated.
	run "$KDL" ldd --ns app --library-path "$fx/ns/a" libpng16.so.16
	[ "$status" -eq 0 ]
}

@test "kdl info LIB shows its tree namespace by namespace, placed by the namespace" {
	run "$KDL" info --ns guest --window 0x10000000:0x100000000 --mirror 0x200000000000 libpng16.so.16
	[ "$status" -eq 0 ]
	[[ "$output" == *"namespace:   guest"* ]]
	[[ "$output" == *"mapped:      0x1"*" by the "*" backend"* ]]
	[[ "$output" == *"mirror:      0x2000"* ]]
	[[ "$output" == *"  guest      0x0000"*"/libpng16.so.16"* ]]
	[[ "$output" == *"  guest      0x0000"*"/libz.so.1"* ]]
	run "$KDL" info --window 0x10000000 libz.so.1
	[ "$status" -eq 2 ]
}

@test "kdl ldd of a missing library fails" {
	run "$KDL" ldd libkdl-none-such.so.3
	[ "$status" -eq 1 ]
	[[ "$output" == *"libkdl-none-such.so.3"* ]]
}

@test "kdl run starts again with more static TLS when a library's initial-exec TLS does not fit" {
	lib=$(dirname "$KDL")/../fixtures/libfx_tls_ie_big.so
	run env -u GLIBC_TUNABLES -u KDL_RUN_STATIC_TLS "$KDL" run "$lib:fx_ie_main"
	[ "$status" -eq 0 ]
	[[ "$output" == *"starting again with GLIBC_TUNABLES=glibc.rtld.optional_static_tls="* ]]
	[[ "$output" == *"initial-exec TLS ok"* ]]
}

@test "kdl run without the retry reports the static TLS it lacks" {
	lib=$(dirname "$KDL")/../fixtures/libfx_tls_ie_big.so
	# KDL_RUN_STATIC_TLS: what the last start set; at the cap, no retry.
	run -127 env -u GLIBC_TUNABLES KDL_RUN_STATIC_TLS=8388608 "$KDL" run "$lib:fx_ie_main"
	[ "$status" -eq 127 ]
	[[ "$output" == *"libfx_tls_ie_big.so: initial-exec TLS needs"* ]]
	[[ "$output" == *"glibc.rtld.optional_static_tls"* ]]
	[[ "$output" != *"starting again"* ]]
}

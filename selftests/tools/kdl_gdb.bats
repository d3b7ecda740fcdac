#!/usr/bin/env bats
# kdl_gdb.bats - gdb sees what libkdl loads: a pending breakpoint in a
# kdl-loaded libz hits, backtraces name its functions, "info sharedlibrary"
# lists it until kdl_close, also after attaching; KDL_DEBUG=0 (nothing
# published) is the negative control that shows each check can fail.

setup() {
	BUILD=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build
	[ -n "${KDL:-}" ] && BUILD=$(cd "$(dirname "$KDL")/.." && pwd)
	TARGET=$BUILD/selftests/tools/gdb_target
	LIBZ=/lib/x86_64-linux-gnu/libz.so.1
	command -v gdb >/dev/null || skip "gdb is not installed"
	[ -x "$TARGET" ] || skip "$TARGET not built"
	# LeakSanitizer cannot run under ptrace and fails the exit.
	if nm "$TARGET" 2>/dev/null | grep -q __asan_init; then
		export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	fi
}

# Every gdb below ignores separate debug info (libc6-dbg, where installed,
# quadruples its start-up, and under TCG that is minutes): the tests need
# only the symbols of the objects themselves.

# gdb_batch [ENV=V...] -- GDB_COMMAND... : gdb on gdb_target in batch mode;
# every command is its own -ex, so one that fails does not stop the rest.
gdb_batch() {
	local envs=() ex=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	for c in "$@"; do ex+=(-ex "$c"); done
	run env "${envs[@]}" timeout 120 gdb -nx -q -batch -iex 'set debug-file-directory /nonexistent' -ex 'set pagination off' \
		-ex 'set confirm off' -ex 'set breakpoint pending on' "${ex[@]}" \
		--args "$TARGET" "${ARGS[@]}"
}

# The part of $output between "echo ==A==" and "echo ==B==".
between() {
	sed -n "/^==$1==/,/^==$2==/p" <<<"$output"
}

@test "a pending breakpoint at deflate in kdl-loaded libz stops, bt names the frame" {
	ARGS=(file)
	gdb_batch -- 'break deflate' run bt 'echo ==loaded==\n' 'info sharedlibrary' \
		'echo ==end==\n'
	[[ "$output" == *"Breakpoint 1, "*" in deflate () from $LIBZ"* ]]
	between loaded end | grep -q " $LIBZ\$"
	[[ "$output" == *"#0  0x"*" in deflate () from $LIBZ"* ]]
	[[ "$output" == *"#1  0x"*" in squeeze "* ]]
	[[ "$output" != *"?? ()"* ]]
}

@test "frames inside libz carry libz's names" {
	ARGS=(file)
	gdb_batch -- 'break adler32_z' run bt
	[[ "$output" == *"#0  0x"*" in adler32_z () from $LIBZ"* ]]
	[[ "$output" == *" in deflateInit_ () from $LIBZ"* ]]
	[[ "$output" == *" in squeeze "* ]]
	[[ "$output" != *"?? ()"* ]]
}

@test "after kdl_close libz is gone from info sharedlibrary" {
	ARGS=(file)
	gdb_batch -- 'break gdb_loaded' 'break gdb_closed' run 'echo ==loaded==\n' \
		'info sharedlibrary' 'echo ==mid==\n' continue 'echo ==closed==\n' \
		'info sharedlibrary' 'echo ==end==\n'
	between loaded mid | grep -q " $LIBZ\$"
	between closed end | grep -q "libc.so.6"
	! between closed end | grep -q "libz"
}

@test "negative control: with KDL_DEBUG=0 gdb neither stops in nor lists libz" {
	ARGS=(file)
	gdb_batch KDL_DEBUG=0 -- 'break deflate' 'break gdb_loaded' run 'echo ==loaded==\n' \
		'info sharedlibrary' 'echo ==end==\n' bt
	[[ "$output" != *" in deflate () from"* ]]
	[[ "$output" == *"Breakpoint 2, gdb_loaded ()"* ]]
	between loaded end | grep -q "libc.so.6"
	! between loaded end | grep -q "libz"
}

@test "an image loaded from memory (a memfd copy) is listed and breakable" {
	ARGS=(mem)
	gdb_batch -- 'break deflate' run bt 'echo ==loaded==\n' 'info sharedlibrary' \
		'echo ==end==\n'
	[[ "$output" == *"Breakpoint 1, "*" in deflate () from /proc/"*"/map_files/"* ]]
	between loaded end | grep -q "/map_files/"
	[[ "$output" == *" in squeeze "* ]]
}

@test "an image inside a zip container is listed and breakable through a copy" {
	local dir=$BATS_TEST_TMPDIR
	mkdir -p "$dir/lib"
	cp "$LIBZ" "$dir/lib/"
	"$BUILD/tools/kdl" pack -C "$dir" "$dir/app.apk" lib/libz.so.1
	ARGS=(open "$dir/app.apk!/lib/libz.so.1")
	gdb_batch -- 'break deflate' run bt 'echo ==loaded==\n' 'info sharedlibrary' \
		'echo ==end==\n'
	[[ "$output" == *"Breakpoint 1, "*" in deflate () from /proc/"*"/fd/"* ]]
	between loaded end | grep -q "/proc/[0-9]*/fd/[0-9]*\$"
	[[ "$output" == *" in squeeze "* ]]
}

@test "gdb attached to a running process sees libz, stops in it, and sees it go" {
	local flag=$BATS_TEST_TMPDIR/stop out=$BATS_TEST_TMPDIR/out pid
	"$TARGET" wait "$flag" >"$out" &
	for _ in $(seq 100); do grep -q '^pid' "$out" && break; sleep 0.05; done
	pid=$(awk '/^pid/ { print $2 }' "$out")
	[ -n "$pid" ]
	run timeout 120 gdb -nx -q -batch -iex 'set debug-file-directory /nonexistent' -ex 'set pagination off' -ex 'set confirm off' \
		-ex 'echo ==attached==\n' -ex 'info sharedlibrary' -ex 'echo ==mid==\n' \
		-ex 'break deflate' -ex continue -ex bt -ex "shell touch $flag" -ex 'delete 1' \
		-ex 'break gdb_closed' -ex continue -ex 'echo ==closed==\n' \
		-ex 'info sharedlibrary' -ex 'echo ==end==\n' -p "$pid"
	touch "$flag"
	wait
	between attached mid | grep -q " $LIBZ\$"
	[[ "$output" == *"#0  0x"*" in deflate () from $LIBZ"* ]]
	[[ "$output" == *" in squeeze "* ]]
	between closed end | grep -q "libc.so.6"
	! between closed end | grep -q "libz"
}

@test "negative control: attached with KDL_DEBUG=0, libz is not listed" {
	local flag=$BATS_TEST_TMPDIR/stop out=$BATS_TEST_TMPDIR/out pid
	KDL_DEBUG=0 "$TARGET" wait "$flag" >"$out" &
	for _ in $(seq 100); do grep -q '^pid' "$out" && break; sleep 0.05; done
	pid=$(awk '/^pid/ { print $2 }' "$out")
	[ -n "$pid" ]
	run timeout 120 gdb -nx -q -batch -iex 'set debug-file-directory /nonexistent' -ex 'echo ==attached==\n' -ex 'info sharedlibrary' \
		-ex 'echo ==end==\n' -p "$pid"
	touch "$flag"
	wait
	between attached end | grep -q "libc.so.6"
	! between attached end | grep -q "libz"
}

@test "printing a TLS variable of a kdl object is refused without harming gdb" {
	# kdl's TLS blocks are not in glibc's DTV, which is all libthread_db
	# reads; the padded record makes it answer "no TLS" instead of
	# reading past a short record.
	ARGS=(tls "$BUILD/fixtures/libfx_tls.so")
	gdb_batch -- 'break gdb_loaded' run 'print fx_tls_counter' 'print fx_tls_get' \
		'print 6*7' continue
	[[ "$output" == *"Cannot find thread-local storage"*"libfx_tls.so"* ]]
	[[ "$output" == *"<fx_tls_get>"* ]]
	[[ "$output" == *"= 42"* ]]
	[[ "$output" == *"exited normally"* ]]
}

@test "a thread-local variable of an initial-exec object prints, and is the object's own" {
	# Its block is static, in a carrier glibc loaded: the record carries
	# the carrier's glibc module id, which libthread_db knows.
	ARGS=(tls "$BUILD/fixtures/libfx_tls_ie.so")
	gdb_batch -- 'break gdb_loaded' run 'print *(int *)&fx_tls_counter' \
		'call (void)fx_tls_set(11)' 'print *(int *)&fx_tls_counter' \
		'print (int)fx_tls_get()' continue
	[[ "$output" == *"\$1 = 5"* ]]
	[[ "$output" != *"Cannot find thread-local storage"* ]]
	# Some kernels refuse gdb's write of the xsave state an inferior call
	# restores (seen on a 6.18 host): the calls cannot be judged there.
	if [[ "$output" == *"Couldn't write extended state status"* ]]; then
		skip "gdb cannot call functions in the inferior on this kernel (xstate write refused)"
	fi
	[[ "$output" == *"\$2 = 11"* ]]
	[[ "$output" == *"\$3 = 11"* ]]
	[[ "$output" != *"Cannot find thread-local storage"* ]]
	[[ "$output" == *"exited normally"* ]]
}

@test "with the probe notification forced, gdb still stops and the notifier is never listed" {
	ARGS=(file)
	gdb_batch KDL_DEBUG=probes -- 'break deflate' 'break gdb_closed' run bt continue \
		'echo ==closed==\n' 'info sharedlibrary' 'echo ==end==\n'
	[[ "$output" == *"#0  0x"*" in deflate () from $LIBZ"* ]]
	between closed end | grep -q "libc.so.6"
	! between closed end | grep -q "/fd/"
	! between closed end | grep -q "libz"
}

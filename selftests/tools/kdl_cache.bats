#!/usr/bin/env bats
# kdl_cache.bats - "kdl cache": building, listing, verifying and clearing
# relocation cache entries, in a private cache directory.

bats_require_minimum_version 1.5.0

LIBDIR=/lib/x86_64-linux-gnu

setup() {
	KDL=${KDL:-$BATS_TEST_DIRNAME/../../build/tools/kdl}
	# In the VM only what the kernel backend changes: building and taking
	# an entry.  The rest is files and messages, the host suite's (bats is
	# minutes under TCG).
	if [ "${KDL_SUITE:-}" = vm ] && [[ "$BATS_TEST_DESCRIPTION" != build* ]]; then
		skip "the host suite's (file and message checks)"
	fi
	[ -r $LIBDIR/libcrypto.so.3 ] && [ -r $LIBDIR/libssl.so.3 ] && [ -r $LIBDIR/libz.so.1 ] ||
		skip "libcrypto.so.3, libssl.so.3 or libz.so.1 missing in $LIBDIR"
	work=$BATS_TEST_TMPDIR
	export KDL_CACHE_DIR=$work/cache
	export KDL_CACHE_SYSTEM_DIR=$work/system/kdl
	unset KDL_CACHE
	# libz has two writable pages: cached here too, as these tests are
	# about entries (but the threshold's own, which unsets this).
	export KDL_CACHE_MIN_PAGES=1
	mkdir -p "$work/lib"
	# The kdl command links libz itself: a copy elsewhere is kdl's to load.
	cp $LIBDIR/libz.so.1 "$work/lib/libz.so.1"
}

# The entry lines of "kdl cache list" (or verify) whose status is $1.
entries() {
	awk -v st="$1" '$2 == st' <<<"$output"
}

# Flip the last byte of file $1: inside the pages an entry ends with.
flip_last_byte() {
	python3 -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(-1, 2)
    b = f.read(1)
    f.seek(-1, 2)
    f.write(bytes([b[0] ^ 0xff]))' "$1"
}

@test "kdl --help lists cache and its environment" {
	run "$KDL" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"cache"*"build [--system] LIB"* ]]
	[[ "$output" == *"KDL_CACHE="* ]]
	[[ "$output" == *"KDL_CACHE_DIR="* ]]
	[[ "$output" == *"KDL_CACHE_SYSTEM_DIR="* ]]
	[[ "$output" == *"KDL_CACHE_MIN_PAGES="* ]]
}

@test "kdl cache with bad arguments prints its usage" {
	run -2 "$KDL" cache
	[[ "$output" == *"usage: kdl cache build"* ]]
	run -2 "$KDL" cache frob
	run -2 "$KDL" cache list extra
	run -2 "$KDL" cache verify --bogus
	run -2 "$KDL" cache build
	run -2 "$KDL" cache build --system
}

@test "cache dir: KDL_CACHE_DIR, else XDG_CACHE_HOME, else HOME; --system" {
	run "$KDL" cache dir
	[ "$status" -eq 0 ]
	[ "$output" = "$work/cache" ]
	run env -u KDL_CACHE_DIR XDG_CACHE_HOME=/x/y "$KDL" cache dir
	[ "$output" = "/x/y/kdl" ]
	# A relative XDG_CACHE_HOME is ignored, as the XDG rule says.
	run env -u KDL_CACHE_DIR XDG_CACHE_HOME=rel HOME=/h "$KDL" cache dir
	[ "$output" = "/h/.cache/kdl" ]
	run -1 env -u KDL_CACHE_DIR -u XDG_CACHE_HOME -u HOME "$KDL" cache dir
	[[ "$output" == *"no user cache directory"* ]]
	# A relative KDL_CACHE_DIR would follow the cwd: no user cache.
	run -1 env KDL_CACHE_DIR=rel "$KDL" cache dir
	[[ "$output" == *"no user cache directory"* ]]
	run "$KDL" cache dir --system
	[ "$output" = "$work/system/kdl" ]
	run env -u KDL_CACHE_SYSTEM_DIR "$KDL" cache dir --system
	[ "$output" = "/var/cache/kdl" ]
}

@test "build caches a real library; the next load takes the entry" {
	run "$KDL" cache build libcrypto.so.3
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "libcrypto.so.3" ]]
	[[ "$output" == *"$LIBDIR/libcrypto.so.3: cached"* ]]
	# libc is the process's own: never cached, not listed.
	[[ "$output" != *"libc.so.6"* ]]
	# The entries are this user's alone.
	[ "$(stat -c %a "$work/cache")" = 700 ]
	for f in "$work"/cache/*; do
		[ "$(stat -c %a "$f")" = 600 ]
	done
}

@test "build reports each dependency kdl loaded" {
	run "$KDL" cache build libssl.so.3
	[ "$status" -eq 0 ]
	[[ "$output" == *"$LIBDIR/libssl.so.3: cached"* ]]
	[[ "$output" == *"$LIBDIR/libcrypto.so.3: cached"* ]]
	# libcrypto is a dependency of libssl only: listed once.
	[ "$(grep -c libcrypto <<<"$output")" -eq 1 ]
}

@test "build says so for a library the process already has" {
	run "$KDL" cache build libz.so.1
	[ "$status" -eq 0 ]
	[[ "$output" == *"the process's own copy, not loaded by kdl"* ]]
}

@test "build leaves a library of fewer than KDL_CACHE_MIN_PAGES writable pages uncached" {
	unset KDL_CACHE_MIN_PAGES
	run "$KDL" cache build "$work/lib/libz.so.1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$work/lib/libz.so.1: not cached"*"KDL_CACHE_MIN_PAGES"* ]]
	[ -z "$(ls "$work/cache")" ]
	# Its reason, from the loader itself.
	KDL_CACHE_LOG=1 run "$KDL" cache build "$work/lib/libz.so.1"
	[[ "$output" == *"2 writable pages, fewer than KDL_CACHE_MIN_PAGES=4: relocated in this process"* ]]
	# The control: at 2, it is cached.
	KDL_CACHE_MIN_PAGES=2 run "$KDL" cache build "$work/lib/libz.so.1"
	[[ "$output" == *"$work/lib/libz.so.1: cached"* ]]
}

@test "build of several libraries, one missing, fails but builds the others" {
	run "$KDL" cache build "$work/lib/libz.so.1" "$work/lib/no-such.so" libcrypto.so.3
	[ "$status" -eq 1 ]
	[[ "$output" == *"no-such.so"* ]]
	[[ "$output" == *"$work/lib/libz.so.1: cached"* ]]
	[[ "$output" == *"$LIBDIR/libcrypto.so.3: cached"* ]]
}

@test "list shows ok entries with base, pages, fixups and object" {
	"$KDL" cache build libcrypto.so.3 "$work/lib/libz.so.1"
	run "$KDL" cache list
	[ "$status" -eq 0 ]
	[ -n "$(entries ok | grep " $LIBDIR/libcrypto.so.3")" ]
	[ -n "$(entries ok | grep " $work/lib/libz.so.1")" ]
	# Every line: a name, "ok", base 0x..., pages N, fixups N, the object.
	while read -r name st b base p pages fx fixups obj rest; do
		[[ "$name" =~ ^[0-9a-f]{32}$ ]]
		[ "$st" = ok ] && [ "$b" = base ] && [ "$p" = pages ] && [ "$fx" = fixups ]
		[[ "$base" =~ ^0x[0-9a-f]+$ ]]
		[ "$pages" -gt 0 ]
		[ "$fixups" -ge 0 ]
		[ -e "$obj" ]
		[ -f "$work/cache/$name" ]
	done <<<"$output"
	# Nothing but the entries.
	[ "${#lines[@]}" -eq "$(ls "$work/cache" | wc -l)" ]
}

@test "list and verify of a missing cache directory: nothing, status 0" {
	run "$KDL" cache list
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run "$KDL" cache verify
	[ "$status" -eq 0 ]
	[[ "$output" == "0 entries, 0 not ok" ]]
}

@test "verify passes on fresh entries" {
	"$KDL" cache build libcrypto.so.3
	run "$KDL" cache verify
	[ "$status" -eq 0 ]
	[[ "${lines[-1]}" =~ ^[1-9][0-9]*\ entries,\ 0\ not\ ok$ ]]
}

@test "verify finds a flipped byte in an entry's pages" {
	"$KDL" cache build "$work/lib/libz.so.1"
	name=$(ls "$work/cache" | head -n 1)
	flip_last_byte "$work/cache/$name"
	# list reads only the header and tables: the entry looks fine there.
	run "$KDL" cache list
	[ "$status" -eq 0 ]
	run -1 "$KDL" cache verify
	bad=$(entries corrupt)
	[[ "$bad" == *"$work/lib/libz.so.1 (checksum mismatch in its pages)"* ]]
	# Its second name is the same file: corrupt too.
	[ "$(wc -l <<<"$bad")" -eq "$(ls "$work/cache" | wc -l)" ]
	# The loader refuses it too, relocates afresh and writes it again.
	run "$KDL" cache build "$work/lib/libz.so.1"
	[[ "$output" == *"$work/lib/libz.so.1: cached"* ]]
	run "$KDL" cache verify
	[ "$status" -eq 0 ]
}

@test "list says corrupt for a truncated entry and for garbage" {
	"$KDL" cache build "$work/lib/libz.so.1"
	name=$(ls "$work/cache" | head -n 1)
	cp "$work/cache/$name" "$work/copy"
	rm "$work/cache/$name"
	head -c 5000 "$work/copy" >"$work/cache/$name"
	chmod 600 "$work/cache/$name"
	head -c 100 /dev/urandom >"$work/cache/0123456789abcdef0123456789abcdef"
	chmod 600 "$work/cache/0123456789abcdef0123456789abcdef"
	run "$KDL" cache list
	[ "$status" -eq 0 ]
	[[ "$(entries corrupt)" == *"$name"*"truncated or grown since it was written"* ]]
	[[ "$(entries corrupt)" == *"0123456789abcdef0123456789abcdef  corrupt  not a kdl cache entry"* ]]
	run -1 "$KDL" cache verify
}

@test "an entry copied under another name is corrupt: its name is not its key's" {
	"$KDL" cache build "$work/lib/libz.so.1"
	name=$(ls "$work/cache" | head -n 1)
	cp -p "$work/cache/$name" "$work/cache/00000000000000000000000000000000"
	run "$KDL" cache list
	[[ "$(entries corrupt)" == "00000000000000000000000000000000"*"file name is not its key's"* ]]
	[ -n "$(entries ok | grep "^$name")" ]
}

@test "list says stale once the object's file is modified, replaced or gone" {
	"$KDL" cache build "$work/lib/libz.so.1"
	run "$KDL" cache list
	[ -z "$(entries stale)" ]
	[ -n "$(entries ok)" ]

	touch "$work/lib/libz.so.1"
	run "$KDL" cache list
	[ "$status" -eq 0 ]
	[ -z "$(entries ok)" ]
	[[ "$(entries stale)" == *"$work/lib/libz.so.1 (object file modified)"* ]]
	run -1 "$KDL" cache verify

	cp "$work/lib/libz.so.1" "$work/lib/new" && mv "$work/lib/new" "$work/lib/libz.so.1"
	run "$KDL" cache list
	[[ "$(entries stale)" == *"(object file replaced)"* ]]

	rm "$work/lib/libz.so.1"
	run "$KDL" cache list
	[[ "$(entries stale)" == *"(object file gone)"* ]]
}

@test "list says stale for entries of another libkdl" {
	# A copy of the command and its libkdl: that libkdl with another
	# build-id is "another" one, whose entries no process of this one's
	# uses (libkdl names itself by build-id; touching it is not enough).
	local dir=$(dirname "$KDL")/..
	mkdir -p "$work/tree/tools" "$work/tree/lib"
	cp "$KDL" "$work/tree/tools/kdl"
	cp -P "$dir"/lib/libkdl.so "$dir"/lib/libkdl.so.0 "$work/tree/lib/"
	"$work/tree/tools/kdl" cache build "$work/lib/libz.so.1"
	run "$work/tree/tools/kdl" cache verify
	[ "$status" -eq 0 ]
	touch "$work/tree/lib/libkdl.so"
	run "$work/tree/tools/kdl" cache verify
	[ "$status" -eq 0 ]
	objcopy --remove-section=.note.gnu.build-id "$work/tree/lib/libkdl.so"
	run -1 "$work/tree/tools/kdl" cache verify
	[[ "$(entries stale)" == *"(written by another libkdl)"* ]]
}

@test "list says foreign for an entry others may write, or another user's" {
	"$KDL" cache build "$work/lib/libz.so.1"
	name=$(ls "$work/cache" | head -n 1)
	# Both names of the entry are links to the file: both change.
	chmod g+w "$work/cache/$name"
	run "$KDL" cache list
	[ -z "$(entries ok)" ]
	[ "$(entries foreign | grep "^$name ")" = "$name  foreign  writable by group or others" ]
	run -1 "$KDL" cache verify
	chmod g-w "$work/cache/$name"
	if [ "$(id -u)" -eq 0 ]; then
		chown 65534 "$work/cache/$name"
		run "$KDL" cache list
		[ "$(entries foreign | grep "^$name ")" = "$name  foreign  not owned by this user" ]
	fi
}

@test "a symlink named as an entry is reported, not followed, and clear keeps its target" {
	"$KDL" cache build "$work/lib/libz.so.1"
	name=$(ls "$work/cache" | head -n 1)
	# A valid entry kept elsewhere, linked in under a name of its own.
	mkdir "$work/elsewhere"
	cp -p "$work/cache/$name" "$work/elsewhere/entry"
	link=ffffffffffffffffffffffffffffffff
	ln -s "$work/elsewhere/entry" "$work/cache/$link"
	run "$KDL" cache list
	[ "$status" -eq 0 ]
	[[ "$(entries foreign)" == "$link  foreign  a symbolic link (not followed)" ]]
	run -1 "$KDL" cache verify
	run "$KDL" cache clear
	[ "$status" -eq 0 ]
	[ ! -L "$work/cache/$link" ]
	[ -f "$work/elsewhere/entry" ]
}

@test "stray temp files are listed as temp and cleared" {
	"$KDL" cache build "$work/lib/libz.so.1"
	name=$(ls "$work/cache" | head -n 1)
	: >"$work/cache/.$name.12345.tmp"
	run "$KDL" cache list
	[[ "$(entries temp)" == ".$name.12345.tmp  temp" ]]
	# A temp file is no entry: verify does not fail for it.
	run "$KDL" cache verify
	[ "$status" -eq 0 ]
	run "$KDL" cache clear
	[[ "$output" == *"1 temp file"* ]]
	[ ! -e "$work/cache/.$name.12345.tmp" ]
}

@test "clear removes every entry and nothing else" {
	"$KDL" cache build libcrypto.so.3 "$work/lib/libz.so.1"
	n=$(ls "$work/cache" | wc -l)
	[ "$n" -gt 0 ]
	echo keep >"$work/cache/notes.txt"
	echo keep >"$work/cache/0123456789ABCDEF0123456789ABCDEF"
	echo keep >"$work/cache/0123456789abcdef0123456789abcdef0"
	echo keep >"$work/cache/.0123456789abcdef0123456789abcdef.tmp"
	mkdir "$work/cache/fedcba9876543210fedcba9876543210"
	run "$KDL" cache clear
	[ "$status" -eq 0 ]
	[[ "$output" == "$work/cache: removed $n entries, 0 temp files (1 not files, left alone)" ]]
	[ "$(ls -A "$work/cache" | sort | tr '\n' ' ')" = \
	  ".0123456789abcdef0123456789abcdef.tmp 0123456789ABCDEF0123456789ABCDEF 0123456789abcdef0123456789abcdef0 fedcba9876543210fedcba9876543210 notes.txt " ]
	# Of what is left, only the directory has an entry's name.
	run "$KDL" cache list
	[ "$output" = "fedcba9876543210fedcba9876543210  foreign  not a regular file" ]
	run "$KDL" cache clear
	[[ "$output" == "$work/cache: removed 0 entries, 0 temp files (1 not files, left alone)" ]]
}

@test "build refuses an untrusted cache directory" {
	mkdir -m 0777 "$work/cache"
	run -1 "$KDL" cache build "$work/lib/libz.so.1"
	[[ "$output" == *"writable by group or others"* ]]
	run "$KDL" cache list
	[[ "$output" == *"warning"*"kdl ignores its entries"* ]]
}

@test "build --system is refused to a user who is not root" {
	if [ "$(id -u)" -eq 0 ]; then
		command -v setpriv >/dev/null || skip "setpriv not installed"
		as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
		"${as_user[@]}" test -x "$KDL" || skip "$KDL not executable by uid 65534"
	else
		as_user=()
	fi
	run -1 "${as_user[@]}" "$KDL" cache build --system "$work/lib/libz.so.1"
	[[ "$output" == *"only root may write the system cache ($work/system/kdl)"* ]]
	[ ! -e "$work/system/kdl" ]
}

@test "build --system as root writes root's read-only entries there" {
	[ "$(id -u)" -eq 0 ] || skip "not root"
	run "$KDL" cache build --system "$work/lib/libz.so.1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$work/lib/libz.so.1: cached"* ]]
	[ "$(stat -c %a "$work/system/kdl")" = 755 ]
	[ -n "$(ls "$work/system/kdl")" ]
	for f in "$work"/system/kdl/*; do
		[ "$(stat -c %a:%u "$f")" = 644:0 ]
	done
	# Nothing in the user cache.
	[ ! -e "$work/cache" ]
	run "$KDL" cache verify --system
	[ "$status" -eq 0 ]
	[ -n "$(entries ok | grep " $work/lib/libz.so.1")" ]
	run "$KDL" cache clear --system
	[ -z "$(ls "$work/system/kdl")" ]
}

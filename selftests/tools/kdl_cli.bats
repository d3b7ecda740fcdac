#!/usr/bin/env bats
# kdl_cli.bats - the kdl command as a user meets it.

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

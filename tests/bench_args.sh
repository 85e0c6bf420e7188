#!/bin/bash
# SPDX-License-Identifier: MIT
# znst-bench refuses bad options with one line naming them, before it
# connects to anything.  TAP output.  Usage: bench_args.sh ZNST-BENCH
bench=$1
n=0 failed=0
check() {	# expected-message args...
	local want=$1 out rc
	shift
	n=$((n + 1))
	out=$("$bench" "$@" 2>&1 </dev/null)
	rc=$?
	if [ $rc -ne 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] &&
	   [[ $out == *"$want"* ]]; then
		echo "ok $n - znst-bench $*: $out"
	else
		echo "not ok $n - znst-bench $*: exit $rc, '$out' (wanted '$want')"
		failed=$((failed + 1))
	fi
}
check "--daemon-pid: 'abc' is not a process id" --daemon-pid abc
check "--daemon-pid: '0' is not a process id" --daemon-pid 0
check "--daemon-pid: '12x' is not a process id" --daemon-pid 12x
check "--settle: milliseconds, 0..60000" --settle 60001
check "--settle: milliseconds, 0..60000" --settle soon
echo "1..$n"
[ $failed = 0 ]

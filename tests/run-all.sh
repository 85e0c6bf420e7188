#!/bin/bash
# SPDX-License-Identifier: MIT
# The single test command: dependencies, a -Werror build, the unit and
# loopback tests (twice: plain, then under ASan + UBSan + leak check), a
# short fuzz run of each libFuzzer target, and the real-Linux-host VM suite.  Every test case is printed as
#   PASS|FAIL|SKIP <suite>/<program>: <n> - <name> [# reason]
# and the last line is "N passed, N failed" (skips on the line before).
# Exit status: 0 if nothing failed.
#
# Environment: ZNST_NO_INSTALL=1 skips scripts/install-deps.sh;
# ZNST_NO_VM=1 skips the VM suite (reported as a skip); ZNST_BUILD_DIR
# (default build), ZNST_ASAN_BUILD_DIR (build-asan), ZNST_FUZZ_BUILD_DIR
# (build-fuzz), ZNST_FUZZ_SECONDS (60 per target); the ZNST_VM_* variables
# of tests/vm/run.sh.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
builddir=${ZNST_BUILD_DIR:-build}

passed=0 failed=0 skipped=0
t0=$SECONDS

stage() { printf '\n=== %s\n' "$*"; }

# count_tap SUITE: TAP on stdin -> PASS/FAIL/SKIP lines, counted; comment and
# transcript lines pass through.  Prints the number of cases on fd 3.
count_tap() {
	local suite=$1 line st rest cases=0
	while IFS= read -r line; do
		if [[ $line =~ ^(not\ ok|ok)\ +([0-9]+)\ *(.*)$ ]]; then
			st=${BASH_REMATCH[1]} rest="${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"
			cases=$((cases + 1))
			if [[ $st == "not ok" ]]; then
				echo "FAIL $suite: $rest"
				failed=$((failed + 1))
			elif [[ $rest =~ \#\ *[Ss][Kk][Ii][Pp] ]]; then
				echo "SKIP $suite: $rest"
				skipped=$((skipped + 1))
			else
				echo "PASS $suite: $rest"
				passed=$((passed + 1))
			fi
		elif [[ $line =~ ^1\.\.0 ]]; then
			echo "SKIP $suite: ${line#1..0}"
			skipped=$((skipped + 1))
			cases=$((cases + 1))
		elif [[ $line =~ ^1\.\.[0-9]+ ]]; then
			:
		else
			printf '%s\n' "$line"
		fi
	done
	echo "$cases" > "$count_file"
}
count_file=$(mktemp)
trap 'rm -f "$count_file" "$count_file".*' EXIT

finish() {
	local s=$((SECONDS - t0))
	echo
	echo "total time: $((s / 60))m$((s % 60))s"
	echo "$skipped skipped"
	echo "$passed passed, $failed failed"
	((failed == 0))
	exit
}

# --- dependencies -----------------------------------------------------------------
if [[ ${ZNST_NO_INSTALL:-0} != 1 ]]; then
	stage "dependencies (scripts/install-deps.sh)"
	if ! bash scripts/install-deps.sh; then
		echo "FAIL setup: install-deps.sh # could not install the dependencies"
		failed=$((failed + 1))
		finish
	fi
fi

# --- build ------------------------------------------------------------------------
stage "build (meson --werror, ninja)"
if [[ -f $builddir/build.ninja ]]; then
	setup=(meson setup --reconfigure --werror "$builddir")
else
	setup=(meson setup --werror "$builddir")
fi
if ! "${setup[@]}" > "$count_file.setup" 2>&1; then
	cat "$count_file.setup"
	echo "FAIL build: meson setup # see above"
	failed=$((failed + 1))
	finish
fi
if ! ninja -C "$builddir"; then
	echo "FAIL build: ninja # compile errors above"
	failed=$((failed + 1))
	finish
fi
echo "PASS build: meson setup --werror + ninja"
passed=$((passed + 1))

# --- unit tests -------------------------------------------------------------------
# count_meson BUILDDIR PREFIX: one record per program of the last meson test
# run in BUILDDIR: its TAP output, or its exit status if it printed no test
# lines (a crash before the first case).
count_meson() {
	local dir=$1 prefix=$2 testlog=$1/meson-logs/testlog.json
	if [[ ! -f $testlog ]]; then
		echo "FAIL ${prefix}unit: meson test wrote no $testlog"
		failed=$((failed + 1))
		return
	fi
	while IFS=$'\t' read -r name result suite; do
		python3 - "$testlog" "$name" > "$count_file.out" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t.get("name") == sys.argv[2]:
        sys.stdout.write(t.get("stdout") or "")
EOF
		count_tap "$prefix$suite/$name" < "$count_file.out"
		if [[ $(cat "$count_file") -eq 0 ]]; then
			case $result in
			OK) echo "PASS $prefix$suite/$name: program passed, no TAP lines"
			    passed=$((passed + 1)) ;;
			SKIP) echo "SKIP $prefix$suite/$name: program skipped (exit 77)"
			      skipped=$((skipped + 1)) ;;
			*) echo "FAIL $prefix$suite/$name: program $result, no TAP lines"
			   failed=$((failed + 1)) ;;
			esac
		elif [[ $result != OK && $result != SKIP && $result != EXPECTEDFAIL ]]; then
			# TAP lines all fine but the program failed (bad plan, crash
			# after the last case, exit status).
			echo "FAIL $prefix$suite/$name: program result $result"
			failed=$((failed + 1))
		fi
	done < <(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    suite = (t.get("suite") or ["unit"])[0].split(":")[-1]
    print(t["name"], t["result"], suite, sep="\t")
' "$testlog")
	rm -f "$count_file.out"
}

stage "unit and loopback tests (meson test --suite unit --suite loopback)"
meson test -C "$builddir" --suite unit --suite loopback --print-errorlogs
count_meson "$builddir" ""

# --- the same under AddressSanitizer, UndefinedBehaviorSanitizer, leak check ------
# A build dir of its own (ZNST_ASAN_BUILD_DIR, default build-asan).  Any
# report aborts the program; the loopback suite also fails a case for any
# report in a daemon's log, so one in a daemon that still exits 0 counts.
asandir=${ZNST_ASAN_BUILD_DIR:-build-asan}
stage "unit and loopback tests under ASan + UBSan + LSan ($asandir)"
asan_opts=(--werror -Db_sanitize=address,undefined -Db_lundef=false -Dvm_tests=false)
if [[ -f $asandir/build.ninja ]]; then
	asan_setup=(meson setup --reconfigure "${asan_opts[@]}" "$asandir")
else
	asan_setup=(meson setup "${asan_opts[@]}" "$asandir")
fi
if ! "${asan_setup[@]}" > "$count_file.setup" 2>&1; then
	cat "$count_file.setup"
	echo "FAIL asan/build: meson setup -Db_sanitize=address,undefined # see above"
	failed=$((failed + 1))
elif ! ninja -C "$asandir"; then
	echo "FAIL asan/build: ninja # compile errors above"
	failed=$((failed + 1))
else
	echo "PASS asan/build: meson setup -Db_sanitize=address,undefined + ninja"
	passed=$((passed + 1))
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C "$asandir" --suite unit --suite loopback --print-errorlogs \
		--timeout-multiplier 3
	count_meson "$asandir" "asan/"
fi

# --- fuzz: a short run of each libFuzzer target (clang only) ----------------------
stage "fuzz targets, ${ZNST_FUZZ_SECONDS:-60} s each (tests/fuzz/run.sh)"
bash tests/fuzz/run.sh "${ZNST_FUZZ_SECONDS:-60}" > "$count_file.fuzz" 2>&1
fuzz_rc=$?
cat "$count_file.fuzz"
while IFS= read -r line; do
	case $line in
	PASS\ *) passed=$((passed + 1)) ;;
	FAIL\ *) failed=$((failed + 1)) ;;
	SKIP\ *) skipped=$((skipped + 1)) ;;
	esac
done < "$count_file.fuzz"
if ((fuzz_rc != 0 && fuzz_rc != 77)) && ! grep -q '^FAIL' "$count_file.fuzz"; then
	echo "FAIL fuzz: run.sh exited $fuzz_rc"
	failed=$((failed + 1))
fi

# --- VM suite -------------------------------------------------------------------------
stage "real Linux host in QEMU (tests/vm/run.sh)"
if [[ ${ZNST_NO_VM:-0} == 1 ]]; then
	echo "SKIP vm: ZNST_NO_VM=1"
	skipped=$((skipped + 1))
else
	# Not a pipeline: count_tap must run in this shell to keep the counts.
	count_tap vm < <(bash tests/vm/run.sh --daemon "$builddir/target/znstcpd")
	wait $!
	vm_rc=$?
	if ((vm_rc == 77)); then
		:	# counted from its "1..0 # SKIP reason" line
	elif ((vm_rc != 0)) && [[ $(cat "$count_file") -eq 0 ]]; then
		echo "FAIL vm: run.sh exited $vm_rc without results"
		failed=$((failed + 1))
	fi
fi

finish

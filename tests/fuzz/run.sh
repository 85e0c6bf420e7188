#!/bin/bash
# SPDX-License-Identifier: MIT
# Build the libFuzzer targets (clang, ASan + UBSan) and run each one.
#
#   bash tests/fuzz/run.sh [SECONDS per target, default 60] [TARGET...]
#
# Builds in build-fuzz (ZNST_FUZZ_BUILD_DIR) with
#   CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined
# Seeds come from tests/fuzz/corpus/<target>/ (regenerate them with
# tests/fuzz/make_corpus.py); new inputs go to build-fuzz/fuzz-corpus/<target>/
# and crashes to build-fuzz/fuzz-artifacts/.  One line per target:
#   PASS|FAIL fuzz/<target>: <runs> runs in <s> s, <execs/s> execs/s, cov <n>, ft <n>, corpus <n>, crashes <n>
# Exit status 0 if no target crashed, leaked or hit UB; 77 without clang.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 1
secs=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_pdu_hdr fuzz_conn)
builddir=${ZNST_FUZZ_BUILD_DIR:-build-fuzz}

if ! command -v clang > /dev/null; then
	echo "SKIP fuzz: clang not installed"
	exit 77
fi
probe=$(mktemp -d)
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' > "$probe/p.c"
if ! clang -fsanitize=fuzzer,address,undefined -o "$probe/p" "$probe/p.c" > /dev/null 2>&1; then
	rm -rf "$probe"
	echo "SKIP fuzz: clang cannot link -fsanitize=fuzzer,address,undefined (Debian: libclang-rt-14-dev)"
	exit 77
fi
rm -rf "$probe"
if [[ ! -f $builddir/build.ninja ]]; then
	if ! CC=clang meson setup "$builddir" -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dvm_tests=false --werror > "$builddir.setup.log" 2>&1; then
		cat "$builddir.setup.log"
		echo "FAIL fuzz: meson setup (clang, -Dfuzz=true)"
		exit 1
	fi
	rm -f "$builddir.setup.log"
fi
if ! ninja -C "$builddir" > /dev/null; then
	ninja -C "$builddir"
	echo "FAIL fuzz: build"
	exit 1
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}
rc=0
for t in "${targets[@]}"; do
	work=$builddir/fuzz-corpus/$t
	art=$builddir/fuzz-artifacts/$t/
	log=$builddir/fuzz-$t.log
	mkdir -p "$work" "$art"
	"$builddir/tests/fuzz/$t" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$art" -rss_limit_mb=2048 -timeout=10 \
		"$work" "tests/fuzz/corpus/$t" > "$log" 2>&1
	st=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<< "$last")
	crashes=$(find "$art" -type f | wc -l)
	line="$t: ${runs:-?} runs in $secs s, ${eps:-?} execs/s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}, crashes $crashes"
	if ((st != 0 || crashes != 0)); then
		echo "FAIL fuzz/$line (exit $st; log $log)"
		grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -5
		rc=1
	else
		echo "PASS fuzz/$line"
	fi
done
exit $rc

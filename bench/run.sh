#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Latency benchmark: for the no-delay baseline (--timing none) and each
# device profile, start znstcpd on loopback, drive it with znst-bench at
# QD1 and at QD32, ask the daemon for its lateness report (SIGUSR1), and
# print one table: measured latency / throughput, the baseline round trip,
# measured minus baseline, the model's target for the same command
# sequence, the error, and the daemon's lateness figures.
#
#   bench/run.sh [--daemon PATH] [--bench PATH] [--profiles "zn540 small-zone femu"]
#                [--qds "1 32"] [--repeat N] [--quick] [--port N] [--cpus D,C] [--out DIR]
#
# With --repeat N every run is made N times, the baseline's interleaved
# with the profiles', and each figure in the table is the median: on a
# shared machine single runs differ by several microseconds.
# The daemon's main thread (reactor 0) runs on CPU D and the client on
# CPU C (taskset), both SCHED_FIFO when chrt is allowed, so other work on
# the machine disturbs them less; the daemon's populator thread stays
# unpinned.  A jitter probe on CPU D measures what disturbance is left.
# Write runs are preconditioned (znst-bench writes the zones once and
# resets them first) and each measured run gets its own lateness report.
# Nothing here asserts a timing: it prints figures.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
daemon=$root/build/target/znstcpd
bench=$root/build/bench/znst-bench
profiles="zn540 small-zone femu"
qds="1 32"
quick=0
repeat=1
port=$((24000 + RANDOM % 8000))
cpus=0,1
out=

while [ $# -gt 0 ]; do
	case $1 in
	--daemon) daemon=$2; shift ;;
	--bench) bench=$2; shift ;;
	--profiles) profiles=$2; shift ;;
	--qds) qds=$2; shift ;;
	--quick) quick=1 ;;
	--repeat) repeat=$2; shift ;;
	--port) port=$2; shift ;;
	--cpus) cpus=$2; shift ;;
	--out) out=$2; shift ;;
	*) echo "usage: $0 [--daemon PATH] [--bench PATH] [--profiles LIST] [--qds LIST] [--repeat N] [--quick] [--port N] [--cpus D,C] [--out DIR]" >&2
	   exit 2 ;;
	esac
	shift
done
[ -x "$daemon" ] || { echo "run.sh: no daemon at $daemon (build first)" >&2; exit 2; }
[ -x "$bench" ] || { echo "run.sh: no znst-bench at $bench (build first)" >&2; exit 2; }
dcpu=${cpus%,*}
ccpu=${cpus#*,}
out=${out:-$(mktemp -d /tmp/znst-bench.XXXXXX)}
mkdir -p "$out"

pin_d=(taskset -c "$dcpu")
pin_c=(taskset -c "$ccpu")
fifo=0
if chrt -f 10 true 2>/dev/null; then
	pin_d=(chrt -f 50 "${pin_d[@]}")
	pin_c=(chrt -f 40 "${pin_c[@]}")
	sched="SCHED_FIFO"
	fifo=1
else
	sched="SCHED_OTHER"
fi

# Per profile: what the daemon gets beyond --profile, and what the client
# writes.  Geometry stays the profile's own (zn540 keeps its 2 GiB zones);
# only amounts of data shrink in --quick runs.
daemon_args() {
	case $1 in
	none) echo "--profile zn540 --timing none" ;;
	*) echo "--profile $1" ;;
	esac
}
bench_args() {
	local p=$1 qd=$2 a
	case $p in
	none|zn540) a="--bytes 1G --resets 5" ;;
	small-zone) a="--bytes 256M --resets 3" ;;
	femu) a="--bytes 512M --resets 5" ;;
	esac
	[ "$p" != none ] && a="$a --profile $p"
	[ $quick = 1 ] && a="$a --count 1000 --bytes 256M --resets 2"
	# QD1 latencies: poll, so the client's own wake-up is not measured;
	# QD32: sleep, a spinning SCHED_FIFO client would be throttled.
	# Resets and flushes run at QD1 only (each takes milliseconds).
	[ "$qd" -gt 1 ] && a="$a --sleep --ops randread4k,write4k,append4k,write128k"
	echo "$a --qd $qd"
}

# The daemon starts unpinned and only its main thread, which is reactor 0,
# gets CPU D and SCHED_FIFO once it listens: its populator thread
# (--zone-prefault, SCHED_IDLE) must stay free to run wherever a CPU idles.
start_daemon() {	# tag port args...; sets $started
	local tag=$1 port=$2
	shift 2
	"$daemon" --listen 127.0.0.1:$port "$@" \
		>"$out/$tag.daemon.out" 2>"$out/$tag.daemon.err" &
	started=$!
}

pin_daemon() {		# pid
	taskset -pc "$dcpu" "$1" >/dev/null
	[ $fifo = 1 ] && chrt -f -p 50 "$1"
}

wait_listening() {	# tag
	for _ in $(seq 50); do
		grep -q listening "$out/$1.daemon.err" "$out/$1.daemon.out" 2>/dev/null && return
		sleep 0.1
	done
}

# One run.  QD1 runs of a profile also start a daemon without delays that
# the client drives in alternation with it (znst-bench --baseline-port):
# the baseline round trip under the same machine conditions.
run_one() {
	local p=$1 qd=$2 tag=$1-qd$2.$3 dpid bpid= rc extra= started
	start_daemon "$tag" $port $(daemon_args "$p")
	dpid=$started
	if [ "$p" != none ] && [ "$qd" = 1 ]; then
		# the profile's geometry, no delays
		start_daemon "$tag.base" $((port + 1)) $(daemon_args "$p") --timing none
		bpid=$started
		wait_listening "$tag.base"
		pin_daemon $bpid
		extra="--baseline-port $((port + 1))"
	fi
	wait_listening "$tag"
	pin_daemon $dpid
	# the client asks for one lateness report per measured run
	"${pin_c[@]}" "$bench" --port $port --daemon-pid $dpid $extra $(bench_args "$p" "$qd") \
		>"$out/$tag.results" 2>"$out/$tag.bench.err"
	rc=$?
	kill -INT $dpid $bpid 2>/dev/null
	wait $dpid $bpid
	# the reports asked for, numbered; the last one is the shutdown's
	cp "$out/$tag.daemon.err" "$out/$tag.lateness"
	[ $rc = 0 ] || { echo "run.sh: znst-bench failed for $tag:" >&2; tail -3 "$out/$tag.bench.err" >&2; }
	port=$((port + 2))
}

echo "# znst-bench: daemon on CPU $dcpu, client on CPU $ccpu, $sched; results in $out" >&2
"${pin_d[@]}" "$bench" --jitter 2 >"$out/jitter-before"
for i in $(seq "$repeat"); do
	for p in none $profiles; do
		for qd in $qds; do
			echo "# $p QD$qd ($i of $repeat)" >&2
			run_one "$p" "$qd" "$i"
		done
	done
done
"${pin_d[@]}" "$bench" --jitter 2 >"$out/jitter-after"

python3 - "$out" "$profiles" "$qds" "$repeat" <<'EOF'
import os, re, statistics, sys

out, profiles, qds = sys.argv[1], ["none"] + sys.argv[2].split(), sys.argv[3].split()
reps = range(1, int(sys.argv[4]) + 1)
lat_op = {"randread4k": "read", "write4k": "write", "append4k": "append",
          "write128k": "write", "reset-full": "zone_reset", "flush": "flush"}
# The real drive's published figures (issue 4): for the zn540 rows
published = {("write4k", "1"): "11 us", ("randread4k", "1"): "73 us",
             ("write128k/1z", "32"): "1.2 GB/s", ("write128k/14z", "32"): "1.2 GB/s",
             ("append4k", "32"): "132K IOPS", ("reset-full", "1"): "ms"}

def kv(line):
    return dict(x.split("=", 1) for x in line.split()[1:])

def reports(path):
    """The daemon's numbered lateness reports: {number: {op: (n, p50, p99, pct)}},
    and under "_machine" the stalls seen while spinning."""
    blocks, cur = {}, None
    try:
        for line in open(path):
            m = re.match(r"znstcpd: lateness report (\d+)", line)
            if m:
                cur = blocks.setdefault(int(m.group(1)), {})
                continue
            m = re.match(r"lateness machine spin=([\d.]+)ms.*machine>=20us=([\d.]+)% "
                         r"late_in_stall=(\d+)/(\d+)", line)
            if m and cur is not None:
                # (spin ms, ms of it >= 20 us into a gap, late made by a gap, late)
                sp = float(m.group(1))
                cur["_machine"] = (sp, sp * float(m.group(2)) / 100,
                                    int(m.group(3)), int(m.group(4)))
                continue
            m = re.match(r"lateness (\S+)\s+n=(\d+).*p50<=([\d.]+)us p99<=([\d.]+)us.*>=20us=([\d.]+)%", line)
            if m and cur is not None:
                cur[m.group(1)] = m.groups()[1:]
    except OSError:
        pass
    return blocks

# every figure: the median over the repetitions; lateness: each measured
# run's own report (znst-bench --daemon-pid), the run's operation only;
# the machine's share: pooled over the repetitions
runs, lates, all_late, mach = {}, {}, {}, {}

def pool(key, m):
    a = mach.setdefault(key, [0.0, 0.0, 0, 0])
    for j in range(4):
        a[j] += m[j]
for p in profiles:
    for qd in qds:
        for i in reps:
            tag = "%s-qd%s.%d" % (p, qd, i)
            blocks = reports(os.path.join(out, tag + ".lateness"))
            try:
                for line in open(os.path.join(out, tag + ".results")):
                    if line.startswith("RESULT"):
                        r = kv(line)
                        runs.setdefault((p, r["op"], qd), []).append(r)
                        blk = blocks.get(int(r.get("late_report", "0")), {})
                        lo = blk.get(lat_op[r["op"].split("/")[0]])
                        if lo:
                            lates.setdefault((p, r["op"], qd), []).append(lo)
                        for k, v in blk.items():
                            if k != "_machine":
                                all_late.setdefault((p, qd), []).append(v)
                        m = blk.get("_machine")
                        if m:
                            pool((p, r["op"], qd), m)
                            pool((p, "(all)", qd), m)
            except OSError:
                pass

def med(rs):
    r = dict(rs[0])
    for k in r:
        try:
            r[k] = "%g" % statistics.median(float(x[k]) for x in rs)
        except ValueError:
            pass
    r["errors"] = str(sum(int(x["errors"]) for x in rs))
    r["n"] = str(sum(int(x["n"]) for x in rs))
    return r

res = {k: med(v) for k, v in runs.items()}
late = {k: ["%d" % sum(int(x[0]) for x in v)] +
        ["%g" % statistics.median(float(x[j]) for x in v) for j in (1, 2, 3)]
        for k, v in lates.items()}

def f(x, nd=1):
    return ("%%.%df" % nd) % x

hdr = ["profile", "op", "QD", "measured", "baseline", "meas-base", "target", "error",
       "published", "late p50", "late p99", ">=20us", "machine", "by a stall", "n"]

def mach_cols(key):
    """The machine's share: of the run's spinning, how much lay >= 20 us
    into a gap; and of the late completions, those a gap alone made late."""
    m = mach.get(key)
    if not m or not m[0]:
        return ["-", "-"]
    return ["%.3f%%" % (100 * m[1] / m[0]), "%d/%d" % (m[2], m[3])]
rows = []
for p in profiles[1:]:
    for qd in qds:
        ops = sorted({k[1] for k in res if k[0] == p and k[2] == qd},
                     key=lambda o: list(lat_op).index(o.split("/")[0]) * 10 + len(o))
        for op in ops:
            r = res[(p, op, qd)]
            b = res.get(("none", op, qd))
            eff_qd = r["qd"]
            if int(eff_qd) > 1:
                # throughput: MB/s for 128K writes, IOPS otherwise
                key = "mbps" if op.startswith("write128k") else "iops"
                unit = " MB/s" if key == "mbps" else " IOPS"
                m, t = float(r[key]), float(r["target_" + key])
                base = float(b[key]) if b else 0.0
                meas_s = f(m, 0) + unit
                base_s = f(base, 0) + unit if b else "-"
                diff_s = "-"
                tgt_s = f(t, 0) + unit
                err = (m - t) / t * 100 if t else 0.0
                err_s = "%+.1f%%" % err
                # short of the target, and no faster without delays:
                # the transport, not the model, is the limit
                if b and base < t * 1.1 and m < t * 0.9:
                    err_s += " (host)"
            else:
                m, t = float(r["p50_us"]), float(r["target_p50_us"])
                # the paired baseline (same run, alternating) where there is one
                if "base_p50_us" in r:
                    b = r
                    base = float(r["base_p50_us"])
                else:
                    base = float(b["p50_us"]) if b else 0.0
                meas_s = f(m) + " us"
                base_s = f(base) + " us" if b else "-"
                diff_s = f(m - base) + " us"
                tgt_s = f(t) + " us"
                err = ((m - base) - t) / t * 100 if t else 0.0
                err_s = "%+.1f%%" % err if t else "-"
            lo = late.get((p, op, qd))
            pub = published.get((op, eff_qd), "") if p == "zn540" else ""
            rows.append([p, op, eff_qd, meas_s, base_s, diff_s, tgt_s, err_s, pub,
                         (lo[1] + " us") if lo else "-", (lo[2] + " us") if lo else "-",
                         (lo[3] + "%") if lo else "-"] + mach_cols((p, op, qd)) +
                        [r["n"] + ("!" + r["errors"] if r["errors"] != "0" else "")])
# lateness over every completion of the measured runs (all repetitions)
for p in profiles[1:]:
    for qd in qds:
        n = pct = 0
        for v in all_late.get((p, qd), []):
            n += int(v[0])
            pct += int(v[0]) * float(v[3])
        if n:
            rows.append([p, "(all)", qd, "", "", "", "", "", "", "", "", "%.3f%%" % (pct / n)] +
                        mach_cols((p, "(all)", qd)) + [str(n)])

w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
line = lambda r: "| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(r)) + " |"
print(line(hdr))
print("|" + "|".join("-" * (x + 2) for x in w) + "|")
for r in rows:
    print(line(r))
print()
print("Medians of %d run(s)." % len(reps))
print("QD1 rows: p50 latency; error = (measured - baseline - target) / target; the baseline is a")
print("  daemon without delays driven in alternation with the profile's (chunks of 100 commands).")
print("QD32 rows: steady-state throughput; error = (measured - target) / target;")
print("'(host)': more than 10% short of the target, and the no-delay baseline itself is below")
print("  1.1 x target: the transport bounds it, not the model.")
print("target: the daemon's model on a fake clock for the same command sequence, zero round trip.")
print("lateness: deadline to hand-off to sendmsg, measured in the daemon (bucket upper bounds),")
print("  for each measured run alone (preconditioning and preparation not counted).")
print("machine: while the reactor spins to a deadline it only reads the clock, so a gap of")
print("  >= 20 us there is its CPU taken away; the share of that spinning which lay >= 20 us into")
print("  such a gap is how often any deadline would come >= 20 us late on this CPU, whatever the")
print("  daemon did.  by a stall: late completions (>= 20 us) that such a gap alone made late, of")
print("  all late ones; the reactor seldom spins under load, so at QD32 few can be told apart.")
for j in ("jitter-before", "jitter-after"):
    try:
        print("%s (spinning on the daemon's CPU): %s" % (j, open(os.path.join(out, j)).read().strip()[7:]))
    except OSError:
        pass
EOF

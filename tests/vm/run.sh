#!/bin/bash
# SPDX-License-Identifier: MIT
# Real-Linux-host suite: boot Debian's kernel in QEMU and let its NVMe/TCP
# initiator drive znstcpd (running here, on loopback) through
# tests/vm/guest-tests.sh.
#
# usage: tests/vm/run.sh [--reference] [--daemon PATH] [-- DAEMON-ARGS...]
#
#   --reference   no daemon: the guest runs the zoned cases against the
#                 kernel's own target (nvmet-tcp over zoned null_blk) inside
#                 the VM, to validate the harness and the cases themselves;
#                 cases that need zcap < zsize or a regular namespace skip.
#   --daemon PATH the daemon binary (default build/target/znstcpd)
#   -- ARGS       appended to the daemon's command line
#
# Output is TAP on stdout: the guest's cases (renumbered), then host-side
# cases, then the plan.  Exit 0 iff every case passed, 77 if this machine
# cannot run the VM (the reason is printed), 1 otherwise.
#
# Environment:
#   ZNST_VM_CACHE    image cache (build/vm-cache)
#   ZNST_VM_LOGDIR   logs: console.log, tap.log, daemon.log (build/vm-logs)
#   ZNST_VM_TIMEOUT  hard limit for the VM in seconds (1200)
#   ZNST_VM_ACCEL    QEMU accelerator (tcg)
#   ZNST_VM_ZONES, _ZONE_SIZE, _ZONE_CAP, _MAX_OPEN, _MAX_ACTIVE, _LBA_SIZE,
#   _CONV_SIZE, _APPEND_MAX, _FIO_ZONES   the geometry given to the daemon and
#                    expected by the guest (64, 64M, 48M, 8, 12, 4096, 512M,
#                    128K, 4)
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

mode=daemon
daemon=$root/build/target/znstcpd
extra=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--reference) mode=reference ;;
	--daemon) daemon=${2:?--daemon needs a path}; shift ;;
	--daemon=*) daemon=${1#--daemon=} ;;
	--) shift; extra=("$@"); break ;;
	-h|--help) sed -n '3,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

logdir=${ZNST_VM_LOGDIR:-$root/build/vm-logs}
vm_timeout=${ZNST_VM_TIMEOUT:-1200}
accel=${ZNST_VM_ACCEL:-tcg}
nqn=nqn.2024-11.io.znstcp:vm-test
# Daemon mode also starts two small daemons for the optional ZNS features
# (issue 3), so the main geometry and its cases stay as they were: one with
# every feature but the zone timers, one with the timers.  The guest knows
# their geometry (guest-tests.sh, use_target).
fnqn=nqn.2024-11.io.znstcp:vm-features
tnqn=nqn.2024-11.io.znstcp:vm-timers
feat_args=(--zones 16 --zone-size 4M --zone-cap 4M --max-open 8 --max-active 8
	   --conv-size 64M --desc-ext-size 64 --razb 1 --numzrwa 2 --zrwa-size 64K
	   --zrwa-fg 16K --offline-zones 14 --read-only-zones 15 --copy 1
	   --compare 1 --verify 1 --dsm 1)
timer_args=(--zones 8 --zone-size 4M --zone-cap 4M --max-open 8 --max-active 8
	    --conv-size 0 --rrl 3 --frl 2 --zfc-delay 2)
# A fourth daemon with the ZN540-like latency profile (issue 4): the guest
# checks that the kernel sees the ordering the profile promises.
lnqn=nqn.2024-11.io.znstcp:vm-latency
lat_args=(--profile zn540 --zones 16 --conv-size 0)

to_bytes() { # 64M -> 67108864 (K/M/G/T are powers of 1024)
	local v=${1%[bB]} m=1
	v=${v%i}
	case $v in
	*[kK]) m=$((1 << 10)); v=${v%?} ;;
	*[mM]) m=$((1 << 20)); v=${v%?} ;;
	*[gG]) m=$((1 << 30)); v=${v%?} ;;
	*[tT]) m=$((1 << 40)); v=${v%?} ;;
	esac
	[[ $v =~ ^[0-9]+$ ]] || { echo "run.sh: bad size '$1'" >&2; exit 2; }
	echo $((v * m))
}

zones=${ZNST_VM_ZONES:-64}
zone_size=${ZNST_VM_ZONE_SIZE:-64M}
zone_cap=${ZNST_VM_ZONE_CAP:-48M}
max_open=${ZNST_VM_MAX_OPEN:-8}
max_active=${ZNST_VM_MAX_ACTIVE:-12}
lba_size=${ZNST_VM_LBA_SIZE:-4096}
conv_size=${ZNST_VM_CONV_SIZE:-512M}
append_max=${ZNST_VM_APPEND_MAX:-128K}
fio_zones=${ZNST_VM_FIO_ZONES:-4}
if [[ $mode == reference ]]; then
	# nvmet over null_blk: zcap == zsize, no regular namespace, and the
	# append limit comes from the null_blk device (checked against ZASL).
	zone_cap=$zone_size
	conv_size=0
	append_max=
fi

# --- TAP ------------------------------------------------------------------------
n=0 passed=0 failed=0 skipped=0
emit() { # STATUS REST: STATUS is ok / not ok, REST " - name [# directive]"
	n=$((n + 1))
	printf '%s %d%s\n' "$1" "$n" "$2"
	if [[ $1 == "not ok" ]]; then
		failed=$((failed + 1))
	elif [[ $2 == *"# SKIP"* || $2 == *"# skip"* ]]; then
		skipped=$((skipped + 1))
	else
		passed=$((passed + 1))
	fi
}
diag_file() { # FILE [LINES]: indented transcript lines before a failure
	[[ -f $1 ]] && tail -n "${2:-30}" "$1" | tr -d '\r' | sed 's/^/#   /'
}
skip_all() {
	echo "1..0 # SKIP $*"
	echo "run.sh: cannot run the VM suite: $*" >&2
	exit 77
}

# --- environment ----------------------------------------------------------------
[[ $(uname -m) == x86_64 ]] || skip_all "host is $(uname -m), not x86_64"
mem_kb=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
need_kb=$((2560 * 1024))
[[ $mode == daemon ]] && need_kb=$((need_kb + $(to_bytes "$zone_cap") * zones / 1024 +
				       $(to_bytes "$conv_size") / 1024))
((mem_kb >= need_kb)) ||
	skip_all "needs $((need_kb >> 10)) MiB of free memory, $((mem_kb >> 10)) MiB available"

mkdir -p "$logdir"
rm -f "$logdir"/{console.log,tap.log,daemon.log,daemon-features.log,daemon-timers.log,daemon-latency.log,qemu.log,initrd.cpio}
bash "$here/build-image.sh" 2> "$logdir/build-image.log"
rc=$?
if ((rc == 77)); then
	skip_all "$(tail -n 1 "$logdir/build-image.log")"
elif ((rc != 0)); then
	cat "$logdir/build-image.log" >&2
	echo "run.sh: build-image.sh failed ($rc)" >&2
	exit 1
fi
cache=${ZNST_VM_CACHE:-$root/build/vm-cache}
# shellcheck disable=SC1091
. "$cache/image.env"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not installed"
if [[ $accel == kvm && ! -w /dev/kvm ]]; then
	skip_all "ZNST_VM_ACCEL=kvm but /dev/kvm is not usable"
fi

qpid='' dpid='' fpid='' tpid='' lpid='' fport='' tport='' lport=''
cleanup() {
	[[ -n $qpid ]] && kill "$qpid" 2>/dev/null
	[[ -n $dpid ]] && kill -KILL "$dpid" 2>/dev/null
	[[ -n $fpid ]] && kill -KILL "$fpid" 2>/dev/null
	[[ -n $tpid ]] && kill -KILL "$tpid" 2>/dev/null
	[[ -n $lpid ]] && kill -KILL "$lpid" 2>/dev/null
	rm -rf "$logdir/overlay" "$logdir/initrd.cpio"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t_start=$SECONDS

# --- daemon -----------------------------------------------------------------------
port_in_use() { # PORT: bound by any TCP socket here (IPv4 or IPv6)
	local hex
	hex=$(printf ':%04X ' "$1")
	grep -q -- "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		port_in_use "$p" || { echo "$p"; return 0; }
	done
	return 1
}
proc_alive() { # PID: running (a zombie is dead)
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $st && $st != Z && $st != X ]]
}

# start_extra LOG NQN ARGS...: another daemon on a free port; sets xport, xpid.
start_extra() {
	local log=$logdir/$1 nq=$2 p
	shift 2
	xport='' xpid=''
	for _ in 1 2 3; do
		p=$(free_port) || return 1
		echo "\$ $daemon --listen 127.0.0.1:$p --nqn $nq --lba-size $lba_size $*" > "$log"
		"$daemon" --listen "127.0.0.1:$p" --nqn "$nq" --lba-size "$lba_size" "$@" \
			>> "$log" 2>&1 < /dev/null &
		xpid=$!
		for _ in $(seq 1 300); do
			grep -q "listening on" "$log" && { xport=$p; return 0; }
			proc_alive "$xpid" || break
			sleep 0.1
		done
		kill -KILL "$xpid" 2>/dev/null
		wait "$xpid" 2>/dev/null
		xpid=''
		grep -qi "in use" "$log" || return 1
	done
	return 1
}

# start_named WHAT LOG NQN ARGS...: start_extra, with its TAP line.
start_named() {
	local what=$1 log=$2

	shift
	if start_extra "$@"; then
		emit ok " - $what daemon starts and listens on 127.0.0.1:$xport"
		return 0
	fi
	diag_file "$logdir/$log"
	emit "not ok" " - $what daemon starts and listens # no 'listening on' line"
	return 1
}

# stop_extra NAME PID LOG: it must still run, and exit 0 on SIGTERM.
stop_extra() {
	local rc
	if ! proc_alive "$2"; then
		wait "$2" 2>/dev/null
		rc=$?
		diag_file "$3" 20
		emit "not ok" " - $1 daemon still running after suite # it exited with status $rc"
		return
	fi
	kill -TERM "$2"
	for _ in $(seq 1 100); do
		proc_alive "$2" || break
		sleep 0.1
	done
	if proc_alive "$2"; then
		kill -KILL "$2"
		wait "$2" 2>/dev/null
		diag_file "$3" 20
		emit "not ok" " - $1 daemon exits 0 on SIGTERM # still running 10 s after SIGTERM"
		return
	fi
	wait "$2"
	rc=$?
	if ((rc == 0)); then
		emit ok " - $1 daemon still running after suite, exits 0 on SIGTERM"
	else
		diag_file "$3" 20
		emit "not ok" " - $1 daemon exits 0 on SIGTERM # exit status $rc"
	fi
}

if [[ $mode == daemon ]]; then
	if [[ ! -x $daemon ]]; then
		echo "run.sh: daemon $daemon not built (ninja -C build)" >&2
		emit "not ok" " - daemon starts and listens # $daemon not found or not executable"
		echo "1..$n"
		exit 1
	fi
	dargs=(--nqn "$nqn" --zones "$zones" --zone-size "$zone_size"
	       --zone-cap "$zone_cap" --max-open "$max_open"
	       --max-active "$max_active" --lba-size "$lba_size"
	       --conv-size "$conv_size")
	[[ -n $append_max ]] && dargs+=(--zone-append-max "$append_max")
	started=
	for _ in 1 2 3; do
		port=$(free_port) || { echo "run.sh: no free port" >&2; exit 1; }
		echo "\$ $daemon --listen 127.0.0.1:$port ${dargs[*]} ${extra[*]}" > "$logdir/daemon.log"
		"$daemon" --listen "127.0.0.1:$port" "${dargs[@]}" "${extra[@]}" \
			>> "$logdir/daemon.log" 2>&1 < /dev/null &
		dpid=$!
		for _ in $(seq 1 300); do
			grep -q "listening on" "$logdir/daemon.log" && { started=1; break; }
			proc_alive "$dpid" || break
			sleep 0.1
		done
		[[ -n $started ]] && break
		if proc_alive "$dpid"; then
			kill -KILL "$dpid" 2>/dev/null
			wait "$dpid" 2>/dev/null
			dpid=
			break	# alive but silent for 30 s: not a port clash
		fi
		wait "$dpid" 2>/dev/null
		dpid=
		grep -qi "in use" "$logdir/daemon.log" || break
	done
	if [[ -z $started ]]; then
		diag_file "$logdir/daemon.log"
		emit "not ok" " - daemon starts and listens # no 'listening on' line within 30 s"
		echo "1..$n"
		exit 1
	fi
	emit ok " - daemon starts and listens on 127.0.0.1:$port"
	addr=10.0.2.2
	start_named features daemon-features.log "$fnqn" "${feat_args[@]}" &&
		fport=$xport fpid=$xpid
	start_named timers daemon-timers.log "$tnqn" "${timer_args[@]}" &&
		tport=$xport tpid=$xpid
	start_named "latency (zn540)" daemon-latency.log "$lnqn" "${lat_args[@]}" &&
		lport=$xport lpid=$xpid
else
	emit ok " - daemon starts and listens # SKIP reference mode: nvmet in the guest"
	addr=127.0.0.1 port=4420
fi

# --- VM ---------------------------------------------------------------------------
ov=$logdir/overlay
rm -rf "$ov"
mkdir -p "$ov"
install -m 0755 "$here/guest-tests.sh" "$ov/init"
# The per-operation latency probe, built here (static: no libraries).
mkdir -p "$ov/usr/bin"
if ! cc -static -O2 -o "$ov/usr/bin/znst-zlat" "$here/zlat.c" 2> "$logdir/zlat-build.log"; then
	cat "$logdir/zlat-build.log" >&2
fi
(cd "$ov" && find init usr | cpio --quiet -o -H newc -R 0:0) > "$logdir/overlay.cpio"
# The kernel unpacks concatenated archives in order: /init comes from ours.
cat "$INITRD" "$logdir/overlay.cpio" > "$logdir/initrd.cpio"
rm -rf "$ov" "$logdir/overlay.cpio"

cmdline="console=ttyS0 panic=-1 log_buf_len=4M nvme_core.multipath=N"
cmdline+=" znst.mode=$mode znst.addr=$addr znst.port=$port znst.nqn=$nqn"
cmdline+=" znst.zones=$zones znst.zsize=$(to_bytes "$zone_size")"
cmdline+=" znst.zcap=$(to_bytes "$zone_cap") znst.mor=$max_open"
cmdline+=" znst.mar=$max_active znst.lba=$lba_size"
cmdline+=" znst.conv=$(to_bytes "$conv_size")"
cmdline+=" znst.append=$(to_bytes "${append_max:-0}") znst.fio_zones=$fio_zones"
[[ -n $fport ]] && cmdline+=" znst.fport=$fport znst.fnqn=$fnqn"
[[ -n $tport ]] && cmdline+=" znst.tport=$tport znst.tnqn=$tnqn"
[[ -n $lport ]] && cmdline+=" znst.lport=$lport znst.lnqn=$lnqn"

cpu=max
[[ $accel == kvm ]] && cpu=host
: > "$logdir/tap.log"
timeout -k 10 "$vm_timeout" qemu-system-x86_64 \
	-accel "$accel" -cpu "$cpu" -m 2G -smp 2 \
	-nographic -no-reboot -monitor none \
	-serial "file:$logdir/console.log" -serial "file:$logdir/tap.log" \
	-kernel "$VMLINUZ" -initrd "$logdir/initrd.cpio" -append "$cmdline" \
	-netdev user,id=n0 -device virtio-net-pci,netdev=n0 \
	< /dev/null > "$logdir/qemu.log" 2>&1 &
qpid=$!

guest_plan='' guest_cases=0 consumed=0
handle_line() {
	local line=${1%$'\r'}
	consumed=$((consumed + 1))
	if [[ $line =~ ^(not\ ok|ok)\ [0-9]+(.*)$ ]]; then
		guest_cases=$((guest_cases + 1))
		emit "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
	elif [[ $line =~ ^1\.\.([0-9]+) ]]; then
		guest_plan=${BASH_REMATCH[1]}
	elif [[ -n $line ]]; then
		printf '%s\n' "$line"
	fi
}
while IFS= read -r line; do
	handle_line "$line"
done < <(tail -n +1 -F --pid="$qpid" "$logdir/tap.log" 2>/dev/null)
wait "$qpid"
qrc=$?
qpid=
# Whatever tail had not passed on when QEMU exited.
while IFS= read -r line || [[ -n $line ]]; do
	handle_line "$line"
done < <(tail -n +$((consumed + 1)) "$logdir/tap.log")

vm_secs=$((SECONDS - t_start))
if ((qrc == 124 || qrc == 137)); then
	diag_file "$logdir/console.log" 40
	emit "not ok" " - guest suite ran to completion # hard timeout after ${vm_timeout} s"
elif [[ -z $guest_plan ]]; then
	diag_file "$logdir/console.log" 40
	diag_file "$logdir/qemu.log" 10
	emit "not ok" " - guest suite ran to completion # no plan line (qemu exit $qrc), see $logdir/console.log"
elif ((guest_plan != guest_cases)); then
	emit "not ok" " - guest suite ran to completion # plan 1..$guest_plan but $guest_cases cases"
else
	emit ok " - guest suite ran to completion ($guest_cases cases, ${vm_secs} s)"
fi

# --- daemon after the suite -------------------------------------------------------
if [[ $mode == daemon ]]; then
	if proc_alive "$dpid"; then
		emit ok " - daemon still running after suite"
		kill -TERM "$dpid"
		for _ in $(seq 1 100); do
			proc_alive "$dpid" || break
			sleep 0.1
		done
		if proc_alive "$dpid"; then
			kill -KILL "$dpid"
			wait "$dpid" 2>/dev/null
			dpid=
			diag_file "$logdir/daemon.log" 20
			emit "not ok" " - daemon exits 0 on SIGTERM # still running 10 s after SIGTERM"
		else
			wait "$dpid"
			drc=$?
			dpid=
			if ((drc == 0)); then
				emit ok " - daemon exits 0 on SIGTERM"
			else
				diag_file "$logdir/daemon.log" 20
				emit "not ok" " - daemon exits 0 on SIGTERM # exit status $drc"
			fi
		fi
	else
		wait "$dpid"
		drc=$?
		dpid=
		diag_file "$logdir/daemon.log" 30
		emit "not ok" " - daemon still running after suite # it exited with status $drc"
		emit "not ok" " - daemon exits 0 on SIGTERM # it had already exited"
	fi
	[[ -n $fpid ]] && stop_extra features "$fpid" "$logdir/daemon-features.log"
	[[ -n $tpid ]] && stop_extra timers "$tpid" "$logdir/daemon-timers.log"
	[[ -n $lpid ]] && stop_extra latency "$lpid" "$logdir/daemon-latency.log"
	fpid='' tpid='' lpid=''
else
	emit ok " - daemon still running after suite # SKIP reference mode: no daemon"
	emit ok " - daemon exits 0 on SIGTERM # SKIP reference mode: no daemon"
fi

echo "1..$n"
echo "vm ($mode): $passed passed, $failed failed, $skipped skipped in $((SECONDS - t_start)) s; logs in $logdir" >&2
((failed == 0))

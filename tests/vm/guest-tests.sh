#!/bin/sh
# SPDX-License-Identifier: MIT
# The real-Linux-host suite, run inside the QEMU guest as /init (busybox ash).
#
# The guest's Linux NVMe/TCP initiator drives the target as a user would:
# nvme-cli, blkzone, zbd, dd, fio, btrfs and f2fs.  Each case prints exactly
# one TAP line on the TAP port (/dev/ttyS1; stdout when run by hand):
#   ok N - name  |  not ok N - name # reason  |  ok N - name # SKIP reason
# a failing case's transcript comes first, as "#   " lines, and the plan
# comes last.  Commands, outputs and timings also go to the console
# (ttyS0, with the kernel log) for debugging.
#
# Parameters come from the kernel command line (znst.KEY=VALUE):
#   mode     daemon | reference (configure nvmet over zoned null_blk in here)
#   addr port nqn       the target (the host's 127.0.0.1 is 10.0.2.2)
#   zones zsize zcap    zone count, zone size and capacity in bytes
#   mor mar             max open / max active zones (0: no limit)
#   append              zone append limit in bytes (0: derive from ZASL)
#   lba                 logical block size in bytes
#   conv                regular namespace size in bytes (0: none)
#   fio_zones           zones per fio job (default 4)
#   fport fnqn          a second daemon with the optional ZNS features
#   tport tnqn          a third one with the zone timers (RRL, FRL, ZFC)
# Sizes are in bytes: busybox ash arithmetic is 64-bit.

PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
# busybox prefers its own applets: name the real tools by path.
DD=/usr/bin/dd
CMP=/usr/bin/cmp
SHA256SUM=/usr/bin/sha256sum
FIO=/usr/bin/fio
MNT=/mnt/znst
WORK=/tmp/znst

T=0		# cases so far
FAILED=0
REASON=
ZDEV=		# /dev/nvmeXnY, the zoned namespace
RDEV=		# the regular namespace
CTRL=		# nvmeX

# --- parameters ---------------------------------------------------------------
P_mode=daemon P_addr=10.0.2.2 P_port=4420 P_nqn=
P_zones=0 P_zsize=0 P_zcap=0 P_mor=0 P_mar=0 P_append=0 P_lba=4096 P_conv=0
P_fio_zones=4
P_fport= P_fnqn= P_tport= P_tnqn= P_lport= P_lnqn=

load_params() {
	local w k
	[ -r /proc/cmdline ] || return 0
	for w in $(cat /proc/cmdline); do
		case $w in
		znst.*=*)
			k=${w%%=*}
			k=${k#znst.}
			case $k in *[!a-z_]*) continue ;; esac
			eval "P_$k=\${w#*=}"
			;;
		esac
	done
}

# --- TAP ----------------------------------------------------------------------
tap() { printf '%s\n' "$*" >&3; }

now() { cut -d' ' -f1 /proc/uptime; }

# run_case NAME FUNC: one TAP line.  FUNC returns 0 (pass), 77 (skip, with
# REASON) or anything else (fail, with REASON); its output is the transcript.
run_case() {
	local name=$1 fn=$2 rc t0 dm0 reason
	T=$((T + 1))
	REASON=
	t0=$(now)
	dm0=$(dmesg | wc -l)
	echo "=== $T - $name (t=$t0)"
	"$fn" > "$WORK/case.out" 2>&1
	rc=$?
	cat "$WORK/case.out"
	reason=$(printf '%s' "$REASON" | tr '\n#' '  ')
	case $rc in
	0)	tap "ok $T - $name" ;;
	77)	tap "ok $T - $name # SKIP ${reason:-skipped}" ;;
	*)	FAILED=$((FAILED + 1))
		{
			tail -n 40 "$WORK/case.out"
			dmesg | tail -n +"$((dm0 + 1))" | tail -n 15 |
				sed 's/^/dmesg: /'
		} | sed 's/^/#   /' >&3
		tap "not ok $T - $name # ${reason:-exit status $rc}"
		;;
	esac
	echo "=== $T done rc=$rc ($(now) s)"
}

# --- helpers for cases ------------------------------------------------------------
fail() { REASON=$*; return 1; }
skip() { REASON=$*; return 77; }

# must CMD...: echo and run; on failure note which command failed.
must() {
	local rc
	echo "\$ $*"
	"$@"
	rc=$?
	[ $rc -eq 0 ] || REASON="'$*' exited $rc"
	return $rc
}

# must_fail CMD...: the command must fail (positive controls live in cases).
must_fail() {
	echo "\$ $* (must fail)"
	if "$@"; then
		REASON="'$*' succeeded, expected failure"
		return 1
	fi
	return 0
}

expect_eq() {
	echo "$1: '$2' (expected '$3')"
	[ "$2" = "$3" ] || fail "$1 is '$2', expected '$3'"
}

# with_timeout SECS CMD...: busybox timeout, SIGKILL on expiry.
with_timeout() {
	local s=$1
	shift
	timeout -s KILL "$s" "$@"
}

need_zdev() { [ -n "$ZDEV" ] && [ -b "$ZDEV" ] || fail "no zoned namespace (connect failed)"; }
need_rdev() {
	if [ "$P_conv" -eq 0 ]; then
		if [ "$P_mode" = reference ]; then
			skip "the reference target (nvmet) has no regular namespace"
		else
			skip "no regular namespace configured"
		fi
		return
	fi
	[ -n "$RDEV" ] && [ -b "$RDEV" ] || fail "no regular namespace block device"
}

qattr() { cat "/sys/block/${1#/dev/}/queue/$2"; }

# zone_info IDX: the zone's condition and write pointer from blkzone report.
# Sets Z_START (sectors), Z_WP (sectors from the zone start), Z_COND (em, oi, ...)
zone_info() {
	local line
	line=$(blkzone report -o $(($1 * ZSECT)) -c 1 "$ZDEV") || fail "blkzone report failed"
	echo "zone $1: $line"
	Z_START=$(printf '%s' "$line" | sed -n 's/.*start: *\(0x[0-9a-f]*\).*/\1/p')
	Z_WP=$(printf '%s' "$line" | sed -n 's/.*wptr *\(0x[0-9a-f]*\).*/\1/p')
	Z_COND=$(printf '%s' "$line" | sed -n 's/.*zcond: *[0-9]*(\([a-z]*\)).*/\1/p')
	[ -n "$Z_START" ] && [ -n "$Z_WP" ] && [ -n "$Z_COND" ] ||
		fail "cannot parse blkzone report: $line"
	Z_START=$((Z_START))
	Z_WP=$((Z_WP))
}

expect_cond() { # IDX COND
	zone_info "$1" || return 1
	expect_eq "zone $1 condition" "$Z_COND" "$2"
}

zreset() { # [IDX COUNT]
	if [ $# -eq 0 ]; then
		must blkzone reset "$ZDEV"
	else
		must blkzone reset -o $(($1 * ZSECT)) -c "$2" "$ZDEV"
	fi
}

# write_lbas ZONE_IDX LBA_OFFSET COUNT FILE: O_DIRECT write of COUNT blocks.
write_lbas() {
	# An input shorter than the write would make a "refused" write pass.
	[ "$(stat -c %s "$4")" -ge $(($3 * P_lba)) ] ||
		fail "harness: $4 is shorter than $3 blocks" || return 1
	must $DD if="$4" of="$ZDEV" bs="$P_lba" count="$3" \
		seek=$(($1 * ZLBAS + $2)) oflag=direct status=none
}

# expect_nvme_status SCT SC SINCE: the host logged this NVMe status for a
# failed command after dmesg line SINCE.  nvmet (reference) answers the zone
# resource and write errors with Internal Error, so only daemon mode is strict.
expect_nvme_status() {
	local seen
	seen=$(dmesg | tail -n +"$(($3 + 1))" | grep -o 'sct 0x[0-9a-f]* / sc 0x[0-9a-f]*' | tail -n 1)
	echo "NVMe status logged by the host: ${seen:-none} (expected sct $1 / sc $2)"
	[ "$P_mode" = reference ] && return 0
	[ "$seen" = "sct $1 / sc $2" ] || fail "NVMe status ${seen:-none}, expected sct $1 / sc $2"
}

dmesg_lines() { dmesg | wc -l; }

rand_file() { # FILE BYTES (a multiple of 512)
	$DD if=/dev/urandom of="$1" bs=512 count=$(($2 / 512)) status=none &&
		[ "$(stat -c %s "$1")" -eq "$2" ] || fail "harness: cannot make $2 random bytes in $1"
}

# --- guest setup ------------------------------------------------------------------
mod_args() { # kmod applies "module.param=value" from the command line; so do we
	local w
	for w in $(cat /proc/cmdline); do
		case $w in "$1".*=*) printf '%s ' "${w#"$1".}" ;; esac
	done
}

# load_mod NAME [PARAM=VALUE...]: insmod it after its dependencies (lists
# from build-image.sh); the parameters are for NAME itself.
load_mod() {
	local f m name=$1 args
	shift
	[ -f "/etc/znst/mods/$name" ] || { echo "no module list for $name"; return 1; }
	while read -r f; do
		m=$(basename "$f" .ko | tr - _)
		[ -d "/sys/module/$m" ] && continue
		args=$(mod_args "$m")
		[ "$m" = "$name" ] && args="$args $*"
		# shellcheck disable=SC2086
		insmod "$f" $args || { echo "insmod $f $args failed"; return 1; }
	done < "/etc/znst/mods/$name"
}

case_setup() {
	local m
	for m in virtio_pci virtio_net configfs crc32c_generic crc32_generic \
		 libcrc32c nvme_tcp btrfs f2fs; do
		load_mod $m || fail "cannot load module $m" || return 1
	done
	# Optional: needs SSE4.2 (QEMU -cpu max); crc32c_generic stands in.
	load_mod crc32c_intel || echo "crc32c-intel not loaded: using crc32c_generic"
	grep -q configfs /proc/mounts || must mount -t configfs none /sys/kernel/config || return 1
	expect_eq "nvme_core.multipath" "$(cat /sys/module/nvme_core/parameters/multipath)" N || return 1
	ip link set lo up
	must ip link set eth0 up || return 1
	must ip addr add 10.0.2.15/24 dev eth0 || return 1
	must ip route add default via 10.0.2.2 || return 1
	ip addr show eth0
}

# In reference mode the target is the kernel's own: nvmet-tcp exporting a
# zoned null_blk, on 127.0.0.1 inside this guest.
case_reference_target() {
	local nb=/sys/kernel/config/nullb/nullb0 sub port=/sys/kernel/config/nvmet/ports/1
	load_mod null_blk nr_devices=0 || fail "cannot load null_blk" || return 1
	load_mod nvmet_tcp || fail "cannot load nvmet-tcp" || return 1
	must mkdir $nb || return 1
	echo "$P_lba" > $nb/blocksize
	echo $((P_zones * P_zsize >> 20)) > $nb/size
	echo 1 > $nb/zoned
	echo $((P_zsize >> 20)) > $nb/zone_size
	echo $((P_zcap >> 20)) > $nb/zone_capacity
	echo 0 > $nb/zone_nr_conv
	echo "$P_mor" > $nb/zone_max_open
	echo "$P_mar" > $nb/zone_max_active
	echo 1 > $nb/memory_backed
	must sh -c "echo 1 > $nb/power" || return 1
	[ -b /dev/nullb0 ] || fail "/dev/nullb0 did not appear" || return 1
	sub=/sys/kernel/config/nvmet/subsystems/$P_nqn
	must mkdir "$sub" || return 1
	echo 1 > "$sub/attr_allow_any_host"
	must mkdir "$sub/namespaces/1" || return 1
	echo /dev/nullb0 > "$sub/namespaces/1/device_path"
	must sh -c "echo 1 > '$sub/namespaces/1/enable'" || return 1
	must mkdir $port || return 1
	echo tcp > $port/addr_trtype
	echo ipv4 > $port/addr_adrfam
	echo "$P_addr" > $port/addr_traddr
	echo "$P_port" > $port/addr_trsvcid
	must ln -s "$sub" "$port/subsystems/$P_nqn" || return 1
}

# --- connection -------------------------------------------------------------------
case_discover() {
	local out
	out=$(with_timeout 60 nvme discover -t tcp -a "$P_addr" -s "$P_port")
	local rc=$?
	echo "$out"
	[ $rc -eq 0 ] || fail "nvme discover exited $rc" || return 1
	printf '%s\n' "$out" | grep -q "^subnqn: *$P_nqn\$" ||
		fail "discovery log has no entry for $P_nqn"
}

# find_devices: CTRL, ZDEV and RDEV of the controller connected to P_nqn.
find_devices() {
	local c b
	CTRL='' ZDEV='' RDEV=''
	for c in /sys/class/nvme/nvme*; do
		[ -r "$c/subsysnqn" ] || continue
		[ "$(cat "$c/subsysnqn")" = "$P_nqn" ] || continue
		[ "$(cat "$c/transport")" = tcp ] || continue
		CTRL=${c##*/}
	done
	[ -n "$CTRL" ] || return 1
	for b in /sys/class/nvme/"$CTRL"/"$CTRL"n*; do
		[ -d "$b" ] || continue
		if [ "$(cat "$b/queue/zoned")" = none ]; then
			RDEV=/dev/${b##*/}
		else
			ZDEV=/dev/${b##*/}
		fi
	done
}

# connect [EXTRA...]: connect and wait for the namespaces to show up.
connect() {
	local want=1 i
	[ "$P_conv" -gt 0 ] && want=2
	# A dead target fails I/O after 20 s instead of the default 600.
	must with_timeout 60 nvme connect -t tcp -a "$P_addr" -s "$P_port" \
		-n "$P_nqn" -l 20 -c 2 "$@" || return 1
	for i in $(seq 1 100); do
		find_devices
		if [ -n "$ZDEV" ] && { [ $want -eq 1 ] || [ -n "$RDEV" ]; }; then
			break
		fi
		sleep 0.1
	done
	echo "controller $CTRL: zoned ${ZDEV:-none}, regular ${RDEV:-none}"
	[ -n "$CTRL" ] || fail "no controller for $P_nqn after nvme connect" || return 1
	[ -n "$ZDEV" ] || fail "no zoned namespace on $CTRL" || return 1
	[ $want -eq 1 ] || [ -n "$RDEV" ] || fail "no regular namespace on $CTRL" || return 1
	ls -l /dev/"$CTRL"*
}

case_connect() { connect; }

disconnect() {
	local out rc
	out=$(with_timeout 60 nvme disconnect -n "$P_nqn" 2>&1)
	rc=$?
	echo "$out"
	[ $rc -eq 0 ] || fail "nvme disconnect exited $rc" || return 1
	printf '%s\n' "$out" | grep -q 'disconnected 1 controller' ||
		fail "nvme disconnect: $out" || return 1
	if [ -e "/sys/class/nvme/$CTRL" ]; then
		fail "/sys/class/nvme/$CTRL still exists after disconnect" || return 1
	fi
	[ ! -b "$ZDEV" ] || fail "$ZDEV still exists after disconnect" || return 1
	CTRL='' ZDEV='' RDEV=''
}

case_disconnect() { need_zdev || return 1; disconnect; }

# --- block layer view -------------------------------------------------------------
case_zoned_model() {
	need_zdev || return 1
	expect_eq "$ZDEV queue/zoned" "$(qattr "$ZDEV" zoned)" host-managed
}
case_chunk_sectors() {
	need_zdev || return 1
	expect_eq "$ZDEV queue/chunk_sectors" "$(qattr "$ZDEV" chunk_sectors)" $((P_zsize / 512))
}
case_nr_zones() {
	need_zdev || return 1
	expect_eq "$ZDEV queue/nr_zones" "$(qattr "$ZDEV" nr_zones)" "$P_zones"
}
case_max_open() {
	need_zdev || return 1
	expect_eq "$ZDEV queue/max_open_zones" "$(qattr "$ZDEV" max_open_zones)" "$P_mor"
}
case_max_active() {
	need_zdev || return 1
	expect_eq "$ZDEV queue/max_active_zones" "$(qattr "$ZDEV" max_active_zones)" "$P_mar"
}

# Linux: max_zone_append = 2^ZASL * 4 KiB (MPSMIN 0), ZASL 0 = MDTS; the block
# layer then clamps it to max_hw_sectors and the zone size.
case_append_max() {
	local want hw zasl
	need_zdev || return 1
	if [ "$P_append" -gt 0 ]; then
		want=$P_append
	else
		zasl=$(nvme zns id-ctrl "$ZDEV" -o json | sed -n 's/.*"zasl" *: *\([0-9]*\).*/\1/p')
		[ -n "$zasl" ] || fail "no zasl in nvme zns id-ctrl" || return 1
		echo "no append limit configured: derived from ZASL $zasl"
		want=$((4096 << zasl))
		[ "$zasl" -eq 0 ] && want=$P_zsize
	fi
	hw=$(($(qattr "$ZDEV" max_hw_sectors_kb) * 1024))
	[ "$want" -gt "$hw" ] && want=$hw
	[ "$want" -gt "$P_zsize" ] && want=$P_zsize
	expect_eq "$ZDEV queue/zone_append_max_bytes" "$(qattr "$ZDEV" zone_append_max_bytes)" "$want"
}
case_lba_size() {
	need_zdev || return 1
	expect_eq "$ZDEV queue/logical_block_size" "$(qattr "$ZDEV" logical_block_size)" "$P_lba"
}

case_regular_ns() {
	need_rdev || return $?
	expect_eq "$RDEV queue/zoned" "$(qattr "$RDEV" zoned)" none || return 1
	expect_eq "$RDEV size (bytes)" $(($(cat /sys/block/"${RDEV#/dev/}"/size) * 512)) "$P_conv" || return 1
	expect_eq "$RDEV queue/logical_block_size" "$(qattr "$RDEV" logical_block_size)" "$P_lba"
}

# Random writes anywhere: what makes it a regular namespace.
case_regular_io() {
	local blocks off n
	need_rdev || return $?
	blocks=$((P_conv / P_lba))
	rand_file "$WORK/r" 65536 || return 1
	n=$((65536 / P_lba))
	for off in $((blocks - n)) 8 $((blocks / 2 + 3)); do
		must $DD if="$WORK/r" of="$RDEV" bs="$P_lba" seek=$off count=$n \
			oflag=direct status=none || return 1
		must $DD if="$RDEV" of="$WORK/rb" bs="$P_lba" skip=$off count=$n \
			iflag=direct status=none || return 1
		must $CMP "$WORK/r" "$WORK/rb" || return 1
	done
}

# --- nvme-cli ---------------------------------------------------------------------
case_zns_id_ctrl() {
	local out zasl
	need_zdev || return 1
	out=$(nvme zns id-ctrl "$ZDEV" -o json) || fail "nvme zns id-ctrl failed" || return 1
	echo "$out"
	zasl=$(printf '%s' "$out" | sed -n 's/.*"zasl" *: *\([0-9]*\).*/\1/p')
	[ -n "$zasl" ] || fail "no zasl field" || return 1
	if [ "$P_append" -gt 0 ]; then
		expect_eq "4 KiB << zasl" $((4096 << zasl)) "$P_append"
	fi
}

json_num() { # FIELD: the first "FIELD":N in stdin
	sed -n "s/.*\"$1\" *: *\([0-9]*\).*/\1/p" | head -n 1
}

# ZNS id-ns fields are 0's based: MOR/MAR = limit - 1, FFFFFFFFh = no limit.
zero_based() { if [ "$1" -eq 0 ]; then echo 4294967295; else echo $(($1 - 1)); fi; }

case_zns_id_ns() {
	local out
	need_zdev || return 1
	out=$(nvme zns id-ns "$ZDEV" -o json) || fail "nvme zns id-ns failed" || return 1
	echo "$out"
	expect_eq "zsze (blocks)" "$(printf '%s' "$out" | json_num zsze)" $((P_zsize / P_lba)) || return 1
	expect_eq "mor" "$(printf '%s' "$out" | json_num mor)" "$(zero_based "$P_mor")" || return 1
	expect_eq "mar" "$(printf '%s' "$out" | json_num mar)" "$(zero_based "$P_mar")" || return 1
	expect_eq "zoc" "$(printf '%s' "$out" | json_num zoc)" 0
}

case_zns_report() {
	local out n caps slbas i bad
	need_zdev || return 1
	out=$(nvme zns report-zones "$ZDEV" -o json) || fail "nvme zns report-zones failed" || return 1
	printf '%s\n' "$out" | head -n 30
	expect_eq "nr_zones" "$(printf '%s' "$out" | json_num nr_zones)" "$P_zones" || return 1
	n=$(printf '%s\n' "$out" | grep -c '"slba"')
	expect_eq "zone descriptors" "$n" "$P_zones" || return 1
	caps=$(printf '%s\n' "$out" | sed -n 's/.*"cap" *: *\([0-9]*\).*/\1/p' | sort -u)
	expect_eq "zone capacities (blocks)" "$caps" $((P_zcap / P_lba)) || return 1
	slbas=$(printf '%s\n' "$out" | sed -n 's/.*"slba" *: *\([0-9]*\).*/\1/p')
	i=0
	bad=
	for s in $slbas; do
		[ "$s" -eq $((i * ZLBAS)) ] || bad="$bad zone$i:slba=$s"
		i=$((i + 1))
	done
	[ -z "$bad" ] || fail "zone start LBAs not multiples of the zone size:$bad" || return 1
	expect_eq "zone types" "$(printf '%s\n' "$out" | sed -n 's/.*"type" *: *"\([^"]*\)".*/\1/p' | sort -u)" SEQWRITE_REQ
}

case_zbd_report() {
	local out caps n
	need_zdev || return 1
	must zbd report -i "$ZDEV" > "$WORK/zbd.out" || return 1
	head -n 14 "$WORK/zbd.out"
	n=$(grep -c '^Zone [0-9]*: swr' "$WORK/zbd.out")
	expect_eq "sequential zones in zbd report" "$n" "$P_zones" || return 1
	caps=$(sed -n 's/^Zone [0-9]*:.*, cap 0*\([0-9][0-9]*\),.*/\1/p' "$WORK/zbd.out" | sort -u)
	expect_eq "zbd zone capacity (bytes)" "$caps" "$P_zcap" || return 1
	expect_eq "zbd zone length (bytes)" \
		"$(sed -n 's/^Zone [0-9]*:.*, len 0*\([0-9][0-9]*\),.*/\1/p' "$WORK/zbd.out" | sort -u)" "$P_zsize"
}

# --- zone state machine through the kernel's ioctls ---------------------------------
ZST=0	# the zone used for state transitions

case_open_oe() {
	need_zdev || return 1
	zreset || return 1
	expect_cond $ZST em || return 1
	must blkzone open -o $((ZST * ZSECT)) -c 1 "$ZDEV" || return 1
	expect_cond $ZST oe
}
case_write_oi() {
	need_zdev || return 1
	zreset $ZST 1 || return 1
	expect_cond $ZST em || return 1
	rand_file "$WORK/blk" "$P_lba" || return 1
	write_lbas $ZST 0 1 "$WORK/blk" || return 1
	expect_cond $ZST oi || return 1
	expect_eq "write pointer (sectors from zone start)" "$Z_WP" $((P_lba / 512))
}
case_close_cl() {
	need_zdev || return 1
	must blkzone close -o $((ZST * ZSECT)) -c 1 "$ZDEV" || return 1
	expect_cond $ZST cl || return 1
	expect_eq "write pointer after close" "$Z_WP" $((P_lba / 512))
}
case_finish_fu() {
	need_zdev || return 1
	must blkzone finish -o $((ZST * ZSECT)) -c 1 "$ZDEV" || return 1
	expect_cond $ZST fu
}
case_reset_em() {
	need_zdev || return 1
	must blkzone reset -o $((ZST * ZSECT)) -c 1 "$ZDEV" || return 1
	expect_cond $ZST em || return 1
	expect_eq "write pointer after reset" "$Z_WP" 0
}

# --- data path -------------------------------------------------------------------
ZDDZ=1	# the zone for dd tests

case_dd_readback() {
	local n=$((1048576 / P_lba))
	need_zdev || return 1
	zreset $ZDDZ 1 || return 1
	rand_file "$WORK/pat" 1048576 || return 1
	write_lbas $ZDDZ 0 $n "$WORK/pat" || return 1
	must $DD if="$ZDEV" of="$WORK/back" bs="$P_lba" count=$n \
		skip=$((ZDDZ * ZLBAS)) iflag=direct status=none || return 1
	must $CMP "$WORK/pat" "$WORK/back" || return 1
	zone_info $ZDDZ || return 1
	expect_eq "write pointer (sectors from zone start)" "$Z_WP" $((1048576 / 512))
}

# A write one block past the write pointer is refused and moves nothing; the
# same write at the write pointer then works (so the refusal was about it).
case_write_off_wp() {
	local wp dm
	need_zdev || return 1
	zone_info $ZDDZ || return 1
	[ "$Z_WP" -gt 0 ] || fail "zone $ZDDZ is empty: the previous case did not write" || return 1
	wp=$((Z_WP * 512 / P_lba))
	rand_file "$WORK/blk" "$P_lba" || return 1
	dm=$(dmesg_lines)
	must_fail write_lbas $ZDDZ $((wp + 1)) 1 "$WORK/blk" || return 1
	expect_nvme_status 0x1 0xbc "$dm" || return 1
	zone_info $ZDDZ || return 1
	expect_eq "write pointer after the refused write" $((Z_WP * 512 / P_lba)) $wp || return 1
	write_lbas $ZDDZ $wp 1 "$WORK/blk" || return 1
	zone_info $ZDDZ || return 1
	expect_eq "write pointer after a write at it" $((Z_WP * 512 / P_lba)) $((wp + 1))
}

# Fill a zone to its capacity: it becomes full, and one more block is refused.
ZCAPZ=2
case_write_past_cap() {
	local bs=65536 dm
	need_zdev || return 1
	[ "$P_zcap" -lt "$P_zsize" ] ||
		skip "zone capacity equals zone size (the reference target refuses zcap < zsize)" || return $?
	[ $((P_zcap % bs)) -eq 0 ] || bs=$P_lba
	zreset $ZCAPZ 1 || return 1
	must $DD if=/dev/zero of="$ZDEV" bs=$bs count=$((P_zcap / bs)) \
		seek=$((ZCAPZ * P_zsize / bs)) oflag=direct status=none || return 1
	expect_cond $ZCAPZ fu || return 1
	rand_file "$WORK/blk" "$P_lba" || return 1
	dm=$(dmesg_lines)
	must_fail write_lbas $ZCAPZ $((P_zcap / P_lba)) 1 "$WORK/blk" || return 1
	expect_nvme_status 0x1 0xb9 "$dm" || return 1
	zreset $ZCAPZ 1
}

ZLIM=8	# first zone of the open/active limit tests

case_max_open_rejected() {
	local i dm
	need_zdev || return 1
	[ "$P_mor" -gt 0 ] || skip "no open zone limit configured" || return $?
	[ $((ZLIM + P_mor + 1)) -le "$P_zones" ] || skip "not enough zones" || return $?
	zreset || return 1
	i=0
	while [ $i -lt "$P_mor" ]; do
		must blkzone open -o $(((ZLIM + i) * ZSECT)) -c 1 "$ZDEV" ||
			fail "explicit open $((i + 1)) of $P_mor failed" || return 1
		i=$((i + 1))
	done
	expect_cond $((ZLIM + P_mor - 1)) oe || return 1
	dm=$(dmesg_lines)
	must_fail blkzone open -o $(((ZLIM + P_mor) * ZSECT)) -c 1 "$ZDEV" || return 1
	expect_nvme_status 0x1 0xbe "$dm" || return 1
	expect_cond $((ZLIM + P_mor)) em || return 1
	zreset
}

# Closed zones stay active: with max-active zones written and closed, a
# write to an empty zone is refused; after one reset it is accepted.
case_max_active_rejected() {
	local i dm
	need_zdev || return 1
	[ "$P_mar" -gt 0 ] || skip "no active zone limit configured" || return $?
	[ $((ZLIM + P_mar + 1)) -le "$P_zones" ] || skip "not enough zones" || return $?
	zreset || return 1
	rand_file "$WORK/blk" "$P_lba" || return 1
	i=0
	while [ $i -lt "$P_mar" ]; do
		write_lbas $((ZLIM + i)) 0 1 "$WORK/blk" ||
			fail "write to zone $((ZLIM + i)) ($((i + 1)) of $P_mar active) failed" || return 1
		must blkzone close -o $(((ZLIM + i) * ZSECT)) -c 1 "$ZDEV" || return 1
		i=$((i + 1))
	done
	expect_cond $((ZLIM + P_mar - 1)) cl || return 1
	dm=$(dmesg_lines)
	must_fail write_lbas $((ZLIM + P_mar)) 0 1 "$WORK/blk" || return 1
	expect_nvme_status 0x1 0xbd "$dm" || return 1
	zreset $ZLIM 1 || return 1
	write_lbas $((ZLIM + P_mar)) 0 1 "$WORK/blk" || return 1
	zreset
}

# Zone Append through nvme-cli: the assigned LBA is the write pointer.
ZAPP=3
case_zone_append() {
	local zslba wp out got i
	need_zdev || return 1
	zreset $ZAPP 1 || return 1
	rand_file "$WORK/pat" $((3 * P_lba)) || return 1
	write_lbas $ZAPP 0 3 "$WORK/pat" || return 1
	zslba=$((ZAPP * ZLBAS))
	rand_file "$WORK/blk" "$P_lba" || return 1
	for i in 1 2; do
		zone_info $ZAPP || return 1
		wp=$((zslba + Z_WP * 512 / P_lba))
		out=$(nvme zns zone-append "$ZDEV" -s $zslba -z "$P_lba" -d "$WORK/blk" 2>&1)
		echo "$out"
		got=$(printf '%s' "$out" | sed -n 's/.*appended data to LBA \(0x\)\{0,1\}\([0-9a-fA-F]*\).*/\2/p')
		[ -n "$got" ] || fail "zone-append $i: $out" || return 1
		expect_eq "zone-append $i LBA" $((0x$got)) $wp || return 1
		must $DD if="$ZDEV" of="$WORK/back" bs="$P_lba" count=1 skip=$wp \
			iflag=direct status=none || return 1
		must $CMP "$WORK/blk" "$WORK/back" || return 1
	done
	zone_info $ZAPP || return 1
	expect_eq "write pointer after 3 writes and 2 appends" $((Z_WP * 512 / P_lba)) 5
}

# fio write + crc32c verify over FIO_ZONES zones from zone FIRST; every zone
# written must end up full (so the job cannot pass without writing).
# The block size stays within max_sectors: Linux 6.1 splits larger writes,
# and split zoned writes at queue depth > 1 can reach the device out of order
# (seen with null_blk's default 255-sector limit: 248 + 8 sector fragments).
fio_verify() { # ENGINE FIRST
	local n=$P_fio_zones i bs=131072 max
	need_zdev || return 1
	[ $(($2 + n)) -le "$P_zones" ] || skip "not enough zones" || return $?
	must sh -c "echo mq-deadline > /sys/block/${ZDEV#/dev/}/queue/scheduler" || return 1
	echo "scheduler: $(qattr "$ZDEV" scheduler)"
	max=$(($(qattr "$ZDEV" max_sectors_kb) * 1024))
	while [ $bs -gt "$max" ] && [ $bs -gt "$P_lba" ]; do bs=$((bs / 2)); done
	zreset "$2" "$n" || return 1
	must with_timeout 300 $FIO --name="zbd-$1" --filename="$ZDEV" --direct=1 \
		--zonemode=zbd --ioengine="$1" --iodepth=8 --rw=write --bs=$bs \
		--offset=$(($2 * P_zsize)) --size=$((n * P_zsize)) \
		--verify=crc32c --do_verify=1 --verify_fatal=1 \
		--output-format=normal || return 1
	i=0
	while [ $i -lt "$n" ]; do
		expect_cond $(($2 + i)) fu || return 1
		i=$((i + 1))
	done
	zreset "$2" "$n"
}
case_fio_uring() { fio_verify io_uring 16; }
case_fio_libaio() { fio_verify libaio $((16 + P_fio_zones)); }

# --- file systems -------------------------------------------------------------------
fs_files() { # DIR: write a few files of random data and record their checksums
	local d=$1
	must mkdir -p "$d/dir/sub" || return 1
	rand_file "$d/big" $((8 << 20)) || return 1
	rand_file "$d/dir/mid" $((1 << 20)) || return 1
	rand_file "$d/dir/sub/small" 4096 || return 1
	echo "hello zoned world" > "$d/dir/text" || return 1
	(cd "$d" && $SHA256SUM big dir/mid dir/sub/small dir/text) > "$WORK/sums"
	cat "$WORK/sums"
}
fs_check() {
	(cd "$1" && must $SHA256SUM -c "$WORK/sums")
}

case_btrfs() {
	need_zdev || return 1
	mkdir -p $MNT
	must with_timeout 120 mkfs.btrfs -f -O zoned -d single -m single "$ZDEV" || return 1
	must with_timeout 60 mount -t btrfs "$ZDEV" $MNT || return 1
	fs_files $MNT || { umount $MNT; return 1; }
	must sync || return 1
	must with_timeout 60 umount $MNT || return 1
	must with_timeout 60 mount -t btrfs "$ZDEV" $MNT || return 1
	fs_check $MNT || { umount $MNT; return 1; }
	must with_timeout 60 umount $MNT
}

# f2fs keeps its metadata on the main (first positional) device, which must
# take random writes: the regular namespace; -c adds the zoned one.
case_f2fs() {
	need_zdev || return 1
	need_rdev || return $?
	mkdir -p $MNT
	must with_timeout 120 mkfs.f2fs -f -m -c "$ZDEV" "$RDEV" || return 1
	must with_timeout 60 mount -t f2fs "$RDEV" $MNT || return 1
	fs_files $MNT || { umount $MNT; return 1; }
	must sync || return 1
	must with_timeout 60 umount $MNT || return 1
	must with_timeout 60 mount -t f2fs "$RDEV" $MNT || return 1
	fs_check $MNT || { umount $MNT; return 1; }
	must with_timeout 60 umount $MNT
}

# --- digests ------------------------------------------------------------------------
# The host refuses the connection if the target does not echo the digests it
# asked for (nvme_tcp_init_connection), so a connect here means both are on.
case_connect_digests() { connect -g -G; }
case_fio_digests() { fio_verify io_uring 16; }

# --- optional ZNS features (the second and third daemons, run.sh) -------------------
# Their geometry is fixed in run.sh: 4 MiB zones (capacity = size), 16 zones
# with a 64 MiB regular namespace for the features, 8 zones for the timers.
# ZDES 64 bytes, RAZB, 2 ZRWAs of 64K with a 16K flush granule, zone 14
# offline and zone 15 read-only at start-up; RRL 3 s, FRL 2 s, ZFC 2 s later.

# use_target PORT NQN CONV_BYTES ZONES: point the harness at another daemon.
use_target() {
	P_port=$1 P_nqn=$2 P_conv=$3 P_zones=$4
	P_zsize=$((4 << 20)) P_zcap=$((4 << 20))
	ZSECT=$((P_zsize / 512))
	ZLBAS=$((P_zsize / P_lba))
	FGB=$((16384 / P_lba))		# ZRWA flush granule, blocks
	ZRWAB=$((65536 / P_lba))	# ZRWA size, blocks
}

# le FILE OFFSET BYTES: an unsigned little-endian field of a binary dump.
le() { od -An -tu"$3" -j "$2" -N "$3" "$1" | tr -d ' \n'; }

# The raw structures come from nvme-cli's passthrough commands writing the
# data to a file (-i): nvme-cli 2.3's "-o binary" of the zns commands is not
# the raw data, and its messages share stdout with "-b".
zns_nsid() { cat "/sys/block/${ZDEV#/dev/}/nsid"; }

id_raw() { # CNS CSI NSID FILE: Identify data
	rm -f "$4"
	must nvme admin-passthru "/dev/$CTRL" -o 6 -n "$3" --cdw10="$1" \
		--cdw11=$(($2 << 24)) -l 4096 -r -i "$4" || return 1
	[ "$(stat -c %s "$4")" -eq 4096 ] || fail "identify CNS $1: $(stat -c %s "$4") bytes"
}

log_raw() { # LID LEN CSI FILE [NSID]: Get Log Page (RAE cleared)
	local numd=$(($2 / 4 - 1))
	rm -f "$4"
	must nvme admin-passthru "/dev/$CTRL" -o 2 -n "${5:-4294967295}" \
		--cdw10=$(($1 | (numd & 0xffff) << 16)) --cdw11=$((numd >> 16)) \
		--cdw14=$(($3 << 24)) -l "$2" -r -i "$4" || return 1
	[ "$(stat -c %s "$4")" -eq "$2" ] || fail "log $1: $(stat -c %s "$4") bytes"
}

# zdesc IDX [EXT]: the zone's descriptor (EXT 1: and its extension) from a
# raw Zone Management Receive into $WORK/zd; sets D_ZS (state nibble), D_ZA,
# D_WP (LBA).
zdesc() {
	local s=$(($1 * ZLBAS)) ext=${2:-0} len=128
	[ "$ext" -eq 1 ] && len=192
	rm -f "$WORK/zd"
	nvme io-passthru "$ZDEV" -o $((0x7a)) -n "$(zns_nsid)" --cdw10=$((s & 0xffffffff)) \
		--cdw11=$((s >> 32)) --cdw12=$((len / 4 - 1)) --cdw13="$ext" -l $len -r \
		-i "$WORK/zd" > /dev/null 2>&1 ||
		fail "zone management receive of zone $1 failed" || return 1
	[ "$(stat -c %s "$WORK/zd")" -eq $len ] ||
		fail "report of zone $1: $(stat -c %s "$WORK/zd") bytes" || return 1
	D_ZS=$(($(le "$WORK/zd" 65 1) >> 4))
	D_ZA=$(le "$WORK/zd" 66 1)
	D_WP=$(le "$WORK/zd" 88 8)
	echo "zone $1: state $D_ZS attrs $(printf '%#x' "$D_ZA") wp $D_WP (start $s)"
	[ "$(le "$WORK/zd" 80 8)" = $s ] || fail "report starts at $(le "$WORK/zd" 80 8), not $s"
}

case_feat_connect() {
	use_target "$P_fport" "$P_fnqn" $((64 << 20)) 16
	connect
}

case_feat_id() {
	local f=$WORK/idns c=$WORK/idctrl l=$WORK/lids
	need_zdev || return 1
	must nvme zns id-ns "$ZDEV" || return 1
	id_raw 5 2 "$(zns_nsid)" "$f" || return 1
	expect_eq "OZCS (RAZB | ZRWASUP)" "$(le "$f" 2 2)" 3 || return 1
	expect_eq "NUMZRWA (0's based)" "$(le "$f" 44 4)" 1 || return 1
	expect_eq "ZRWAFG" "$(le "$f" 48 2)" $FGB || return 1
	expect_eq "ZRWAS" "$(le "$f" 50 2)" $ZRWAB || return 1
	expect_eq "ZRWACAP" "$(le "$f" 52 1)" 1 || return 1
	expect_eq "LBAFE0 ZDES (64-byte units)" "$(le "$f" 2824 1)" 1 || return 1
	id_raw 1 0 0 "$c" || return 1
	expect_eq "ONCS & (Compare|DSM|WZ|Verify|Copy)" $(($(le "$c" 520 2) & 0x18d)) $((0x18d)) || return 1
	expect_eq "OCFS" "$(le "$c" 534 2)" 1 || return 1
	expect_eq "LPA bit 5" $(($(le "$c" 261 1) >> 5 & 1)) 1 || return 1
	log_raw 0 1024 0 "$l" || return 1
	expect_eq "LID BFh supported" $(($(le "$l" $((0xbf * 4)) 4) & 1)) 1
}

case_feat_desc_ext() {
	need_zdev || return 1
	head -c 64 /dev/urandom > "$WORK/ext"
	[ "$(stat -c %s "$WORK/ext")" -eq 64 ] || fail "harness: ext is not 64 bytes" || return 1
	must nvme zns set-zone-desc "$ZDEV" -s $ZLBAS -d "$WORK/ext" || return 1
	must nvme zns report-zones "$ZDEV" -s $ZLBAS -d 1 --extended || return 1
	zdesc 1 1 || return 1
	expect_eq "state (closed)" $D_ZS 4 || return 1
	expect_eq "ZDEV" $((D_ZA & 0x80)) $((0x80)) || return 1
	tail -c +129 "$WORK/zd" | head -c 64 > "$WORK/extback"
	must $CMP "$WORK/ext" "$WORK/extback" || return 1
	expect_cond 1 cl || return 1
	must_fail nvme zns set-zone-desc "$ZDEV" -s $ZLBAS -d "$WORK/ext"
}

case_feat_desc_reset() {
	need_zdev || return 1
	must nvme zns reset-zone "$ZDEV" -s $ZLBAS || return 1
	zdesc 1 1 || return 1
	expect_eq "state (empty)" $D_ZS 1 || return 1
	expect_eq "attributes" "$D_ZA" 0 || return 1
	tail -c +129 "$WORK/zd" | head -c 64 > "$WORK/extback"
	head -c 64 /dev/zero > "$WORK/zero64"
	must $CMP "$WORK/zero64" "$WORK/extback"
}

case_feat_zrwa() {
	local s=$((2 * ZLBAS)) sz=$((FGB * P_lba))
	need_zdev || return 1
	rand_file "$WORK/g" $sz || return 1
	must nvme zns open-zone "$ZDEV" -s $s --zrwaa || return 1
	zdesc 2 || return 1
	expect_eq "state (explicitly opened)" $D_ZS 3 || return 1
	expect_eq "ZRWAV" $((D_ZA & 0x08)) 8 || return 1
	# one granule, one granule past the write pointer: inside the ZRWA
	must nvme write "$ZDEV" -s $((s + FGB)) -c $((FGB - 1)) -z $sz -d "$WORK/g" || return 1
	zdesc 2 || return 1
	expect_eq "WP after a write inside the ZRWA" $D_WP $s || return 1
	must nvme zns zrwa-flush-zone "$ZDEV" -l $((s + 2 * FGB - 1)) || return 1
	zdesc 2 || return 1
	expect_eq "WP after zrwa-flush-zone" $D_WP $((s + 2 * FGB)) || return 1
	must nvme read "$ZDEV" -s $((s + FGB)) -c $((FGB - 1)) -z $sz -d "$WORK/gb" || return 1
	must $CMP "$WORK/g" "$WORK/gb" || return 1
	# past the ZRWA and its implicit flush region: refused
	must_fail nvme write "$ZDEV" -s $((s + 2 * FGB + 2 * ZRWAB)) -c $((FGB - 1)) -z $sz \
		-d "$WORK/g" || return 1
	# into the implicit flush region: the WP moves by one granule
	must nvme write "$ZDEV" -s $((s + 2 * FGB + ZRWAB)) -c $((FGB - 1)) -z $sz \
		-d "$WORK/g" || return 1
	zdesc 2 || return 1
	expect_eq "WP after an implicit flush" $D_WP $((s + 3 * FGB)) || return 1
	must nvme zns finish-zone "$ZDEV" -s $s || return 1
	zdesc 2 || return 1
	expect_eq "state (full)" $D_ZS 14 || return 1
	expect_eq "ZRWAV after finish" $((D_ZA & 0x08)) 0
}

case_feat_zrwa_limit() {
	local out
	need_zdev || return 1
	must nvme zns open-zone "$ZDEV" -s $((3 * ZLBAS)) -r || return 1
	must nvme zns open-zone "$ZDEV" -s $((4 * ZLBAS)) -r || return 1
	out=$(nvme zns open-zone "$ZDEV" -s $((5 * ZLBAS)) -r 2>&1)
	local rc=$?
	echo "$out"
	[ $rc -ne 0 ] || fail "a third ZRWA was granted" || return 1
	printf '%s' "$out" | grep -qi "1b7" || fail "status is not ZRWA Resources Unavailable (1b7)" ||
		return 1
	expect_cond 5 em || return 1
	must nvme zns reset-zone "$ZDEV" -a || return 1
	must nvme zns open-zone "$ZDEV" -s $((5 * ZLBAS)) -r || return 1
	must nvme zns reset-zone "$ZDEV" -a
}

case_feat_ro_offline() {
	local out
	need_zdev || return 1
	expect_cond 14 of || return 1
	expect_cond 15 ro || return 1
	out=$(zbd report -n -ro ol "$ZDEV" 2>&1)
	echo "zbd report -n -ro ol: $out"
	expect_eq "offline zones (zbd)" "$(printf '%s' "$out" | grep -o '[0-9]* zones' | cut -d' ' -f1)" 1 ||
		return 1
	out=$(zbd report -n -ro ro "$ZDEV" 2>&1)
	echo "zbd report -n -ro ro: $out"
	expect_eq "read-only zones (zbd)" "$(printf '%s' "$out" | grep -o '[0-9]* zones' | cut -d' ' -f1)" 1 ||
		return 1
	must_fail $DD if="$ZDEV" of=/dev/null bs="$P_lba" count=1 skip=$((14 * ZLBAS)) \
		iflag=direct status=none || return 1
	must $DD if="$ZDEV" of=/dev/null bs="$P_lba" count=1 skip=$((15 * ZLBAS)) \
		iflag=direct status=none || return 1
	must_fail $DD if=/dev/zero of="$ZDEV" bs="$P_lba" count=1 seek=$((15 * ZLBAS)) \
		oflag=direct status=none
}

case_feat_offline_zone() {
	need_zdev || return 1
	must_fail nvme zns offline-zone "$ZDEV" -s $((6 * ZLBAS)) || return 1
	must nvme zns offline-zone "$ZDEV" -s $((15 * ZLBAS)) || return 1
	expect_cond 15 of
}

case_feat_razb() {
	need_zdev || return 1
	must nvme read "$ZDEV" -s $((2 * ZLBAS - 2)) -c 3 -z $((4 * P_lba)) -d "$WORK/x"
}

case_feat_copy() {
	local a=$((6 * ZLBAS)) b=$((7 * ZLBAS)) sz=$((FGB * P_lba))
	need_zdev || return 1
	rand_file "$WORK/c" $sz || return 1
	must nvme write "$ZDEV" -s $a -c $((FGB - 1)) -z $sz -d "$WORK/c" || return 1
	# nvme-cli passes --blocks as the 0's based NLB of each range
	must nvme copy "$ZDEV" --sdlba=$b --slbs=$a --blocks=$((FGB - 1)) || return 1
	must nvme read "$ZDEV" -s $b -c $((FGB - 1)) -z $sz -d "$WORK/cb" || return 1
	must $CMP "$WORK/c" "$WORK/cb" || return 1
	zdesc 7 || return 1
	expect_eq "WP after the copy" $D_WP $((b + FGB)) || return 1
	must_fail nvme copy "$ZDEV" --sdlba=$((b + 3 * FGB)) --slbs=$a --blocks=0 || return 1
	must nvme compare "$ZDEV" -s $b -c $((FGB - 1)) -z $sz -d "$WORK/c" || return 1
	rand_file "$WORK/c2" $sz || return 1
	must_fail nvme compare "$ZDEV" -s $b -c $((FGB - 1)) -z $sz -d "$WORK/c2" || return 1
	must nvme verify "$ZDEV" -s $b -c $((FGB - 1)) || return 1
	must nvme zns reset-zone "$ZDEV" -a
}

case_feat_dsm() {
	need_rdev || return $?
	echo "discard_max_bytes: $(qattr "$RDEV" discard_max_bytes)"
	[ "$(qattr "$RDEV" discard_max_bytes)" -gt 0 ] || fail "the host sees no discard support" ||
		return 1
	rand_file "$WORK/d" $((2 * P_lba)) || return 1
	must $DD if="$WORK/d" of="$RDEV" bs="$P_lba" seek=100 count=2 oflag=direct status=none ||
		return 1
	must nvme dsm "$RDEV" --ad --slbs=100 --blocks=2 || return 1
	must $DD if="$RDEV" of="$WORK/db" bs="$P_lba" skip=100 count=2 iflag=direct status=none ||
		return 1
	head -c $((2 * P_lba)) /dev/zero > "$WORK/dz"
	must $CMP "$WORK/dz" "$WORK/db"
}

# --- latency profile (issue 4) ----------------------------------------------
# The fourth daemon runs --profile zn540: 2 GiB zones, 1077 MiB capacity.
case_latency_connect() {
	use_target "$P_lport" "$P_lnqn" 0 16
	P_zsize=$((2 << 30)) P_zcap=$((1077 << 20))
	connect
}

# The kernel sees what the profile promises, in order: a reset of a written
# zone costs milliseconds (an erase), a read (tR) costs more than a write
# the write buffer takes at once.  Absolute figures include the emulator's
# own cost per I/O, so only the ordering is checked.
# zlat_run DEV: the probe's figures into ZW ZR ZRS ZRE (microseconds).
zlat_run() {
	local out kv
	[ -x /usr/bin/znst-zlat ] || fail "znst-zlat missing from the image" || return 1
	echo "\$ znst-zlat $1"
	out=$(znst-zlat "$1") || fail "znst-zlat failed: $out" || return 1
	echo "$out"
	ZW= ZR= ZRS= ZRE=
	for kv in $out; do
		case $kv in
		write_us=*) ZW=${kv#*=} ;;
		read_us=*) ZR=${kv#*=} ;;
		reset_us=*) ZRS=${kv#*=} ;;
		reset_empty_us=*) ZRE=${kv#*=} ;;
		esac
	done
	[ -n "$ZW" ] && [ -n "$ZR" ] && [ -n "$ZRS" ] && [ -n "$ZRE" ] ||
		fail "unparsable: $out"
}

# The same probe on the no-delay daemon: what the emulator and the
# network cost per operation, to subtract from the profile's figures.
case_latency_baseline() {
	need_zdev || return 1
	zlat_run "$ZDEV" || return 1
	echo "$ZW $ZR $ZRS $ZRE" > /tmp/zlat-base
}

case_latency_order() {
	local out w r rs re bw br
	need_zdev || return 1
	zlat_run "$ZDEV" || return 1
	w=$ZW r=$ZR rs=$ZRS re=$ZRE
	[ "$rs" -ge 1000 ] || fail "reset of a written zone took $rs us, expected milliseconds" || return 1
	[ "$rs" -gt $((re + 1000)) ] || fail "reset of a written zone ($rs us) not above an empty one ($re us)" || return 1
	[ -r /tmp/zlat-base ] || fail "no baseline probe figures" || return 1
	read -r bw br _ < /tmp/zlat-base
	# what the profile added on top of the no-delay daemon's figures
	# Reads and writes alternate in each probe, so the emulator's drift
	# cancels within a run: compare how much more a read costs than a
	# write here with the same on the no-delay daemon (zn540: tR 57 us +
	# transfer vs a write buffered at once, about +62 us).
	echo "read minus write: $((r - w)) us here, $((br - bw)) us without delays"
	[ $((r - w)) -gt $((br - bw)) ] ||
		fail "a 4K read costs $((r - w)) us more than a buffered write, not more than without delays ($((br - bw)) us)"
}

# The same ordering through fio, as a user measures it: psync, QD1,
# O_DIRECT, zonemode=zbd.  8M of 4K sequential writes seed an emptied zone,
# then one randrw job mixes 4K random reads of them with 4K writes at the
# write pointer, so that both means come from the same minutes of an
# emulator whose speed drifts.  Means from fio's JSON into FW FR (us).
# fio_lat DEV ZONE
fio_lat() {
	local dev=$1 off=$(($2 * P_zsize)) out
	FW= FR=
	must blkzone reset -o $((off / 512)) -c 1 "$dev" || return 1
	out=$(fio --name=lat-seed --filename="$dev" --direct=1 --ioengine=psync --rw=write \
		--bs=4k --zonemode=zbd --offset=$off --size=$P_zsize --io_size=8M \
		--output-format=json 2>&1) || fail "fio write: $(printf '%s' "$out" | head -3)" ||
		return 1
	# zonemode=zbd reads only below the write pointer, writes at it
	out=$(fio --name=lat-rw --filename="$dev" --direct=1 --ioengine=psync --rw=randrw \
		--rwmixread=50 --bs=4k --zonemode=zbd --offset=$off --size=$P_zsize \
		--io_size=8M --output-format=json 2>&1) ||
		fail "fio randrw: $(printf '%s' "$out" | head -3)" || return 1
	FW=$(printf '%s\n' "$out" | fio_mean write)
	FR=$(printf '%s\n' "$out" | fio_mean read)
	echo "fio 4K QD1 randrw: write ${FW} us, read ${FR} us"
	[ -n "$FW" ] && [ -n "$FR" ] && [ "$FW" -gt 0 ] && [ "$FR" -gt 0 ] ||
		fail "no latency in fio's output"
}

# fio_mean read|write: jobs[0].<dir>.lat_ns.mean from fio's JSON, in us.
fio_mean() {
	awk -v dir="\"$1\"" '
		$1 == dir && $2 == ":" { sec = 1; next }
		sec && /"lat_ns"/ { lat = 1; next }
		sec && lat && /"mean"/ { gsub(/[^0-9.]/, "", $3); printf "%d\n", $3 / 1000; exit }
	'
}

case_fio_latency_baseline() {
	need_zdev || return 1
	fio_lat "$ZDEV" 20 || return 1
	echo "$FW $FR" > /tmp/fiolat-base
}

case_fio_latency_order() {
	local bw br
	need_zdev || return 1
	fio_lat "$ZDEV" 5 || return 1
	[ -r /tmp/fiolat-base ] || fail "no baseline fio figures" || return 1
	read -r bw br < /tmp/fiolat-base
	echo "randread minus write: $((FR - FW)) us here, $((br - bw)) us without delays"
	[ $((FR - FW)) -gt $((br - bw)) ] ||
		fail "fio: a 4K read costs $((FR - FW)) us more than a buffered write, not more than without delays ($((br - bw)) us)"
}

case_timers_connect() {
	use_target "$P_tport" "$P_tnqn" 0 8
	connect
}

case_timers_aen() {
	local c=$WORK/idctrl out
	need_zdev || return 1
	id_raw 1 0 0 "$c" || return 1
	expect_eq "OAES bit 27" $(($(le "$c" 92 4) >> 27 & 1)) 1 || return 1
	# Linux 6.1 enabled what it knows of OAES (bit 8) and parked an AER
	must nvme set-feature "/dev/$CTRL" -f 0x0b -v $((0x08000100)) || return 1
	out=$(nvme get-feature "/dev/$CTRL" -f 0x0b 2>&1)
	echo "$out"
	printf '%s' "$out" | grep -qi "8000100" || fail "AEC bit 27 not set: $out"
}

case_timers_zfc() {
	local dm0 i=0
	need_zdev || return 1
	dm0=$(dmesg_lines)
	rand_file "$WORK/t" "$P_lba" || return 1
	write_lbas 0 0 1 "$WORK/t" || return 1
	must nvme zns finish-zone "$ZDEV" -s $ZLBAS || return 1
	while [ $i -lt 40 ]; do
		zdesc 0 > /dev/null || return 1
		[ $((D_ZA & 1)) -eq 1 ] && break
		sleep 0.5
		i=$((i + 1))
	done
	zdesc 0 || return 1
	expect_eq "zone 0 state (full, finished by the controller)" $D_ZS 14 || return 1
	expect_eq "ZFC" $((D_ZA & 1)) 1 || return 1
	zdesc 1 || return 1
	expect_eq "zone 1 RZR" $((D_ZA & 4)) 4 || return 1
	expect_cond 0 fu || return 1
	dmesg | tail -n +"$((dm0 + 1))"
	dmesg | tail -n +"$((dm0 + 1))" | grep -q "async event result 00bfef02" ||
		fail "the host logged no Zone Descriptor Changed notice"
}

case_timers_log() {
	local f=$WORK/czl n
	need_zdev || return 1
	must nvme zns changed-zone-list "$ZDEV" --rae || return 1
	log_raw $((0xbf)) 4096 2 "$f" "$(zns_nsid)" || return 1
	n=$(le "$f" 0 2)
	echo "NRZID $n: $(od -An -tu8 -j 8 -N $((n * 8)) "$f" | tr -s ' \n' ' ')"
	[ "$n" -ge 2 ] && [ "$n" -le 8 ] || fail "NRZID $n, expected 2..8" || return 1
	od -An -tu8 -j 8 -N $((n * 8)) "$f" | tr -s ' \n' '\n' | grep -qx 0 ||
		fail "zone 0 not in the list" || return 1
	od -An -tu8 -j 8 -N $((n * 8)) "$f" | tr -s ' \n' '\n' | grep -qx $ZLBAS ||
		fail "zone 1 not in the list" || return 1
	log_raw $((0xbf)) 4096 2 "$f" "$(zns_nsid)" || return 1
	expect_eq "NRZID after reading the list" "$(le "$f" 0 2)" 0
}

case_timers_reset() {
	local dm0
	need_zdev || return 1
	dm0=$(dmesg_lines)
	must nvme zns reset-zone "$ZDEV" -a || return 1
	zdesc 0 || return 1
	expect_eq "zone 0 attributes after reset" "$D_ZA" 0 || return 1
	rand_file "$WORK/t" "$P_lba" || return 1
	write_lbas 3 0 1 "$WORK/t" || return 1
	must $DD if="$ZDEV" of="$WORK/tb" bs="$P_lba" skip=$((3 * ZLBAS)) count=1 \
		iflag=direct status=none || return 1
	must $CMP "$WORK/t" "$WORK/tb" || return 1
	! dmesg | tail -n +"$((dm0 + 1))" | grep -iE "reset|timeout|error" ||
		fail "the host logged errors or a controller reset"
}

case_kernel_log() {
	local bad
	bad=$(dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection|refcount_t')
	[ -z "$bad" ] || { dmesg | grep -B 2 -A 20 -E 'WARNING:|BUG:|Oops' | head -n 60; fail "kernel warnings/oopses in dmesg"; }
}

# --- main ---------------------------------------------------------------------------
main() {
	local tapdev
	load_params
	mkdir -p "$WORK"
	if [ "$P_mode" = reference ]; then
		P_addr=127.0.0.1
	fi
	ZSECT=$((P_zsize / 512))
	ZLBAS=$((P_zsize / P_lba))

	tapdev=${ZNST_TAP:-/dev/ttyS1}
	if [ -c "$tapdev" ] && stty -F "$tapdev" raw -echo 2>/dev/null; then
		exec 3>"$tapdev"
	else
		exec 3>&1
	fi
	echo "znst guest suite: mode=$P_mode target=$P_addr:$P_port nqn=$P_nqn zones=$P_zones" \
		"zsize=$P_zsize zcap=$P_zcap mor=$P_mor mar=$P_mar append=$P_append lba=$P_lba conv=$P_conv"

	run_case "guest setup: modules, configfs, network" case_setup
	if [ "$P_mode" = reference ]; then
		run_case "reference target: nvmet-tcp over zoned null_blk on $P_addr:$P_port" \
			case_reference_target
	fi
	run_case "nvme discover lists the subsystem NQN" case_discover
	run_case "nvme connect -t tcp" case_connect
	run_case "zoned namespace: queue/zoned is host-managed" case_zoned_model
	run_case "zoned namespace: chunk_sectors is the zone size" case_chunk_sectors
	run_case "zoned namespace: nr_zones" case_nr_zones
	run_case "zoned namespace: max_open_zones" case_max_open
	run_case "zoned namespace: max_active_zones" case_max_active
	run_case "zoned namespace: zone_append_max_bytes" case_append_max
	run_case "zoned namespace: logical_block_size" case_lba_size
	run_case "regular namespace: zoned none, configured size" case_regular_ns
	run_case "regular namespace: random-offset write and read-back" case_regular_io
	run_case "nvme zns id-ctrl" case_zns_id_ctrl
	run_case "nvme zns id-ns: zsze, mor, mar" case_zns_id_ns
	run_case "nvme zns report-zones: count, capacity, start LBAs, types" case_zns_report
	run_case "zbd report shows the zone capacity" case_zbd_report
	run_case "blkzone open: explicitly opened (oe)" case_open_oe
	run_case "write to an empty zone: implicitly opened (oi)" case_write_oi
	run_case "blkzone close: closed (cl)" case_close_cl
	run_case "blkzone finish: full (fu)" case_finish_fu
	run_case "blkzone reset: empty (em), write pointer at zone start" case_reset_em
	run_case "dd O_DIRECT write at zone start, read back and compare" case_dd_readback
	run_case "write one block past the write pointer rejected" case_write_off_wp
	run_case "write past the zone capacity rejected, zone full" case_write_past_cap
	run_case "explicit open past max-open rejected" case_max_open_rejected
	run_case "write to a new zone past max-active rejected" case_max_active_rejected
	run_case "nvme zns zone-append returns the write pointer" case_zone_append
	run_case "fio zbd write+verify crc32c, io_uring, iodepth 8" case_fio_uring
	run_case "fio zbd write+verify crc32c, libaio, iodepth 8" case_fio_libaio
	run_case "btrfs zoned: mkfs, write, remount, checksums" case_btrfs
	run_case "f2fs on regular + zoned namespace: mkfs, write, remount, checksums" case_f2fs
	run_case "nvme disconnect" case_disconnect
	run_case "nvme connect with header and data digest (-g -G)" case_connect_digests
	run_case "fio zbd write+verify over the digest connection" case_fio_digests
	if [ "$P_mode" = daemon ] && [ -n "$P_lport" ]; then
		run_case "latency: baseline probe on the no-delay daemon (znst-zlat)" \
			case_latency_baseline
		run_case "latency: baseline fio 4K write and randread on the no-delay daemon" \
			case_fio_latency_baseline
	fi
	run_case "final nvme disconnect" case_disconnect
	if [ "$P_mode" = daemon ] && [ -n "$P_fport" ]; then
		run_case "features: nvme connect (ZDES, ZRWA, RAZB, ro/offline zones, copy)" \
			case_feat_connect
		run_case "features: id-ns OZCS/NUMZRWA/ZRWAS/ZRWAFG/ZDES, id-ctrl ONCS/OCFS, LID 00h" \
			case_feat_id
		run_case "features: set-zone-desc, report-zones --extended shows ZDEV and the data" \
			case_feat_desc_ext
		run_case "features: reset-zone clears ZDEV and the extension" case_feat_desc_reset
		run_case "features: open-zone --zrwaa, writes in the ZRWA, zrwa-flush-zone, implicit flush" \
			case_feat_zrwa
		run_case "features: ZRWA Resources Unavailable past NUMZRWA" case_feat_zrwa_limit
		run_case "features: blkzone and zbd see offline and read-only zones" \
			case_feat_ro_offline
		run_case "features: nvme zns offline-zone (read-only zone only)" case_feat_offline_zone
		run_case "features: read across a zone boundary (RAZB)" case_feat_razb
		run_case "features: nvme copy at the write pointer, compare, verify" case_feat_copy
		run_case "features: discard on the regular namespace (DSM deallocate)" case_feat_dsm
		run_case "features: nvme disconnect" case_disconnect
	fi
	if [ "$P_mode" = daemon ] && [ -n "$P_tport" ]; then
		run_case "timers: nvme connect (RRL 3 s, FRL 2 s, ZFC 2 s)" case_timers_connect
		run_case "timers: OAES bit 27, set-feature enables Zone Descriptor Changed" \
			case_timers_aen
		run_case "timers: FZR then finished by controller (ZFC), RZR; the host gets the notice" \
			case_timers_zfc
		run_case "timers: changed-zone-list names the zones, reading clears it" case_timers_log
		run_case "timers: reset-zone clears the attributes, I/O goes on without errors" \
			case_timers_reset
		run_case "timers: nvme disconnect" case_disconnect
	fi
	if [ "$P_mode" = daemon ] && [ -n "$P_lport" ]; then
		run_case "latency: nvme connect to the zn540-profile daemon" case_latency_connect
		run_case "latency: resets cost ms, reads cost more than buffered writes (znst-zlat)" \
			case_latency_order
		run_case "latency: fio sees 4K random reads cost more than buffered 4K writes" \
			case_fio_latency_order
		run_case "latency: nvme disconnect" case_disconnect
	fi
	run_case "guest kernel log has no warnings or oopses" case_kernel_log

	tap "1..$T"
	echo "znst guest suite: $T cases, $FAILED failed ($(now) s)"
	exec 3>&-	# the last close drains the UART before power-off
}

# Sourced with ZNST_SOURCE_ONLY=1: just define the functions (debugging).
[ -n "${ZNST_SOURCE_ONLY:-}" ] && return 0

if [ $$ -eq 1 ]; then
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev 2>/dev/null
	main
	sync
	sleep 1
	poweroff -f
	echo o > /proc/sysrq-trigger
	sleep 60
else
	main "$@"
fi

#!/bin/bash
# SPDX-License-Identifier: MIT
# Build (once) the guest image for the real-Linux-host suite: Debian's
# kernel and a busybox initramfs holding the host-side NVMe/zoned tools
# (nvme, zbd, blkzone, fio, mkfs.btrfs, mkfs.f2fs, dd, cmp, sha256sum), their
# shared libraries and the kernel modules the suite needs.
#
# Everything lands in the cache directory ($ZNST_VM_CACHE, default
# build/vm-cache in the repository):
#   image.env          KVER, VMLINUZ, INITRD, STAMP (sourced by run.sh)
#   kernel/<kver>/     the unpacked kernel package (depmod'ed)
#   initramfs-<kver>.cpio   uncompressed: unpacking is cheaper than
#                      decompressing under TCG
# The per-run files (/init = guest-tests.sh, parameters) are not in it:
# run.sh appends them as a second cpio archive.
#
# Idempotent: an existing image whose stamp matches (this script, the host
# tool versions, the kernel) is reused without touching the network.
# ZNST_VM_REFRESH=1 looks for a newer kernel; ZNST_VM_KERNEL_PKG picks one.
#
# Exit status: 0 ok, 77 the environment cannot build the image (reason on
# stderr), 1 other failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${ZNST_VM_CACHE:-$root/build/vm-cache}
# shellcheck source=../../scripts/lib-apt.sh
. "$root/scripts/lib-apt.sh"

log() { echo "build-image: $*" >&2; }
skip() { echo "build-image: cannot build the VM image: $*" >&2; exit 77; }

host_pkgs=(qemu-system-x86 busybox-static nvme-cli fio zbd-utils util-linux
	   btrfs-progs f2fs-tools cpio kmod coreutils diffutils)
# Binaries copied into the guest, with their libraries.
guest_bins=(nvme zbd blkzone fio mkfs.btrfs mkfs.f2fs dd cmp sha256sum)
# Modules, loaded by name in the guest (dependencies resolved here).
guest_mods=(virtio_pci virtio_net crc32c_generic crc32c-intel crc32_generic
	    libcrc32c configfs nvme-core nvme-fabrics nvme-tcp null_blk nvmet
	    nvmet-tcp btrfs f2fs)

[[ $(uname -m) == x86_64 ]] || skip "host is $(uname -m), the image is x86_64"
command -v dpkg-query >/dev/null || skip "not a Debian host (no dpkg)"
if [[ -n $(znst_apt_missing "${host_pkgs[@]}") ]]; then
	znst_apt_ensure "${host_pkgs[@]}" ||
		skip "missing packages: $(znst_apt_missing "${host_pkgs[@]}" | tr '\n' ' ')"
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

# Stamp: what the image is made of, except the kernel (chosen below).
tools_stamp=$( {
	sha256sum < "${BASH_SOURCE[0]}"
	dpkg-query -W -f='${Package} ${Version}\n' "${host_pkgs[@]}"
} | sha256sum | cut -c1-16)

if [[ -f $cache/image.env && -z ${ZNST_VM_REFRESH:-} &&
      -z ${ZNST_VM_KERNEL_PKG:-} ]]; then
	# shellcheck disable=SC1091
	. "$cache/image.env"
	if [[ ${STAMP:-} == "$tools_stamp-$KVER" && -f $VMLINUZ &&
	      -f $INITRD ]]; then
		log "up to date: $KVER ($cache)"
		exit 0
	fi
fi

# --- kernel -----------------------------------------------------------------
kpkg=${ZNST_VM_KERNEL_PKG:-}
if [[ -z $kpkg ]]; then
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	       awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
	if [[ -z $kpkg ]]; then
		apt-get update -qq >/dev/null 2>&1 || true
		kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		       awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
	fi
fi
if [[ -z $kpkg ]]; then
	# Offline: fall back to a kernel unpacked by an earlier run.
	kpkg=$(find "$cache/kernel" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null |
	       sort -V | tail -n1)
	[[ -n $kpkg ]] || skip "cannot find Debian's linux-image-amd64 kernel (apt offline?)"
	kpkg=linux-image-$kpkg
fi
kver=${kpkg#linux-image-}
kroot=$cache/kernel/$kver
if [[ ! -f $kroot/boot/vmlinuz-$kver ]]; then
	log "downloading $kpkg"
	dl=$cache/dl
	rm -rf "$dl" "$kroot"
	mkdir -p "$dl"
	# apt's _apt sandbox user may not write here: fine, it falls back to root.
	(cd "$dl" && apt-get download -qq "$kpkg" 2>/dev/null) ||
		skip "apt-get download $kpkg failed"
	mkdir -p "$kroot.tmp"
	dpkg -x "$dl"/"$kpkg"_*.deb "$kroot.tmp"
	mv "$kroot.tmp" "$kroot"
	rm -rf "$dl"
fi
[[ -f $kroot/lib/modules/$kver/modules.dep ]] || depmod -b "$kroot" "$kver"

# --- initramfs staging --------------------------------------------------------
stage=$cache/stage
rm -rf "$stage"
mkdir -p "$stage"/{usr/bin,usr/sbin,usr/lib/x86_64-linux-gnu,usr/lib64}
ln -s usr/bin "$stage/bin"
ln -s usr/sbin "$stage/sbin"
ln -s usr/lib "$stage/lib"
ln -s usr/lib64 "$stage/lib64"
mkdir -p "$stage"/{dev,proc,sys,tmp,mnt,run,root,etc/nvme,etc/znst/mods,var/run}

# busybox first, so the real tools copied afterwards replace its applets.
cp /bin/busybox "$stage/usr/bin/busybox"
for a in $(/bin/busybox --list); do
	[[ $a == busybox ]] && continue
	ln -sf busybox "$stage/usr/bin/$a"
done

# Copy a file to the same path in the stage, following symlinks (the stage's
# /lib and /lib64 are symlinks into /usr like on the host).
stage_copy() {
	local src=$1 dst=$stage$1
	mkdir -p "$(dirname "$dst")"
	rm -f "$dst"
	cp -L "$src" "$dst"
}

declare -A libs=()
for b in "${guest_bins[@]}"; do
	p=$(PATH=/usr/sbin:/sbin:/usr/bin:/bin command -v "$b") ||
		skip "host tool $b not found"
	case $b in
	nvme|blkzone|mkfs.btrfs|mkfs.f2fs) d=/usr/sbin ;;
	*) d=/usr/bin ;;
	esac
	rm -f "$stage$d/$b"
	cp -L "$p" "$stage$d/$b"
	while read -r lib; do
		libs[$lib]=1
	done < <(ldd "$p" | awk '$2 == "=>" && $3 ~ /^\// {print $3}
				 $1 ~ /^\// {print $1}')
done
for lib in "${!libs[@]}"; do
	stage_copy "$lib"
done
# The dynamic loader must exist under the name in the ELF interpreter.
[[ -e $stage/lib64/ld-linux-x86-64.so.2 ]] ||
	stage_copy /lib64/ld-linux-x86-64.so.2

# nvme-cli wants a host NQN and host ID; a fixed one keeps runs comparable.
hostid=5a4e5354-7465-7374-2d68-6f7374000001
echo "nqn.2014-08.org.nvmexpress:uuid:$hostid" > "$stage/etc/nvme/hostnqn"
echo "$hostid" > "$stage/etc/nvme/hostid"
echo "root:x:0:0:root:/root:/bin/sh" > "$stage/etc/passwd"
echo "root:x:0:" > "$stage/etc/group"

# Modules: for each name, the ordered list of .ko files to insmod (its
# dependencies first), resolved with the host's kmod against the package.
mdir=$kroot/lib/modules/$kver
for m in "${guest_mods[@]}"; do
	deps=$(modprobe -d "$kroot" -S "$kver" --show-depends "$m" 2>/dev/null) ||
		skip "kernel $kver has no module $m"
	: > "$stage/etc/znst/mods/${m//-/_}"
	while read -r kind path _; do
		[[ $kind == insmod ]] || continue
		rel=${path#"$kroot"}
		mkdir -p "$stage$(dirname "$rel")"
		cp "$path" "$stage$rel"
		echo "$rel" >> "$stage/etc/znst/mods/${m//-/_}"
	done <<< "$deps"
done
cp "$mdir"/modules.{order,builtin,builtin.modinfo} "$stage/lib/modules/$kver/" 2>/dev/null || true
depmod -b "$stage" "$kver"

initrd=$cache/initramfs-$kver.cpio
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0) > "$initrd.tmp"
mv "$initrd.tmp" "$initrd"
rm -rf "$stage"

cat > "$cache/image.env.tmp" <<EOF
KVER=$kver
VMLINUZ=$kroot/boot/vmlinuz-$kver
INITRD=$initrd
STAMP=$tools_stamp-$kver
EOF
mv "$cache/image.env.tmp" "$cache/image.env"
log "built $initrd ($(du -m "$initrd" | cut -f1) MiB) for $kver"

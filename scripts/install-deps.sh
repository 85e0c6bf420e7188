#!/bin/bash
# SPDX-License-Identifier: MIT
# Install, with apt-get, the build and test dependencies that are missing.
#
#   scripts/install-deps.sh           build + test dependencies
#   scripts/install-deps.sh --build   build dependencies only
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib-apt.sh
. "$here/lib-apt.sh"

build_deps=(meson ninja-build pkg-config gcc liburing-dev libssl-dev
	    libinih-dev)
test_deps=(nvme-cli fio zbd-utils util-linux btrfs-progs f2fs-tools
	   qemu-system-x86 busybox-static cpio kmod clang)
# libFuzzer's runtime: its own package from LLVM 14 on Debian, a mere
# recommendation of clang (not installed here); part of clang elsewhere.
if apt-cache show libclang-rt-14-dev > /dev/null 2>&1; then
	test_deps+=(libclang-rt-14-dev)
fi

case "${1:-}" in
--build) pkgs=("${build_deps[@]}") ;;
"") pkgs=("${build_deps[@]}" "${test_deps[@]}") ;;
*) echo "usage: $0 [--build]" >&2; exit 2 ;;
esac

znst_apt_ensure "${pkgs[@]}"

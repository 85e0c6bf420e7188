#!/bin/bash
# SPDX-License-Identifier: MIT
# Install the build dependencies, build, and run znstcpd with the given
# arguments (none: the embedded default configuration).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh --build
if [[ ! -f build/build.ninja ]]; then
	meson setup build >&2
fi
ninja -C build >&2
exec build/target/znstcpd "$@"

# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced (bash) by scripts/install-deps.sh and tests/vm/build-image.sh:
# install the Debian packages of a list that are missing, quietly.
#
#   znst_apt_missing PKG...   print the packages not installed
#   znst_apt_ensure PKG...    install them (needs root); 0 if all present after

znst_apt_missing() {
	local p st
	for p in "$@"; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[[ $st == "install ok installed" ]] || printf '%s\n' "$p"
	done
}

znst_apt_ensure() {
	local missing
	missing=$(znst_apt_missing "$@")
	[[ -z $missing ]] && return 0
	# shellcheck disable=SC2086 # word splitting of the package list is wanted
	set -- $missing
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "znst: missing packages ($*) and no apt-get to install them" >&2
		return 1
	fi
	if [[ $(id -u) -ne 0 ]]; then
		echo "znst: missing packages ($*); run as root to install them" >&2
		return 1
	fi
	echo "znst: installing $*" >&2
	export DEBIAN_FRONTEND=noninteractive
	local opts=(-y -qq -o=Dpkg::Use-Pty=0 --no-install-recommends)
	# A fresh container often has no package lists: update once and retry.
	if ! apt-get install "${opts[@]}" "$@" >/dev/null 2>&1; then
		apt-get update -qq >/dev/null 2>&1 || true
		if ! apt-get install "${opts[@]}" "$@" >&2; then
			echo "znst: apt-get install $* failed" >&2
			return 1
		fi
	fi
	return 0
}

#!/usr/bin/env bash
# Installs the Debian packages ordo's build, tests and local lab need.
# Idempotent: runs `apt-get update` and `apt-get install` only when a package is missing.
set -euo pipefail

packages=(containerd runc busybox-static iproute2 protobuf-compiler libprotobuf-dev util-linux procps)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: all packages present" >&2
else
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing ${missing[*]}; run as root to install them" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi

if [ ! -x /usr/local/go/bin/go ] && ! command -v go >/dev/null 2>&1; then
	echo "install-deps: Go not found; install it at /usr/local/go (see go.mod for the version)" >&2
	exit 1
fi

#!/usr/bin/env bash
# ci-deps.sh - install what kernel-module/test-kernel.sh needs from Debian.
# Idempotent: returns at once when everything is installed; runs apt-get
# update only when a package has no install candidate. Needs root (or sudo).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"

pkgs=(qemu-system-x86 busybox-static cpio kmod "linux-headers-$FLEXSC_KVER" gcc make libc6-dev xz-utils zstd)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "ci-deps: kernel-module test tools already installed"; exit 0; }

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
apt_install() { $SUDO apt-get install -y --no-install-recommends -o Acquire::Retries=2 "${missing[@]}"; }

need_update=0
for p in "${missing[@]}"; do
  apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]' || need_update=1
done
if [ $need_update = 1 ]; then
  echo "ci-deps: apt-get update (a package has no candidate yet)"
  timeout 300 $SUDO apt-get update -o Acquire::Retries=2 -q || { echo "ci-deps: apt-get update failed" >&2; exit 1; }
fi
echo "ci-deps: installing ${missing[*]}"
if ! timeout 600 apt_install; then
  for p in "${missing[@]}"; do
    apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]' ||
      echo "ci-deps: $p is not in the configured Debian mirror (kernel pinned in kernel-module/versions.env: FLEXSC_KVER=$FLEXSC_KVER)" >&2
  done
  echo "ci-deps: apt-get install failed" >&2
  exit 1
fi

#!/usr/bin/env bash
# ci-deps.sh - install what kernel-module/test-kernel.sh needs from Debian.
# Idempotent: returns at once when everything is installed; runs apt-get
# update only when a package has no install candidate. Needs root (or sudo).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"

# Both pinned series' headers (6.12's from bookworm-security, in Debian's default sources;
# its kbuild needs pahole from dwarves). The kernel images are fetched by test-kernel.sh.
pkgs=(qemu-system-x86 busybox-static cpio kmod "linux-headers-$FLEXSC_KVER" "linux-headers-$FLEXSC_KVER_612" dwarves
      gcc make libc6-dev xz-utils zstd)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "ci-deps: kernel-module test tools already installed"; exit 0; }

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Whether apt has an install candidate for $1. The output is captured first: with
# pipefail, `apt-cache policy | grep -q` fails whenever grep exits before apt-cache
# has written everything (SIGPIPE), which read as "no candidate".
has_candidate() { local out; out=$(apt-cache policy "$1" 2>/dev/null) || true; grep -q 'Candidate: [0-9]' <<<"$out"; }

need_update=0
for p in "${missing[@]}"; do
  has_candidate "$p" || need_update=1
done
if [ $need_update = 1 ]; then
  echo "ci-deps: apt-get update (a package has no candidate yet)"
  timeout 300 $SUDO apt-get update -o Acquire::Retries=2 -q || { echo "ci-deps: apt-get update failed" >&2; exit 1; }
fi
echo "ci-deps: installing ${missing[*]}"
# timeout runs a program, not a shell function: apt-get itself goes under it
if ! timeout 600 $SUDO apt-get install -y --no-install-recommends -o Acquire::Retries=2 "${missing[@]}"; then
  for p in "${missing[@]}"; do
    has_candidate "$p" ||
      echo "ci-deps: $p is not in the configured Debian mirror (kernels pinned in kernel-module/versions.env: FLEXSC_KVER=$FLEXSC_KVER, FLEXSC_KVER_612=$FLEXSC_KVER_612; 6.12 comes from bookworm-security or bookworm-backports)" >&2
  done
  echo "ci-deps: apt-get install failed" >&2
  exit 1
fi

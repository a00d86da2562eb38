#!/usr/bin/env bash
# Debian packages the sandbox needs. Idempotent: installs only what is missing.
#   nftables  - NAT and filtering for environment egress (sandbox/network)
#   e2fsprogs - mkfs.ext4 for the disk-backed /tmp of each environment
#   iproute2  - `ip` for diagnostics
#   libseccomp2 - the environments' seccomp filter (loaded with ctypes)
#   patchelf  - runtime images: a pyenv interpreter finds its libpython relative to itself
#     ($ORIGIN/../lib, i.e. /var/lang/lib) instead of through its host prefix
#   cmake, g++, autoconf, automake, libtool, xz-utils - building the npm aws-lambda-ric
#     (the official Node runtime client) that the conformance tests run unmodified
#   npm - installs the Node.js runtimes and their AWS SDK (make install, runtimes/)
set -euo pipefail
need=()
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v mkfs.ext4 >/dev/null 2>&1 || need+=(e2fsprogs)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v losetup >/dev/null 2>&1 || need+=(util-linux)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v autoconf >/dev/null 2>&1 || need+=(autoconf)
command -v automake >/dev/null 2>&1 || need+=(automake)
command -v libtoolize >/dev/null 2>&1 || need+=(libtool)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v patchelf >/dev/null 2>&1 || need+=(patchelf)
# grep -c reads everything (grep -q could SIGPIPE ldconfig and trip pipefail)
if ! "$(command -v ldconfig || echo /sbin/ldconfig)" -p 2>/dev/null | grep -c 'libseccomp\.so\.2' >/dev/null; then
  need+=(libseccomp2)
fi
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "system-deps: missing ${need[*]}; run as root or install them with apt-get" >&2
    exit 0
  fi
  echo "system-deps: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${need[@]}" >/dev/null 2>&1 || {
    apt-get update -q >/dev/null
    apt-get install -y -q "${need[@]}" >/dev/null
  }
fi

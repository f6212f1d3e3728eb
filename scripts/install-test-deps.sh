#!/usr/bin/env bash
# Installs the system packages the test suite uses (Debian 12), only when missing:
# the CNCF distribution registry, skopeo and umoci to check images, busybox-static for the test
# base image, htpasswd for basic-auth registries, util-linux for RUN isolation, zstd and attr
# (setfattr/getfattr) and libcap2-bin (setcap/getcap) for zstd layers and file capabilities;
# patchelf to build Kiln's own image (scripts/image.mjs), podman and runc to run it (crun, podman's
# default runtime, refuses this machine kind's hybrid cgroups: DESIGN.md §7).
set -euo pipefail
declare -A pkg_for=(
  [docker-registry]=docker-registry
  [skopeo]=skopeo
  [umoci]=umoci
  [busybox]=busybox-static
  [htpasswd]=apache2-utils
  [openssl]=openssl
  [unshare]=util-linux
  [zstd]=zstd
  [setfattr]=attr
  [setcap]=libcap2-bin
  [capsh]=libcap2-bin
  [patchelf]=patchelf
  [podman]=podman
  [runc]=runc
  [dash]=dash
)
missing=()
for cmd in "${!pkg_for[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg_for[$cmd]}")
done
# busybox-static specifically: a dynamically linked busybox cannot run inside a bare image.
if command -v busybox >/dev/null 2>&1 && ! dpkg -s busybox-static >/dev/null 2>&1; then missing+=(busybox-static); fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing test dependencies: ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then echo "need root to apt-get install ${missing[*]}" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

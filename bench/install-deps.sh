#!/usr/bin/env bash
# Installs the system packages `npm run bench` uses (Debian 12), only when missing: Buildah to
# compare against, GNU time for wall/CPU/peak RSS, the CNCF registry, skopeo and busybox-static
# for the base images, util-linux for Buildah's private mount namespace.
set -euo pipefail
declare -A pkg_for=(
  [buildah]=buildah
  [/usr/bin/time]=time
  [docker-registry]=docker-registry
  [skopeo]=skopeo
  [busybox]=busybox-static
  [unshare]=util-linux
)
missing=()
for cmd in "${!pkg_for[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg_for[$cmd]}")
done
# busybox-static specifically: a dynamically linked busybox cannot run inside a bare image.
if ! dpkg -s busybox-static >/dev/null 2>&1; then missing+=(busybox-static); fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bench: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then echo "bench: need root to apt-get install ${missing[*]}" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

#!/usr/bin/env bash
# apt-ensure.sh LABEL ITEM…: installs the Debian packages that are missing, in one apt-get run.
# An ITEM `cmd=pkg` installs pkg when cmd is not on PATH; a bare `pkg` installs pkg when dpkg
# does not have it (busybox-static: any busybox will not do, a dynamic one cannot run in a bare
# image). Used by scripts/install-test-deps.sh and bench/install-deps.sh.
set -euo pipefail
label=$1
shift
missing=()
for item in "$@"; do
  case $item in
  *=*) command -v "${item%%=*}" >/dev/null 2>&1 || missing+=("${item#*=}") ;;
  *) dpkg -s "$item" >/dev/null 2>&1 || missing+=("$item") ;;
  esac
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "$label: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then echo "$label: need root to apt-get install ${missing[*]}" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

#!/usr/bin/env bash
# Installs the system packages the test suite uses (Debian 12), only when missing:
# the CNCF distribution registry, skopeo and umoci to check images, busybox-static for the test
# base image, htpasswd for basic-auth registries, util-linux for RUN isolation, zstd and attr
# (setfattr/getfattr) and libcap2-bin (setcap/getcap) for zstd layers and file capabilities;
# patchelf to build Kiln's own image (scripts/image.mjs), podman and runc to run it (crun, podman's
# default runtime, refuses this machine kind's hybrid cgroups: ARCHITECTURE.md §10); dnsmasq-base
# for the DNS server that RUN steps must reach through the pod's resolv.conf (issue 13); git for
# ADD <git repository> and git:// contexts, and for Kiln's image to ship.
set -euo pipefail
exec bash "$(dirname "$0")/apt-ensure.sh" tests \
  docker-registry=docker-registry skopeo=skopeo umoci=umoci busybox-static htpasswd=apache2-utils \
  openssl=openssl unshare=util-linux zstd=zstd setfattr=attr setcap=libcap2-bin capsh=libcap2-bin \
  patchelf=patchelf podman=podman runc=runc dash=dash dnsmasq=dnsmasq-base git=git

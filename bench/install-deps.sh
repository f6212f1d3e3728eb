#!/usr/bin/env bash
# Installs the system packages `npm run bench` uses (Debian 12), only when missing: Buildah to
# compare against, GNU time for wall/CPU/peak RSS, the CNCF registry, skopeo and busybox-static
# for the base images, util-linux for Buildah's private mount namespace, runc for Kiln's RUN.
set -euo pipefail
exec bash "$(dirname "$0")/../scripts/apt-ensure.sh" bench \
  buildah=buildah /usr/bin/time=time docker-registry=docker-registry skopeo=skopeo busybox-static unshare=util-linux runc=runc

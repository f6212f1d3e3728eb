/**
 * The host-side shell script of an in-place RUN (`--rootfs=/`, Kaniko's model) where Kiln may
 * create namespaces: the step runs over the container's own `/` — its /dev, /proc, /sys, DNS and
 * hosts are the container's, and the container is the boundary, as with Kaniko — in new mount
 * and pid namespaces that hold its own mounts (`RUN --mount`, BuildKit's /dev/pipes for a `#!`
 * heredoc) and vanish with it. A rootfs of Kiln's own never runs here: runc isolates those
 * (runc-runner.ts), since runc cannot pivot_root into `/`.
 *
 * All user-controlled values (paths, sizes, the command) arrive as positional arguments, never
 * spliced into the script text:
 *   uid gid wd scratch pipes net nmounts unshare
 *   then nmounts × (kind source target option), then the command's argv.
 * `unshare` is the host's util-linux unshare as found at start-up. The other programs the script
 * calls (mount, mkdir, cp, ip) are looked up first in unshare's directory, then in the standard
 * ones: Kiln's image keeps all of them in /kaniko/bin.
 * A mount that cannot be made ends the step with status 125 and a `kiln:` line saying which.
 */
export const IN_PLACE_SCRIPT = `
set -eu
uid=$1 gid=$2 wd=$3 scratch=$4 pipes=$5 net=$6 nmounts=$7 unshare_bin=$8
shift 8
imgpath=$PATH
PATH=\${unshare_bin%/*}:/usr/sbin:/usr/bin:/sbin:/bin
fail() { echo "kiln: $*" >&2; exit 125; }
# RUN --network=none: the namespace is new and its loopback starts down (Docker brings it up).
if [ "$net" = none ]; then ip link set lo up 2>/dev/null || true; fi
if [ -n "$pipes" ]; then
  mkdir -p /dev/pipes && mount --bind "$pipes" /dev/pipes && mount -o remount,bind,ro /dev/pipes || fail "cannot mount /dev/pipes"
fi
if [ "$nmounts" -gt 0 ]; then mount -t tmpfs -o mode=0700 kiln-scratch "$scratch" || fail "cannot mount a scratch tmpfs"; fi
i=0
while [ "$i" -lt "$nmounts" ]; do
  kind=$1 src=$2 dst=$3 opt=$4
  shift 4
  case $kind in
  bind)
    mount --bind "$src" "$dst" || fail "cannot bind-mount a RUN --mount source"
    if [ "$opt" = ro ]; then mount -o remount,bind,ro "$dst" || fail "cannot make a RUN --mount read-only"; fi
    ;;
  overlay)
    w=$scratch/$i
    mkdir "$w" "$w/lower" "$w/upper" "$w/work"
    mount --bind "$src" "$w/lower" || fail "cannot bind-mount a RUN --mount source"
    if ! mount -t overlay -o "lowerdir=$w/lower,upperdir=$w/upper,workdir=$w/work" overlay "$dst" 2>/dev/null; then
      # No overlayfs here: a private copy on the tmpfs, discarded with it all the same.
      cp -a "$w/lower/." "$w/upper" && mount --bind "$w/upper" "$dst" || fail "cannot mount a writable RUN --mount"
    fi
    ;;
  tmpfs)
    mount -t tmpfs -o "nosuid,nodev,mode=1777\${opt:+,size=$opt}" tmpfs "$dst" || fail "cannot mount a RUN --mount tmpfs"
    ;;
  *) fail "unknown mount kind" ;;
  esac
  i=$((i + 1))
done
PATH=$imgpath
exec "$unshare_bin" --root=/ --wd="$wd" --setgid="$gid" --setuid="$uid" -- "$@"
`;

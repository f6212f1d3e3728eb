/**
 * The host-side shell script run inside fresh mount + pid namespaces (DESIGN.md §3, isolation
 * mode "namespaces"). It gives the rootfs a private /dev (tmpfs with the usual nodes bound from
 * the host, like Docker's default /dev), /proc, a read-only /sys and the host's resolv.conf and
 * hosts, then the step's own mounts (`RUN --mount`, BuildKit's /dev/pipes for a `#!` heredoc),
 * then chroots, changes directory and drops to the step's uid/gid with util-linux
 * `unshare --root --wd --setuid --setgid`. Every mount lives in the private namespace and
 * vanishes with it, so nothing is left in the rootfs to leak into a layer.
 *
 * All user-controlled values (paths, sizes, the command) arrive as positional arguments, never
 * spliced into the script text:
 *   root uid gid wd dev proc sys resolv hosts  scratch pipes net nmounts unshare
 *   then nmounts × (kind source target option), then the command's argv.
 * `unshare` is the host's util-linux unshare as found at start-up. The other programs the script
 * calls (mount, mkdir, ln, cp, ip) are looked up first in unshare's directory, then in the standard
 * ones: Kiln's image keeps all of them in /kaniko/bin, where the standard directories hold nothing
 * — or, in an in-place build (`--rootfs=/`), the base image's programs.
 * A mount that cannot be made ends the step with status 125 and a `kiln:` line saying which.
 */
export const MOUNT_SCRIPT = `
set -eu
root=$1 uid=$2 gid=$3 wd=$4 dev=$5 proc=$6 sys=$7 resolv=$8 hosts=$9
shift 9
scratch=$1 pipes=$2 net=$3 nmounts=$4 unshare_bin=$5
shift 5
imgpath=$PATH
PATH=\${unshare_bin%/*}:/usr/sbin:/usr/bin:/sbin:/bin
fail() { echo "kiln: $*" >&2; exit 125; }
if [ "$dev" = 1 ]; then
  mount -t tmpfs -o nosuid,mode=0755,size=65536k tmpfs "$root/dev"
  for n in null zero full random urandom tty; do
    if [ -e "/dev/$n" ]; then : > "$root/dev/$n"; mount --bind "/dev/$n" "$root/dev/$n"; fi
  done
  mkdir -m 1777 "$root/dev/shm"
  mount -t tmpfs -o nosuid,nodev,mode=1777 shm "$root/dev/shm"
  mkdir "$root/dev/pts"
  if mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts" 2>/dev/null; then ln -s pts/ptmx "$root/dev/ptmx"; fi
  ln -s /proc/self/fd "$root/dev/fd"
  ln -s /proc/self/fd/0 "$root/dev/stdin"
  ln -s /proc/self/fd/1 "$root/dev/stdout"
  ln -s /proc/self/fd/2 "$root/dev/stderr"
fi
if [ "$proc" = 1 ]; then
  mount -t proc -o nosuid,nodev,noexec proc "$root/proc" 2>/dev/null || mount --rbind /proc "$root/proc"
fi
if [ "$sys" = 1 ]; then
  mount --rbind /sys "$root/sys"
  mount -o remount,bind,ro "$root/sys" 2>/dev/null || true
fi
if [ "$resolv" = 1 ]; then mount --bind /etc/resolv.conf "$root/etc/resolv.conf"; fi
if [ "$hosts" = 1 ]; then mount --bind /etc/hosts "$root/etc/hosts"; fi
# RUN --network=none: the namespace is new and its loopback starts down (Docker brings it up).
if [ "$net" = none ]; then ip link set lo up 2>/dev/null || true; fi
if [ -n "$pipes" ]; then
  mkdir "$root/dev/pipes" && mount --bind "$pipes" "$root/dev/pipes" && mount -o remount,bind,ro "$root/dev/pipes" || fail "cannot mount /dev/pipes"
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
exec "$unshare_bin" --root="$root" --wd="$wd" --setgid="$gid" --setuid="$uid" -- "$@"
`;

#!/usr/bin/env bash
# Sets up a Debian box as a roomd room appliance (docs/admin.md §Install), idempotently: the system
# packages, Node.js check, the roomd .deb (built from this checkout unless one is given) whose maintainer
# scripts create the users and groups, lay out /opt/roomd, the units and udev rules, reload udev
# and systemd, enable and start roomd.service and roomd-kiosk.service. Run it again to upgrade.
#
# Usage:
#   sudo scripts/install.sh [--deb FILE] [--no-start] [--skip-packages] [--root DIR] [--dry-run]
#   sudo scripts/install.sh --uninstall [--purge] [--root DIR] [--dry-run]
#
#   --deb FILE        install this package instead of building one (scripts/package-deb.sh)
#   --no-start        install and enable, but do not start the units now
#   --skip-packages   do not install Debian packages (they must be present already)
#   --root DIR        install into a scratch root (dpkg --root): files, users, enable links only;
#                     no packages, nothing started, udev and systemd left alone
#   --dry-run         print what would be done, change nothing
#   --uninstall       remove roomd; its state in /var/lib/roomd is kept ...
#   --purge           ... unless purged (identity, settings and audit log are deleted)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_MIN="20.19"
# Beyond scripts/setup-system.sh (media, serial helpers, browser): the kiosk compositor, the PAM
# module that gives the kiosk a logind seat, udev, and adduser for the maintainer scripts.
APPLIANCE_PACKAGES=(cage libpam-systemd udev adduser)

DEB=""
ROOT=""
DRY_RUN=0
NO_START=0
SKIP_PACKAGES=0
UNINSTALL=0
PURGE=0

die() {
  echo "install: $*" >&2
  exit 1
}
say() { echo "install: $*"; }
# Runs a command, or only shows it with --dry-run.
run() {
  if [ "$DRY_RUN" = 1 ]; then
    echo "+ $*"
  else
    "$@"
  fi
}

while [ $# -gt 0 ]; do
  case "$1" in
    --deb)
      [ $# -ge 2 ] || die "--deb needs a file"
      DEB="$2"
      shift 2
      ;;
    --root)
      [ $# -ge 2 ] || die "--root needs a directory"
      ROOT="$2"
      shift 2
      ;;
    --dry-run) DRY_RUN=1 && shift ;;
    --no-start) NO_START=1 && shift ;;
    --skip-packages) SKIP_PACKAGES=1 && shift ;;
    --uninstall) UNINSTALL=1 && shift ;;
    --purge) PURGE=1 && shift ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) die "unknown option '$1' (try --help)" ;;
  esac
done

[ "$PURGE" = 0 ] || [ "$UNINSTALL" = 1 ] || die "--purge goes with --uninstall"
if [ -n "$ROOT" ]; then
  if [ "$DRY_RUN" = 0 ]; then mkdir -p "$ROOT" || die "cannot create the root directory '$ROOT'"; fi
  if [ -d "$ROOT" ]; then ROOT="$(cd "$ROOT" && pwd)"; fi
  [ "$ROOT" != "/" ] || ROOT=""
fi
if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" -ne 0 ]; then
  die "run as root (sudo $0 $*), or add --dry-run to see what would be done"
fi

# dpkg on the running system, or on the scratch root without chroot (maintainer scripts then see
# DPKG_ROOT and touch only files under it).
dpkg_cmd() {
  if [ -n "$ROOT" ]; then
    # A scratch root is disposable: no fsync per file (--force-unsafe-io), much faster.
    run dpkg --root="$ROOT" --force-script-chrootless --force-depends --force-unsafe-io --log=/dev/null "$@"
  else
    run dpkg "$@"
  fi
}

installed_version() {
  dpkg-query ${ROOT:+--admindir="$ROOT/var/lib/dpkg"} -W -f='${Status} ${Version}' "$1" 2>/dev/null |
    awk '$3 == "installed" { print $4 }'
}

# --- uninstall -----------------------------------------------------------------------------------
if [ "$UNINSTALL" = 1 ]; then
  if [ -z "$(installed_version roomd)" ] && [ "$PURGE" = 0 ]; then
    say "roomd is not installed${ROOT:+ in $ROOT}; nothing to do"
    exit 0
  fi
  if [ "$PURGE" = 1 ]; then
    say "removing roomd and deleting its state (${ROOT}/var/lib/roomd)"
    dpkg_cmd --purge roomd
  else
    say "removing roomd; its state stays in ${ROOT}/var/lib/roomd (--purge deletes it)"
    dpkg_cmd --remove roomd
  fi
  exit 0
fi

# --- system packages -----------------------------------------------------------------------------
missing_packages() {
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

if [ -n "$ROOT" ] || [ "$SKIP_PACKAGES" = 1 ]; then
  say "skipping Debian packages${ROOT:+ (scratch root)}"
else
  say "system packages"
  run bash "$REPO/scripts/setup-system.sh"
  mapfile -t missing < <(missing_packages "${APPLIANCE_PACKAGES[@]}")
  if [ ${#missing[@]} -gt 0 ]; then
    run apt-get update -qq
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi

# --- Node.js -------------------------------------------------------------------------------------
# The unit runs /usr/bin/node and the package depends on the Debian package nodejs (>= 20.19).
node_ok() {
  local v
  v="$(installed_version nodejs)"
  [ -n "$v" ] && dpkg --compare-versions "$v" ge "$NODE_MIN"
}
if [ -z "$ROOT" ] && ! node_ok; then
  msg="roomd needs the Debian package nodejs >= $NODE_MIN (found: $(installed_version nodejs || true))."
  msg="$msg Debian 13 ships it; on Debian 12 add a Node.js 20 (or later) apt source, install nodejs, then run this again."
  if [ "$DRY_RUN" = 1 ]; then say "$msg"; else die "$msg"; fi
fi

# --- the package ---------------------------------------------------------------------------------
if [ -z "$DEB" ]; then
  if [ ! -d "$REPO/node_modules" ]; then
    (cd "$REPO" && run npm ci --no-audit --no-fund)
  fi
  if [ "$DRY_RUN" = 1 ]; then
    run bash "$REPO/scripts/package-deb.sh"
    DEB="$REPO/dist/roomd_VERSION_ARCH.deb"
  else
    DEB="$(bash "$REPO/scripts/package-deb.sh" | tail -n 1)"
  fi
fi
[ "$DRY_RUN" = 1 ] || [ -f "$DEB" ] || die "no such package: $DEB"
[ "$DRY_RUN" = 1 ] || DEB="$(cd "$(dirname "$DEB")" && pwd)/$(basename "$DEB")"

if [ -n "$ROOT" ]; then
  # A scratch root needs a dpkg database; the host's users and groups are its starting point.
  if [ ! -f "$ROOT/var/lib/dpkg/status" ]; then
    run mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates" "$ROOT/etc"
    run touch "$ROOT/var/lib/dpkg/status" "$ROOT/var/lib/dpkg/available"
    for f in passwd group shadow gshadow; do
      if [ ! -e "$ROOT/etc/$f" ] && [ -e "/etc/$f" ]; then run cp -p "/etc/$f" "$ROOT/etc/$f"; fi
    done
  fi
fi

before="$(installed_version roomd || true)"
say "installing $(basename "$DEB")${before:+ over roomd $before}${ROOT:+ into $ROOT}"
if [ "$NO_START" = 1 ]; then export ROOMD_NO_START=1; fi
dpkg_cmd --install "$DEB"

# --- report --------------------------------------------------------------------------------------
if [ -z "$ROOT" ] && [ "$DRY_RUN" = 0 ] && [ -d /run/systemd/system ]; then
  systemctl --no-pager --lines=5 status roomd.service || true
  say "logs: journalctl -u roomd -f    metrics: https://<box>:8443/metrics (admin)"
elif [ -z "$ROOT" ] && [ "$DRY_RUN" = 0 ]; then
  say "systemd is not running here: the units are installed and enabled for the next boot"
fi
say "done"

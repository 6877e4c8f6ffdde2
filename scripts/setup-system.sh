#!/usr/bin/env bash
# Installs the Debian packages roomd needs to run its demo and its tests. Idempotent: installs only
# what is missing. As root it runs apt-get itself; otherwise it prints the one command to run.
#
#   ffmpeg      capture, encode, decode, playout (media layer)
#   socat       pty pairs for the device emulators; sd_notify datagrams under systemd
#   chromium    the kiosk browser, and the end-to-end tests
#   v4l-utils   v4l2-ctl for UVC camera pan/tilt/zoom
#   fonts-dejavu-core  readable text in the kiosk and its screenshots
#   systemd, udev  systemd-analyze verify and udevadm for the unit and rules tests
#   janus       the relay's second media plane (Janus VideoRoom), and its tests
#   coturn      the TURN server the relay hands credentials for (docs/admin.md §TURN), and its tests
#   iproute2, nftables  the network tests' private networks: namespaces, veth, bridge, tc tbf
#               (ip, tc, ss) and their firewalls and packet loss (nft)
#   tinyproxy-bin  the HTTP proxy of the network tests (the binary alone: no service is started)
#   openssl     the network tests' throwaway certificate authority
set -euo pipefail

PACKAGES=(ffmpeg socat chromium v4l-utils fonts-dejavu-core systemd udev janus coturn iproute2 nftables tinyproxy-bin openssl)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  [ "${1:-}" = "--quiet" ] || echo "setup-system: all system packages present (${PACKAGES[*]})"
  exit 0
fi

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "roomd needs these Debian packages: ${missing[*]}" >&2
  echo "Run this once as root, then try again:" >&2
  echo "  sudo bash scripts/setup-system.sh" >&2
  exit 2
fi

echo "setup-system: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup-system: done"

#!/usr/bin/env bash
# Builds the roomd appliance package, dist/roomd_<version>_<arch>.deb, with dpkg-deb
# (docs/admin.md §Building the package).
#
# Layout of the package:
#   /opt/roomd/{bin,dist,node_modules,kiosk-ui/dist,docs,package.json}   the daemon, built
#   /opt/roomd/web/dist                                                    the web client the relay serves
#   /opt/roomd/scripts/web-bundle-hash.mjs                                 its bundle hash, recomputed
#   /usr/bin/roomd -> /opt/roomd/bin/roomd.js                              the CLI
#   /lib/systemd/system/{roomd,roomd-kiosk}.service                        units
#   /lib/udev/rules.d/99-roomd.rules                                       device access, names
#   /usr/lib/sysusers.d/roomd.conf  /usr/lib/tmpfiles.d/roomd.conf         users, directories
#   /etc/default/{roomd,roomd-kiosk}  /etc/pam.d/roomd-kiosk
#   /etc/udev/rules.d/98-roomd-local.rules                                 conffiles
#   DEBIAN/{control,conffiles,md5sums,postinst,prerm,postrm}
#
# The TypeScript build, the kiosk build and the web client build are written straight into the
# staging tree, so the working copy's dist/ is never touched; node_modules holds only the production
# dependencies (as `npm ls --omit=dev` resolves them from the installed tree, native binaries
# included).
#
# Usage: scripts/package-deb.sh [--out DIR] [--no-typecheck] [--keep-stage]
#   --no-typecheck  emit JavaScript without type checking (tsc --noCheck): for tests and CI runs
#                   that type-check in a step of their own.
#   ROOMD_DEB_COMPRESSION=xz|gzip|zstd|none (default gzip, fast) picks the dpkg-deb compressor.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="$REPO/dist"
KEEP_STAGE=0
TSC_CHECK=()

die() {
  echo "package-deb: $*" >&2
  exit 1
}
say() { echo "package-deb: $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --out)
      [ $# -ge 2 ] || die "--out needs a directory"
      OUT_DIR="$2"
      shift 2
      ;;
    --keep-stage)
      KEEP_STAGE=1
      shift
      ;;
    --no-typecheck)
      TSC_CHECK=(--noCheck)
      shift
      ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) die "unknown option '$1' (try --help)" ;;
  esac
done

for tool in dpkg-deb dpkg node npm md5sum; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is needed to build the package"
done
[ -d "$REPO/node_modules" ] || die "node_modules is missing: run 'npm ci' first"
[ -f "$REPO/bin/roomd.js" ] || die "bin/roomd.js is missing"

VERSION="$(node -p "require('$REPO/package.json').version")"
ARCH="$(dpkg --print-architecture)"
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
DEB="$OUT_DIR/roomd_${VERSION}_${ARCH}.deb"

STAGE="$(mktemp -d "${TMPDIR:-/tmp}/roomd-deb.XXXXXX")"
cleanup() { if [ "$KEEP_STAGE" = 1 ]; then say "staging tree kept in $STAGE"; else rm -rf "$STAGE"; fi; }
trap cleanup EXIT
chmod 0755 "$STAGE"
APP="$STAGE/opt/roomd"
mkdir -p "$APP"

# --- the daemon: TypeScript build ----------------------------------------------------------------
say "building TypeScript into the package"
(cd "$REPO" && npx --no-install tsc -p tsconfig.build.json --outDir "$APP/dist" --sourceMap false "${TSC_CHECK[@]}") ||
  die "the TypeScript build failed (npx tsc -p tsconfig.build.json): fix the errors above"

# --- the kiosk UI: Vite build ----------------------------------------------------------------------
if [ -f "$REPO/kiosk-ui/index.html" ]; then
  say "building the kiosk UI into the package"
  (cd "$REPO" && npx --no-install vite build kiosk-ui --outDir "$APP/kiosk-ui/dist" --emptyOutDir --logLevel warn) ||
    die "the kiosk build failed (npx vite build kiosk-ui)"
  [ -f "$APP/kiosk-ui/dist/index.html" ] || die "the kiosk build did not produce kiosk-ui/dist/index.html"
else
  die "kiosk-ui/index.html is missing: there is no kiosk UI to bundle"
fi

# --- the web client: Vite build (the relay serves it at /join/<id>, docs/protocol.md §Web client) ---
if [ -f "$REPO/web/index.html" ]; then
  say "building the web client into the package"
  (cd "$REPO" && npx --no-install vite build --config web/vite.config.ts --outDir "$APP/web/dist" --emptyOutDir --logLevel warn) ||
    die "the web client build failed (npm run build:web)"
  [ -f "$APP/web/dist/index.html" ] || die "the web client build did not produce web/dist/index.html"
  install -D -m 0755 "$REPO/scripts/web-bundle-hash.mjs" "$APP/scripts/web-bundle-hash.mjs"
  say "web client bundle $(node "$APP/scripts/web-bundle-hash.mjs" "$APP/web/dist")"
else
  die "web/index.html is missing: there is no web client to bundle"
fi

# --- launcher, manifest, docs ----------------------------------------------------------------------
cp -a "$REPO/bin" "$APP/bin"
chmod 0755 "$APP/bin/roomd.js"
node -e '
  const fs = require("node:fs");
  const pkg = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  delete pkg.devDependencies;
  delete pkg.scripts;
  fs.writeFileSync(process.argv[2], JSON.stringify(pkg, null, 2) + "\n");
' "$REPO/package.json" "$APP/package.json"
mkdir -p "$APP/docs"
for doc in README.md LICENSE; do
  if [ -f "$REPO/$doc" ]; then cp "$REPO/$doc" "$APP/"; fi
done
find "$REPO/docs" -maxdepth 1 -name '*.md' -exec cp {} "$APP/docs/" \;

# --- production node_modules -----------------------------------------------------------------------
say "copying production dependencies"
mkdir -p "$APP/node_modules"
# npm ls exits non-zero for mere warnings (extraneous packages); the list is what counts.
(cd "$REPO" && { npm ls --omit=dev --all --parseable 2>/dev/null || true; }) |
  sed -n "s#^$REPO/node_modules/##p" |
  awk -F/ '{ if ($1 ~ /^@/) print $1 "/" $2; else print $1 }' |
  sort -u >"$STAGE/prod-modules.txt"
[ -s "$STAGE/prod-modules.txt" ] || die "npm ls found no production dependencies"
while IFS= read -r mod; do
  [ -d "$REPO/node_modules/$mod" ] || die "production dependency '$mod' is not installed: run 'npm ci'"
  mkdir -p "$APP/node_modules/$(dirname "$mod")"
  cp -a "$REPO/node_modules/$mod" "$APP/node_modules/$mod"
done <"$STAGE/prod-modules.txt"
rm -f "$STAGE/prod-modules.txt"
# What no running daemon reads: type declarations, source maps, the packages' own tests and
# examples. Half the files, so installs and removals take half the time.
find "$APP/node_modules" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete
for pkg in "$APP"/node_modules/* "$APP"/node_modules/@*/*; do
  for extra in test tests __tests__ example examples benchmark benchmarks; do
    if [ -d "$pkg/$extra" ]; then rm -rf "${pkg:?}/$extra"; fi
  done
done

# The packaged tree must start on its own: no sources, no dev dependencies.
"$APP/bin/roomd.js" --help >/dev/null ||
  die "the packaged roomd does not start ('/opt/roomd/bin/roomd.js --help' failed in the staging tree)"

# --- system integration --------------------------------------------------------------------------
install -D -m 0644 "$REPO/systemd/roomd.service" "$STAGE/lib/systemd/system/roomd.service"
install -D -m 0644 "$REPO/systemd/roomd-kiosk.service" "$STAGE/lib/systemd/system/roomd-kiosk.service"
install -D -m 0644 "$REPO/systemd/99-roomd.rules" "$STAGE/lib/udev/rules.d/99-roomd.rules"
install -D -m 0644 "$REPO/systemd/roomd.sysusers.conf" "$STAGE/usr/lib/sysusers.d/roomd.conf"
install -D -m 0644 "$REPO/systemd/roomd.tmpfiles.conf" "$STAGE/usr/lib/tmpfiles.d/roomd.conf"
install -D -m 0644 "$REPO/systemd/roomd.default" "$STAGE/etc/default/roomd"
install -D -m 0644 "$REPO/systemd/roomd-kiosk.default" "$STAGE/etc/default/roomd-kiosk"
install -D -m 0644 "$REPO/systemd/roomd-kiosk.pam" "$STAGE/etc/pam.d/roomd-kiosk"
install -D -m 0644 "$REPO/systemd/98-roomd-local.rules" "$STAGE/etc/udev/rules.d/98-roomd-local.rules"
mkdir -p "$STAGE/usr/bin"
ln -s /opt/roomd/bin/roomd.js "$STAGE/usr/bin/roomd"

# --- DEBIAN/ -----------------------------------------------------------------------------------------
mkdir -p "$STAGE/DEBIAN"
for script in postinst prerm postrm; do
  install -m 0755 "$REPO/scripts/deb/$script" "$STAGE/DEBIAN/$script"
done
(cd "$STAGE" && find etc -type f | sed 's#^#/#' | sort) >"$STAGE/DEBIAN/conffiles"
INSTALLED_KB="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
cat >"$STAGE/DEBIAN/control" <<CONTROL
Package: roomd
Version: $VERSION
Architecture: $ARCH
Maintainer: roomd maintainers <roomd@localhost>
Installed-Size: $INSTALLED_KB
Depends: nodejs (>= 20.19), adduser, systemd, udev, ffmpeg, socat
Recommends: cage, chromium, libpam-systemd, v4l-utils
Section: net
Priority: optional
Description: open firmware for an end-to-end encrypted meeting-room appliance
 roomd joins end-to-end encrypted meetings (SFrame over WebRTC data channels),
 drives the room hardware (touch panel, VISCA and UVC cameras, HID
 speakerphones) and serves the kiosk UI shown full-screen on the room screen
 by Chromium under cage. Runs as the system user roomd under systemd, with its
 state in /var/lib/roomd.
CONTROL
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -print0 | sed -z 's#^\./##' | sort -z |
  xargs -0 md5sum) >"$STAGE/DEBIAN/md5sums"

# --- build -----------------------------------------------------------------------------------------
COMPRESSION="${ROOMD_DEB_COMPRESSION:-gzip}"
case "$COMPRESSION" in
  gzip) ZARGS=(-Zgzip -z6) ;;
  xz) ZARGS=(-Zxz) ;;
  zstd) ZARGS=(-Zzstd) ;;
  none) ZARGS=(-Znone) ;;
  *) die "ROOMD_DEB_COMPRESSION must be gzip, xz, zstd or none, not '$COMPRESSION'" ;;
esac
rm -f "$DEB"
dpkg-deb --root-owner-group "${ZARGS[@]}" --build "$STAGE" "$DEB" >/dev/null
say "built $DEB ($(du -h "$DEB" | cut -f1))"
echo "$DEB"

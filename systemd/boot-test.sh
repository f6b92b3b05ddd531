#!/bin/bash
# Boots this machine's own systemd in a throw-away container (systemd-nspawn,
# package systemd-container; the root is an overlay whose changes vanish) and
# runs systemd/probe.sh inside it against the Debian package: dpkg -i the
# first build, the real unit under systemd, an upgrade to the second build
# while notifications arrive, then purge.
# Usage: systemd/boot-test.sh FIRST.deb SECOND.deb   (SECOND's version sorts later)
# Prints the probe's findings; exits 0 only when the probe passed.
set -euo pipefail
first=$(realpath "$1")
second=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/out" "$work/debs"
cp "$first" "$work/debs/first.deb"
cp "$second" "$work/debs/second.deb"
cat > "$work/probe.service" <<UNIT
[Unit]
Description=notekeeper boot probe
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/bash /probe/probe.sh
UNIT
timeout 300 systemd-nspawn --quiet --volatile=yes -D / --register=no --keep-unit \
  --overlay=/usr::/usr --overlay=/etc::/etc --overlay=/var::/var \
  --bind-ro="$work/probe.service:/etc/systemd/system/probe.service" \
  --bind-ro="$here/probe.sh:/probe/probe.sh" \
  --bind-ro="$work/debs:/probe/debs" \
  --bind="$work/out:/probe-out" \
  -b systemd.firstboot=off systemd.unit=probe.service >"$work/console.log" 2>&1 || true
if [ ! -s "$work/out/result" ]; then
  echo "boot probe: no result; container console:"; tail -40 "$work/console.log"; exit 1
fi
sed 's/^/boot probe: /' "$work/out/result"
[ "$(tail -1 "$work/out/result")" = PASS ]

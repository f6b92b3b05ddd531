#!/bin/bash
# Boots this machine's own systemd in a volatile container (systemd-nspawn,
# package systemd-container) with notekeeper's real unit and binary, and runs
# systemd/probe.sh inside it. Usage: systemd/boot-test.sh path/to/notekeeper
# Prints the probe's findings; exits 0 only when the probe passed.
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/out" "$work/etc"
# The service reads its config as its own (dynamic) user: world-readable,
# with no secret in it worth stealing (these are test values).
cat > "$work/etc/config.toml" <<'TOML'
data_dir = "/var/lib/notekeeper"
[server]
listen = "127.0.0.1:8080"
[nylas]
api_key = "probe-api-key"
webhook_secrets = ["probe-webhook-secret"]
[archive]
min_free_bytes = 0
TOML
chmod 0644 "$work/etc/config.toml"
cat > "$work/probe.service" <<UNIT
[Unit]
Description=notekeeper boot probe
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/bash /probe/probe.sh
UNIT
install -m 0755 "$bin" /usr/local/bin/notekeeper   # the unit's ExecStart path; /usr is shared read-only
timeout 180 systemd-nspawn --quiet --volatile=yes -D / --register=no --keep-unit \
  --bind-ro="$here/notekeeper.service:/etc/systemd/system/notekeeper.service" \
  --bind-ro="$work/etc/config.toml:/etc/notekeeper/config.toml" \
  --bind-ro="$work/probe.service:/etc/systemd/system/probe.service" \
  --bind-ro="$here/probe.sh:/probe/probe.sh" \
  --bind="$work/out:/probe-out" \
  -b systemd.firstboot=off systemd.unit=probe.service >"$work/console.log" 2>&1 || true
if [ ! -s "$work/out/result" ]; then
  echo "boot probe: no result; container console:"; tail -40 "$work/console.log"; exit 1
fi
sed 's/^/boot probe: /' "$work/out/result"
[ "$(tail -1 "$work/out/result")" = PASS ]

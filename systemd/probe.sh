#!/bin/bash
# Runs inside the booted container (as probe.service) and checks the real
# unit: Type=notify reaching active (running), the webhook challenge, files
# written only under the state directory, a restart after SIGKILL, and a clean
# stop. Results go to /probe-out/result; the last line is PASS or FAIL.
set -u
out=/probe-out/result
: > "$out"
fail() { echo "FAIL: $*" >> "$out"; systemctl status --no-pager notekeeper >> "$out" 2>&1; journalctl -u notekeeper --no-pager -n 50 >> "$out" 2>&1; echo FAIL >> "$out"; systemctl poweroff; exit 1; }
note() { echo "$*" >> "$out"; }

touch /probe-out/.marker
systemctl start notekeeper.service || fail "start"
[ "$(systemctl show -p Type --value notekeeper)" = notify ] || fail "not Type=notify"
[ "$(systemctl show -p ActiveState --value notekeeper)/$(systemctl show -p SubState --value notekeeper)" = active/running ] || fail "not active (running)"
note "active (running) as Type=notify"

got=$(curl -s --max-time 5 'http://127.0.0.1:8080/webhooks/nylas?challenge=probe-challenge')
[ "$got" = probe-challenge ] || fail "challenge answered '$got'"
note "webhook challenge answered"

pid=$(systemctl show -p MainPID --value notekeeper)
uid=$(systemctl show -p UID --value notekeeper)
[[ "$uid" =~ ^[0-9]+$ ]] || fail "no user ID for the service ('$uid')"
[ "$uid" != 0 ] || fail "runs as root"
[ "$(stat -c %u "/proc/$pid")" = "$uid" ] || fail "the main process is not running as $uid"
stray=$(find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /var/lib/private/notekeeper \) -prune -o -user "$uid" -print | head -5)
[ -z "$stray" ] || fail "files outside the state directory: $stray"
[ -f /var/lib/private/notekeeper/notekeeper.db ] || fail "no store in the state directory"
note "runs as uid $uid; writes only under /var/lib/private/notekeeper"

systemctl kill -s KILL notekeeper.service
for i in $(seq 1 40); do
  sleep 0.5
  new=$(systemctl show -p MainPID --value notekeeper)
  [ "$new" != 0 ] && [ "$new" != "$pid" ] && [ "$(systemctl show -p ActiveState --value notekeeper)" = active ] && break
done
[ "$new" != 0 ] && [ "$new" != "$pid" ] || fail "not restarted after SIGKILL"
got=$(curl -s --max-time 5 'http://127.0.0.1:8080/webhooks/nylas?challenge=again')
[ "$got" = again ] || fail "after the restart the challenge answered '$got'"
note "restarted after SIGKILL (pid $pid -> $new)"

# The operator commands reach the daemon through its socket in the state
# directory (the one left by the killed process was replaced), as root.
st=$(notekeeper status -config /etc/notekeeper/config.toml 2>&1) || fail "status: $st"
echo "$st" | grep -q '^daemon *running since' || fail "status did not reach the daemon: $st"
[ "$(stat -c %a /var/lib/private/notekeeper/notekeeper.sock)" = 600 ] || fail "socket mode $(stat -c %a /var/lib/private/notekeeper/notekeeper.sock)"
note "notekeeper status reached the daemon over its 0600 socket"

systemctl reload notekeeper.service || fail "reload"
systemctl stop notekeeper.service
[ "$(systemctl show -p Result --value notekeeper)" = success ] || fail "stop result $(systemctl show -p Result --value notekeeper)"
note "stopped cleanly"
st=$(notekeeper status -config /etc/notekeeper/config.toml 2>&1) || fail "status without the daemon: $st"
echo "$st" | grep -q '^daemon *not running' || fail "status without the daemon: $st"
note "notekeeper status read the store while the daemon was stopped"
echo PASS >> "$out"
systemctl poweroff

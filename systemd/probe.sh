#!/bin/bash
# Runs inside the booted container (as probe.service) and checks the Debian
# package and its unit: dpkg -i, Type=notify reaching active (running), the
# webhook challenge, files written only under the state directory, a restart
# after SIGKILL, the operator socket, an upgrade to a second build while
# signed notifications arrive (every one answered 200 must be stored), and a
# purge that leaves nothing behind. Results go to /probe-out/result; the last
# line is PASS or FAIL.
set -u
out=/probe-out/result
: > "$out"
fail() { echo "FAIL: $*" >> "$out"; systemctl status --no-pager notekeeper >> "$out" 2>&1; journalctl -u notekeeper --no-pager -n 50 >> "$out" 2>&1; echo FAIL >> "$out"; systemctl poweroff; exit 1; }
note() { echo "$*" >> "$out"; }
secret=probe-webhook-secret
url=http://127.0.0.1:8080/webhooks/nylas
cfg=/etc/notekeeper/config.toml

# post ID: one signed notification; prints the HTTP status (000: no answer).
post() {
  local body sig
  body=$(printf '{"specversion":"1.0","type":"notetaker.meeting_state","source":"/nylas/notetaker","id":"%s","time":1700000000,"data":{"application_id":"probe","object":{"id":"nt-probe-%s","grant_id":"grant-probe","state":"attending","meeting_state":"recording_active","object":"notetaker"}}}' "$1" "$1")
  sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Content-Type: application/json' \
    -H "X-Nylas-Signature: $sig" --data-binary "$body" "$url"
}

DEBIAN_FRONTEND=noninteractive dpkg -i /probe/debs/first.deb > /probe-out/dpkg-first.log 2>&1 || fail "dpkg -i first.deb: $(tail -5 /probe-out/dpkg-first.log)"
grep -q 'systemctl enable --now notekeeper' /probe-out/dpkg-first.log || fail "postinst did not print the next steps"
first=$(dpkg-query -W -f '${Version}' notekeeper)
[ "$(stat -c '%a %U:%G' $cfg)" = "640 root:notekeeper" ] || fail "config is $(stat -c '%a %U:%G' $cfg)"
[ "$(stat -c '%a' /etc/notekeeper/credentials)" = 700 ] || fail "credentials directory mode $(stat -c %a /etc/notekeeper/credentials)"
systemctl is-active --quiet notekeeper && fail "started before it was configured"
note "dpkg -i $first: config 0640 root:notekeeper, credentials 0700, service not started, next steps printed"

# The operator's part, as the README says: the webhook secret in a file of
# the data dir (the one `webhook create` writes; here the probe's secret
# instead of the placeholder), the API key in a root-only environment file
# named by a drop-in, check with that environment, enable --now.
sed -i 's|^webhook_secrets = .*|webhook_secrets = ["file:/var/lib/notekeeper/webhook-secret"]|' $cfg
grep -q '^webhook_secrets = \["file:/var/lib/notekeeper/webhook-secret"\]' $cfg || fail "could not set webhook_secrets in $cfg"
install -m 0600 /dev/null /etc/notekeeper/credentials/env
echo NYLAS_API_KEY=probe-api-key > /etc/notekeeper/credentials/env
mkdir -p /etc/systemd/system/notekeeper.service.d
printf '[Service]\nEnvironmentFile=/etc/notekeeper/credentials/env\n' > /etc/systemd/system/notekeeper.service.d/override.conf
echo "$secret" | install -D -m 0600 /dev/stdin /var/lib/notekeeper/webhook-secret
systemctl daemon-reload
sh -c 'set -a; . /etc/notekeeper/credentials/env; notekeeper check -offline' > /probe-out/check.log 2>&1 \
  || fail "check of the configured package: $(cat /probe-out/check.log)"
systemctl enable --now notekeeper.service || fail "enable --now"
[ "$(systemctl show -p Type --value notekeeper)" = notify ] || fail "not Type=notify"
[ "$(systemctl show -p ActiveState --value notekeeper)/$(systemctl show -p SubState --value notekeeper)" = active/running ] || fail "not active (running)"
note "active (running) as Type=notify, configured as the README says"

got=$(curl -s --max-time 5 "$url?challenge=probe-challenge")
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
got=$(curl -s --max-time 5 "$url?challenge=again")
[ "$got" = again ] || fail "after the restart the challenge answered '$got'"
note "restarted after SIGKILL (pid $pid -> $new)"

# The operator commands reach the daemon through its socket in the state
# directory (the one left by the killed process was replaced), as root.
st=$(notekeeper status -config $cfg 2>&1) || fail "status: $st"
echo "$st" | grep -q '^daemon *running since' || fail "status did not reach the daemon: $st"
[ "$(stat -c %a /var/lib/private/notekeeper/notekeeper.sock)" = 600 ] || fail "socket mode $(stat -c %a /var/lib/private/notekeeper/notekeeper.sock)"
note "notekeeper status reached the daemon over its 0600 socket"
doc=$(notekeeper doctor -offline -config $cfg 2>&1) || fail "doctor: $doc"
echo "$doc" | grep -q '^daemon *running since' || fail "doctor did not reach the daemon: $doc"
echo "$doc" | grep -q -e probe-api-key -e "$secret" && fail "doctor printed a secret: $doc"
note "notekeeper doctor reached the daemon and printed no secret"
systemctl reload notekeeper.service || fail "reload"

# Upgrade with the service running while notifications arrive: every
# notification answered 200 must be in the store afterwards (one that got no
# answer during the restart is Nylas' to retry).
: > /probe-out/acked
( n=0; while [ ! -e /probe-out/stop ]; do n=$((n+1)); c=$(post "upg-$n"); [ "$c" = 200 ] && echo "upg-$n" >> /probe-out/acked; echo "$c" >> /probe-out/codes; sleep 0.02; done ) &
sender=$!
sleep 1
DEBIAN_FRONTEND=noninteractive dpkg -i /probe/debs/second.deb > /probe-out/dpkg-second.log 2>&1 || fail "dpkg -i second.deb: $(tail -5 /probe-out/dpkg-second.log)"
sleep 2
touch /probe-out/stop; wait $sender
second=$(dpkg-query -W -f '${Version}' notekeeper)
[ "$second" != "$first" ] || fail "version still $first after the upgrade"
[ "$(systemctl show -p MainPID --value notekeeper)" != "$new" ] || fail "the service was not restarted by the upgrade"
systemctl is-active --quiet notekeeper || fail "not active after the upgrade"
acked=$(wc -l < /probe-out/acked)
[ "$acked" -gt 20 ] || fail "only $acked notifications answered 200 around the upgrade"
notekeeper events -json -config $cfg > /probe-out/events.json 2>&1 || fail "events: $(tail -3 /probe-out/events.json)"
missing=0
while read -r id; do grep -q "\"id\":\"$id\"" /probe-out/events.json || missing=$((missing+1)); done < /probe-out/acked
[ "$missing" = 0 ] || fail "$missing of $acked acknowledged notifications missing after the upgrade"
note "upgraded $first -> $second while running: $acked notifications acknowledged ($(grep -vc '^200$' /probe-out/codes) unanswered during the restart), none lost"

systemctl stop notekeeper.service
[ "$(systemctl show -p Result --value notekeeper)" = success ] || fail "stop result $(systemctl show -p Result --value notekeeper)"
note "stopped cleanly"
st=$(notekeeper status -config $cfg 2>&1) || fail "status without the daemon: $st"
echo "$st" | grep -q '^daemon *not running' || fail "status without the daemon: $st"
note "notekeeper status read the store while the daemon was stopped"

DEBIAN_FRONTEND=noninteractive dpkg --purge notekeeper > /probe-out/dpkg-purge.log 2>&1 || fail "dpkg --purge: $(tail -5 /probe-out/dpkg-purge.log)"
left=""
for p in /usr/bin/notekeeper /usr/lib/systemd/system/notekeeper.service /etc/notekeeper /var/lib/private/notekeeper /var/lib/notekeeper; do
  [ -e "$p" ] && left="$left $p"
done
[ -z "$left" ] || fail "left after purge:$left"
getent passwd notekeeper >/dev/null && fail "user notekeeper left after purge"
systemctl cat notekeeper.service >/dev/null 2>&1 && [ -e /usr/lib/systemd/system/notekeeper.service ] && fail "unit still known"
note "purged: binary, unit, /etc/notekeeper, data and user gone"
echo PASS >> "$out"
systemctl poweroff

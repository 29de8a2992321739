#!/usr/bin/env bash
# A one-machine Ceph cluster with its S3 gateway (RGW), on loopback, for the province benchmark's
# conformance run: one monitor, one OSD whose store is memory (memstore: what is written stays in
# RAM, up to 4 GiB), and radosgw with an S3 user. Nothing is authenticated inside the cluster and
# nothing listens beyond 127.0.0.1; it is a test bed, not a deployment (DEPLOYMENT.md says how a
# province runs Ceph).
#
#   scripts/ceph-rgw.sh start DIR   starts it with its state in DIR (made anew), prints the S3
#                                   endpoint and writes DIR/env (endpoint and credentials)
#   scripts/ceph-rgw.sh stop DIR    stops the daemons started in DIR
#
# Installs Debian's ceph-mon, ceph-osd and radosgw when they are missing.
set -euo pipefail

command="${1:-}"
dir="${2:-}"
[ -n "$command" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
# The daemons change to / when they start: a relative path in their configuration would name another
# directory, perhaps one an earlier cluster left there.
dir="$(realpath -m "$dir")"

# Ends every daemon started in DIR and waits up to ten seconds for them to go.
stop() {
  local pids=()
  for pid_file in "$dir"/run/*.pid; do
    [ -e "$pid_file" ] && pids+=("$(cat "$pid_file")")
  done
  ((${#pids[@]})) || return 0
  kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "${pids[@]}" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "${pids[@]}" 2>/dev/null || true
}

if [ "$command" = stop ]; then
  stop
  exit 0
fi
[ "$command" = start ] || { echo "$0: unknown command $command" >&2; exit 2; }

missing=()
for p in ceph-mon ceph-osd radosgw; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "ceph-rgw: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Two free ports on loopback, chosen by the kernel.
read -r mon_port rgw_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')

rm -rf "$dir"
mkdir -p "$dir"/{mon,osd/ceph-0,rgw,run,log}
fsid=$(cat /proc/sys/kernel/random/uuid)
conf="$dir/ceph.conf"
# The monitor speaks the first messenger protocol only (v1), which every client here asks for.
cat > "$conf" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
auth cluster required = none
auth service required = none
auth client required = none
ms bind ipv6 = false
ms bind msgr2 = false
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
mon data = $dir/mon/\$cluster-\$id
osd data = $dir/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 4294967296
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
CONF

c=(-c "$conf")
monmaptool --create --addv a "[v1:127.0.0.1:$mon_port]" --fsid "$fsid" "$dir/monmap" >/dev/null
ceph-mon "${c[@]}" --mkfs -i a --monmap "$dir/monmap"
ceph-mon "${c[@]}" -i a
timeout 60 ceph "${c[@]}" osd create >/dev/null
ceph-osd "${c[@]}" -i 0 --mkfs 2>/dev/null
ceph-osd "${c[@]}" -i 0
radosgw "${c[@]}" -n client.rgw.a

endpoint="http://127.0.0.1:$rgw_port"
for _ in $(seq 1 240); do
  curl -s -o /dev/null "$endpoint/" && break
  sleep 0.5
done
curl -s -o /dev/null "$endpoint/" || { echo "ceph-rgw: radosgw did not answer at $endpoint; see $dir/log" >&2; stop; exit 1; }

access_key=sohoa-bench
secret_key=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
radosgw-admin "${c[@]}" user create --uid=sohoa --display-name=sohoa \
  --access-key="$access_key" --secret="$secret_key" >/dev/null
cat > "$dir/env" <<ENV
ENDPOINT=$endpoint
AWS_ACCESS_KEY_ID=$access_key
AWS_SECRET_ACCESS_KEY=$secret_key
ENV
echo "$endpoint"

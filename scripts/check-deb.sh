#!/usr/bin/env bash
# Installs a built sohoa package on this machine and checks it as an administrator would meet it:
# installed with its dependencies, the user and data directory made, the unit valid, the service
# answering and stopping cleanly on SIGTERM, and the archive data surviving `dpkg -r` and `--purge`.
#
#     sudo scripts/check-deb.sh [target/debian/sohoa_VERSION_ARCH.deb]     (or `make deb-check`)
#
# It needs root and changes the system (packages, a system user), so it is not part of `make test`.
# It refuses to run where sohoa is installed or /var/lib/sohoa exists: it deletes that directory at the
# end, which is right only for the test data it made itself.
set -euo pipefail

deb="${1:-}"
if [ -z "$deb" ]; then
    # The newest package `make deb` left, wherever cargo puts its target directory.
    deb="$(ls -t "${CARGO_TARGET_DIR:-target}"/debian/sohoa_*.deb 2>/dev/null | head -n 1 || true)"
fi
[ -n "$deb" ] && [ -f "$deb" ] || { echo "usage: $0 sohoa_VERSION_ARCH.deb (none found; run make deb)" >&2; exit 2; }
deb="$(realpath "$deb")"
[ "$(id -u)" -eq 0 ] || { echo "check-deb: must run as root (it installs the package)" >&2; exit 2; }

data=/var/lib/sohoa
unit=/lib/systemd/system/sohoa.service
if [ -n "$(dpkg-query -W -f='${db:Status-Status}' sohoa 2>/dev/null | grep -v not-installed || true)" ]; then
    echo "check-deb: sohoa is already installed here; refusing to test over it" >&2
    exit 2
fi
if [ -e "$data" ] || getent passwd sohoa >/dev/null; then
    echo "check-deb: $data or the user sohoa exists already; refusing to test over a real appliance" >&2
    exit 2
fi

step() { printf '\n== %s\n' "$*"; }
ok() { printf 'ok: %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

server=""
# Whatever happens, the machine is left as it was: the server stopped, the package purged, and the
# test's data and user removed (a real appliance's data is never removed: see postrm).
cleanup() {
    local status=$?
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -KILL "$server" 2>/dev/null || true; fi
    # Any state but not-installed (half-configured after a failing maintainer script, too).
    case "$(dpkg-query -W -f='${db:Status-Status}' sohoa 2>/dev/null || true)" in
        "" | not-installed) ;;
        *) dpkg --purge sohoa >/dev/null 2>&1 || echo "check-deb: could not purge sohoa; see dpkg -l sohoa" >&2 ;;
    esac
    rm -rf "$data"
    if getent passwd sohoa >/dev/null; then deluser --quiet --system sohoa >/dev/null 2>&1 || true; fi
    if getent group sohoa >/dev/null; then delgroup --quiet --system sohoa >/dev/null 2>&1 || true; fi
    [ "$status" -eq 0 ] && echo "check-deb: all checks passed" || echo "check-deb: FAILED (status $status)" >&2
}
trap cleanup EXIT

step "the maintainer scripts as packaged"
# cargo-deb merges its systemd fragments into them; a shell syntax error there would leave a package
# that can be neither configured nor removed, so they are read before anything is installed.
control="$(mktemp -d)"
dpkg-deb -e "$deb" "$control"
for script in preinst postinst prerm postrm; do
    [ -f "$control/$script" ] || continue
    sh -n "$control/$script" || fail "$script has a syntax error"
    ok "$script parses"
done
rm -rf "$control"

step "install $(basename "$deb") with its dependencies"
# `dpkg -i` unpacks and configures the package but fetches nothing: with a dependency missing it
# stops, leaving the package unconfigured until `apt-get -f install` brings the dependencies and
# finishes the configuration (`apt-get install ./file.deb` does both in one step).
dpkg-deb -f "$deb" Depends
if ! dpkg -i "$deb"; then
    echo "dpkg -i left dependencies missing; apt-get -f install brings them"
fi
DEBIAN_FRONTEND=noninteractive apt-get -f install -y --no-install-recommends
dpkg-query -W -f='${Status}\n' sohoa | grep -q "install ok installed" || fail "sohoa is not installed"
ok "installed: $(dpkg-query -W -f='${Package} ${Version}' sohoa)"

step "the binary"
/usr/bin/sohoa --help >/dev/null || fail "/usr/bin/sohoa --help"
ok "/usr/bin/sohoa --help runs ($(/usr/bin/sohoa --version))"

step "the user and the data directory"
id sohoa
getent passwd sohoa | grep -q ":$data:" || fail "the home of sohoa is not $data"
[ "$(stat -c '%U:%G %a' "$data")" = "sohoa:sohoa 750" ] || fail "$data is $(stat -c '%U:%G %a' "$data"), not sohoa:sohoa 750"
ok "$data is sohoa:sohoa 750"
if getent group scanner >/dev/null; then
    id -nG sohoa | tr ' ' '\n' | grep -qx scanner || fail "sohoa is not in the group scanner"
    ok "sohoa is in the group scanner"
fi

step "the configuration and the unit"
dpkg-query -W -f='${Conffiles}\n' sohoa | grep -q "/etc/sohoa/sohoa.toml" || fail "/etc/sohoa/sohoa.toml is not a conffile"
ok "/etc/sohoa/sohoa.toml is a conffile"
systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
ok "systemd-analyze verify $unit passes"
[ -L /etc/systemd/system/multi-user.target.wants/sohoa.service ] || fail "the unit is not enabled"
ok "the unit is enabled (multi-user.target.wants)"

step "the service, started as the unit starts it"
# systemd is not PID 1 here (a container), so the unit's ExecStart runs by hand under the unit's
# user, groups, directory, umask and an empty environment. The sandboxing directives are not applied
# this way; systemd-analyze checked their syntax only.
if [ "$(ps -o comm= -p 1)" = systemd ]; then echo "note: systemd is PID 1; the check still runs the service by hand, not with systemctl"; fi
exec_start="$(sed -n 's/^ExecStart=//p' "$unit")"
user="$(sed -n 's/^User=//p' "$unit")"
group="$(sed -n 's/^Group=//p' "$unit")"
workdir="$(sed -n 's/^WorkingDirectory=//p' "$unit")"
umask_value="$(sed -n 's/^UMask=//p' "$unit")"
# The unit's Environment= lines, each one KEY=VALUE without quotes.
mapfile -t environment < <(sed -n 's/^Environment=//p' "$unit")
echo "ExecStart=$exec_start (as $user:$group in $workdir, with ${environment[*]:-no Environment=})"
log="$(mktemp)"
# setpriv replaces itself with sohoa, so $! is the service's own process, as systemd's MainPID.
(
    cd "$workdir"
    umask "${umask_value:-0022}"
    # shellcheck disable=SC2086 # the command line is split as systemd splits it (no quoting in it)
    exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME="$data" USER="$user" LOGNAME="$user" "${environment[@]}" \
        setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs -- $exec_start
) >"$log" 2>&1 &
server=$!
url=""
for _ in $(seq 1 120); do
    kill -0 "$server" 2>/dev/null || { cat "$log"; fail "the service exited while starting"; }
    # HTTPS with the certificate the appliance made itself in its data directory.
    if [ -f "$data/tls/self-made-cert.pem" ] &&
        curl -sf -o /dev/null --max-time 2 --cacert "$data/tls/self-made-cert.pem" https://localhost:8443/verify; then
        url=https://localhost:8443/verify
        break
    fi
    sleep 1
done
[ -n "$url" ] || { cat "$log"; fail "nothing answered HTTPS on port 8443 within 120 s"; }
ok "$url answers $(curl -s --cacert "$data/tls/self-made-cert.pem" -o /dev/null -w '%{http_code}' "$url") over HTTPS, with the certificate the appliance made ($data/tls/self-made-cert.pem)"
if curl -sf -o /dev/null --max-time 2 http://127.0.0.1:8443/verify; then fail "plain HTTP answers on 0.0.0.0:8443"; fi
ok "plain HTTP is refused off loopback"
[ "$(stat -c '%U %a' "$data/initial-admin-password")" = "sohoa 600" ] || fail "$data/initial-admin-password is missing or not sohoa 600"
ok "$data/initial-admin-password exists, sohoa 600"

started=$(date +%s)
kill -TERM "$server"
set +e
wait "$server"
code=$?
set -e
server=""
echo "--- the service's output"
cat "$log"
echo "---"
[ "$code" -eq 0 ] || fail "the service exited $code on SIGTERM"
ok "SIGTERM: exit status 0 after $(($(date +%s) - started)) s"

step "a page captured with the installed binary and its dependencies (OCR in Vietnamese)"
page="$(dirname "$0")/../tests/data/pages/clean300-001.png"
if [ -f "$page" ]; then
    cp "$page" /tmp/check-deb-page.png
    chmod 0644 /tmp/check-deb-page.png
    (cd "$data" && setpriv --reuid=sohoa --regid=sohoa --init-groups -- \
        /usr/bin/sohoa --data "$data" --config /etc/sohoa/sohoa.toml \
        ingest --owner 001099012345 --type KHAC --name "check-deb" /tmp/check-deb-page.png)
    rm -f /tmp/check-deb-page.png
    ok "ingested a page into $data"
else
    echo "skipped: $page is not here (the script runs outside a checkout)"
fi

# Every file of the data directory with its hash, to compare after remove and purge.
inventory() { (cd "$data" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
before="$(inventory)"
echo "$data holds $(echo "$before" | wc -l) files"

step "dpkg -r sohoa keeps the data"
dpkg -r sohoa
[ -e /usr/bin/sohoa ] && fail "/usr/bin/sohoa is still there after remove"
[ "$before" = "$(inventory)" ] || fail "the files of $data changed on remove"
[ "$(stat -c '%U:%G %a' "$data")" = "sohoa:sohoa 750" ] || fail "$data changed owner or mode on remove"
ok "after remove: the binary is gone; $data, its $(echo "$before" | wc -l) files and their content are unchanged"
[ -f /etc/sohoa/sohoa.toml ] && ok "after remove: /etc/sohoa/sohoa.toml is kept (a conffile goes on purge only)"

step "dpkg --purge sohoa keeps the data too, and says where it is"
dpkg --purge sohoa
[ "$before" = "$(inventory)" ] || fail "the files of $data changed on purge"
ok "after purge: $data and its files are unchanged; the user sohoa is $(getent passwd sohoa >/dev/null && echo kept || echo gone)"
[ -e /etc/sohoa/sohoa.toml ] && fail "/etc/sohoa/sohoa.toml is still there after purge"
[ -e /etc/systemd/system/multi-user.target.wants/sohoa.service ] && fail "the unit is still enabled after purge"
ok "after purge: the configuration and the unit's enablement are gone"

step "removing the test's data and user (only because this is a test)"
# done by cleanup on exit

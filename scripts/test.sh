#!/usr/bin/env bash
# The test command (`npm test`, CI). Works on a fresh Debian 12 machine: installs the servers the
# real-server suite needs, installs and builds the project, then runs vitest inside a private D-Bus
# session with an unlocked gnome-keyring (scripts/with-keyring.sh).
# Extra arguments go to vitest:  npm test -- test/unit      bash scripts/test.sh --project e2e
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(dovecot-imapd dovecot-lmtpd gnome-keyring dbus libsecret-tools openssl dnsmasq-base python3)
commands=(dovecot doveadm gnome-keyring-daemon dbus-run-session secret-tool openssl dnsmasq python3)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
for cmd in "${commands[@]}"; do
  command -v "$cmd" >/dev/null || { missing=("${packages[@]}"); break; }
done

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ "${#missing[@]}" -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}" >&2
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  # Some machines start a system Dovecot on install. The suite never uses it (it runs its own on
  # free ports), but it need not keep running either.
  as_root service dovecot stop >/dev/null 2>&1 || true
fi

# As root, Dovecot needs an unprivileged owner for the test mailboxes (see test/support/dovecot.ts).
if [ "$(id -u)" -eq 0 ] && ! id mailops-test >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin mailops-test
fi

if [ ! -f node_modules/.package-lock.json ]; then
  npm ci
fi
# e2e tests run the built CLI (bin/mailops loads dist/). MAILOPS_TEST_NO_BUILD=1 skips this when
# dist/ is known to be current, e.g. while iterating on tests alone.
if [ -z "${MAILOPS_TEST_NO_BUILD:-}" ]; then
  npm run build
fi

# Every temporary folder of the run (test homes, servers, keyring) goes in one folder, removed at
# the end: tests make theirs with mkdtemp and many do not remove them, which left hundreds of
# folders in /tmp per run. MAILOPS_KEEP_TEST_TMP=1 keeps it for a post-mortem. Short, because
# servers put Unix sockets inside (108 bytes for a socket's path). 0755: Dovecot's login and mail
# users must reach their folders inside.
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/mot-XXXXXX")
chmod 0755 "$run_tmp"
finish() {
  if [ -n "${MAILOPS_KEEP_TEST_TMP:-}" ]; then echo "test.sh: kept the run's temporary folder $run_tmp" >&2
  else rm -rf "$run_tmp"; fi
}
trap finish EXIT
export TMPDIR="$run_tmp"

dbus-run-session -- bash scripts/with-keyring.sh node_modules/.bin/vitest run "$@"

#!/usr/bin/env bash
# Runs a command with an unlocked gnome-keyring (Secret Service) in the current D-Bus session.
# Meant to be started by dbus-run-session (see scripts/test.sh), which gives a private bus that ends
# with the command, taking the keyring daemon with it. The keyring's files and control socket live
# in temp folders, so a developer's own keyring and other test runs are never touched.
set -euo pipefail

if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "with-keyring.sh: no D-Bus session; run it under dbus-run-session" >&2
  exit 1
fi

keyring_tmp=$(mktemp -d "${TMPDIR:-/tmp}/mailops-keyring-XXXXXX")
cleanup() { rm -rf "$keyring_tmp"; }
trap cleanup EXIT
mkdir -m 0700 "$keyring_tmp/runtime" "$keyring_tmp/data"
export XDG_RUNTIME_DIR="$keyring_tmp/runtime"

# --unlock with a password on stdin creates the `login` collection when there is none, already
# unlocked: the only way to get a usable default collection without a prompt.
daemon_env=$(printf %s test | XDG_DATA_HOME="$keyring_tmp/data" gnome-keyring-daemon --unlock --components=secrets)
# --start only reports the running daemon's variables (its "discover_other_daemon" chatter is noise).
daemon_env+=$'\n'$(XDG_DATA_HOME="$keyring_tmp/data" gnome-keyring-daemon --start --components=secrets 2>/dev/null)
while IFS= read -r line; do
  if [[ "$line" == *=* ]]; then export "${line?}"; fi
done <<<"$daemon_env"

probe="probe-$$-$RANDOM"
printf %s "$probe" | secret-tool store --label='mailops test probe' mailops-test probe
if [ "$(secret-tool lookup mailops-test probe)" != "$probe" ]; then
  echo "with-keyring.sh: gnome-keyring does not store and return secrets" >&2
  exit 1
fi
secret-tool clear mailops-test probe

set +e
"$@"
status=$?
set -e
exit "$status"

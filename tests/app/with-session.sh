#!/usr/bin/env bash
# with-session.sh CMD [ARGS...] — runs CMD in a private desktop session for the app tests:
# its own HOME and XDG directories (nothing of the user's is read or written), a private D-Bus
# session bus, and on it an unlocked gnome-keyring (the Secret Service libsecret talks to).
# Everything lives in a temporary directory that is removed afterwards; the keyring daemon
# ends with the bus. Without dbus-run-session or gnome-keyring-daemon, CMD runs without a
# keyring (the keyring tests skip and say so).
set -euo pipefail

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-app-session-XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

export HOME="$tmp/home"
export XDG_CONFIG_HOME="$tmp/config"
export XDG_DATA_HOME="$tmp/data"
export XDG_CACHE_HOME="$tmp/cache"
export XDG_STATE_HOME="$tmp/state"
export XDG_RUNTIME_DIR="$tmp/run"
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME" \
         "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
  echo "with-session.sh: no dbus-run-session or gnome-keyring-daemon (Debian: dbus, " \
       "gnome-keyring): running without a keyring" >&2
  unset DBUS_SESSION_BUS_ADDRESS
  status=0
  "$@" || status=$?
  exit $status
fi

status=0
# dbus-daemon may complain that it cannot raise its fd limit when not root: harmless
dbus-run-session -- bash -c '
  printf %s sluice-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$@"' with-session "$@" 2> >(grep -v "Failed to set fd limit" >&2) || status=$?
exit $status

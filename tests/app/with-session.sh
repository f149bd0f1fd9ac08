#!/usr/bin/env bash
# with-session.sh CMD [ARGS...] — runs CMD in a private desktop session for the app tests:
# its own HOME and XDG directories (nothing of the user's is read or written), a private D-Bus
# session bus, and on it an unlocked gnome-keyring (the Secret Service libsecret talks to).
# Everything lives in a temporary directory that is removed afterwards; the keyring daemon
# ends with the bus. Without dbus-run-session or gnome-keyring-daemon, CMD runs without a
# keyring (the keyring tests skip and say so).
set -euo pipefail

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-app-session-XXXXXX")
# A keyring daemon still starting when the bus goes away (a test that is over in 50 ms, on a
# busy machine: 6 runs in 30 under load) does not notice and lives on. It is this session's if
# its environment has this session's runtime directory; it is ended here. (Its output goes to
# a file, not to our stderr: a survivor holding that pipe kept meson waiting for the end of
# the test's output until the timeout.)
end_keyring() {
  local pid
  for pid in $(pgrep -x gnome-keyring-d || true); do
    if grep -qzx "XDG_RUNTIME_DIR=$tmp/run" "/proc/$pid/environ" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
    fi
  done
}
cleanup() { end_keyring; rm -rf "$tmp"; }
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
  printf %s sluice-test |
    gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>"$XDG_RUNTIME_DIR/../keyring.log"
  exec "$@"' with-session "$@" 2> >(grep -v "Failed to set fd limit" >&2) || status=$?
if [ $status -ne 0 ] && [ -s "$tmp/keyring.log" ]; then
  echo "with-session.sh: gnome-keyring-daemon said:" >&2
  cat "$tmp/keyring.log" >&2
fi
exit $status

#!/usr/bin/env bash
# with-weston.sh CMD [ARGS...] — runs CMD as a Wayland client of a private, headless Weston
# (no GPU, no screen: pixman rendering into memory), so that the app tests run on Wayland as
# well as on X11 (Xvfb). Run it inside with-session.sh: the socket goes to its private
# XDG_RUNTIME_DIR. Weston's log is printed when CMD fails.
set -euo pipefail

: "${XDG_RUNTIME_DIR:?run this inside tests/app/with-session.sh}"
sock="sluice-wayland-$$"
log="$XDG_RUNTIME_DIR/weston.log"

weston --backend=headless-backend.so --socket="$sock" --width=1280 --height=800 \
  --idle-time=0 --no-config >"$log" 2>&1 &
weston_pid=$!
stop_weston() { kill "$weston_pid" 2>/dev/null || true; wait "$weston_pid" 2>/dev/null || true; }
trap stop_weston EXIT

give_up() { cat "$log" >&2; echo "with-weston.sh: $1" >&2; exit 1; }
for _ in $(seq 200); do
  [ -S "$XDG_RUNTIME_DIR/$sock" ] && break
  kill -0 "$weston_pid" 2>/dev/null || give_up "weston exited"
  sleep 0.05
done
[ -S "$XDG_RUNTIME_DIR/$sock" ] || give_up "no socket after 10 s"

export WAYLAND_DISPLAY="$sock" GDK_BACKEND=wayland
unset DISPLAY
status=0
"$@" || status=$?
[ "$status" = 0 ] || { echo "# weston's log:" >&2; sed 's/^/#   /' "$log" >&2; }
exit "$status"

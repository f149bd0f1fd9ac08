#!/usr/bin/env bash
# sluice-test-s3.sh — a real, strict S3 server (Ceph RADOS Gateway) for Sluice's integration
# tests and demo: a throw-away single-node Ceph cluster (one mon, one bluestore OSD, one radosgw,
# no mgr) that lives entirely inside one directory and listens on 127.0.0.1 only.
#
#   sluice-test-s3.sh start  DIR                 start (or reuse) the server; print the endpoint
#   sluice-test-s3.sh stop   DIR                 stop the daemons started from DIR; safe if none
#   sluice-test-s3.sh run    DIR -- CMD [ARG...] start unless running, run CMD with DIR/env
#                                                exported, stop again only if this call started
#                                                it (also on INT/TERM/HUP); exit with CMD's status
#   sluice-test-s3.sh status DIR                 exit 0 running, 3 stopped, 1 partly running
#
# DIR/env (shell `export` lines, written once S3 answers):
#   SLUICE_TEST_S3_ENDPOINT      http://127.0.0.1:PORT (path-style: http://127.0.0.1:PORT/BUCKET/KEY)
#   SLUICE_TEST_S3_VHOST_DOMAIN  s3.sluice.test: virtual-hosted http://BUCKET.s3.sluice.test:PORT/KEY.
#                                No DNS knows it: point BUCKET.s3.sluice.test at 127.0.0.1 yourself
#                                (curl --resolve, CURLOPT_RESOLVE).
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY   fixed test keys (below)
#   AWS_DEFAULT_REGION           default
# Data persists in DIR across stop/start; delete DIR (when stopped) to start afresh.
# DIR must be new, empty or made by this script (it refuses any other non-empty directory).
#
# Needs the Debian 12 packages ceph-mon ceph-osd radosgw ceph-common (Ceph 16.2 "pacific"),
# curl, python3 (a dependency of ceph-common), util-linux (flock, setsid). Everything — ceph.conf,
# keyring, mon store, OSD, logs (DIR/log), sockets, PIDs — is inside DIR: nothing in /etc/ceph
# or /var/lib/ceph, no systemd, no fixed port (free ones are picked; kept across restarts while
# free). Works as root and unprivileged. DIR's file system must support O_DIRECT (bluestore).
# Debugging: SLUICE_TEST_S3_TRACE=1 prints the time of each start step; SLUICE_TEST_S3_CEPH_CONF
# is appended to ceph.conf (e.g. $'[client.rgw.gw]\ndebug rgw = 20').
#
# Measured (Debian 12 VM, 2 cores, Ceph 16.2.15, curl 7.88.1), wall time of `start` until a
# signed request succeeded:
#   new DIR (bootstrap):   1.9-2.8 s (up to ~4 s while other processes loaded both cores)
#   existing DIR:          0.9-1.4 s; after a kill -9 of all daemons: ~2.9 s
#   stop:                  0.3-0.9 s
#   RSS after start:       mon ~36 MiB, osd ~57 MiB, radosgw ~47 MiB (~140 MiB in all);
#                          after writing 700 MB (35 x 20 MB PUTs, 5-8 s): osd ~105, radosgw ~150-180
#   idle CPU:              ~1.5 % of one core for the three daemons
#   disk:                  20 GiB sparse block file, ~15 MiB used after start (+ data); mon ~40 MiB
# Without the settings marked "start:" below, a first start took ~8 s even with the notes' paxos
# settings (the notes: ~20 s without them), a restart ~5.7 s, and one after kill -9 ~11 s.
#
# Findings (radosgw 16.2.15):
# - Region: radosgw does not check the region of the SigV4 credential scope (us-east-1 or any
#   string is accepted); "default" is exported because it is the default zonegroup's api_name:
#   CreateBucket with LocationConstraint "default" (what SDKs send for a region other than
#   us-east-1) is accepted, "us-east-1" or any other is 400 InvalidLocationConstraint.
# - Addressing: with `rgw dns name = s3.sluice.test`, BUCKET.s3.sluice.test:PORT is virtual-hosted
#   and 127.0.0.1:PORT stays path-style (radosgw never takes an IP address for a bucket). But once
#   any host name is configured, radosgw takes a Host that is neither an IP nor a configured
#   name for a bucket name (CNAME-style hosting), so localhost:PORT/BUCKET/KEY looked for bucket
#   "localhost". The zonegroup's hostnames are therefore [s3.sluice.test, localhost]: path-style
#   works with 127.0.0.1 and localhost, virtual-hosted with BUCKET.s3.sluice.test and
#   BUCKET.localhost (curl resolves *.localhost to loopback by itself; glibc does not).
# - SigV4 without an x-amz-content-sha256 header is 403 SignatureDoesNotMatch; a query parameter
#   without a value must be signed as "name=" (curl signs "?location" as given: 403).
# - Stopping: radosgw's shutdown needs the OSD (with the OSD stopped first it waits for a 120 s
#   alarm), the OSD's needs the mon: stop in the order radosgw, OSD, mon.

set -euo pipefail

# ---- fixed settings ---------------------------------------------------------------------------

# Fixed test credentials: tests and demo may hard-code them. The secret contains '/', as real
# AWS secrets may, so that a client mishandling it fails here and not in production.
readonly ACCESS_KEY='SLUICETESTACCESSKEY1'
readonly SECRET_KEY='sluice/Test/Secret/Key/0123456789abcdefgh'
readonly S3_USER='sluice-test'
readonly REGION='default'                 # see "Region" above
readonly VHOST_DOMAIN='s3.sluice.test'    # see "Addressing" above
readonly RGW_NAME='client.rgw.gw'
readonly BLOCK_SIZE=$((20 * 1024 * 1024 * 1024))   # sparse: only written blocks use disk
readonly START_TIMEOUT=90                          # seconds until S3 must answer
readonly CEPH_TIMEOUT=30                           # each ceph CLI / radosgw-admin call
readonly MARKER=.sluice-test-s3                    # marks a DIR made by this script

PROG=${0##*/}
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

# ---- small helpers ----------------------------------------------------------------------------

usage() {
    cat >&2 <<EOF
usage: $PROG start DIR
       $PROG stop DIR
       $PROG run DIR -- CMD [ARGS...]
       $PROG status DIR
EOF
    exit 2
}

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { say "error: $*"; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
T0=$(now)
trace() {
    if [[ ${SLUICE_TEST_S3_TRACE:-} == 1 ]]; then say "+$(elapsed "$T0") s: $*"; fi
}

python() {
    # The ceph CLI itself is Python 3 (/usr/bin/python3), so Python is there wherever Ceph is.
    if [[ -x /usr/bin/python3 ]]; then /usr/bin/python3 "$@"; else python3 "$@"; fi
}

# Prints N different free TCP ports of 127.0.0.1 (chosen by the kernel, all held open at once).
free_ports() {
    python - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# Succeeds if a server could bind 127.0.0.1:PORT now (with SO_REUSEADDR, as servers do).
port_is_free() {
    python - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

# Succeeds if process $1 exists and is not a zombie. Our daemons outlive the shell that started
# them and whoever inherits them may reap them late: `kill -0` alone counts zombies as alive.
pid_alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# ---- paths and state inside DIR ---------------------------------------------------------------

set_paths() {
    DIR=$(cd "$1" && pwd -P)
    CONF=$DIR/ceph.conf
    STATE=$DIR/state          # fsid, ports, OSD uuid, zonegroup, "initialized" marker
    RUN=$DIR/run              # PID files, owner of a `run`, the daemons' admin sockets
    LOG=$DIR/log
    ENV_FILE=$DIR/env
}

# For start/run: creates DIR, or accepts it if empty or made by us. Never wipe a directory the
# caller passed by mistake (bootstrap deletes what it finds in DIR/state, DIR/log, ...).
claim_dir() {
    mkdir -p "$1" || die "cannot create $1"
    if [[ ! -e $1/$MARKER ]]; then
        [[ -z $(ls -A "$1") ]] || die "$1 is not empty and was not made by $PROG; use a new directory"
        echo "Made by $PROG; delete this directory (when stopped) to start afresh." >"$1/$MARKER"
    fi
    set_paths "$1"
    mkdir -p "$RUN" "$LOG"
}

LOCKED=0
lock_dir() {
    ((LOCKED)) && return 0
    exec 9>"$DIR/lock"
    flock -w 300 9 || die "$DIR stays locked by another $PROG"
    LOCKED=1
}
unlock_dir() { exec 9>&-; LOCKED=0; }

# The daemons, in start order.
DAEMONS=(mon osd rgw)
daemon_log() {
    case $1 in
        mon) echo "$LOG/mon.a.log" ;;
        osd) echo "$LOG/osd.0.log" ;;
        rgw) echo "$LOG/$RGW_NAME.log" ;;
    esac
}

# PID of daemon $1 if it runs from this DIR, else nothing. Checks the command line so that a
# recycled PID or a daemon of another DIR is never taken for ours.
daemon_pid() {
    local pidfile=$RUN/$1.pid pid
    [[ -f $pidfile ]] || return 0
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] && pid_alive "$pid" || return 0
    if tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$CONF"; then
        echo "$pid"
    fi
}

# Prints "running", "stopped" or "partial".
cluster_state() {
    local d n=0
    for d in "${DAEMONS[@]}"; do
        [[ -n $(daemon_pid "$d") ]] && n=$((n + 1))
    done
    if ((n == ${#DAEMONS[@]})); then echo running
    elif ((n == 0)); then echo stopped
    else echo partial
    fi
}

endpoint() { echo "http://127.0.0.1:$(<"$STATE/rgw_port")"; }

# ---- ceph.conf --------------------------------------------------------------------------------

# Written anew on every start (the ports may change); fsid and ports come from $STATE.
write_conf() {
    local mon_port rgw_port asok
    mon_port=$(<"$STATE/mon_port")
    rgw_port=$(<"$STATE/rgw_port")
    # A UNIX socket path has at most 107 bytes. The daemons work without an admin socket (only
    # `ceph daemon` debugging is lost), so very long DIRs go without.
    asok="$RUN/\$name.asok"
    if ((${#RUN} + 26 > 107)); then asok=""; fi
    cat >"$CONF.tmp" <<EOF
# Generated by $PROG on each start: edits are lost.
[global]
fsid = $(<"$STATE/fsid")
mon host = [v2:127.0.0.1:$mon_port]
# Loopback only, msgr2 only (fewer ports; every client here speaks it).
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr1 = false
keyring = $DIR/keyring
run dir = $RUN
admin socket = $asok
log file = $LOG/\$name.log
mon cluster log file = $LOG/\$cluster.\$channel.log
crash dir = $DIR/crash
exec dir = $RUN
log to syslog = false
err to syslog = false
# One OSD: one replica, a CRUSH rule that needs no second host, few PGs, no mgr to autoscale.
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool delete = true
# Never mark the only OSD "out" (all data would be unavailable), never stop the mon for a
# nearly full disk: a test server must not outsmart the tests.
mon osd down out interval = 0
mon data avail crit = 0
mon data avail warn = 0
# start: the first start makes ~20 osdmap changes (pools for radosgw), each through paxos with
# a default propose interval of 1 s.
paxos propose interval = 0.05
paxos min wait = 0.01

[mon]
mon data = $DIR/mon/\$cluster-\$id

[osd]
osd data = $DIR/osd/\$cluster-\$id
osd objectstore = bluestore
# Bluestore on a sparse file next to (not inside) the OSD data dir: mkfs fails when the block
# file is inside it (self-referencing "block" symlink). Memory stays bounded and data survives
# kill -9 and restarts (memstore keeps all data in RAM and loses it on restart).
bluestore block path = $DIR/osd-block.\$id
bluestore block create = true
bluestore block size = $BLOCK_SIZE
bluestore block db create = false
bluestore block wal create = false
bluestore fsck on mkfs = false
# A fixed small cache instead of autotuning towards osd_memory_target (4 GiB).
bluestore cache autotune = false
bluestore cache size = 67108864
osd op num shards = 1
osd op num threads per shard = 2
# start: the block device's aio thread notices a close only when its poll times out (250 ms);
# the OSD opens and closes the device several times in mkfs and mount: mkfs 1.4 s -> 0.4 s.
bdev aio poll ms = 20
# start: compact BlueFS's log early; it is replayed (twice) at each mount, and grown to a few
# MiB it took 1.6 s of a restart.
bluefs log compact min size = 1048576

[client]
# The ceph CLI and radosgw-admin: no admin socket (several may run at once).
admin socket =
# start: librados asks for a newer osdmap only on its tick (default 5 s) while requests wait for
# an OSD that is not up yet. radosgw and radosgw-admin start before the OSD is up: this was
# 2-5 s of every start.
objecter tick interval = 0.2
# start: after a kill -9 the osdmap still lists the dead OSD instance as up; radosgw's requests
# to it fail (the new OSD has another nonce) until they are "laggy" (default 10 s) and librados
# asks for a newer map: a 10 s start after a crash, 2 s with this. Asking costs nothing.
objecter timeout = 2

[$RGW_NAME]
admin socket = $asok
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw dns name = $VHOST_DOMAIN
rgw resolve cname = false
rgw data = $DIR/rgw
rgw thread pool size = 64
rgw init timeout = $START_TIMEOUT

# From SLUICE_TEST_S3_CEPH_CONF:
${SLUICE_TEST_S3_CEPH_CONF:-}
EOF
    mv "$CONF.tmp" "$CONF"
}

# ---- start steps and failure handling ---------------------------------------------------------

STARTING=0     # 1 while a start is under way: any exit then stops what it started
STARTED=()     # daemons this start started

# Prints the last lines of logs to stderr: for a daemon (mon, osd, rgw) its log, or what it
# printed if it has no log yet (e.g. a bad ceph.conf); for any other NAME, DIR/log/NAME.out.
show_logs() {
    local x f
    for x in "$@"; do
        f=$LOG/$x.out
        case $x in
            mon | osd | rgw) [[ -s $(daemon_log "$x") ]] && f=$(daemon_log "$x") ;;
        esac
        [[ -s $f ]] || continue
        printf '%s: ---- last lines of %s ----\n' "$PROG" "$f" >&2
        tail -n 15 "$f" | cut -c1-300 >&2
    done
}

# A start step failed: say why, show the relevant logs, stop what this start started, exit 1.
fail() {
    local msg=$1
    shift
    STARTING=0
    say "start failed: $msg"
    show_logs "$@"
    if ((${#STARTED[@]})); then do_stop; fi
    exit 1
}

# Runs one start step with its output in DIR/log/NAME.out; on failure shows it (and the logs
# of the daemons started so far) and gives up.
step() {
    local name=$1
    shift
    "$@" >>"$LOG/$name.out" 2>&1 || fail "'$*' failed" "$name" "${STARTED[@]}"
}

ceph_cli() { timeout "$CEPH_TIMEOUT" ceph -c "$CONF" --connect-timeout "$CEPH_TIMEOUT" "$@"; }
rgw_admin() { timeout "$CEPH_TIMEOUT" radosgw-admin -c "$CONF" "$@"; }

# ---- daemons ----------------------------------------------------------------------------------

# Starts daemon $1 in Ceph's foreground mode (-f: no fork, so $! is its PID), in a session of
# its own: a Ctrl-C meant for the caller (or for CMD of `run`) must not hit the daemons, which
# are stopped in order instead. No stdin/stdout/stderr or lock fd is inherited: a caller that
# reads our output through a pipe must not wait for the daemons.
start_daemon() {
    local d=$1 cmd
    case $d in
        mon) cmd=(ceph-mon -c "$CONF" -i a -f) ;;
        osd) cmd=(ceph-osd -c "$CONF" -i 0 -f) ;;
        rgw) cmd=(radosgw -c "$CONF" -n "$RGW_NAME" -f) ;;
    esac
    setsid "${cmd[@]}" </dev/null >>"$LOG/$d.out" 2>&1 9>&- &
    echo $! >"$RUN/$d.pid"
    STARTED+=("$d")
}

# Stops daemon $1: SIGTERM, then SIGKILL after $2 seconds (bluestore and the mon's RocksDB
# survive SIGKILL; radosgw keeps no state of its own). Waits until it is gone.
stop_daemon() {
    local pid t
    pid=$(daemon_pid "$1")
    rm -f "$RUN/$1.pid"
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((t = 0; t < $2 * 20; t++)); do
        pid_alive "$pid" || return 0
        sleep 0.05
    done
    say "$1 did not stop within $2 s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
    while pid_alive "$pid"; do sleep 0.05; done
}

# In this order, one at a time: radosgw's shutdown needs the OSD, the OSD's the mon.
do_stop() {
    stop_daemon rgw 10
    stop_daemon osd 15
    stop_daemon mon 15
}

# ---- first start ------------------------------------------------------------------------------

# Creates keys, monitor store and OSD; starts the mon. All keys go into one keyring that the
# mon imports at mkfs, so no `ceph auth` round trips are needed.
bootstrap() {
    # Bluestore opens its block file with O_DIRECT, which some file systems refuse (tmpfs
    # before Linux 6.6): say so plainly instead of failing deep in ceph-osd --mkfs.
    python - "$DIR/.odirect-probe" <<'EOF' 2>"$LOG/odirect.out" ||
import os, sys
try:
    os.close(os.open(sys.argv[1], os.O_CREAT | os.O_RDWR | os.O_DIRECT, 0o600))
finally:
    if os.path.exists(sys.argv[1]):
        os.unlink(sys.argv[1])
EOF
        fail "bluestore needs O_DIRECT, which the file system of $DIR refuses: use a DIR on disk" odirect
    rm -rf "$DIR/mon" "$DIR/osd" "$DIR/rgw" "$DIR/crash" "$DIR"/osd-block.* "$DIR/keyring" \
        "$STATE" "$LOG"
    mkdir -p "$STATE" "$LOG" "$DIR/mon/ceph-a" "$DIR/osd/ceph-0" "$DIR/rgw" "$DIR/crash"
    cat /proc/sys/kernel/random/uuid >"$STATE/fsid"
    cat /proc/sys/kernel/random/uuid >"$STATE/osd_uuid"
    local mon_port rgw_port kr=$DIR/keyring
    read -r mon_port rgw_port < <(free_ports 2)
    echo "$mon_port" >"$STATE/mon_port"
    echo "$rgw_port" >"$STATE/rgw_port"
    write_conf

    step keyring ceph-authtool "$kr" --create-keyring --gen-key -n mon. --cap mon 'allow *'
    step keyring ceph-authtool "$kr" --gen-key -n client.admin \
        --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *'
    step keyring ceph-authtool "$kr" --gen-key -n osd.0 \
        --cap mon 'allow profile osd' --cap mgr 'allow profile osd' --cap osd 'allow *'
    step keyring ceph-authtool "$kr" --gen-key -n "$RGW_NAME" \
        --cap mon 'allow rw' --cap osd 'allow rwx'
    step monmap monmaptool --create --fsid "$(<"$STATE/fsid")" \
        --addv a "[v2:127.0.0.1:$mon_port]" "$STATE/monmap"
    step mon.mkfs ceph-mon -c "$CONF" -i a --mkfs --monmap "$STATE/monmap" --keyring "$kr"
    trace "keys and mon store made"

    # The OSD's mkfs needs no mon (the fsid is in ceph.conf), registering the OSD's id with the
    # mon needs no OSD store: both at once.
    ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$(<"$STATE/osd_uuid")" --no-mon-config \
        </dev/null >"$LOG/osd.mkfs.out" 2>&1 9>&- &
    local mkfs_pid=$!
    start_daemon mon
    step osd.new ceph_cli osd new "$(<"$STATE/osd_uuid")" 0
    wait "$mkfs_pid" || fail "ceph-osd --mkfs failed" osd.mkfs
    trace "mon up, OSD made and registered"
}

# Before radosgw first runs (it reads the zonegroup when it starts), with the OSD starting:
#  - the S3 user with the fixed keys. Also, as a full (not "raw") radosgw-admin command, this
#    creates the default zone and zonegroup, waiting for the OSD to come up.
#  - zonegroup hostnames = [$VHOST_DOMAIN, localhost] (see "Addressing" at the top).
configure_rgw() {
    local zg=$STATE/zonegroup.json
    step user-create rgw_admin user create --uid="$S3_USER" --display-name="Sluice tests" \
        --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY"
    rgw_admin zonegroup get >"$zg" 2>>"$LOG/zonegroup.out" ||
        fail "radosgw-admin zonegroup get failed" zonegroup "${STARTED[@]}"
    python - "$zg" "$VHOST_DOMAIN" localhost <<'EOF' 2>>"$LOG/zonegroup.out" ||
import json, sys
path, names = sys.argv[1], sys.argv[2:]
with open(path) as f:
    zg = json.load(f)
zg["hostnames"] = names
with open(path, "w") as f:
    json.dump(zg, f, indent=2)
EOF
        fail "cannot edit $zg" zonegroup
    step zonegroup rgw_admin zonegroup set --infile "$zg"
    trace "S3 user and zonegroup host names set"
}

# On a restart: reuse the ports if still free (a stable endpoint is handy), else move. The mon's
# address is kept in its monmap, so moving the mon means injecting an edited monmap.
choose_ports() {
    local mon_port rgw_port
    mon_port=$(<"$STATE/mon_port")
    rgw_port=$(<"$STATE/rgw_port")
    if ! port_is_free "$rgw_port"; then
        read -r rgw_port < <(free_ports 1)
        echo "$rgw_port" >"$STATE/rgw_port"
    fi
    if ! port_is_free "$mon_port"; then
        local a b
        read -r a b < <(free_ports 2)
        if [[ $a == "$rgw_port" ]]; then mon_port=$b; else mon_port=$a; fi
        write_conf         # the mon's data dir, in case DIR moved
        rm -f "$STATE/monmap"
        step monmap ceph-mon -c "$CONF" -i a --extract-monmap "$STATE/monmap"
        step monmap monmaptool --rm a "$STATE/monmap"
        step monmap monmaptool --addv a "[v2:127.0.0.1:$mon_port]" "$STATE/monmap"
        step monmap ceph-mon -c "$CONF" -i a --inject-monmap "$STATE/monmap"
        echo "$mon_port" >"$STATE/mon_port"   # only once the mon's store agrees
    fi
    write_conf
}

# ---- S3 checks --------------------------------------------------------------------------------

readonly EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# Waits until radosgw answers HTTP at all (it listens only once its pools are usable), while
# checking that no daemon died.
wait_for_rgw() {
    local deadline=$((SECONDS + START_TIMEOUT)) d code
    while :; do
        for d in "${DAEMONS[@]}"; do
            [[ -n $(daemon_pid "$d") ]] || fail "$d exited during start" "$d"
        done
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$(endpoint)/") || true
        [[ $code != 000 ]] && return 0
        ((SECONDS < deadline)) || fail "S3 did not answer within ${START_TIMEOUT}s" rgw osd mon
        sleep 0.1
    done
}

# HTTP status of a SigV4-signed ListBuckets with the test keys (000: no answer).
s3_status() {
    curl -s -o "$LOG/check.out" -w '%{http_code}' --max-time 10 \
        --aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
        -H "x-amz-content-sha256: $EMPTY_SHA256" "$(endpoint)/" || true
}

check_s3() {
    local code
    code=$(s3_status)
    [[ $code == 200 ]] || fail "a signed ListBuckets request got HTTP $code" check rgw
}

write_env() {
    cat >"$ENV_FILE.tmp" <<EOF
export SLUICE_TEST_S3_ENDPOINT='$(endpoint)'
export SLUICE_TEST_S3_VHOST_DOMAIN='$VHOST_DOMAIN'
export AWS_ACCESS_KEY_ID='$ACCESS_KEY'
export AWS_SECRET_ACCESS_KEY='$SECRET_KEY'
export AWS_DEFAULT_REGION='$REGION'
EOF
    mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# ---- commands ---------------------------------------------------------------------------------

# Starts the server from DIR unless it runs (caller holds the lock). WE_STARTED=1 if it did.
WE_STARTED=0
do_start() {
    local t0 state tool
    t0=$(now)
    for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool curl; do
        command -v "$tool" >/dev/null ||
            die "$tool not found (needs the Debian packages ceph-mon ceph-osd radosgw ceph-common curl)"
    done
    state=$(cluster_state)
    if [[ $state == running && -f $ENV_FILE ]]; then
        local code
        code=$(s3_status)
        if [[ $code == 200 ]]; then
            say "already running from $DIR at $(endpoint)"
            return 0
        fi
        state="running, but S3 answers HTTP $code"
    fi
    if [[ $state != stopped ]]; then
        say "$DIR: server in a bad state ($state): restarting it"
        do_stop
    fi
    rm -f "$ENV_FILE"
    STARTING=1
    STARTED=()
    if [[ -f $STATE/initialized ]]; then
        choose_ports
        start_daemon mon
        start_daemon osd
        start_daemon rgw   # waits by itself until the OSD is up
        trace "daemons started"
    else
        bootstrap
        start_daemon osd
        configure_rgw
        start_daemon rgw
    fi
    wait_for_rgw
    trace "radosgw answers"
    check_s3
    touch "$STATE/initialized"
    write_env
    STARTING=0
    WE_STARTED=1
    say "S3 (Ceph RGW) up at $(endpoint) in $(elapsed "$t0") s; settings in $ENV_FILE"
}

cmd_start() {
    claim_dir "$1"
    lock_dir
    do_start
    endpoint
}

cmd_stop() {
    if [[ ! -e $1/$MARKER ]]; then say "nothing to stop in $1"; return 0; fi
    set_paths "$1"
    lock_dir
    local state
    state=$(cluster_state)
    do_stop
    rm -f "$ENV_FILE"
    if [[ $state == stopped ]]; then say "not running from $DIR"; else say "stopped ($DIR)"; fi
}

cmd_status() {
    if [[ ! -e $1/$MARKER ]]; then echo "stopped (no server made in $1)"; exit 3; fi
    set_paths "$1"
    local d pid
    for d in "${DAEMONS[@]}"; do
        pid=$(daemon_pid "$d")
        if [[ -n $pid ]]; then printf '%-4s running, pid %s\n' "$d" "$pid"
        else printf '%-4s stopped\n' "$d"
        fi
    done
    case $(cluster_state) in
        running) echo "S3 endpoint $(endpoint)"; exit 0 ;;
        stopped) exit 3 ;;
        *) exit 1 ;;
    esac
}

# `run`: CMD runs in the background and we `wait` for it, so that a signal to this script is
# handled at once (bash runs traps only between foreground commands). CMD keeps our stdin and
# the default INT/QUIT dispositions (bash would ignore them in background jobs), so a Ctrl-C in
# the terminal reaches it as usual.
#
# A watchdog (a detached `_watch` of this script) stops the server if this script dies without
# doing so itself (SIGKILL, e.g. meson kills a timed-out test's process group 0.5 s after
# SIGTERM). DIR/run/owner names the `run` that owns the server.
RUN_CMD_PID=
WATCH_PID=
run_cleanup() {
    if ((WE_STARTED || STARTING)); then
        STARTING=0
        lock_dir
        do_stop
        rm -f "$ENV_FILE" "$RUN/owner"
        WE_STARTED=0
    fi
    if [[ -n $WATCH_PID ]]; then kill "$WATCH_PID" 2>/dev/null || true; fi
}

on_run_signal() {
    local sig=$1 t
    trap '' INT TERM HUP
    if [[ -n $RUN_CMD_PID ]] && pid_alive "$RUN_CMD_PID"; then
        kill -TERM "$RUN_CMD_PID" 2>/dev/null || true
        for ((t = 0; t < 200; t++)); do
            pid_alive "$RUN_CMD_PID" || break
            sleep 0.05
        done
        kill -KILL "$RUN_CMD_PID" 2>/dev/null || true
    fi
    say "interrupted (SIG$sig): stopping"
    run_cleanup
    case $sig in INT) exit 130 ;; HUP) exit 129 ;; *) exit 143 ;; esac
}

cmd_run() {
    claim_dir "$1"
    shift
    trap 'on_run_signal INT' INT
    trap 'on_run_signal TERM' TERM
    trap 'on_run_signal HUP' HUP
    lock_dir
    do_start
    if ((WE_STARTED)); then
        echo $$ >"$RUN/owner"
        setsid bash "$SELF" _watch "$DIR" $$ </dev/null >>"$LOG/watch.out" 2>&1 9>&- &
        WATCH_PID=$!
    fi
    unlock_dir             # CMD may use start/stop/status on DIR itself
    (
        trap - INT QUIT TERM HUP
        set +euo pipefail
        # shellcheck source=/dev/null
        . "$ENV_FILE"
        exec "$@"
    ) <&0 &
    RUN_CMD_PID=$!
    local rc=0
    wait "$RUN_CMD_PID" || rc=$?
    RUN_CMD_PID=
    trap '' INT TERM HUP
    run_cleanup
    exit "$rc"
}

# Internal: `_watch DIR PID`, started detached by `run`. Once PID is gone, stops the server if
# that `run` still owns it (a normal end of `run` removes the owner file first).
cmd_watch() {
    set_paths "$1"
    local pid=$2
    while pid_alive "$pid"; do sleep 0.5; done
    lock_dir
    if [[ -f $RUN/owner && $(<"$RUN/owner") == "$pid" ]]; then
        say "$DIR: its 'run' (pid $pid) ended without stopping the server: stopping it"
        do_stop
        rm -f "$ENV_FILE" "$RUN/owner"
    fi
}

# EXIT trap: an unforeseen error (set -e) or a signal during a start still cleans up.
on_exit() {
    local rc=$?
    if ((STARTING)); then fail "interrupted (exit status $rc)" mon osd rgw; fi
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

main() {
    (($# >= 2)) || usage
    local verb=$1 dir=$2
    shift 2
    case $verb in
        start) (($# == 0)) || usage; cmd_start "$dir" ;;
        stop) (($# == 0)) || usage; cmd_stop "$dir" ;;
        status) (($# == 0)) || usage; cmd_status "$dir" ;;
        run)
            [[ ${1:-} == -- ]] || usage
            shift
            (($# >= 1)) || usage
            cmd_run "$dir" "$@"
            ;;
        _watch) (($# == 1)) || usage; cmd_watch "$dir" "$1" ;;
        *) usage ;;
    esac
}

main "$@"

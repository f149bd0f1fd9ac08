#!/usr/bin/env python3
"""wait-idle.py [--exclude-pids P1,P2] [--max-busy 0.3] [--window 3] [--timeout 900]

Waits until the machine is quiet: over a window of --window seconds, the CPU busy time of
everything except the listed PIDs (the S3 server's daemons) is below --max-busy cores.
Exits 0 when quiet, 1 on timeout (the caller runs anyway and records it). Prints what kept the
machine busy when it had to wait. A shared machine (builds, fuzzers, tests) otherwise skews a
2-core benchmark by tens of percent.
"""
import argparse
import os
import sys
import time

CLK = os.sysconf("SC_CLK_TCK")


def busy():
    with open("/proc/stat") as fh:
        f = fh.readline().split()
    return sum(int(x) for x in (f[1], f[2], f[3], f[6], f[7], f[8])) / CLK


def pcpu(pid):
    try:
        with open("/proc/%d/stat" % pid) as fh:
            s = fh.read()
    except OSError:
        return 0.0
    f = s[s.rfind(")") + 2:].split()
    return (int(f[11]) + int(f[12])) / CLK


def top():
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as fh:
                    s = fh.read()
                out.append((pcpu(int(d)), int(d), s[s.find("(") + 1:s.rfind(")")]))
            except OSError:
                pass
    return {p: (c, n) for c, p, n in out}


ap = argparse.ArgumentParser()
ap.add_argument("--exclude-pids", default="")
ap.add_argument("--max-busy", type=float, default=0.3)
ap.add_argument("--server-max-busy", type=float, default=0.25,
                help="the excluded PIDs together must also be below this (server settled)")
ap.add_argument("--window", type=float, default=3.0)
ap.add_argument("--timeout", type=float, default=900)
a = ap.parse_args()
ex = [int(p) for p in a.exclude_pids.split(",") if p.strip()]
t_end = time.monotonic() + a.timeout
said = 0.0
while True:
    b0, e0, t0 = busy(), sum(pcpu(p) for p in ex), top()
    time.sleep(a.window)
    b1, e1, t1 = busy(), sum(pcpu(p) for p in ex), top()
    load = ((b1 - b0) - (e1 - e0)) / a.window
    sload = (e1 - e0) / a.window
    if load <= a.max_busy and sload <= a.server_max_busy:
        sys.exit(0)
    if time.monotonic() > t_end:
        print("wait-idle: still %.2f cores busy (server %.2f) after %.0f s; running anyway"
              % (load, sload, a.timeout),
              file=sys.stderr)
        sys.exit(1)
    if time.monotonic() - said > 60:
        said = time.monotonic()
        hogs = sorted(((t1[p][0] - t0.get(p, (t1[p][0],))[0]) / a.window, p, t1[p][1])
                      for p in t1 if p not in ex)[-3:]
        print("wait-idle: %.2f cores busy, server %.2f (%s); waiting" % (load, sload, ", ".join(
            "%s[%d] %.2f" % (n, p, c) for c, p, n in reversed(hogs) if c > 0.01)), file=sys.stderr)

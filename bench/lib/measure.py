#!/usr/bin/env python3
"""measure.py — run one command and measure it as a process tree (Sluice benchmark helper).

  measure.py --out RESULT.json [--server-pids P1,P2,..] [--drop-caches] [--interval 0.05]
             [--stdout FILE] [--label TEXT] -- CMD [ARG...]

Measures:
  wall_s                 monotonic wall time from spawn to exit
  time_*                 /usr/bin/time -f of the command: elapsed, user, sys, maxrss of the largest
                         single process (rusage of the child includes every descendant that was
                         waited for, e.g. sluice-probe helpers reaped by GSubprocess)
  cgroup_cpu_*           cpuacct cgroup (v1) usage of every process that ran in the tree, waited for
                         or not: the cross-check of time_user+time_sys (absent without cpuacct)
  rss_tree_peak_mb       peak over the samples of the sum of RSS over all processes of the tree
  pss_tree_peak_mb       same with PSS (shared pages, e.g. a memfd mapped by both sluice and a probe
                         helper, counted once); anon_tree_peak_mb: anonymous memory only
  shmem_delta_peak_mb    peak rise of the system's Shmem (/proc/meminfo) over its value at the start:
                         memfd/tmpfs pages, also those no process has mapped
  procs_max              most processes seen in the tree at once
  server_cpu_s           utime+stime of the server daemons (--server-pids) during the run
  aux_cpu_s              utime+stime of --aux-pids (e.g. the countfs daemon) during the run
  other_cpu_s            the machine's busy CPU time (/proc/stat) minus client, server and aux: other
                         programs, this sampler, kernel threads; a disturbed run shows here
  steal_s                of other_cpu_s, the time the hypervisor ran other guests on this VM's CPUs
                         (/proc/stat's steal): a busy host, which slows both tools
The sampler reads the tree's PIDs from the cpuacct cgroup's cgroup.procs (cheap), or scans /proc for
descendants when no cgroup could be made. The time helper itself is excluded from the tree.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
CG_ROOT = "/sys/fs/cgroup/cpuacct"


def proc_cpu(pid):
    """utime+stime (s) of a process (all its threads), or None."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            s = fh.read()
    except OSError:
        return None
    f = s[s.rfind(")") + 2:].split()
    return (int(f[11]) + int(f[12])) / CLK


def system_busy():
    """CPU-seconds the whole machine has been busy (all CPUs, /proc/stat), and of them the
    time the hypervisor gave to other guests (steal)."""
    with open("/proc/stat") as fh:
        f = fh.readline().split()
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in f[1:9])
    return (user + nice + system + irq + softirq + steal) / CLK, steal / CLK


def meminfo_shmem():
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("Shmem:"):
                return int(line.split()[1]) * 1024
    return 0


def smaps_rollup(pid):
    """(rss, pss, anon) bytes of one process, or None if it is gone."""
    rss = pss = anon = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as fh:
            for line in fh:
                k, _, v = line.partition(":")
                if k == "Rss":
                    rss = int(v.split()[0]) * 1024
                elif k == "Pss":
                    pss = int(v.split()[0]) * 1024
                elif k == "Anonymous":
                    anon = int(v.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return rss, pss, anon


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as fh:
            return fh.read().strip()
    except OSError:
        return "?"


def descendants(root):
    """PIDs below root, from a scan of /proc (fallback without a cgroup)."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as fh:
                s = fh.read()
        except OSError:
            continue
        ppid = int(s[s.rfind(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for c in kids.get(p, ()):
            out.append(c)
            todo.append(c)
    return out


def cg_pids(cg):
    try:
        with open(os.path.join(cg, "cgroup.procs")) as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


def read_int(path):
    try:
        with open(path) as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--server-pids", default="")
    ap.add_argument("--aux-pids", default="", help="helpers outside the tree (countfs): aux_cpu_s")
    ap.add_argument("--drop-caches", action="store_true")
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("--stdout", default=None)
    ap.add_argument("--label", default="")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        ap.error("no command")

    server = [int(p) for p in a.server_pids.split(",") if p.strip()]
    aux = [int(p) for p in a.aux_pids.split(",") if p.strip()]
    if a.drop_caches:
        os.sync()
        try:
            with open("/proc/sys/vm/drop_caches", "w") as fh:
                fh.write("3\n")
        except OSError as e:
            print("measure.py: cannot drop caches: %s" % e, file=sys.stderr)
        time.sleep(0.3)

    cg = None
    if os.path.isdir(CG_ROOT) and os.access(CG_ROOT, os.W_OK):
        cg = os.path.join(CG_ROOT, "sluice-bench-%d" % os.getpid())
        try:
            os.mkdir(cg)
        except OSError:
            cg = None

    tf = tempfile.NamedTemporaryFile(prefix="measure-time.", delete=False)
    tf.close()
    out_fh = open(a.stdout, "wb") if a.stdout else subprocess.DEVNULL

    def enter_cgroup():
        if cg:
            with open(os.path.join(cg, "cgroup.procs"), "w") as fh:
                fh.write(str(os.getpid()))

    srv0 = {p: proc_cpu(p) for p in server}
    busy0, steal0 = system_busy()
    aux0 = sum(proc_cpu(p) or 0 for p in aux)
    shmem0 = meminfo_shmem()
    t0 = time.monotonic()
    child = subprocess.Popen(["/usr/bin/time", "-o", tf.name, "-f", "%e %U %S %M"] + cmd,
                             stdout=out_fh, preexec_fn=enter_cgroup)
    rss_pk = pss_pk = anon_pk = shm_pk = 0
    procs_max = 0
    peak_detail = []
    samples = 0
    interrupted = False

    def on_sig(signum, frame):
        nonlocal interrupted
        interrupted = True
        for p in (cg_pids(cg) if cg else descendants(child.pid)) + [child.pid]:
            try:
                os.kill(p, signal.SIGTERM)
            except OSError:
                pass
    signal.signal(signal.SIGINT, on_sig)
    signal.signal(signal.SIGTERM, on_sig)

    while True:
        if child.poll() is not None:
            break
        pids = cg_pids(cg) if cg else descendants(child.pid)
        rss = pss = anon = 0
        detail = []
        n = 0
        for p in pids:
            if p == child.pid:      # /usr/bin/time itself
                continue
            m = smaps_rollup(p)
            if m is None:
                continue
            n += 1
            rss += m[0]
            pss += m[1]
            anon += m[2]
            detail.append((comm(p), p, round(m[0] / 1e6, 1), round(m[1] / 1e6, 1)))
        samples += 1
        procs_max = max(procs_max, n)
        if rss > rss_pk:
            rss_pk = rss
            peak_detail = detail
        pss_pk = max(pss_pk, pss)
        anon_pk = max(anon_pk, anon)
        shm_pk = max(shm_pk, meminfo_shmem() - shmem0)
        # short runs: sample every 10 ms during the first 0.2 s
        time.sleep(a.interval if samples > 20 else min(a.interval, 0.01))
    wall = time.monotonic() - t0
    rc = child.returncode
    srv1 = {p: proc_cpu(p) for p in server}
    busy1, steal1 = system_busy()
    aux1 = sum(proc_cpu(p) or 0 for p in aux)
    if a.stdout:
        out_fh.close()

    res = {"label": a.label, "cmd": cmd, "exit_code": rc, "wall_s": round(wall, 3),
           "samples": samples, "interval_s": a.interval, "interrupted": interrupted}
    try:
        with open(tf.name) as fh:
            lines = [l for l in fh.read().splitlines() if l.strip()]
        e, u, s, m = lines[-1].split()
        res.update(time_elapsed_s=float(e), time_user_s=float(u), time_sys_s=float(s),
                   time_cpu_s=round(float(u) + float(s), 3), time_maxrss_single_mb=round(int(m) / 1024, 1))
        if len(lines) > 1:
            res["time_note"] = lines[:-1]
    except (OSError, ValueError, IndexError):
        res["time_note"] = "no /usr/bin/time output"
    os.unlink(tf.name)

    if cg:
        ns = read_int(os.path.join(cg, "cpuacct.usage"))
        # cpuacct.stat is in USER_HZ ticks
        st = {}
        try:
            with open(os.path.join(cg, "cpuacct.stat")) as fh:
                for line in fh:
                    k, v = line.split()
                    st[k] = int(v) / CLK
        except OSError:
            pass
        # the time helper's own CPU is in the cgroup too (negligible: it only waits)
        res.update(cgroup_cpu_s=round(ns / 1e9, 3) if ns is not None else None,
                   cgroup_user_s=st.get("user"), cgroup_sys_s=st.get("system"))
        left = cg_pids(cg)
        if left:
            res["leftover_pids"] = [(p, comm(p)) for p in left]
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.2)
        try:
            os.rmdir(cg)
        except OSError:
            pass

    res.update(rss_tree_peak_mb=round(rss_pk / 1e6, 1), pss_tree_peak_mb=round(pss_pk / 1e6, 1),
               anon_tree_peak_mb=round(anon_pk / 1e6, 1), shmem_delta_peak_mb=round(shm_pk / 1e6, 1),
               procs_max=procs_max, rss_peak_detail=peak_detail)
    if server:
        d = {}
        tot = 0.0
        for p in server:
            if srv0.get(p) is not None and srv1.get(p) is not None:
                d[comm(p) + ":" + str(p)] = round(srv1[p] - srv0[p], 2)
                tot += srv1[p] - srv0[p]
        res["server_cpu_s"] = round(tot, 2)
        res["server_cpu_by_daemon"] = d
    # everything else the machine did meanwhile (other programs, the sampler, the kernel):
    # large values mean the run was disturbed
    client = res.get("cgroup_cpu_s") or res.get("time_cpu_s") or 0
    res["system_busy_s"] = round(busy1 - busy0, 2)
    res["steal_s"] = round(steal1 - steal0, 2)
    res["aux_cpu_s"] = round(aux1 - aux0, 2)
    res["other_cpu_s"] = round(busy1 - busy0 - client - res.get("server_cpu_s", 0) - (aux1 - aux0), 2)
    with open(a.out, "w") as fh:
        json.dump(res, fh, indent=1)
    return rc


if __name__ == "__main__":
    sys.exit(main())

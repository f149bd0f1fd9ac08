#!/usr/bin/env python3
"""report.py RUNDIR [--json OUT.json] — the table of a run-bench.sh run (medians and ratios).

Reads RUNDIR/meta.json and RUNDIR/<corpus>/{corpus.json, KIND-TOOL-N.json, KIND-TOOL-N.stats.json}
(KIND: timed, peer, countfs, countfs-lat2) as written by run-bench.sh and measure.py; prints the
table and, with --json, writes every raw number plus the summary.
MB = 10^6 bytes, GB = 10^9 bytes. CPU = user+sys of the whole process tree (rusage of the
command, which includes the sluice-probe helpers it waited for).
"""
import glob
import json
import os
import re
import statistics
import sys


def load(p):
    with open(p) as fh:
        return json.load(fh)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def derive(r, corpus):
    w = r["wall_s"]
    cpu = r.get("time_cpu_s")
    if cpu is None:
        cpu = r.get("cgroup_cpu_s")
    gb = corpus["bytes"] / 1e9
    kf = corpus["files"] / 1000
    out = {"wall_s": w, "files_s": corpus["files"] / w, "mb_s": corpus["bytes"] / 1e6 / w,
           "cpu_s": cpu, "cpu_s_per_gb": cpu / gb if cpu is not None else None,
           "cpu_s_per_1k_files": cpu / kf if cpu is not None else None,
           "user_s": r.get("time_user_s"), "sys_s": r.get("time_sys_s"),
           "cgroup_cpu_s": r.get("cgroup_cpu_s"),
           "rss_tree_mb": r.get("rss_tree_peak_mb"), "pss_tree_mb": r.get("pss_tree_peak_mb"),
           "shmem_delta_mb": r.get("shmem_delta_peak_mb"),
           "server_cpu_s": r.get("server_cpu_s"), "exit_code": r.get("exit_code"),
           "other_cpu_s": r.get("other_cpu_s"),
           "objects": r.get("objects_in_bucket")}
    return out


def fmt(x, nd=1):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    return ("%." + str(nd) + "f") % x


def main():
    rundir = sys.argv[1]
    out_json = None
    if "--json" in sys.argv:
        out_json = sys.argv[sys.argv.index("--json") + 1]
    meta = load(os.path.join(rundir, "meta.json")) if os.path.exists(os.path.join(rundir, "meta.json")) else {}
    ncpu = int(meta.get("ncpu") or os.cpu_count() or 1)
    full = {"meta": meta, "corpora": {}}
    lines = []
    P = lines.append
    P("Sluice benchmark %s — Sluice %s" % (meta.get("stamp", "?"), meta.get("sluice", "?")))
    P("%s, %s CPUs, kernel %s; %s; exiftool %s; %s" % (meta.get("cpu", "?"), meta.get("ncpu", "?"),
      meta.get("kernel", "?"), meta.get("rclone", "?"), meta.get("exiftool", "?"), meta.get("ceph", "?")))
    P("medians of %s timed runs per tool (page cache dropped before each); rclone+exiftool: 1 run;"
      % meta.get("runs", "?"))
    if meta.get("parts", "timed,peer,countfs") != "timed,peer,countfs":
        P("measured only: %s" % meta["parts"])
    if meta.get("tls"):
        P("over HTTPS: stunnel in front of radosgw (%s), its CPU counted as the server's" % meta.get("endpoint", "?"))
    if meta.get("nice"):
        P("measured commands, S3 daemons and countfs ran at nice %s (a busy shared machine)" % meta["nice"])
    P("CPU = user+sys of the client process tree; RSS = peak of the sum over the tree (50 ms samples);")
    P("src/corpus = bytes served by the source (countfs --cache none) / corpus bytes.")
    problems = []
    for cdir in sorted(d for d in glob.glob(os.path.join(rundir, "*")) if os.path.isdir(d)):
        cname = os.path.basename(cdir)
        if not os.path.exists(os.path.join(cdir, "corpus.json")):
            continue
        corpus = load(os.path.join(cdir, "corpus.json"))
        runs = {}
        for p in sorted(glob.glob(os.path.join(cdir, "*-*.json"))):
            b = os.path.basename(p)
            m = re.match(r"^(timed|peer|countfs-lat2|countfs)-(.+)-(\d+)\.json$", b)
            if not m:
                continue
            kind, tool, n = m.group(1), m.group(2), int(m.group(3))
            r = load(p)
            dv = derive(r, corpus)
            dv["run"] = n
            st = p[:-5] + ".stats.json"
            if os.path.exists(st):
                s = load(st)
                dv["countfs"] = {k: s.get(k) for k in (
                    "bytes_read", "read_calls", "opens", "opendirs", "readdirs", "lookups", "getattrs",
                    "files_read", "files_read_more_than_once", "max_reads_ratio",
                    "source_bytes_of_files_read", "unique_bytes_read", "reread_bytes",
                    "read_amplification")}
                dv["src_over_corpus"] = s.get("bytes_read", 0) / corpus["bytes"]
            if r.get("exit_code") != 0:
                problems.append("%s %s %s run %d: exit code %s" % (cname, kind, tool, n, r.get("exit_code")))
            if r.get("objects_in_bucket") not in (None, corpus["files"]):
                problems.append("%s %s %s run %d: %s objects in the bucket, corpus has %d files"
                                % (cname, kind, tool, n, r.get("objects_in_bucket"), corpus["files"]))
            cg, tc = r.get("cgroup_cpu_s"), r.get("time_cpu_s")
            if cg and tc and abs(cg - tc) > max(0.1, 0.05 * cg):
                problems.append("%s %s %s run %d: rusage CPU %.2f s vs cgroup %.2f s (unwaited children?)"
                                % (cname, kind, tool, n, tc, cg))
            oc = r.get("other_cpu_s")
            if oc is not None and oc > meta.get("max_busy", 0.3) * r["wall_s"] + 1:
                problems.append("%s %s %s run %d: disturbed: %.1f CPU-s of other programs during %.1f s"
                                % (cname, kind, tool, n, oc, r["wall_s"]))
            if r.get("leftover_pids"):
                problems.append("%s %s %s run %d: processes left behind %s"
                                % (cname, kind, tool, n, r["leftover_pids"]))
            if "exiftool" in tool and os.path.exists(p[:-5] + ".out"):
                t = dict(l.split() for l in open(p[:-5] + ".out") if l.startswith("exiftool_"))
                if "exiftool_start" in t and "exiftool_end" in t:
                    dv["exiftool_part_s"] = float(t["exiftool_end"]) - float(t["exiftool_start"])
            dv["raw"] = r
            runs.setdefault(kind, {}).setdefault(tool, []).append(dv)

        summ = {}
        keys = ("wall_s", "files_s", "mb_s", "cpu_s", "cpu_s_per_gb", "cpu_s_per_1k_files",
                "rss_tree_mb", "pss_tree_mb", "server_cpu_s")
        for tool in ("sluice", "rclone", "rclone+exiftool"):
            kind = "peer" if tool == "rclone+exiftool" else "timed"
            rs = runs.get(kind, {}).get(tool, [])
            if not rs and not runs.get("countfs", {}).get(tool):
                continue
            s = {k: med([r[k] for r in rs]) for k in keys}
            s["n"] = len(rs)
            s["wall_s_all"] = [round(r["wall_s"], 2) for r in rs]
            s["cpu_s_all"] = [r["cpu_s"] for r in rs]
            s["other_cpu_s_all"] = [r.get("other_cpu_s") for r in rs]
            s["steal_s_all"] = [r.get("raw", {}).get("steal_s") for r in rs]
            # the least wall time each run's CPU needed on this machine's cores: what the
            # client, the server and everything else kept busy, over the number of cores
            if rs and all(r.get("server_cpu_s") is not None and r.get("other_cpu_s") is not None
                          for r in rs):
                s["floor_s"] = med([(r["cpu_s"] + r["server_cpu_s"] + r["other_cpu_s"]) / ncpu
                                    for r in rs])
                s["floor_without_client_s"] = med([(r["server_cpu_s"] + r["other_cpu_s"]) / ncpu
                                                   for r in rs])
            s["rss_tree_mb_max"] = max([(r["rss_tree_mb"] or 0) for r in rs] or [None])
            if tool == "rclone+exiftool":
                s["exiftool_part_s"] = rs[0].get("exiftool_part_s")
            cf = runs.get("countfs", {}).get(tool if tool != "rclone+exiftool" else "-", [])
            if cf:
                s["src_over_corpus"] = cf[0].get("src_over_corpus")
                s["countfs"] = cf[0].get("countfs")
                # the Sluice runs through countfs without latency: the first counts the bytes,
                # the median of all is the baseline of the latency ratio
                s["countfs_wall_s"] = med([r["wall_s"] for r in cf])
                s["countfs_wall_s_all"] = [round(r["wall_s"], 2) for r in cf]
                s["countfs_rss_tree_mb"] = cf[0]["rss_tree_mb"]
            summ[tool] = s
        lat = runs.get("countfs-lat2", {}).get("sluice", [])
        if lat and "sluice" in summ:
            summ["sluice"]["lat2_wall_s"] = med([r["wall_s"] for r in lat])
            summ["sluice"]["lat2_wall_s_all"] = [round(r["wall_s"], 2) for r in lat]
            summ["sluice"]["lat2_src_over_corpus"] = lat[0].get("src_over_corpus")
            summ["sluice"]["lat2_countfs"] = lat[0].get("countfs")
            summ["sluice"]["lat2_rss_tree_mb"] = lat[0]["rss_tree_mb"]
        ratios = {}
        S, R, X = summ.get("sluice"), summ.get("rclone"), summ.get("rclone+exiftool")
        if S and R and S["n"] and R["n"]:
            ratios["cpu"] = S["cpu_s"] / R["cpu_s"]
            ratios["wall"] = S["wall_s"] / R["wall_s"]
            ratios["rss"] = S["rss_tree_mb"] / R["rss_tree_mb"] if R["rss_tree_mb"] else None
            ratios["mb_s"] = S["mb_s"] / R["mb_s"]
            ratios["server_cpu"] = (S["server_cpu_s"] / R["server_cpu_s"]
                                    if S.get("server_cpu_s") and R.get("server_cpu_s") else None)
            # run i of each tool ran back to back (the order flips every pair): the ratio of
            # each pair shows how much of the medians' ratio is the host's hour
            rc = {r["run"]: r["cpu_s"] for r in runs["timed"]["rclone"]}
            ratios["cpu_pairs"] = [round(r["cpu_s"] / rc[r["run"]], 2)
                                   for r in runs["timed"]["sluice"]
                                   if rc.get(r["run"]) and r["cpu_s"] is not None]
            if S.get("src_over_corpus") and R.get("src_over_corpus"):
                ratios["src_bytes"] = S["src_over_corpus"] / R["src_over_corpus"]
        if S and X and S["n"]:
            ratios["wall_vs_rclone_exiftool"] = S["wall_s"] / X["wall_s"]
        if S and S.get("lat2_wall_s") and S.get("countfs_wall_s"):
            ratios["lat2_vs_countfs_nolat"] = S["lat2_wall_s"] / S["countfs_wall_s"]
            if S["wall_s"]:
                ratios["lat2_vs_plain_median"] = S["lat2_wall_s"] / S["wall_s"]
        full["corpora"][cname] = {"corpus": corpus, "summary": summ, "ratios": ratios,
                                  "runs": runs}

        # ---- table
        P("")
        P("corpus %s: %d files, %.1f MB (%s)" % (cname, corpus["files"], corpus["bytes"] / 1e6,
          ", ".join("%s %d" % kv for kv in sorted(corpus["extensions"].items()))))
        hdr = ("tool", "n", "wall s", "files/s", "MB/s", "CPU s", "CPU s/GB", "CPU s/1k f",
               "RSS MB", "PSS MB", "src/corpus", "server CPU s")
        w = (16, 2, 7, 8, 7, 6, 8, 10, 7, 7, 10, 12)
        P("  " + " ".join(h.rjust(x) if i else h.ljust(x) for i, (h, x) in enumerate(zip(hdr, w))))
        for tool in ("sluice", "rclone", "rclone+exiftool"):
            s = summ.get(tool)
            if not s:
                continue
            row = (tool, str(s["n"]), fmt(s["wall_s"], 2), fmt(s["files_s"], 0), fmt(s["mb_s"], 1),
                   fmt(s["cpu_s"], 2), fmt(s["cpu_s_per_gb"], 2), fmt(s["cpu_s_per_1k_files"], 2),
                   fmt(s["rss_tree_mb"], 0), fmt(s["pss_tree_mb"], 0),
                   fmt(s.get("src_over_corpus"), 3), fmt(s["server_cpu_s"], 1))
            P("  " + " ".join(v.rjust(x) if i else v.ljust(x) for i, (v, x) in enumerate(zip(row, w))))
        for tool in ("sluice", "rclone"):
            s = summ.get(tool)
            if s and s["n"]:
                steal = ("" if None in s["steal_s_all"] else
                         " (of it stolen by the host %s)" % s["steal_s_all"])
                P("    %-7s wall per run %s; CPU per run %s; max tree RSS %s MB; other CPU %s%s" % (
                  tool, s["wall_s_all"], s["cpu_s_all"], fmt(s["rss_tree_mb_max"], 0),
                  s["other_cpu_s_all"], steal))
        if X and X.get("exiftool_part_s") is not None:
            P("    rclone+exiftool: of which exiftool %.2f s" % X["exiftool_part_s"])

        def chk(v, lim, le=True):
            if v is None:
                return ""
            return " [ok]" if (v <= lim if le else v >= lim) else " [MISS]"
        r = ratios
        parts = []
        if "cpu" in r:
            parts.append("CPU %.2f%s" % (r["cpu"], chk(r["cpu"], 0.5) if cname in "ab" else ""))
            parts.append("wall %.2f%s" % (r["wall"], chk(r["wall"], 0.8) if cname in "ab" else ""))
            if r.get("src_bytes") is not None:
                parts.append("source bytes %.2f" % r["src_bytes"])
            if r.get("rss") is not None:
                parts.append("RSS %.2f" % r["rss"])
            parts.append("MB/s %.2f%s" % (r["mb_s"], chk(r["mb_s"], 1.0, le=False) if cname == "c" else ""))
            if r.get("server_cpu") is not None:
                parts.append("server CPU %.2f" % r["server_cpu"])
        if parts:
            P("  Sluice/rclone: " + "; ".join(parts))
        if len(r.get("cpu_pairs") or []) > 1:
            P("    CPU of each pair (run i of both tools, back to back): %s" % r["cpu_pairs"])
        if "wall_vs_rclone_exiftool" in r:
            v = r["wall_vs_rclone_exiftool"]
            P("  Sluice/(rclone+exiftool) wall: %.2f%s" % (v, chk(v, 0.4) if cname in "ab" else ""))
            if cname in "ab" and S.get("floor_s") is not None:
                # a wall time below the cores' floor is not possible on this machine
                P("    0.4 of it is %.2f s; the floor of Sluice's runs on %d cores is %.2f s"
                  " ((client + server + other CPU) / cores), %.2f s without the client's own"
                  " CPU%s" % (0.4 * X["wall_s"], ncpu, S["floor_s"], S["floor_without_client_s"],
                             " [target below the floor]" if 0.4 * X["wall_s"] < S["floor_s"]
                             else ""))
        if S:
            if S.get("src_over_corpus") is not None:
                cf = S["countfs"]
                P("  Sluice source bytes/corpus %.3f%s (reads %d, opens %d, files read twice %d);"
                  " rclone %s" % (S["src_over_corpus"], chk(S["src_over_corpus"], 1.05), cf["read_calls"],
                                  cf["opens"], cf["files_read_more_than_once"],
                                  fmt(R.get("src_over_corpus") if R else None, 3)))
            if S.get("lat2_wall_s"):
                P("  Sluice through countfs: %.2f s without latency, %.2f s with 2 ms per operation"
                  " (x%.2f%s)%s" % (S["countfs_wall_s"], S["lat2_wall_s"], r["lat2_vs_countfs_nolat"],
                                  "; x%.2f of the plain median" % r["lat2_vs_plain_median"]
                                  if "lat2_vs_plain_median" in r else "",
                                  "; medians of %s and %s" % (S.get("countfs_wall_s_all"),
                                                              S.get("lat2_wall_s_all"))
                                  if len(S.get("lat2_wall_s_all") or []) > 1 else ""))
            if S["rss_tree_mb_max"] is not None:
                P("  Sluice peak tree RSS %s MB (max of runs)%s" % (
                  fmt(S["rss_tree_mb_max"], 0), chk(S["rss_tree_mb_max"], 150)))
    if problems:
        P("")
        P("PROBLEMS:")
        for p in problems:
            P("  " + p)
    full["problems"] = problems
    print("\n".join(lines))
    full["table"] = lines
    if out_json:
        with open(out_json, "w") as fh:
            json.dump(full, fh, indent=1)


if __name__ == "__main__":
    main()

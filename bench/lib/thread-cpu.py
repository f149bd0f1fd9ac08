#!/usr/bin/env python3
# thread-cpu.py CMD... — runs CMD and prints the CPU seconds of each thread name of it and its
# children (sampled from /proc every 50 ms; the last sample of each thread counts), e.g.
#   sluice-worker 1.73, sluice-catalog 0.58, sluice-probe 0.49. This script's own sampling costs CPU
# too: read totals from /usr/bin/time on a run without it.
import collections
import os
import subprocess
import sys
import time
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
tick = os.sysconf('SC_CLK_TCK')
last = {}
def pids(root):
    out=[root]
    try:
        for t in os.listdir(f'/proc/{root}/task'):
            for c in open(f'/proc/{root}/task/{t}/children').read().split():
                out += pids(int(c))
    except Exception: pass
    return out
while p.poll() is None:
    for pid in pids(p.pid):
        try:
            for t in os.listdir(f'/proc/{pid}/task'):
                s = open(f'/proc/{pid}/task/{t}/stat').read()
                comm = s[s.index('(')+1:s.rindex(')')]
                f = s[s.rindex(')')+2:].split()
                last[(pid,int(t))] = (comm, (int(f[11])+int(f[12]))/tick)
        except Exception: pass
    time.sleep(0.05)
agg = collections.Counter()
for (pid,t),(comm,cpu) in last.items(): agg[comm]+=cpu
tot=sum(agg.values())
print(f"rc={p.returncode} sampled total {tot:.2f}s: " + ", ".join(f"{k} {v:.2f}" for k,v in agg.most_common(8)))

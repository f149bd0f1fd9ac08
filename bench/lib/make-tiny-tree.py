#!/usr/bin/env python3
"""make-tiny-tree.py ROOT [N] — N (default 1,000,000) tiny files with .jpg names in ~1,000 folders.

Nested so that three sources share one tree (1,000 files per folder):
  ROOT/                     N files      (every folder below)
  ROOT/tenth/               N/10 files
  ROOT/tenth/hundredth/     N/100 files
Each file holds a few bytes (FF D8, its number, FF D9: starts like a JPEG, parses as nothing);
no two files are equal. Writes ROOT.done when complete; prints files/s.
"""
import os
import sys
import time

root = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
per_dir = 1000
ndirs = (n + per_dir - 1) // per_dir
t0 = time.monotonic()
flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
made = 0
for d in range(ndirs):
    # the last N/100 files' folders go to ROOT/tenth/hundredth, the N/10 before them to ROOT/tenth
    if d >= ndirs - ndirs // 100:
        base = os.path.join(root, "tenth", "hundredth")
    elif d >= ndirs - ndirs // 10:
        base = os.path.join(root, "tenth")
    else:
        base = root
    dp = os.path.join(base, "d%04d" % d)
    os.makedirs(dp, exist_ok=True)
    dfd = os.open(dp, os.O_RDONLY | os.O_DIRECTORY)
    for k in range(per_dir):
        i = d * per_dir + k
        if i >= n:
            break
        fd = os.open("IMG_%07d.jpg" % i, flags, 0o644, dir_fd=dfd)
        os.write(fd, b"\xff\xd8%d\xff\xd9" % i)
        os.close(fd)
        made += 1
    os.close(dfd)
dt = time.monotonic() - t0
open(root + ".done", "w").write("%d\n" % made)
print("made %d files in %d folders under %s in %.1f s (%.0f files/s)" % (made, ndirs, root, dt, made / dt))

#!/usr/bin/env python3
"""count-tests.py TESTLOG.json — prints "N passed, N failed, N skipped" for a meson test run.

TAP tests count each subtest ("ok", "not ok", "# SKIP"); other tests count once by their result.
A TAP test that failed without any failing subtest (crash, timeout, bad plan) counts one failure.
Exits 1 when anything failed or nothing ran."""
import json
import re
import sys

passed = failed = skipped = 0
failures = []
with open(sys.argv[1], encoding="utf-8") as fh:
    for line in fh:
        t = json.loads(line)
        result = t.get("result", "")
        out = t.get("stdout") or ""
        tap = [l for l in out.splitlines() if re.match(r"(not )?ok\b", l)]
        if t.get("protocol") == "tap" or tap:
            p = f = s = 0
            for l in tap:
                if re.search(r"#\s*SKIP", l, re.I):
                    s += 1
                elif l.startswith("not ok"):
                    if re.search(r"#\s*TODO", l, re.I):
                        p += 1
                    else:
                        f += 1
                        failures.append(f"{t['name']}: {l}")
                else:
                    p += 1
            if result not in ("OK", "EXPECTEDFAIL", "SKIP") and f == 0:
                f = 1
                failures.append(f"{t['name']}: {result}")
            passed += p; failed += f; skipped += s
        elif result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
            failures.append(f"{t['name']}: {result}")

for f in failures:
    print("FAILED:", f)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fail when C sources call a banned libc function (STYLE.md rule 10, after curl's checksrc).

Banned: strcpy strcat sprintf vsprintf strtok atoi atol gets system. Use g_strlcpy,
g_strdup_printf, g_snprintf, GString, g_ascii_strtoll/strtoull and GSubprocess instead.

A call is the name, not preceded by a letter, digit, underscore, '.' or '->' (so g_strlcpy,
g_snprintf, self->system or my_atoi never match), then optional blanks and '('. Comments and
string literals are blanked out first, so prose that names a function is not a call.

Usage: check-banned-functions.py [--expect-count N] DIR_OR_FILE...

--expect-count is for the checker's own test on a fixture: succeed only when exactly N
calls are found.
"""

import os
import re
import sys

BANNED = ("strcpy", "strcat", "sprintf", "vsprintf", "strtok", "atoi", "atol", "gets", "system")
CALL = re.compile(r"(?<![A-Za-z0-9_.>])(" + "|".join(BANNED) + r")\s*\(")
SUFFIXES = (".c", ".h")

# One pass over C text: keep code, replace comments and string/char literals by blanks
# (newlines kept, so line numbers stay right).
TOKENS = re.compile(
    r'//[^\n]*'
    r'|/\*.*?\*/'
    r'|"(?:\\.|[^"\\\n])*"'
    r"|'(?:\\.|[^'\\\n])*'",
    re.DOTALL,
)


def blank(match):
    return re.sub(r"[^\n]", " ", match.group(0))


def strip_comments_and_strings(text):
    return TOKENS.sub(blank, text)


def files_under(paths):
    for path in paths:
        if os.path.isfile(path):
            yield path
            continue
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith(SUFFIXES):
                    yield os.path.join(dirpath, name)


def check_file(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        original = f.read()
    code = strip_comments_and_strings(original)
    lines = original.splitlines()
    offenders = []
    for m in CALL.finditer(code):
        lineno = code.count("\n", 0, m.start()) + 1
        source_line = lines[lineno - 1].strip() if lineno <= len(lines) else ""
        offenders.append((path, lineno, m.group(1), source_line))
    return offenders


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    args = argv[1:]
    expect = None
    if args[:1] == ["--expect-count"] and len(args) >= 3:
        expect = int(args[1])
        args = args[2:]
    offenders = []
    count = 0
    for path in files_under(args):
        count += 1
        offenders.extend(check_file(path))
    for path, lineno, name, line in offenders:
        print(f"{path}:{lineno}: banned function {name}(): {line}")
    if expect is not None:
        print(f"found {len(offenders)} call(s), expected {expect}")
        return 0 if len(offenders) == expect else 1
    if offenders:
        print(f"{len(offenders)} call(s) of banned functions in {count} files")
        return 1
    print(f"no banned functions in {count} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

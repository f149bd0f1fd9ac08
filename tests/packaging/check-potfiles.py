#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check that po/POTFILES lists every source file with translatable strings.

A file under src/ or data/ needs to be listed when it contains a gettext call with a string
literal (_("…"), N_("…"), C_("ctx", …), NC_(…), g_dngettext (…)), a translatable="yes"
attribute (GtkBuilder .ui files), is a desktop/metainfo template (*.desktop.in,
*.metainfo.xml.in) or a GSettings schema with a <summary> or <description> (xgettext takes
those; tests/packaging/check-translations.py checks the same with xgettext itself). Every file
listed must also exist. Prints the offenders and exits 1 when the list is wrong.

Usage: check-potfiles.py [--expect-missing FILE,FILE...] SOURCE_ROOT

--expect-missing is for the checker's own test (tests/packaging/fixtures/potfiles): it passes
when exactly those files are reported missing and nothing else is wrong.
"""

import os
import re
import sys

SCAN_DIRS = ("src", "data")
SCAN_SUFFIXES = (".c", ".h", ".ui", ".in", ".xml")
TEMPLATE_SUFFIXES = (".desktop.in", ".metainfo.xml.in", ".appdata.xml.in")

# Not preceded by a letter, digit or underscore, so g_strdup_printf ( or foo_ ( never match.
GETTEXT_CALL = re.compile(r'(?<![A-Za-z0-9_])(?:(?:N|C|NC)?_|g_dngettext|g_dpgettext2|ngettext)'
                          r'\s*\(\s*(?:GETTEXT_PACKAGE\s*,\s*|NULL\s*,\s*)?"')
SCHEMA_SUFFIXES = (".gschema.xml", ".gschema.xml.in")
SCHEMA_TEXT = re.compile(r'<(?:summary|description)\b')
TRANSLATABLE_ATTR = re.compile(r'translatable\s*=\s*"(?:yes|true|1)"', re.IGNORECASE)


def read_potfiles(path):
    listed = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                listed.append(line)
    return listed


def needs_translation(path):
    if path.endswith(TEMPLATE_SUFFIXES):
        return True
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return False
    if path.endswith(SCHEMA_SUFFIXES):
        return bool(SCHEMA_TEXT.search(text))
    return bool(GETTEXT_CALL.search(text) or TRANSLATABLE_ATTR.search(text))


def scan(root):
    found = []
    for top in SCAN_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_build")))
            for name in sorted(filenames):
                if not name.endswith(SCAN_SUFFIXES):
                    continue
                full = os.path.join(dirpath, name)
                if needs_translation(full):
                    found.append(os.path.relpath(full, root).replace(os.sep, "/"))
    return found


def main(argv):
    expect_missing = None
    if len(argv) == 4 and argv[1] == "--expect-missing":
        expect_missing = sorted(argv[2].split(","))
        argv = [argv[0], argv[3]]
    if len(argv) != 2:
        print(__doc__.strip().split("\n\n")[-2], file=sys.stderr)
        return 2
    root = argv[1]
    potfiles = os.path.join(root, "po", "POTFILES")
    listed = read_potfiles(potfiles)
    listed_set = set(listed)

    missing = [p for p in scan(root) if p not in listed_set]
    gone = [p for p in listed if not os.path.isfile(os.path.join(root, p))]
    dupes = sorted({p for p in listed if listed.count(p) > 1})

    for p in missing:
        print(f"po/POTFILES: missing {p} (it has translatable strings)")
    for p in gone:
        print(f"po/POTFILES: lists {p}, which does not exist")
    for p in dupes:
        print(f"po/POTFILES: lists {p} more than once")

    if expect_missing is not None:
        if sorted(missing) != expect_missing or gone or dupes:
            print(f"expected exactly these to be missing: {', '.join(expect_missing)}")
            return 1
        print(f"the checker found the {len(missing)} planted files and nothing else")
        return 0
    if missing or gone or dupes:
        return 1
    print(f"po/POTFILES: all {len(listed)} files listed, none missing")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

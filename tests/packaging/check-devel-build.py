#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Configure a Devel build (-Ddevelopment=true) in a temporary directory and check that the
application id io.github.sluice.Sluice.Devel is used everywhere it is installed or compiled in:

- config.h: APPLICATION_ID (the GApplication id, the GSettings schema the app opens, the about
  window's icon);
- the desktop file (its name, Icon=), validated with desktop-file-validate;
- the metainfo (its name, <id>, <launchable>), validated with appstreamcli;
- the D-Bus service file (its name, Name=);
- the GSettings schema (its name, id and path), compiled with --strict;
- the icons (scalable and symbolic), by the names meson installs them under;
- and that no C file of the app spells the release id out instead of APPLICATION_ID.

Only the data files are built, not the programs, so this takes seconds.

Usage: check-devel-build.py SOURCE_ROOT MESON NINJA [--desktop-file-validate P]
                            [--appstreamcli P] [--glib-compile-schemas P]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

RELEASE = "io.github.sluice.Sluice"
DEVEL = RELEASE + ".Devel"


def run(cmd, problems, what):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        problems.append(f"{what} failed ({' '.join(cmd)}):\n{r.stdout}{r.stderr}")
    return r


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("source_root")
    parser.add_argument("meson")
    parser.add_argument("ninja")
    parser.add_argument("--desktop-file-validate")
    parser.add_argument("--appstreamcli")
    parser.add_argument("--glib-compile-schemas")
    args = parser.parse_args(argv[1:])
    problems = []

    with tempfile.TemporaryDirectory(prefix="sluice-devel-build-") as tmp:
        build = os.path.join(tmp, "build")
        r = run([args.meson, "setup", "--prefix=/usr", "-Ddevelopment=true",
                 "-Dintegration_tests=false", build, args.source_root], problems, "meson setup")
        if r.returncode != 0:
            print("\n".join(problems))
            return 1
        data = os.path.join(build, "data")
        desktop = os.path.join(data, DEVEL + ".desktop")
        metainfo = os.path.join(data, DEVEL + ".metainfo.xml")
        service = os.path.join(data, DEVEL + ".service")
        schema = os.path.join(data, DEVEL + ".gschema.xml")
        run([args.ninja, "-C", build, os.path.relpath(desktop, build),
             os.path.relpath(metainfo, build), "data/gschemas.compiled"], problems,
            "building the Devel data files")

        config = read(os.path.join(build, "config.h"))
        if f'#define APPLICATION_ID "{DEVEL}"' not in config:
            problems.append(f"config.h does not define APPLICATION_ID as {DEVEL!r}")

        for path in (desktop, metainfo, service, schema):
            if not os.path.exists(path):
                problems.append(f"{os.path.basename(path)} was not generated")
        if problems:
            print("\n".join(problems))
            return 1

        text = read(desktop)
        if f"Icon={DEVEL}\n" not in text:
            problems.append(f"{os.path.basename(desktop)}: Icon= is not {DEVEL}")
        if args.desktop_file_validate:
            run([args.desktop_file_validate, desktop], problems, "desktop-file-validate")

        text = read(metainfo)
        if f"<id>{DEVEL}</id>" not in text:
            problems.append(f"{os.path.basename(metainfo)}: <id> is not {DEVEL}")
        if f'<launchable type="desktop-id">{DEVEL}.desktop</launchable>' not in text:
            problems.append(f"{os.path.basename(metainfo)}: <launchable> is not {DEVEL}.desktop")
        if args.appstreamcli:
            run([args.appstreamcli, "validate", "--no-net", "--strict", "--explain", metainfo],
                problems, "appstreamcli validate")

        text = read(service)
        if f"Name={DEVEL}\n" not in text:
            problems.append(f"{os.path.basename(service)}: Name= is not {DEVEL}")
        if "Exec=/usr/bin/sluice --gapplication-service" not in text:
            problems.append(f"{os.path.basename(service)}: Exec= is not the installed app")

        text = read(schema)
        devel_path = "/" + DEVEL.replace(".", "/") + "/"
        if f'<schema id="{DEVEL}" path="{devel_path}">' not in text:
            problems.append(f"{os.path.basename(schema)}: the schema is not id {DEVEL!r} "
                            f"with path {devel_path!r}")
        if args.glib_compile_schemas:
            run([args.glib_compile_schemas, "--strict", "--dry-run", data], problems,
                "glib-compile-schemas --strict")

        # What would be installed, by name.
        r = run([args.meson, "introspect", "--installed", build], problems, "meson introspect")
        installed = sorted(json.loads(r.stdout).values()) if r.returncode == 0 else []
        expected = [
            f"/usr/share/applications/{DEVEL}.desktop",
            f"/usr/share/metainfo/{DEVEL}.metainfo.xml",
            f"/usr/share/dbus-1/services/{DEVEL}.service",
            f"/usr/share/glib-2.0/schemas/{DEVEL}.gschema.xml",
            f"/usr/share/icons/hicolor/scalable/apps/{DEVEL}.svg",
            f"/usr/share/icons/hicolor/symbolic/apps/{DEVEL}-symbolic.svg",
        ]
        for path in expected:
            if path not in installed:
                problems.append(f"a Devel build does not install {path}")
        for path in installed:
            if RELEASE in path and DEVEL not in path:
                problems.append(f"a Devel build installs {path} under the release id")

    # The programs take the id from config.h, never from a literal.
    literal = re.compile(r'"' + re.escape(RELEASE) + r'(?:\.Devel)?"')
    app_dir = os.path.join(args.source_root, "src", "app")
    for name in sorted(os.listdir(app_dir)):
        if name.endswith((".c", ".h")):
            for number, line in enumerate(read(os.path.join(app_dir, name)).splitlines(), 1):
                if literal.search(line):
                    problems.append(f"src/app/{name}:{number}: the application id spelled out; "
                                    f"use APPLICATION_ID from config.h")

    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"a Devel build uses {DEVEL} for the binary's id, desktop file, metainfo, D-Bus "
          f"service, schema and icons ({len(expected)} files checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

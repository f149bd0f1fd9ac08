#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Install the build into a temporary DESTDIR and check the installed programs.

`meson install --no-rebuild --destdir D` (meson test has built everything before any test
starts, so nothing is rebuilt while other tests run; the only thing written outside D is
meson-logs/install-log.txt in the build directory). Then:

- every file that belongs to an installation is there: the programs (the helper in
  libexecdir), desktop file, metainfo, D-Bus service, GSettings schema, icons, translations;
- nothing from the tests is installed (the helper with test modes, test programs);
- the installed sluice-cli --version and sluice-probe --version run;
- the installed sluice-cli finds the installed helper — the one under D, not the build
  tree's, not a missing one in the configured prefix — and the helper reads EXIF from a test
  image (sluice-cli self-test); with --decoders-module, that module is installed, and with
  --with-heif a thumbnail helper loads it from under D and decodes a test HEIC (self-test);
- the installed schema compiles with --strict, the desktop file validates.

The programs link Sluice's own code statically; no LD_LIBRARY_PATH is needed.

Usage: check-install.py BUILDDIR MESON APP_ID PREFIX BINDIR LIBEXECDIR DATADIR LOCALEDIR
                        LINGUAS [--with-app] [--decoders-module PATH] [--with-heif]
                        [--glib-compile-schemas P]
                        [--desktop-file-validate P]
"""

import argparse
import os
import subprocess
import sys
import tempfile


def main(argv):
    p = argparse.ArgumentParser()
    for name in ("builddir", "meson", "app_id", "prefix", "bindir", "libexecdir", "datadir",
                 "localedir", "linguas"):
        p.add_argument(name)
    p.add_argument("--with-app", action="store_true")
    p.add_argument("--decoders-module")
    p.add_argument("--with-heif", action="store_true")
    p.add_argument("--glib-compile-schemas")
    p.add_argument("--desktop-file-validate")
    args = p.parse_args(argv[1:])
    problems = []

    def under(root, *parts):
        # meson's dirs are absolute or relative to the prefix
        path = os.path.join(args.prefix, *parts)
        return os.path.join(root, path.lstrip("/"))

    def run(cmd, env=None):
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
        print(f"$ {' '.join(cmd)}\n{r.stdout}{r.stderr}".rstrip())
        return r

    with tempfile.TemporaryDirectory(prefix="sluice-install-") as destdir:
        r = run([args.meson, "install", "-C", args.builddir, "--no-rebuild", "--quiet",
                 "--destdir", destdir])
        if r.returncode != 0:
            print("FAIL: meson install failed")
            return 1

        app_id = args.app_id
        cli = under(destdir, args.bindir, "sluice-cli")
        helper = under(destdir, args.libexecdir, "sluice-probe")
        expected = [cli, helper]
        if args.decoders_module:
            expected.append(under(destdir, args.decoders_module))
        for lang in args.linguas.split(","):
            expected.append(under(destdir, args.localedir, lang, "LC_MESSAGES", "sluice.mo"))
        if args.with_app:
            share = lambda *parts: under(destdir, args.datadir, *parts)
            expected += [
                under(destdir, args.bindir, "sluice"),
                share("applications", app_id + ".desktop"),
                share("metainfo", app_id + ".metainfo.xml"),
                share("dbus-1", "services", app_id + ".service"),
                share("glib-2.0", "schemas", app_id + ".gschema.xml"),
                share("icons", "hicolor", "scalable", "apps", app_id + ".svg"),
                share("icons", "hicolor", "symbolic", "apps", app_id + "-symbolic.svg"),
            ]
        for path in expected:
            if not os.path.isfile(path):
                problems.append(f"not installed: {os.path.relpath(path, destdir)}")
        for path in (cli, helper) + ((under(destdir, args.bindir, "sluice"),)
                                     if args.with_app else ()):
            if os.path.isfile(path) and not os.access(path, os.X_OK):
                problems.append(f"not executable: {os.path.relpath(path, destdir)}")

        installed = []
        for dirpath, _, filenames in os.walk(destdir):
            installed += [os.path.relpath(os.path.join(dirpath, f), destdir) for f in filenames]
        print("installed:\n  " + "\n  ".join(sorted(installed)))
        for path in installed:
            if "test" in os.path.basename(path):
                problems.append(f"a test file is installed: {path}")

        # A clean environment: no SLUICE_PROBE_PATH (the tests' own), English output.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
        env.update({"LC_ALL": "C.UTF-8", "LANGUAGE": ""})
        env.pop("LD_LIBRARY_PATH", None)

        if os.path.isfile(cli):
            r = run([cli, "--version"], env)
            if r.returncode != 0 or not r.stdout.startswith("sluice-cli "):
                problems.append("the installed sluice-cli --version failed")
        if os.path.isfile(helper):
            r = run([helper, "--version"], env)
            if r.returncode != 0 or not r.stdout.startswith("sluice-probe "):
                problems.append("the installed sluice-probe --version failed")
        if os.path.isfile(cli) and os.path.isfile(helper):
            r = run([cli, "self-test"], env)
            if f"Metadata helper: {helper}\n" not in r.stdout:
                problems.append(f"the installed sluice-cli does not use the installed helper "
                                f"{helper}")
            if r.returncode != 0 or "OK" not in r.stdout:
                problems.append("sluice-cli self-test failed with the installed helper")
            if args.with_heif and "decoded a test HEIC: OK" not in r.stdout:
                problems.append("the installed thumbnail helper did not decode the test HEIC "
                                "with the installed module")

        if args.with_app:
            schemas = under(destdir, args.datadir, "glib-2.0", "schemas")
            if args.glib_compile_schemas and os.path.isdir(schemas):
                r = run([args.glib_compile_schemas, "--strict", "--dry-run", schemas])
                if r.returncode != 0:
                    problems.append("the installed schema does not compile with --strict")
            desktop = under(destdir, args.datadir, "applications", app_id + ".desktop")
            if args.desktop_file_validate and os.path.isfile(desktop):
                r = run([args.desktop_file_validate, desktop])
                if r.returncode != 0:
                    problems.append("the installed desktop file does not validate")

    for problem in problems:
        print(f"FAIL: {problem}")
    if problems:
        return 1
    print(f"installed {len(expected)} expected files; the installed sluice-cli uses the "
          f"installed helper")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

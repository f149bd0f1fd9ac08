#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check a Flatpak manifest for Sluice against the build and STYLE.md rule 25.

- the app id is the expected one, and the file is named after it;
- the command is the executable meson installs;
- the runtime is org.gnome.Platform/org.gnome.Sdk at the expected version, and a release
  manifest pins a stable one (a number, 50 or newer; "master" is for the Devel manifest);
- NAS roots are read-only: every --filesystem= other than the GVFS folders ends in :ro;
- every required finish-arg is there, and none grants the whole host;
- the last module is sluice itself, built with meson from the source tree, with the expected
  config-opts;
- every module source is either the local tree (type dir) or pinned (a git source with a
  commit, an archive or file with a sha256).

Usage: check-flatpak-manifest.py MANIFEST APP_ID COMMAND RUNTIME_VERSION [CONFIG_OPT...]
"""

import json
import os
import sys

REQUIRED_FINISH_ARGS = [
    "--share=network",
    "--share=ipc",
    "--socket=wayland",
    "--socket=fallback-x11",
    "--device=dri",
    "--filesystem=/mnt:ro",
    "--filesystem=/media:ro",
    "--filesystem=/run/media:ro",
    "--filesystem=xdg-pictures:ro",
    "--filesystem=xdg-run/gvfs",
    "--filesystem=xdg-run/gvfsd",
    "--talk-name=org.gtk.vfs.*",
    "--talk-name=org.freedesktop.secrets",
]

# Whole-host or whole-home access: portals and the read-only NAS roots are enough.
FORBIDDEN_FINISH_ARGS = [
    "--filesystem=host",
    "--filesystem=host:ro",
    "--filesystem=host:rw",
    "--filesystem=host-os",
    "--filesystem=host-etc",
    "--filesystem=home",
    "--filesystem=home:ro",
    "--filesystem=home:rw",
    "--filesystem=/",
    "--device=all",
    "--socket=session-bus",
    "--socket=system-bus",
]


def check_source(module_name, source, problems):
    if isinstance(source, str):
        # A path to a JSON file with more sources or modules; pinned there.
        return
    kind = source.get("type")
    if kind == "dir":
        return
    if kind == "git":
        if not source.get("commit"):
            problems.append(f"module {module_name}: git source without a pinned commit")
        return
    if kind in ("archive", "file", "extra-data"):
        if not source.get("sha256"):
            problems.append(f"module {module_name}: {kind} source without a sha256")
        return
    if kind in ("patch", "shell", "script", "inline"):
        return
    problems.append(f"module {module_name}: source type {kind!r} is neither a dir nor pinned")


def main(argv):
    if len(argv) < 5:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    path, app_id, command, runtime_version = argv[1:5]
    config_opts = argv[5:]
    problems = []

    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)

    manifest_id = manifest.get("id", manifest.get("app-id"))
    if manifest_id != app_id:
        problems.append(f"app id is {manifest_id!r}, expected {app_id!r}")
    if os.path.basename(path) != app_id + ".json":
        problems.append(f"file name {os.path.basename(path)!r} does not match {app_id}.json")

    if manifest.get("command") != command:
        problems.append(f"command is {manifest.get('command')!r}; meson installs {command!r}")

    if manifest.get("runtime") != "org.gnome.Platform":
        problems.append(f"runtime is {manifest.get('runtime')!r}, expected org.gnome.Platform")
    if manifest.get("sdk") != "org.gnome.Sdk":
        problems.append(f"sdk is {manifest.get('sdk')!r}, expected org.gnome.Sdk")
    if manifest.get("runtime-version") != runtime_version:
        problems.append(f"runtime-version is {manifest.get('runtime-version')!r}, "
                        f"expected the string {runtime_version!r}")

    version = str(manifest.get("runtime-version", ""))
    if not app_id.endswith(".Devel"):
        if not version.isdigit() or int(version) < 50:
            problems.append(f"runtime-version {version!r}: a release pins a stable GNOME "
                            f"runtime, 50 or newer")

    finish_args = manifest.get("finish-args", [])
    for arg in finish_args:
        if (arg.startswith("--filesystem=") and not arg.endswith(":ro")
                and arg not in ("--filesystem=xdg-run/gvfs", "--filesystem=xdg-run/gvfsd")):
            problems.append(f"finish-args grant {arg} read-write: the sources are only read")
    for arg in REQUIRED_FINISH_ARGS:
        if arg not in finish_args:
            problems.append(f"finish-args lack {arg}")
    for arg in finish_args:
        if arg in FORBIDDEN_FINISH_ARGS:
            problems.append(f"finish-args grant {arg}: use portals or read-only NAS roots")
    for arg in sorted({a for a in finish_args if finish_args.count(a) > 1}):
        problems.append(f"finish-args list {arg} more than once")

    modules = manifest.get("modules", [])
    if not modules:
        problems.append("no modules")
    for module in modules:
        if isinstance(module, str):
            continue
        for source in module.get("sources", []):
            check_source(module.get("name", "?"), source, problems)

    main_module = modules[-1] if modules and isinstance(modules[-1], dict) else {}
    if main_module.get("name") != "sluice":
        problems.append("the last module is not 'sluice'")
    if main_module.get("buildsystem") != "meson":
        problems.append("module sluice is not built with meson")
    if {"type": "dir", "path": ".."} not in main_module.get("sources", []):
        problems.append('module sluice does not build the source tree ({"type": "dir", '
                        '"path": ".."})')
    module_opts = main_module.get("config-opts", [])
    for opt in config_opts:
        if opt not in module_opts:
            problems.append(f"module sluice lacks config-opt {opt}")
    if "-Ddevelopment=true" in module_opts and not app_id.endswith(".Devel"):
        problems.append("a release manifest builds with -Ddevelopment=true")

    for problem in problems:
        print(f"{path}: {problem}")
    if problems:
        return 1
    print(f"{path}: {app_id} runs {command} on org.gnome.Platform {runtime_version}; "
          f"{len(finish_args)} finish-args, {len(modules)} module(s), all sources pinned")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

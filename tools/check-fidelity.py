#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compare Sluice's EXIF extraction with exiftool, field by field.

Usage: check-fidelity.py [--min PERCENT] [--exiftool PATH] EXPORT.jsonl ROOT

EXPORT.jsonl holds one JSON object per file, as written by the catalog export or by the
test tool tests/exif/probe-dump: key "path" (relative to ROOT, or absolute) plus the columns
below. exiftool is run once over all the files (``exiftool -n -json -G1``, paths passed in an
argument file) and each column is compared with the exiftool tag it stands for.

Column mapping. Keys are exiftool "-G1 Group:Tag" names; the first one present wins. The
EXIF groups (IFD0, ExifIFD, GPS, IFD1) are preferred everywhere: maker-note groups (Canon,
Nikon, ...), XMP-*, Composite:ISO and the like are other sources that Sluice does not read.

  make                  IFD0:Make, ExifIFD:Make
  model                 IFD0:Model, ExifIFD:Model
  lens_model            ExifIFD:LensModel (0xA434), IFD0:LensModel
  datetime_original     ExifIFD:DateTimeOriginal, IFD0:DateTimeOriginal
  subsec_time_original  ExifIFD:SubSecTimeOriginal, IFD0:SubSecTimeOriginal
  offset_time_original  ExifIFD:OffsetTimeOriginal, IFD0:OffsetTimeOriginal
  exposure_time         ExifIFD:ExposureTime, IFD0:ExposureTime (ours is "num/den", compared
                        as a float)
  f_number              ExifIFD:FNumber, IFD0:FNumber
  iso                   ExifIFD:ISO (0x8827), IFD0:ISO; when that is 65535, ExifIFD:ISOSpeed
                        then ExifIFD:RecommendedExposureIndex
  focal_length          ExifIFD:FocalLength, IFD0:FocalLength
  orientation           IFD0:Orientation, ExifIFD:Orientation (never IFD1:Orientation)
  exif_width/height     ExifIFD:ExifImageWidth/Height, IFD0:ExifImageWidth/Height
  width/height          File:ImageWidth/Height (JPEG SOF, HEIF ispe, PNG IHDR, WebP);
                        for TIFF-based files (no File:ImageWidth) IFD0:ImageWidth/Height
  gps_latitude          Composite:GPSLatitude (signed), else GPS:GPSLatitude
  gps_longitude         Composite:GPSLongitude (signed), else GPS:GPSLongitude
  gps_altitude          Composite:GPSAltitude (negative below sea level), else GPS:GPSAltitude
  has_thumbnail         IFD1:ThumbnailImage present (JFIF/JFXX/Photoshop thumbnails are not EXIF)

Agreement:
  * both absent agree; one absent and the other present disagree;
  * strings agree when equal after trimming white space (exiftool's JSON turns numeric-looking
    strings such as SubSecTimeOriginal "20" into numbers: they are compared as text);
  * numbers agree within a relative tolerance of 1e-3 (exposure, f-number, focal length,
    altitude), GPS coordinates within 1e-5 degrees, integers exactly; a multi-valued exiftool
    value ("100 0") is compared by its first number; exiftool's non-numbers ("undef", "inf")
    count as absent;
  * the export contract validates some values, and exiftool's value is put through the same
    rule first: a DateTimeOriginal that is not a real "YYYY:MM:DD HH:MM:SS" date and an
    Orientation outside 1..8 count as absent.

Prints per-field agreement, the overall figure and every mismatch; exits 1 when the overall
agreement is below --min (default 99).
"""

import argparse
import calendar
import json
import math
import os
import re
import subprocess
import sys
import tempfile

TIFF_TYPES = {"TIFF", "DNG", "NEF", "NRW", "CR2", "ARW", "SR2", "SRF", "ORF", "RW2", "PEF",
              "SRW", "ERF", "3FR", "IIQ", "CR3"}

STRING, FLOAT, INT, GPS, BOOL, EXPOSURE, DATE, ORIENTATION = range(8)

COLUMNS = [
    ("make", STRING, ["IFD0:Make", "ExifIFD:Make"]),
    ("model", STRING, ["IFD0:Model", "ExifIFD:Model"]),
    ("lens_model", STRING, ["ExifIFD:LensModel", "IFD0:LensModel"]),
    ("datetime_original", DATE, ["ExifIFD:DateTimeOriginal", "IFD0:DateTimeOriginal"]),
    ("subsec_time_original", STRING, ["ExifIFD:SubSecTimeOriginal", "IFD0:SubSecTimeOriginal"]),
    ("offset_time_original", STRING, ["ExifIFD:OffsetTimeOriginal", "IFD0:OffsetTimeOriginal"]),
    ("exposure_time", EXPOSURE, ["ExifIFD:ExposureTime", "IFD0:ExposureTime"]),
    ("f_number", FLOAT, ["ExifIFD:FNumber", "IFD0:FNumber"]),
    ("iso", INT, ["ExifIFD:ISO", "IFD0:ISO"]),
    ("focal_length", FLOAT, ["ExifIFD:FocalLength", "IFD0:FocalLength"]),
    ("orientation", ORIENTATION, ["IFD0:Orientation", "ExifIFD:Orientation"]),
    ("exif_width", INT, ["ExifIFD:ExifImageWidth", "IFD0:ExifImageWidth"]),
    ("exif_height", INT, ["ExifIFD:ExifImageHeight", "IFD0:ExifImageHeight"]),
    ("width", INT, ["File:ImageWidth"]),
    ("height", INT, ["File:ImageHeight"]),
    ("gps_latitude", GPS, ["Composite:GPSLatitude", "GPS:GPSLatitude"]),
    ("gps_longitude", GPS, ["Composite:GPSLongitude", "GPS:GPSLongitude"]),
    ("gps_altitude", FLOAT, ["Composite:GPSAltitude", "GPS:GPSAltitude"]),
    ("has_thumbnail", BOOL, ["IFD1:ThumbnailImage"]),
]

TAGS = ["FileType", "Make", "Model", "LensModel", "DateTimeOriginal", "SubSecTimeOriginal",
        "OffsetTimeOriginal", "ExposureTime", "FNumber", "ISO", "ISOSpeed",
        "RecommendedExposureIndex", "FocalLength", "Orientation", "ExifImageWidth",
        "ExifImageHeight", "ImageWidth", "ImageHeight", "GPSLatitude", "GPSLongitude",
        "GPSAltitude", "ThumbnailImage"]

REL_TOL = 1e-3
GPS_TOL = 1e-5


def first_number(value):
    """A float from an exiftool value: numbers as they are, strings by their first number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    match = re.match(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)", str(value))
    return float(match.group(1)) if match else None


def valid_date(text):
    match = re.fullmatch(r"(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})", text)
    if not match:
        return False
    y, mo, d, h, mi, s = (int(g) for g in match.groups())
    if y < 1 or not 1 <= mo <= 12 or d < 1 or d > calendar.monthrange(y, mo)[1]:
        return False
    return h <= 23 and mi <= 59 and s <= 60


def pick(row, keys):
    for key in keys:
        if key in row:
            return row[key]
    return None


NORMALISED = ("datetime_original", "orientation")


def raw_value(column, keys, row):
    return pick(row, keys)


def reference(column, kind, keys, row):
    """exiftool's value for one column, normalised; None when absent."""
    if column in ("width", "height"):
        value = pick(row, keys)
        if value is None and row.get("File:FileType") in TIFF_TYPES:
            value = row.get("IFD0:Image" + ("Width" if column == "width" else "Height"))
    else:
        value = pick(row, keys)

    if kind == BOOL:
        return value is not None
    if value is None:
        return None
    if kind in (STRING, DATE):
        text = str(value).strip()
        if text == "":
            return None
        if kind == DATE and not valid_date(text):
            return None
        return text
    number = first_number(value)
    if number is None or math.isinf(number) or math.isnan(number):
        return None
    if column == "iso" and number == 65535:
        better = first_number(pick(row, ["ExifIFD:ISOSpeed",
                                         "ExifIFD:RecommendedExposureIndex"]))
        if better:
            number = better
    if kind == ORIENTATION and not 1 <= number <= 8:
        return None
    return number


def ours(kind, value):
    if kind == BOOL:
        return bool(value)
    if value is None:
        return None
    if kind == EXPOSURE:
        num, _, den = str(value).partition("/")
        try:
            return int(num) / int(den)
        except (ValueError, ZeroDivisionError):
            return str(value)
    if kind in (STRING, DATE):
        text = str(value).strip()
        return text or None
    return value


def agree(kind, a, b):
    if a is None or b is None:
        return a is None and b is None
    if kind == BOOL:
        return a == b
    if kind in (STRING, DATE):
        return a == b
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return False
    if kind == GPS:
        return abs(a - b) <= GPS_TOL
    if kind in (INT, ORIENTATION):
        return a == b
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b)) or abs(a - b) < 1e-9


def run_exiftool(exiftool, paths):
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".args",
                                     delete=False) as args:
        for path in paths:
            args.write(path + "\n")
        args_name = args.name
    try:
        cmd = [exiftool, "-n", "-json", "-G1", "-charset", "filename=utf8"]
        cmd += ["-" + tag for tag in TAGS]
        cmd += ["-@", args_name]
        proc = subprocess.run(cmd, capture_output=True, check=False)
    finally:
        os.unlink(args_name)
    if not proc.stdout.strip():
        sys.exit("exiftool produced no output: " + proc.stderr.decode(errors="replace"))
    rows = json.loads(proc.stdout.decode("utf-8", errors="replace"))
    return {row["SourceFile"]: row for row in rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("export", help="JSON Lines file with one object per image")
    parser.add_argument("root", help="directory the relative paths are relative to")
    parser.add_argument("--min", type=float, default=99.0, help="minimum overall agreement in %%")
    parser.add_argument("--exiftool", default="exiftool")
    opts = parser.parse_args()

    records = []
    with open(opts.export, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as e:
                    sys.exit(f"{opts.export}:{n}: {e}")
    if not records:
        sys.exit("no rows in " + opts.export)

    def full_path(record):
        path = record["path"]
        return path if os.path.isabs(path) else os.path.join(opts.root, path)

    reference_rows = run_exiftool(opts.exiftool, [full_path(r) for r in records])

    # agree, total, rows where either side has a value, agreements among those
    stats = {column: [0, 0, 0, 0] for column, _, _ in COLUMNS}
    mismatches = []
    normalised = []
    for record in records:
        row = reference_rows.get(full_path(record))
        if row is None:
            mismatches.append((record["path"], "(file)", "-", "exiftool did not read it"))
            for column, _, _ in COLUMNS:
                stats[column][1] += 1
            continue
        if "ExifTool:Error" in row:
            print(f"exiftool: {record['path']}: {row['ExifTool:Error']}", file=sys.stderr)
        for column, kind, keys in COLUMNS:
            theirs = reference(column, kind, keys, row)
            mine = ours(kind, record.get(column))
            stats[column][1] += 1
            valued = (mine not in (None, False)) or (theirs not in (None, False))
            ok = agree(kind, mine, theirs)
            stats[column][0] += ok
            stats[column][2] += valued
            stats[column][3] += ok and valued
            if column in NORMALISED and theirs is None and raw_value(column, keys, row):
                normalised.append((record["path"], column, raw_value(column, keys, row)))
            if not ok:
                mismatches.append((record["path"], column, record.get(column), theirs))

    total_agree = sum(s[0] for s in stats.values())
    total = sum(s[1] for s in stats.values())
    overall = 100.0 * total_agree / total if total else 0.0

    valued_agree = sum(s[3] for s in stats.values())
    valued = sum(s[2] for s in stats.values())
    print(f"{'field':<22} {'agree':>9} {'%':>7}   {'with a value':>12} {'%':>7}")
    for column, (ok, n, present, present_ok) in stats.items():
        pct = f"{100.0 * present_ok / present:7.2f}" if present else "      -"
        print(f"{column:<22} {ok:>4}/{n:<4} {100.0 * ok / n:>7.2f}   "
              f"{present_ok:>5}/{present:<6} {pct}")
    print(f"{'overall':<22} {total_agree:>4}/{total:<4} {overall:>7.2f}   "
          f"{valued_agree:>5}/{valued:<6} {100.0 * valued_agree / max(valued, 1):7.2f}")
    print(f"({len(records)} files, {len(COLUMNS)} fields; 'with a value' leaves out the "
          f"comparisons where both sides are absent)")

    if normalised:
        print(f"\n{len(normalised)} exiftool values treated as absent by the contract's rules:")
        for path, column, value in normalised:
            print(f"  {path}\t{column}\t{value!r}")

    if mismatches:
        print(f"\n{len(mismatches)} mismatches (file, field, ours, exiftool's):")
        for path, column, mine, theirs in mismatches:
            print(f"  {path}\t{column}\t{mine!r}\t{theirs!r}")

    return 0 if overall >= opts.min else 1


if __name__ == "__main__":
    sys.exit(main())

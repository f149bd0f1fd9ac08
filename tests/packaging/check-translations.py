#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check that every translation in po/LINGUAS is complete for the strings in the sources today.

What `ninja -C BUILDDIR sluice-update-po` would do, but in a temporary directory (the source
tree is never written):

1. regenerate the template from po/POTFILES with xgettext and the same arguments as the meson
   i18n targets (po/meson.build passes them here); a string xgettext cannot read (a format
   macro such as G_GUINT64_FORMAT inside a translatable string) is an error;
2. check that no file outside po/POTFILES has strings xgettext would extract;
3. msgmerge the template into each po/LL.po, as sluice-update-po does, and fail on
   - untranslated messages (a new string nobody translated yet),
   - fuzzy messages (a changed string whose old translation was carried over as a guess),
   - a catalog msgfmt --check rejects (format directives that do not match, ...),
   - copies: a msgstr equal to its msgid. Strings with nothing to translate (no word left
     once format directives, {fields}, --options, markup and URLs are taken out) are never
     copies. A copy a translator means (a product name, a word the language borrowed, such
     as German "Name" or "Region") is marked with a translator comment "# identical" on the
     entry in po/LL.po. Unmarked copies of four words or more fail each; shorter ones fail
     when they are more than 20 % of the catalog;
   - typography (where the language has rules here): French takes a no-break space before
     : ; ! ? » and after « and no English quotes; German quotes „like this“.

Every failure names the source file and line of the string and says how to fix it.

Usage: check-translations.py --source-root DIR --xgettext P --msgmerge P --msgfmt P
                             -- XGETTEXT_ARG...
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

COPY_SHARE_LIMIT = 0.20
COPY_WORDS_LIMIT = 4
CANDIDATE_SUFFIXES = (".c", ".h", ".ui", ".desktop.in", ".metainfo.xml.in", ".gschema.xml",
                      ".gschema.xml.in")


# ---- a small PO reader ---------------------------------------------------------------------

class Entry:
    def __init__(self):
        self.comments = []       # "# ..." translator comments
        self.references = []     # "file:line"
        self.flags = set()
        self.msgctxt = None
        self.msgid = None
        self.msgid_plural = None
        self.msgstr = {}         # index -> text (0 for a singular)
        self.obsolete = False

    def key(self):
        return (self.msgctxt, self.msgid)

    def where(self):
        return ", ".join(self.references) if self.references else "(no source reference)"


def unquote(s):
    s = s.strip()
    if not (s.startswith('"') and s.endswith('"')):
        raise ValueError(f"not a quoted string: {s!r}")
    body = s[1:-1]
    out = []
    i = 0
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r", "a": "\a", "b": "\b",
               "f": "\f", "v": "\v"}
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append(escapes.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def read_po(path):
    entries = []
    entry = Entry()
    field = None

    def flush():
        nonlocal entry, field
        if entry.msgid is not None:
            entries.append(entry)
        entry = Entry()
        field = None

    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("#~"):
                entry.obsolete = True
                continue
            if not line.strip():
                flush()
                continue
            if line.startswith("#"):
                if isinstance(field, tuple):
                    flush()
                if line.startswith("#:"):
                    entry.references.extend(line[2:].split())
                elif line.startswith("#,"):
                    entry.flags.update(f.strip() for f in line[2:].split(","))
                elif line.startswith("# ") or line == "#":
                    entry.comments.append(line[2:])
                continue
            m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line)
            if m:
                name = m.group(1)
                text = unquote(m.group(3))
                if name in ("msgctxt", "msgid") and isinstance(field, tuple):
                    flush()
                if name == "msgctxt":
                    entry.msgctxt = text
                    field = "msgctxt"
                elif name == "msgid":
                    entry.msgid = text
                    field = "msgid"
                elif name == "msgid_plural":
                    entry.msgid_plural = text
                    field = "msgid_plural"
                else:
                    index = int(m.group(2)) if m.group(2) is not None else 0
                    entry.msgstr[index] = text
                    field = ("msgstr", index)
                continue
            if line.startswith('"'):
                text = unquote(line)
                if field == "msgctxt":
                    entry.msgctxt += text
                elif field == "msgid":
                    entry.msgid += text
                elif field == "msgid_plural":
                    entry.msgid_plural += text
                elif isinstance(field, tuple):
                    entry.msgstr[field[1]] += text
                continue
            raise ValueError(f"{path}: cannot read line {line!r}")
    flush()
    return [e for e in entries if not e.obsolete]


# ---- what counts as a copy -----------------------------------------------------------------

STRIP_PATTERNS = [
    re.compile(r"%(?:\d+\$)?[-+ #0']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|t)?"
               r"[diouxXeEfFgGaAcspn%]"),      # printf directives
    re.compile(r"<[^>]*>"),                     # markup
    re.compile(r"\{[a-z0-9_]+\}"),              # key template fields
    re.compile(r"https?://\S+"),                # URLs
    re.compile(r"--?[A-Za-z][A-Za-z0-9-]*"),    # command-line options
    re.compile(r"\b[A-Z][A-Z0-9_]+\b"),         # metavariables and acronyms: FILE, S3, URL
    re.compile(r"[\w.-]*[/.][\w./-]+"),         # paths, file and host names
]


def words_of(text):
    for pattern in STRIP_PATTERNS:
        text = pattern.sub(" ", text)
    return re.findall(r"[^\W\d_]{2,}", text)


def is_copy(entry):
    """The entry's translation repeats the English, and there is something to translate."""
    sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
    translations = [entry.msgstr.get(i, "") for i in sorted(entry.msgstr)]
    if not any(t in sources for t in translations if t):
        return False
    return bool(words_of(entry.msgid))


def typography_problems(lang, text):
    problems = []
    if lang == "fr":
        if re.search(r" [:;!?»]", text) or "« " in text:
            problems.append("a plain space where French needs a no-break space (U+00A0) "
                            "before : ; ! ? » or after «")
        if "“" in text or "”" in text:
            problems.append("English quotes “…” where French uses « … »")
    elif lang == "de":
        if "”" in text or text.count("„") != text.count("“"):
            problems.append("quotes that are not German „…“")
    return problems


def marked_identical(entry):
    return any(c.strip().lower().startswith("identical") for c in entry.comments)


# ---- steps ---------------------------------------------------------------------------------

def run(cmd, **kwargs):
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)


def read_list(path):
    with open(path, encoding="utf-8") as f:
        return [l.strip() for l in f if l.strip() and not l.strip().startswith("#")]


def make_template(args, tmp, problems):
    pot = os.path.join(tmp, "sluice.pot")
    potfiles = os.path.join(args.source_root, "po", "POTFILES")
    r = run([args.xgettext, "--package-name=sluice", "-f", potfiles, "-D", args.source_root,
             "-k_", "-o", pot] + args.xgettext_args)
    if r.returncode != 0:
        problems.append(f"xgettext failed:\n{r.stderr.strip()}")
        return None
    for line in r.stderr.splitlines():
        # "file:line: warning: ..." — most often a format macro (G_GUINT64_FORMAT) that
        # xgettext cannot see through, so that the msgid is not what the program looks up.
        if "warning:" in line:
            problems.append(f"{line.strip()}\n    xgettext cannot read this string as the "
                            "program will look it up; write the directive out (\"%lu\" with "
                            "a (gulong) cast, not \"%\" G_GUINT64_FORMAT).")
    return pot


def check_unlisted(args, tmp, problems):
    """Files with strings xgettext extracts that po/POTFILES does not list."""
    listed = set(read_list(os.path.join(args.source_root, "po", "POTFILES")))
    candidates = []
    for top in ("src", "data"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(args.source_root, top)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_build")))
            for name in sorted(filenames):
                if name.endswith(CANDIDATE_SUFFIXES):
                    rel = os.path.relpath(os.path.join(dirpath, name), args.source_root)
                    if rel not in listed:
                        candidates.append(rel)
    if not candidates:
        return
    listfile = os.path.join(tmp, "unlisted")
    with open(listfile, "w", encoding="utf-8") as f:
        f.write("\n".join(candidates) + "\n")
    pot = os.path.join(tmp, "unlisted.pot")
    r = run([args.xgettext, "-f", listfile, "-D", args.source_root, "-k_", "-o", pot]
            + args.xgettext_args)
    if r.returncode != 0:
        problems.append(f"xgettext failed on the files outside po/POTFILES:\n{r.stderr}")
        return
    if not os.path.exists(pot):
        return  # nothing extracted: xgettext writes no file
    files = {}
    for e in read_po(pot):
        for ref in e.references:
            files.setdefault(ref.rsplit(":", 1)[0], ref)
    for path, ref in sorted(files.items()):
        problems.append(f"{ref}: {path} has translatable strings but po/POTFILES does not "
                        f"list it: add it there, then run ninja -C BUILDDIR sluice-update-po "
                        f"and translate the new strings.")


def check_language(args, lang, pot, tmp, problems):
    po = os.path.join(args.source_root, "po", lang + ".po")
    rel = os.path.join("po", lang + ".po")
    if not os.path.exists(po):
        problems.append(f"{rel} does not exist but po/LINGUAS lists {lang}: run "
                        f"ninja -C BUILDDIR sluice-update-po to create it, then translate it.")
        return None
    merged = os.path.join(tmp, lang + ".po")
    # exactly what sluice-update-po does (meson's gettext script: msgmerge -q)
    r = run([args.msgmerge, "-q", "-o", merged, po, pot])
    if r.returncode != 0:
        problems.append(f"msgmerge {rel} failed:\n{r.stderr.strip()}")
        return None
    r = run([args.msgfmt, "--check", "--check-accelerators=_", "-o", os.devnull, merged])
    if r.returncode != 0:
        problems.append(f"{rel} (merged with today's template) fails msgfmt --check:\n"
                        + r.stderr.replace(merged, rel).strip())

    entries = [e for e in read_po(merged) if e.msgid != ""]
    untranslated = [e for e in entries
                    if "fuzzy" not in e.flags and (not e.msgstr or
                                                    any(v == "" for v in e.msgstr.values()))]
    fuzzy = [e for e in entries if "fuzzy" in e.flags]
    copies = [e for e in entries
              if e not in untranslated and e not in fuzzy and is_copy(e)
              and not marked_identical(e)]
    long_copies = [e for e in copies if len(words_of(e.msgid)) >= COPY_WORDS_LIMIT]
    for e in entries:
        for text in e.msgstr.values():
            for why in typography_problems(lang, text):
                problems.append(f"{e.where()}: {rel}: {why}: {text!r}")

    fix = (f"To fix: ninja -C BUILDDIR sluice-update-po (merges the new strings into {rel}), "
           f"translate them in {rel}")
    for e in untranslated:
        problems.append(f"{e.where()}: untranslated in {rel}: {e.msgid!r}")
    for e in fuzzy:
        problems.append(f"{e.where()}: fuzzy in {rel} (the English changed; check the "
                        f"translation and remove the fuzzy flag): {e.msgid!r}")
    for e in long_copies:
        problems.append(f"{e.where()}: {rel} copies the English instead of translating it: "
                        f"{e.msgid!r} (if it really is the same in {lang}, put a translator "
                        f"comment \"# identical\" on the entry)")
    share = len(copies) / len(entries) if entries else 0.0
    if share > COPY_SHARE_LIMIT:
        problems.append(f"{rel}: {len(copies)} of {len(entries)} translations "
                        f"({share:.0%}) repeat the English (limit {COPY_SHARE_LIMIT:.0%}): "
                        + "; ".join(f"{e.where()}: {e.msgid!r}" for e in copies[:20]))
    if untranslated or fuzzy:
        problems.append(f"{rel}: {len(untranslated)} untranslated, {len(fuzzy)} fuzzy. {fix}, "
                        f"then ninja -C BUILDDIR && meson test -C BUILDDIR translations.")
    print(f"{rel}: {len(entries)} messages, {len(untranslated)} untranslated, {len(fuzzy)} "
          f"fuzzy, {len(copies)} unmarked copies of the English "
          f"({', '.join(repr(e.msgid) for e in copies) or 'none'})")
    return len(entries)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source-root", required=True)
    parser.add_argument("--xgettext", default="xgettext")
    parser.add_argument("--msgmerge", default="msgmerge")
    parser.add_argument("--msgfmt", default="msgfmt")
    parser.add_argument("xgettext_args", nargs="*")
    args = parser.parse_args(argv[1:])

    problems = []
    with tempfile.TemporaryDirectory(prefix="sluice-translations-") as tmp:
        pot = make_template(args, tmp, problems)
        check_unlisted(args, tmp, problems)
        if pot is not None:
            for lang in read_list(os.path.join(args.source_root, "po", "LINGUAS")):
                for lang_one in lang.split():
                    check_language(args, lang_one, pot, tmp, problems)

    for problem in problems:
        print(problem)
    if problems:
        print(f"FAIL: {len(problems)} problem(s) with the translations (see above)")
        return 1
    print("every language is complete")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

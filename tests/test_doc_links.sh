#!/bin/sh
# Every relative link of the manuals (README.md, docs/*.md, schemas/*.md) reaches a file of the
# repository, and every #anchor a heading of that file (GitHub's slugs); and every manual a file
# of the repository names in passing by its path (in prose, comments or scripts: docs/… or schemas/…)
# exists. So moving a section or a file cannot leave a dead reference behind. Web links are not
# followed (no network in tests).
#   tests/test_doc_links.sh SOURCE_DIR
set -eu
src="${1:?usage: test_doc_links.sh SOURCE_DIR}"
cd "$src"
exec python3 - README.md docs/*.md schemas/*.md <<'PY'
import os, re, sys

LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def prose(path):
    """The lines of a Markdown file outside fenced code blocks (code is not linked)."""
    out, fenced = [], False
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            out.append((n, line))
    return out


def slug(heading):
    """GitHub's anchor of a heading: lower case, no punctuation but '-' and '_', spaces to '-'."""
    s = re.sub(r"`|\*\*|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path):
    seen, out = {}, set()
    for _, line in prose(path):
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        s = slug(m.group(1))
        k = seen.get(s, 0)
        out.add(s if k == 0 else f"{s}-{k}")
        seen[s] = k + 1
    out.update(re.findall(r'<a (?:name|id)="([^"]+)"', open(path, encoding="utf-8").read()))
    return out


bad = 0
for doc in sys.argv[1:]:
    for n, line in prose(doc):
        for target in LINK.findall(re.sub(r"`[^`]*`", "", line)):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(doc), path)) if path else doc
            if not os.path.exists(dest):
                print(f"{doc}:{n}: link to {target}: no file {dest}")
                bad += 1
            elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
                print(f"{doc}:{n}: link to {target}: {dest} has no heading with anchor #{anchor}")
                bad += 1
# Manuals named in passing anywhere in the repository, by their path from its root.
MENTION = re.compile(r"(?<![\w/.-])((?:docs|schemas)/[\w.-]+\.md)\b")
SKIP = {".git", "cache", "results"}
nfiles = 0
for top, dirs, files in os.walk("."):
    dirs[:] = [d for d in dirs if d not in SKIP and not d.startswith("build")]
    for f in files:
        path = os.path.join(top, f)[2:]
        try:
            text = open(path, encoding="utf-8").read()
        except (UnicodeDecodeError, OSError):
            continue
        nfiles += 1
        for m in MENTION.finditer(text):
            if not os.path.exists(m.group(1)):
                n = text.count("\n", 0, m.start()) + 1
                print(f"{path}:{n}: names {m.group(1)}, which does not exist")
                bad += 1
print(f"{len(sys.argv) - 1} manuals and {nfiles} files checked, {bad} broken links or references")
sys.exit(1 if bad else 0)
PY

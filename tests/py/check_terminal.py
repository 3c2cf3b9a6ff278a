"""Checks on one `pzflow run` in a terminal (run by tests/test_terminal.sh).

usage: check_terminal.py RAW SCREEN COLUMNS on|off
RAW is every byte written to the terminal (script(1)), SCREEN the final screen (tmux
capture-pane). Prints one line per failed check and exits 1 if any failed.
"""
import re
import sys

CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
COLOUR = re.compile(r"\x1b\[[0-9;]*m")

raw_path, screen_path, cols, colour = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
raw = open(raw_path, "rb").read().decode("utf-8", "replace")
screen = open(screen_path, encoding="utf-8", errors="replace").read().rstrip("\n").split("\n")
failures = []

# 1. widths: what each write leaves on a terminal line, escapes aside. The one line holding a
#    log's absolute path ("  log: /...") is never cut, by design.
for line in raw.split("\n"):
    if line.startswith("Script started") or line.startswith("Script done"):
        continue
    for part in line.split("\r"):
        text = CSI.sub("", part)
        if len(text) > cols and not text.startswith("  log: /"):
            failures.append("%d columns: %r" % (len(text), text))

# 2. one total per run
totals = set(re.findall(r"\[\d+/(\d+)\]", CSI.sub("", raw)))
if len(totals) != 1:
    failures.append("the [n/N] total changed during the run: %s" % sorted(totals))

# 3. the final screen: no live progress line left, the failed stage listed with its log, the
#    summary last
text = [l for l in screen if l.strip()]
for l in text:
    if re.search(r"\[[#.]{10,20}\]", l):
        failures.append("a progress bar is left on the final screen: %r" % l)
summary = text[-2:] if len(text) >= 2 and text[-1].startswith("  hashed ") else text[-1:]
if not summary or not summary[0].startswith("pzflow: "):
    failures.append("the final screen does not end with the summary: %r" % summary)
try:
    k = next(i for i, l in enumerate(text) if re.match(r"\d+ stages? FAILED", l))
    if not (text[k + 1].startswith("  bad") and text[k + 2].strip().startswith("cache/")):
        failures.append("the failed list does not name bad and its log: %r" % text[k:k + 3])
except StopIteration:
    failures.append("no closing list of failed stages on the final screen")

# 4. colour
coloured = bool(re.search(r"\x1b\[(32|1;31)m", raw))
if coloured != (colour == "on"):
    failures.append("colour is %s, expected %s" % ("on" if coloured else "off", colour))

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)

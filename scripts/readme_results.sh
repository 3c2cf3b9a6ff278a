#!/usr/bin/env bash
# Put the results of the last `pzflow run pipelines/paper.yaml` into the manuals: every metric
# table (from `pzflow show`) and the full comparison with the paper into docs/results.md (between
# its results and paper markers), a short summary into README.md (between its summary markers:
# the LSST-window table and the comparison in brief), and the figures into docs/figures/.
# Nothing in these sections is typed by hand: the comparison's verdicts are written here from the
# ratios' bootstrap intervals, so none claims more than they show.
#   scripts/readme_results.sh [PIPELINE] [BUILD_DIR]
# PIPELINE may be the same file in another checkout: its cache and results folder are read there
# (`show` finds a pipeline's last run by the file's absolute path).
set -euo pipefail
cd "$(dirname "$0")/.."
pipeline="${1:-pipelines/paper.yaml}"
build="${2:-build}"
name=$(basename "$pipeline" .yaml)
# The pipeline root (schemas/pipeline.md): the parent of a folder named pipelines.
root=$(dirname "$pipeline")
[ "$(basename "$root")" = pipelines ] && root=$(dirname "$root")
table=$(mktemp)
trap 'rm -f "$table"' EXIT
"$build/bin/pzflow" show "$pipeline" > "$table"
for fig in fig1 fig2 fig3 fig3_bins fig4 fig5 dag; do
  install -m 644 "$root/results/$name/plot/${fig}.png" "docs/figures/${fig}.png"
  install -m 644 "$root/results/$name/plot/${fig}.svg" "docs/figures/${fig}.svg"
done
/usr/bin/python3 - "$table" "pipelines/$(basename "$pipeline")" <<'PY'
import re, sys
table = open(sys.argv[1]).read().strip()
# The provenance comment is for machines; the README shows the table itself.
table = re.sub(r"<!--.*?-->\n?", "", table, flags=re.S).strip()

CELL = re.compile(r"^(n/a|inf|[-0-9.]+)(?: \[([-0-9.]+|inf), ([-0-9.]+|inf)\])?$")


def number(s):
    return float("inf") if s == "inf" else float(s)


def split_row(line):
    """Cells of a Markdown table row; an escaped \\| stays inside its cell."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]


def ratios(md, heading):
    """{(test set, 'NN-Base / NN-TL'): {column: (ratio, lo, hi)}} of one ratio table."""
    sec = md.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = [split_row(l) for l in sec.splitlines() if l.startswith("|")]
    head, out = rows[0], {}
    for cells in rows[2:]:
        vals = {}
        for col, cell in zip(head[2:], cells[2:]):
            m = CELL.match(cell)
            if not m:
                sys.exit(f"readme_results.sh: cannot read ratio cell {cell!r} ({cells[0]}, {cells[1]}, {col})")
            r, lo, hi = m.groups()
            vals[col] = (None if r == "n/a" else number(r), None if lo is None else number(lo),
                         None if hi is None else number(hi))
        out[(cells[0], cells[1])] = vals
    return out


def seeds(md):
    m = re.search(r"^\| NN-Base \| GalaxiesML \| (\d+) \|", md, flags=re.M)
    return m.group(1) if m else "?"


def goals(md):
    """{(model, test set): 'PASS' or 'FAIL (...)'} of the LSST-window summary table."""
    sec = md.split("## LSST window", 1)[1].split("\n## ", 1)[0]
    out = {}
    for l in sec.splitlines():
        cells = split_row(l) if l.startswith("|") else []
        if len(cells) == 10 and cells[0].startswith("NN-"):
            out[(cells[0], cells[1])] = cells[9]
    return out


r = ratios(table, "## Ratios NN-Base / model, LSST window")
nseeds = seeds(table)
tl, combo = "NN-Base / NN-TL", "NN-Base / NN-Combo"
g, t = "GalaxiesML", "TransferZ"
MB, BM = "\\|mean bias\\|", "mean \\|bias\\|"


def fmt(v):
    return "inf" if v == float("inf") else f"{v:.2f}"


def cell(v):
    ratio, lo, hi = v
    if ratio is None:
        return "n/a"
    return fmt(ratio) + ("" if lo is None else f" [{fmt(lo)}, {fmt(hi)}]")


# rows: (label, what the paper says, ratio column, test set, the paper's claim as a test)
rows = [(f"{MB} ratio, GalaxiesML test", "~5x", MB, g, ("better", 5.0)),
        (f"{BM} ratio, GalaxiesML test", "~5x (definition not stated)", BM, g, ("better", 5.0)),
        ("RMS ratio, GalaxiesML test", "~1.5x", "RMS", g, ("better", 1.5)),
        ("catastrophic-fraction ratio, GalaxiesML test", "~1.3x", "catastrophic fraction", g, ("better", 1.3)),
        ("outlier-fraction (\\|dz\\| > 0.15) ratio, GalaxiesML test", "not quoted", "outlier fraction", g, None),
        ("NMAD ratio, GalaxiesML test", "not quoted", "NMAD", g, None),
        (f"{MB} ratio, TransferZ test", "< 1 (TL and Combo somewhat worse)", MB, t, ("worse", None)),
        (f"{BM} ratio, TransferZ test", "< 1 (TL and Combo somewhat worse)", BM, t, ("worse", None)),
        ("RMS ratio, TransferZ test", "< 1 (TL and Combo somewhat worse)", "RMS", t, ("worse", None))]
paper = [f"Ratios NN-Base / model of the seed means in the LSST window, with 95% bootstrap intervals over "
         f"the {nseeds} seeds (`evaluate`; docs/evaluate.md). > 1: the model improves on NN-Base. "
         f"{MB} is the ratio of the seed-mean biases (seeds of opposite sign cancel); {BM} averages "
         f"each seed's absolute bias first.",
         "",
         "| NN-Base / model, LSST window | paper | pzflow NN-Base / NN-TL | pzflow NN-Base / NN-Combo |",
         "| --- | --- | ---: | ---: |"]
paper += [f"| {label} | {pub} | {cell(r[(ts, tl)][col])} | {cell(r[(ts, combo)][col])} |"
          for label, pub, col, ts, _ in rows]


def verdict(v, claim):
    """One clause on what the interval shows, against the paper's claim."""
    ratio, lo, hi = v
    if ratio is None:
        return "no ratio (0/0: neither model has any)"
    if lo is None:
        return f"{fmt(ratio)}, no interval (one seed)"
    iv = f"{fmt(ratio)} [{fmt(lo)}, {fmt(hi)}]"
    if lo > 1:
        shown = "improves on NN-Base"
    elif hi < 1:
        shown = "is worse than NN-Base"
    else:
        shown = "is not shown to differ from NN-Base (the interval holds 1)"
    if claim is None:
        return f"{iv}: {shown}"
    kind, value = claim
    if kind == "better":
        if lo > 1 and lo <= value <= hi:
            agree = f"consistent with the paper's ~{value:g}x (inside the interval)"
        elif lo > 1:
            agree = f"but the paper's ~{value:g}x lies outside the interval"
        elif hi < 1:
            agree = "unlike the paper"
        else:
            agree = f"so the paper's ~{value:g}x is neither confirmed nor excluded"
    else:
        agree = "as the paper reports" if hi < 1 else "unlike the paper" if lo > 1 else \
            "so the paper's 'somewhat worse' is neither confirmed nor excluded"
    return f"{iv}: {shown}, {agree}"


prose = [f"What the intervals show ({nseeds} seeds; generated from the table above):", ""]
for label, pub, col, ts, claim in rows:
    if claim is None:
        continue
    what = label.replace(" ratio", "").replace("\\|", "|")
    prose.append(f"* {what}: NN-TL {verdict(r[(ts, tl)][col], claim)}; "
                 f"NN-Combo {verdict(r[(ts, combo)][col], claim)}.")
gl = goals(table)
passes = [f"{m} on {ts}" for (m, ts), v in gl.items() if v == "PASS"]
prose += ["", "LSST goals, tested on the seed means (no interval): "
          + (", ".join(passes) + " meet" + ("s" if len(passes) == 1 else "") + " all three"
             if passes else "no model meets all three")
          + "; " + "; ".join(f"{m} on {ts}: {v}" for (m, ts), v in gl.items() if v != "PASS") + "."]


def brief(v, claim, study="paper"):
    """The same verdict in a few words, for the README's summary."""
    ratio, lo, hi = v
    if ratio is None or lo is None:
        return verdict(v, claim)
    iv = f"{fmt(ratio)} [{fmt(lo)}, {fmt(hi)}]"
    if lo <= 1 <= hi:
        return f"{iv} holds 1"
    kind, value = claim
    if kind == "better" and lo > 1:
        where = "inside" if lo <= value <= hi else "outside"
        return f"{iv} better; {study}'s ~{value:g}x {where}"
    if kind == "better":
        return f"{iv} worse, unlike the {study}"
    return f"{iv} worse, as in the {study}" if hi < 1 else f"{iv} better, unlike the {study}"


# The README's summary: which models meet the LSST goals, and the paper's claims with the verdict
# of each interval in brief.
window = table.split("\n## LSST window", 1)[1].split("\n", 1)[0]
rule = re.search(r"^LSST goals: (.*?) \(tested on the seed means\)\.$", table, flags=re.M).group(1)
verdicts = prose[-1].split(": ", 1)[1]
summary = [f"LSST goals ({rule}) in the window{window}, tested on the means over the {nseeds} seeds: "
           f"{verdicts}", "",
           f"Against the paper: ratios NN-Base / model of the seed means in the LSST window (> 1: the model "
           f"improves on NN-Base) with 95% bootstrap intervals over the {nseeds} seeds; \"holds 1\": the "
           f"seeds show no difference, so the paper's figure is neither confirmed nor excluded.",
           "",
           "| ratio | paper | NN-Base / NN-TL | NN-Base / NN-Combo |",
           "| --- | --- | --- | --- |"]
summary += [f"| {label.replace(' ratio', '')} | {pub} | {brief(r[(ts, tl)][col], claim)} | "
            f"{brief(r[(ts, combo)][col], claim)} |" for label, pub, col, ts, claim in rows if claim]

# The follow-up study (arXiv 2601.17222): NN-Spec / NN-Combo on the GalaxiesML test set in the window.
followup = []
if "## Ratios NN-Spec / model, LSST window" in table:
    fr = ratios(table, "## Ratios NN-Spec / model, LSST window")[(g, "NN-Spec / NN-Combo")]
    fu_rows = [(MB, "4.5x (\\|bias\\|, definition not stated)", MB, 4.5),
               (BM, "4.5x (\\|bias\\|, definition not stated)", BM, 4.5),
               ("NMAD", "1.1x", "NMAD", 1.1),
               ("outlier fraction (\\|dz\\| > 0.15)", "1.4x", "outlier fraction", 1.4)]
    followup = ["", f"Against the follow-up study (arXiv 2601.17222): NN-Spec / NN-Combo of the seed means on the "
                f"GalaxiesML test set in the LSST window (> 1: NN-Combo, trained on both label sets, improves on "
                f"NN-Spec, trained on spectroscopic labels alone), 95% bootstrap intervals over the {nseeds} seeds. "
                f"What differs (mock data, our calibration split, {nseeds} seeds): "
                f"[docs/uncertainty.md](docs/uncertainty.md#what-differs-from-the-follow-up).",
                "", "| ratio | follow-up | NN-Spec / NN-Combo |", "| --- | --- | --- |"]
    followup += [f"| {label} | {pub} | {brief(fr[col], ('better', value), 'follow-up')} |"
                 for label, pub, col, value in fu_rows]


def uq_rows(md, heading):
    """{(model, test set): {column: mean}} of one uncertainty table (n/a -> None)."""
    if heading not in md:
        return {}
    sec = md.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = [split_row(l) for l in sec.splitlines() if l.startswith("|")]
    if not rows:
        return {}
    head, out = rows[0], {}
    for cells in rows[2:]:
        out[(cells[0], cells[1])] = {h: (None if c == "n/a" else float(c.split(" ")[0]))
                                     for h, c in zip(head[2:], cells[2:])}
    return out


# Uncertainty (issue 13's goals): conformal coverage on the GalaxiesML test set over its whole
# range (where split conformal promises it), and the best p(z)'s PIT.
uq = uq_rows(table, "## Uncertainty, whole range")
uq_summary = []
if uq:
    cov = []
    for (m, ts), v in uq.items():
        if ts != g or v.get("coverage 68%") is None:
            continue
        ok = all(v.get(f"coverage {L}%") is not None and abs(v[f"coverage {L}%"] - L / 100) <= 0.01 + 1e-9 for L in (68, 95))
        cov.append(f"{m} {100 * v['coverage 68%']:.1f}% / {100 * v['coverage 95%']:.1f}%"
                   + ("" if ok else " (outside ±1 pp)"))
    pdfs = [(v["PIT KS"], m, v) for (m, ts), v in uq.items() if ts == g and v.get("PIT KS") is not None]
    uq_summary = ["", "Uncertainty on the GalaxiesML test set (whole range; seed means; "
                  "[docs/uncertainty.md](docs/uncertainty.md)): conformal 68% / 95% intervals cover "
                  + (", ".join(cov) if cov else "n/a") + " (goal: within ±1 pp). "
                  + (f"Best p(z): {min(pdfs)[1]}, PIT KS {min(pdfs)[0]:.4f} (goal < 0.05), CRPS "
                     f"{min(pdfs)[2]['CRPS']:.4f} beside NMAD {min(pdfs)[2]['NMAD']:.4f}."
                     if pdfs else "No model in this run gives a p(z), so PIT and CRPS are not reported.")]
summary += followup + uq_summary
prose += followup + uq_summary

# In docs/results.md the table's own headings sit under its title; the long per-bin table folds.
table = re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + 1) + " ", table, flags=re.M)
head, sep, bins = table.partition("### Redshift bins")
if sep:
    title, _, rest = bins.partition("\n")
    table = f"{head}<details><summary>Redshift bins{title}</summary>\n{rest}\n\n</details>"


def splice(path, parts):
    """Replace what lies between each <!-- name:begin --> and <!-- name:end --> of a file."""
    text = open(path).read()
    for name, body in parts:
        begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
        i, j = text.index(begin) + len(begin), text.index(end)
        text = text[:i] + f"\n{body}\n\n" + text[j:]
    open(path, "w").write(text)


gen = f"_Generated by `scripts/readme_results.sh` from `pzflow show {sys.argv[2]}` (mock data)._"
# The summary's links are relative to the README; results.md sits beside the pages they name.
prose_text = "\n".join(prose).replace("](docs/", "](")
splice("docs/results.md", [("results", f"{gen}\n\n{table}"),
                           ("paper", f"{gen}\n\n" + "\n".join(paper) + "\n\n" + prose_text)])
brief_gen = (f"_Generated by `scripts/readme_results.sh` from `pzflow show {sys.argv[2]}` (mock data, "
             f"{nseeds} seeds); every table, per redshift bin too, and the comparison in full: "
             f"[docs/results.md](docs/results.md)._")
splice("README.md", [("summary", f"{brief_gen}\n\n" + "\n".join(summary))])
PY
echo "docs/results.md, the README's summary and docs/figures/ updated from $pipeline"

#!/usr/bin/env python3
"""Per-folder line and branch coverage from gcovr's JSON summary.

Usage: coverage_summary.py SUMMARY.json OUT.md

Prints a table (one row per folder of src/ the project reports on, and the
total) and writes it as Markdown to OUT.md. Exits 1 when a folder listed in
ENFORCED is below its target: those are the folders whose targets (issue
21) are met and must stay met; the others are reported against their
target without failing the run.
"""
import json
import sys

# Folders in the order of the report. The target of each (lines %, branches
# %) is issue 21's: codec, the engine (session) and nano 95/90, client and
# transport 85 branches; the others have none.
FOLDERS = [
    ("src/codec", 95.0, 90.0),
    ("src/session", 95.0, 90.0),
    ("src/nano", 95.0, 90.0),
    ("src/client", None, 85.0),
    ("src/transport", None, 85.0),
    ("src/mem", None, None),
    ("src/port/posix", None, None),
    ("src/common", None, None),
]
# Folders whose targets are met today and are checked on every run (issue
# 21: the engine and nano met theirs with a wide margin; the client's 85% is
# met by a few branches only, which the integration tests' timing moves, so
# it is reported, not enforced; the transport's is not met).
ENFORCED = {"src/codec", "src/session", "src/nano"}


def pct(covered, total):
    return 100.0 * covered / total if total else 100.0


def main():
    summary_path, out_path = sys.argv[1], sys.argv[2]
    with open(summary_path) as f:
        files = json.load(f)["files"]

    rows = []
    failed = []
    tot = [0, 0, 0, 0]
    for folder, line_target, branch_target in FOLDERS:
        lc = lt = bc = bt = 0
        for entry in files:
            name = entry["filename"]
            if not name.startswith(folder + "/"):
                continue
            # src/port/posix/ only, not the other ports (never built here).
            lc += entry["line_covered"]
            lt += entry["line_total"]
            bc += entry["branch_covered"]
            bt += entry["branch_total"]
        tot = [tot[0] + lc, tot[1] + lt, tot[2] + bc, tot[3] + bt]
        lp, bp = pct(lc, lt), pct(bc, bt)
        verdict = []
        if line_target is not None:
            verdict.append("lines %s %g" % ("≥" if lp >= line_target else "<", line_target))
        if branch_target is not None:
            verdict.append("branches %s %g" % ("≥" if bp >= branch_target else "<", branch_target))
        below = (line_target is not None and lp < line_target) or (
            branch_target is not None and bp < branch_target)
        if folder in ENFORCED and below:
            failed.append(folder)
        status = ", ".join(verdict) if verdict else "no target"
        if folder in ENFORCED:
            status += " (enforced)"
        rows.append((folder, "%d/%d" % (lc, lt), "%.1f%%" % lp, "%d/%d" % (bc, bt), "%.1f%%" % bp,
                     status))
    rows.append(("total (these folders)", "%d/%d" % (tot[0], tot[1]), "%.1f%%" % pct(tot[0], tot[1]),
                 "%d/%d" % (tot[2], tot[3]), "%.1f%%" % pct(tot[2], tot[3]), ""))

    head = ("folder", "lines", "line %", "branches", "branch %", "target")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    fmt = "  ".join("%%-%ds" % w for w in widths)
    print(fmt % head)
    for r in rows:
        print(fmt % r)

    with open(out_path, "w") as f:
        f.write("| " + " | ".join(head) + " |\n")
        f.write("|" + "---|" * len(head) + "\n")
        for r in rows:
            f.write("| " + " | ".join(r) + " |\n")

    if failed:
        print("coverage: below target in %s" % ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

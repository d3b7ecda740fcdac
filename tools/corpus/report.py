#!/usr/bin/env python3
# report.py - sums up tools/corpus/run.sh's results.tsv: counts, kdl's
# failures on what glibc loads grouped by cause, and what kdl loads that
# glibc refuses.
#   report.py RESULTS.TSV SECONDS JOBS BACKEND FAILURES.TXT
import re
import sys


def cause(msg):
    """The message with what names one library taken out, so that the
    same check failing on different files lands in one group."""
    m = re.sub(r"(/[^\s:()',]+)+", "<path>", msg)
    m = re.sub(r"\b(symbol|version) [^\s,()]+", r"\1 <name>", m)
    m = re.sub(r"\b(lib[\w.+-]+\.so[\w.]*)", "<soname>", m)
    m = re.sub(r"\b0x[0-9a-f]+\b|\b\d+\b", "N", m)
    return m


def main():
    res_path, secs, jobs, backend, fail_path = sys.argv[1:6]
    rows = []
    with open(res_path) as f:
        for line in f:
            path, g, k, gmsg, kmsg = (line.rstrip("\n").split("\t") + [""] * 5)[:5]
            rows.append((path, g, k, gmsg, kmsg))

    gl_ok = [r for r in rows if r[1] == "ok"]
    kdl_ok = [r for r in gl_ok if r[2] == "ok"]
    failed = [r for r in gl_ok if r[2] != "ok"]
    extra = [r for r in rows if r[1] != "ok" and r[2] == "ok"]
    groups = {}
    for r in failed:
        key = r[2] if r[2] != "fail" else cause(r[4])
        groups.setdefault((r[2], key), []).append(r)

    print(f"corpus: {len(rows)} candidates, glibc loads {len(gl_ok)}, "
          f"kdl loads {len(kdl_ok)} of those, {len(failed)} failures "
          f"({secs} s, {jobs} jobs, KDL_BACKEND={backend})")
    lines = []
    for (st, key), rs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(f"## {len(rs)} x {'[' + st + '] ' if st != 'fail' else ''}{key}")
        for r in rs:
            lines.append(f"{r[0]}: {r[4] or r[2]}")
        lines.append("")
    with open(fail_path, "w") as f:
        f.write("\n".join(lines))
    if lines:
        print("\nkdl fails where glibc loads, by cause:\n")
        print("\n".join(lines))
    if extra:
        print(f"kdl loads, glibc refuses ({len(extra)}, informational):")
        for r in extra:
            print(f"{r[0]}: glibc: {r[1]}: {r[3]}")
    refused = [r for r in rows if r[1] != "ok" and r[2] != "ok"]
    if refused:
        print(f"\nboth refuse: {len(refused)}")


main()

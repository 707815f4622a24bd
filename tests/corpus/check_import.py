#!/usr/bin/python3
"""Checks a corpus import case (tests/corpus/cases.txt, check "import:...").

Usage: check_import.py OUT_DIR CASE_DIR "reason=N,reason=N"

- import.json: status ok; rejects_by_reason equals the given counts (other
  reasons 0); rows = rows_imported + rows_rejected = the planted rows of
  CASE_DIR/expected.json; per input, lines = header + blank + rows; events
  parsed = written.
- the archive (OUT_DIR/*.h5 but dictionaries.h5) holds events_written events.
- rejects.csv, read as strict UTF-8 with the csv module: one row per reject;
  the (file, line) pairs and reasons are exactly the planted ones of
  expected.json; each raw equals that line of the input (bytes that are not
  UTF-8, and NULs, as \\xNN; a line over 32000 bytes cut, saying its length).
Exits 1 with what differs.
"""
import csv
import glob
import io
import json
import os
import sys

import h5py

RAW_MAX = 32000


def shown(b):
    s = b.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
    return s


def main():
    out, cdir, spec = sys.argv[1], sys.argv[2], sys.argv[3]
    want = {k: int(v) for k, v in (kv.split("=") for kv in spec.split(",") if kv)}
    exp = json.load(open(os.path.join(cdir, "expected.json")))
    j = json.load(open(os.path.join(out, "import.json")))
    errs = []
    if j["status"] != "ok":
        errs.append("status %s" % j["status"])
    got = {k: v for k, v in j["rejects_by_reason"].items() if v}
    if got != want:
        errs.append("rejects_by_reason %s, expected %s" % (got, want))
    if j["rows"] != exp["rows"] or j["rows_imported"] + j["rows_rejected"] != j["rows"]:
        errs.append("rows %d = %d imported + %d rejected; %d planted" % (
            j["rows"], j["rows_imported"], j["rows_rejected"], exp["rows"]))
    for f in j["inputs"]:
        if f["lines"] != f["header_lines"] + f["blank_lines"] + f["rows"]:
            errs.append("%s: lines do not add up: %s" % (f["path"], f))
    if j["events_parsed"] != j["events_written"]:
        errs.append("events parsed %d, written %d" % (j["events_parsed"], j["events_written"]))
    n = 0
    for p in glob.glob(os.path.join(out, "*.h5")):
        if os.path.basename(p) != "dictionaries.h5":
            with h5py.File(p, "r") as h:
                n += len(h["events/ts"])
    if n != j["events_written"]:
        errs.append("the archive holds %d events, import.json says %d" % (n, j["events_written"]))

    text = open(os.path.join(out, "rejects.csv"), "rb").read().decode("utf-8")  # strict
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    if len(rows) != j["rows_rejected"]:
        errs.append("rejects.csv has %d rows, import.json %d" % (len(rows), j["rows_rejected"]))
    seen = {}
    inputs = {}
    for r in rows:
        name = os.path.basename(r["file"])
        key = "%s:%s" % (name, r["line"])
        seen[key] = r["reason"]
        if r["file"] not in inputs:
            inputs[r["file"]] = open(r["file"], "rb").read().split(b"\n")
        line = inputs[r["file"]][int(r["line"]) - 1]
        if line.endswith(b"\r"):
            line = line[:-1]
        if r["line"] == "1" and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        expect = shown(line[:RAW_MAX]) + (" [... %d bytes in all]" % len(line)
                                          if len(line) > RAW_MAX else "")
        if r["raw"] != expect:
            errs.append("%s: raw %r is not the input's line %r" % (key, r["raw"][:80], expect[:80]))
        if not r["detail"]:
            errs.append("%s: no detail" % key)
    if seen != exp["rejects"]:
        missing = {k: v for k, v in exp["rejects"].items() if seen.get(k) != v}
        extra = {k: v for k, v in seen.items() if exp["rejects"].get(k) != v}
        errs.append("rejects.csv: planted but not as rejected %s; rejected but not planted %s"
                    % (missing, extra))
    if errs:
        print("check_import: " + "\n  ".join(errs), file=sys.stderr)
        sys.exit(1)
    print("check_import: %d rows, %d rejected as planted" % (j["rows"], j["rows_rejected"]))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Re-splits an archive into one directory per UTC day or month, the way
log files are rotated: OUT/<label>/events.h5 with label 2024-01-31 (day) or
2024-01 (month). Rows keep their order (the archive's files are read in
name order, which is time order for generated archives); columns keep their
HDF5 types (the event_type enum too) and /events keeps its attributes.

Usage: split_archive.py ARCHIVE_DIR OUT_DIR --by day|month
Prints one line per piece: label and rows.
"""

import argparse
import glob
import os
import sys

import h5py
import numpy as np

DAY_US = 86400 * 1_000_000


def labels_of(ts, by):
    days = np.floor_divide(ts, DAY_US).astype("datetime64[D]")
    if by == "day":
        return np.datetime_as_string(days, unit="D")
    return np.datetime_as_string(days.astype("datetime64[M]"), unit="M")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("archive")
    ap.add_argument("out")
    ap.add_argument("--by", choices=["day", "month"], required=True)
    a = ap.parse_args(argv)
    files = sorted(p for p in glob.glob(os.path.join(a.archive, "*.h5"))
                   if "events" in h5py.File(p, "r"))
    if not files:
        print("split_archive: no event files in %s" % a.archive, file=sys.stderr)
        return 2
    cols, dtypes, attrs = {}, {}, {}
    for p in files:
        with h5py.File(p, "r") as f:
            g = f["events"]
            attrs = dict(g.attrs)
            for k in g:
                cols.setdefault(k, []).append(g[k][()])
                dtypes[k] = g[k].dtype
    cols = {k: np.concatenate(v) for k, v in cols.items()}
    lab = labels_of(cols["ts"], a.by)
    # Pieces in order of first appearance (rows are in time order).
    _, first = np.unique(lab, return_index=True)
    for label in lab[np.sort(first)]:
        sel = lab == label
        d = os.path.join(a.out, str(label))
        os.makedirs(d, exist_ok=True)
        with h5py.File(os.path.join(d, "events.h5"), "w") as f:
            g = f.create_group("events")
            for k, v in attrs.items():
                g.attrs[k] = v
            ts = cols["ts"][sel]
            g.attrs["ts_min"] = np.int64(ts.min())
            g.attrs["ts_max"] = np.int64(ts.max())
            for k, v in cols.items():
                g.create_dataset(k, data=v[sel], dtype=dtypes[k], chunks=True)
        print("%s %d" % (label, int(sel.sum())))
    return 0


if __name__ == "__main__":
    sys.exit(main())

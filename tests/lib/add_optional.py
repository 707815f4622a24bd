#!/usr/bin/python3
"""Plants the tables that target-customer selection adds to report.h5
(/tiers, /rfm_segments, /targets, /prospects, /profiles/gender) and a
targets.csv beside it, in the shapes the report format documents, so the
HTML's optional sections can be tested before (and independently of) the
ranking that fills them in real runs.

    add_optional.py REPORT_DIR"""
import os
import sys

import h5py
import numpy as np

SEGS = ["bot", "immediate_buyer", "information_collector", "simple_browser"]


def strings(values):
    return np.array([v.encode() for v in values], dtype="S%d" % max(1, max(len(v) for v in values)))


def main():
    d = sys.argv[1]
    with h5py.File(os.path.join(d, "report.h5"), "a") as f:
        g = f.create_group("tiers", track_order=True)
        g["name"] = strings(["high", "ordinary", "low", "risk"])
        g["users"] = np.array([100, 1000, 5000, 20], np.int64)
        g["revenue"] = np.array([900000, 90000, 10000, -500], np.int64)
        g["revenue_share"] = g["revenue"][:] / 999500.0
        for s in SEGS:
            g["sessions_" + s] = np.arange(4, dtype=np.int64) * 10 + len(s)
        g = f.create_group("rfm_segments", track_order=True)
        g["name"] = strings(["champions", "loyal", "at_risk", "hibernating", "new"])
        g["users"] = np.array([50, 200, 300, 4000, 1500], np.int64)
        g["revenue"] = np.array([500000, 300000, 100000, 1000, 98500], np.int64)
        for name, n in (("targets", 60), ("prospects", 55)):
            g = f.create_group(name, track_order=True)
            g["rank"] = np.arange(1, n + 1, dtype=np.int64)
            uid = np.arange(1000, 1000 + n, dtype=np.uint64)
            uid[0] = np.uint64(2**64 - 1)
            g["user_id"] = uid
            g["score"] = np.linspace(0.99, 0.5, n)
            g["tier"] = strings(["high"] * n)
            g["recency_days"] = np.arange(n, dtype=np.int64)
            g["frequency"] = np.arange(n, dtype=np.int64) + 1
            g["monetary"] = np.arange(n, dtype=np.int64) * 1234
            for s in SEGS:
                g["sessions_" + s] = np.ones(n, np.int64)
        g = f.create_group("profiles/gender", track_order=True)
        g["gender"] = strings([x for x in ("female", "male", "unknown") for _ in SEGS])
        g["segment"] = strings(SEGS * 3)
        g["sessions"] = np.arange(12, dtype=np.int64) * 7
        g["users"] = np.arange(12, dtype=np.int64) * 3
    with open(os.path.join(d, "targets.csv"), "w") as out:
        out.write("rank,user_id,score\n1,18446744073709551615,0.99\n")


if __name__ == "__main__":
    main()

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
    # As clickseg's ranking writes them (src/report_rank.c): groups without
    # creation order, tier and RFM segment as integer codes into /tiers and
    # /rfm_segments, list rows best first without a rank column, profile
    # codes with -1 for users without a profile.
    with h5py.File(os.path.join(d, "report.h5"), "a") as f:
        # Replace what the run wrote with tables of known content.
        for name in ("tiers", "rfm_segments", "targets", "prospects", "profiles"):
            if name in f:
                del f[name]
        g = f.create_group("tiers")
        g["name"] = np.array([b"high", b"ordinary", b"low", b"risk"], dtype="S32")
        g["users"] = np.array([100, 1000, 5000, 20], np.int64)
        g["revenue"] = np.array([900000, 90000, 10000, -500], np.int64)
        g = f.create_group("rfm_segments")
        g["name"] = np.array([b"champions", b"new", b"loyal", b"at_risk", b"hibernating"], dtype="S32")
        g["users"] = np.array([50, 1500, 200, 300, 4000], np.int64)
        g["revenue"] = np.array([500000, 98500, 300000, 100000, 1000], np.int64)
        n = 60
        g = f.create_group("targets")
        uid = np.arange(1000, 1000 + n, dtype=np.uint64)
        uid[0] = np.uint64(2**64 - 1)
        g["user_id"] = uid
        g["score"] = np.arange(n, 0, -1, dtype=np.int64) * 10
        g["tier"] = np.array([0] * 50 + [1] * 10, np.int64)
        g["rfm_segment"] = np.array([0, 2] * 30, np.int64)
        for k in ("recency_days", "frequency", "intent", "risk", "sessions"):
            g[k] = np.arange(n, dtype=np.int64) % 7
        g["monetary"] = np.arange(n, dtype=np.int64) * 1234
        g["revenue"] = np.arange(n, dtype=np.int64) * 1300
        for s in SEGS:
            g["sessions_" + s] = np.ones(n, np.int64)
        g.attrs["tier_values"] = np.bytes_("0=high 1=ordinary 2=low 3=risk")
        # prospects as another writer might: a rank column, tiers as strings,
        # creation order kept
        n = 55
        g = f.create_group("prospects", track_order=True)
        g["rank"] = np.arange(1, n + 1, dtype=np.int64)
        g["user_id"] = np.arange(5000, 5000 + n, dtype=np.uint64)
        g["score"] = np.linspace(0.99, 0.5, n)
        g["tier"] = strings(["ordinary"] * n)
        g["recency_days"] = np.arange(n, dtype=np.int64)
        g = f.create_group("profiles/gender")
        g.attrs["values"] = "0=unknown 1=female 2=male 3=other"   # as the table gave them
        g["value"] = np.array([-1, 1, 2], np.int64)
        g["users"] = np.array([10, 20, 30], np.int64)
        g["revenue"] = np.array([100, 200, 300], np.int64)
        g["purchase_sessions"] = np.array([1, 2, 3], np.int64)
        for s in SEGS:
            g["sessions_" + s] = np.array([1, 2, 3], np.int64)
        for t in ("high", "ordinary", "low", "risk"):
            g["users_" + t] = np.array([1, 2, 3], np.int64)
    with open(os.path.join(d, "targets.csv"), "w") as out:
        out.write("user_id,score\n18446744073709551615,600\n")


if __name__ == "__main__":
    main()

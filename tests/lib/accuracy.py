#!/usr/bin/python3
"""accuracy.py ARCHIVE_DIR OUTDIR [--min 0.95]

Compares clickseg's session segments (OUTDIR/sessions.h5) with the intent the
generator planted (/truth/intent of every event, grouped by the archive's
session_id). A planted session is matched to clickseg's session of the same
user that starts at the planted session's first event. Prints the confusion
matrix; exits 1 when agreement on non-bot sessions is below --min, when a
planted bot session is not labelled bot, or when a planted session has no
matching clickseg session.
"""
import argparse
import glob
import os
import sys

import h5py
import numpy as np
import pandas as pd

INTENTS = ["simple_browser", "information_collector", "immediate_buyer", "bot"]


def planted(archive):
    parts = []
    for f in sorted(glob.glob(os.path.join(archive, "events-*.h5"))):
        with h5py.File(f, "r") as h:
            parts.append(pd.DataFrame({
                "session_id": h["events/session_id"][:],
                "user_id": h["events/user_id"][:],
                "ts": h["events/ts"][:],
                "intent": h["truth/intent"][:],
            }))
    ev = pd.concat(parts, ignore_index=True)
    g = ev.groupby("session_id").agg(user_id=("user_id", "first"), start_ts=("ts", "min"),
                                     intent=("intent", "first"), n_intents=("intent", "nunique"))
    assert (g.n_intents == 1).all(), "a planted session has mixed intents"
    return g.reset_index()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("archive")
    ap.add_argument("outdir")
    ap.add_argument("--min", type=float, default=0.95)
    a = ap.parse_args()
    truth = planted(a.archive)
    with h5py.File(os.path.join(a.outdir, "sessions.h5"), "r") as h:
        seg_type = h["sessions/segment"].dtype
        mapping = h5py.check_enum_dtype(seg_type)
        names = {v: k for k, v in mapping.items()}
        got = pd.DataFrame({"user_id": h["sessions/user_id"][:],
                            "start_ts": h["sessions/start_ts"][:],
                            "segment": [names[int(v)] for v in h["sessions/segment"][:]]})
    m = truth.merge(got, on=["user_id", "start_ts"], how="left")
    unmatched = int(m.segment.isna().sum())
    m["planted"] = [INTENTS[i] for i in m.intent]
    cm = pd.crosstab(m.planted, m.segment.fillna("(none)"))
    print("confusion matrix (rows: planted intent, columns: clickseg segment)")
    print(cm.to_string())
    human = m[m.planted != "bot"]
    agree = float((human.planted == human.segment).mean()) if len(human) else 1.0
    bots = m[m.planted == "bot"]
    bots_flagged = int((bots.segment == "bot").sum())
    print(f"agreement on non-bot sessions: {agree:.4f} ({len(human)} sessions); "
          f"bots flagged: {bots_flagged}/{len(bots)}; unmatched planted sessions: {unmatched}")
    ok = agree >= a.min and bots_flagged == len(bots) and unmatched == 0
    if not ok:
        print("accuracy: FAIL", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

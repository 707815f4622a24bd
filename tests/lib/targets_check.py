#!/usr/bin/python3
"""targets_check.py ARCHIVE_DIR OUTDIR [--k K]

Checks target-customer selection against the generator's planted truth and
against clickseg's own customer table:
- the targets list equals the first K rows of customers.h5 sorted by
  (score desc, user_id asc) outside the risk tier, and prospects are never-bought, non-risk users
  sorted the same way by their own order;
- the high tier holds at least 80% of the planted high-value customers
  (users with >= 3 planted purchase sessions: immediate buyers and collectors
  who bought, counted from /truth/intent and the events, not from clickseg);
- no planted bot (a user with a planted bot session) is in the targets;
- tier, RFM and profile cross-tab totals add up exactly to the user and
  segment totals.
"""
import argparse
import glob
import json
import os
import sys

import h5py
import numpy as np
import pandas as pd


def planted_users(archive):
    parts = []
    for f in sorted(glob.glob(os.path.join(archive, "events-*.h5"))):
        with h5py.File(f, "r") as h:
            parts.append(pd.DataFrame({"session_id": h["events/session_id"][:],
                                       "user_id": h["events/user_id"][:],
                                       "type": h["events/event_type"][:],
                                       "intent": h["truth/intent"][:]}))
    ev = pd.concat(parts, ignore_index=True)
    # column flags first: a lambda per group costs seconds at 10^5 sessions
    ev["bought"] = ev["type"] == 6
    s = ev.groupby("session_id").agg(user_id=("user_id", "first"), intent=("intent", "first"),
                                     bought=("bought", "any"))
    s["bot"] = s["intent"] == 3
    u = s.groupby("user_id").agg(purchase_sessions=("bought", "sum"), bot=("bot", "any"))
    return u


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("archive")
    ap.add_argument("outdir")
    a = ap.parse_args()
    rep = json.load(open(os.path.join(a.outdir, "report.json")))
    with h5py.File(os.path.join(a.outdir, "customers.h5"), "r") as h:
        g = h["customers"]
        tier_names = {v: k for k, v in h5py.check_enum_dtype(g["tier"].dtype).items()}
        cu = pd.DataFrame({k: g[k][:] for k in g if k not in ("tier", "rfm_segment")})
        cu["tier"] = [tier_names[int(v)] for v in g["tier"][:]]
    fails = []
    k = len(rep["targets"])
    # the risk tier is no target, however high its score
    best = cu[cu.tier != "risk"].sort_values(["score", "user_id"], ascending=[False, True]).head(k)
    if [t["user_id"] for t in rep["targets"]] != best.user_id.tolist():
        fails.append("targets are not the first K non-risk customers by (score desc, user_id asc)")
    if any(t["tier"] == "risk" for t in rep["targets"]):
        fails.append("a risk-tier customer is a target")
    if [t["score"] for t in rep["targets"]] != best.score.tolist():
        fails.append("target scores differ from customers.h5")
    for p in rep["prospects"]:
        if p["frequency"] != 0 or p["tier"] == "risk":
            fails.append(f"prospect {p['user_id']} has bought or is risky")
            break
    truth = planted_users(a.archive)
    hv = truth[(truth.purchase_sessions >= 3) & ~truth.bot].index
    tiers = cu.set_index("user_id").tier
    in_high = float((tiers.loc[hv] == "high").mean()) if len(hv) else 1.0
    bots = set(truth[truth.bot].index)
    bot_targets = [t["user_id"] for t in rep["targets"] if t["user_id"] in bots]
    print(f"planted high-value customers: {len(hv)}, in the high tier: {in_high:.3f}; "
          f"planted bots in the top-{k}: {len(bot_targets)}")
    if in_high < 0.8:
        fails.append(f"only {in_high:.3f} of planted high-value customers are in the high tier")
    if bot_targets:
        fails.append(f"planted bots in the targets: {bot_targets[:5]}")
    users = rep["totals"]["users"]
    if sum(t["users"] for t in rep["tiers"]) != users or sum(r["users"] for r in rep["rfm_segments"]) != users:
        fails.append("tier or RFM user counts do not add up to the users total")
    for t in rep["tiers"]:
        if t["users"] != int((cu.tier == t["name"]).sum()):
            fails.append(f"tier {t['name']}: report {t['users']} vs customers.h5")
    segs = {s["name"]: s["sessions"] for s in rep["segments"]}
    for col, rows in rep.get("profiles", {}).items():
        if sum(r["users"] for r in rows) != users:
            fails.append(f"profile {col}: users do not add up")
        for name, n in segs.items():
            if sum(r["sessions"][name] for r in rows) != n:
                fails.append(f"profile {col}: {name} sessions do not add up")
        for t in rep["tiers"]:
            if sum(r["tiers"][t["name"]] for r in rows) != t["users"]:
                fails.append(f"profile {col}: tier {t['name']} does not add up")
    for name, n in segs.items():
        if sum(t["sessions"][name] for t in rep["tiers"]) != n:
            fails.append(f"tiers: {name} sessions do not add up")
    for f in fails:
        print("FAIL:", f, file=sys.stderr)
    print("targets_check:", "ok" if not fails else "FAIL")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

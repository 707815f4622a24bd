#!/usr/bin/python3
"""Independent check of `clickseg import` (and of `clickseg run` on the result).

Reads the raw sample with pandas, written from the published description of
each format (not from clickseg's C code), and compares it with the imported
archive, decoded with its dictionaries, event by event:

  import_check.py FORMAT ARCHIVE_DIR RAW... [--report DIR] [--skip-lines N,...]
                  [--csv-config KEY=VALUE ...]

* every raw row (less the --skip-lines line numbers, rows the test planted as
  defects) appears in the archive exactly once: the multisets of
  (ts, user, event type, product, session, price) agree, with string ids
  decoded through dictionaries.h5;
* the archive is in time order, files in order, one file per UTC day;
* events, users, purchases, revenue and source-mode sessions (session-id
  changes in each user's time order) equal the pandas figures;
* with --report DIR (the output of `clickseg run --set session.mode=source`),
  the report's totals equal them too.

Prints the figures; exits 1 (AssertionError) on any difference.
"""

import argparse
import glob
import json
import os
import sys
from decimal import ROUND_HALF_UP, Decimal

import h5py
import numpy as np
import pandas as pd

TYPES = ["page_view", "product_view", "search", "add_to_cart",
         "remove_from_cart", "checkout", "purchase", "refund"]
T = {n: i for i, n in enumerate(TYPES)}
US = 1_000_000


def cents(text):
    """Decimal currency text -> integer cents, half away from zero."""
    if text == "" or text is None:
        return 0
    d = Decimal(text) * 100
    return int(d.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def iso_us(series):
    """Time strings (with or without ' UTC'/'Z') -> µs since the epoch."""
    s = series.str.replace(" UTC", "", regex=False).str.replace("Z", "", regex=False)
    return pd.to_datetime(s).astype("datetime64[ns]").astype("int64") // 1000


# ---- raw readers: one DataFrame with columns ts, user, type, product,
# session, price (user/product/session as strings, the source's text) ----

def raw_rees46(paths, skip):
    frames = []
    for p in paths:
        d = pd.read_csv(p, dtype=str, keep_default_na=False)
        d["line"] = np.arange(2, len(d) + 2)
        frames.append(d[~d.line.isin(skip)])
    d = pd.concat(frames)
    kinds = {"view": "product_view", "cart": "add_to_cart",
             "remove_from_cart": "remove_from_cart", "purchase": "purchase"}
    return pd.DataFrame({
        "ts": iso_us(d.event_time), "user": d.user_id, "type": d.event_type.map(kinds),
        "product": d.product_id, "session": d.user_session,
        "price": [cents(x) for x in d.price],
        "category": np.where(d.category_id != "", d.category_id, d.category_code),
        "brand": d.brand})


def us_of(text, scale):
    """Exact decimal text (seconds or ms with a fraction) -> integer µs."""
    return int((Decimal(text) * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def raw_yoochoose(paths, skip):
    """Prepared TSV copies (SessionId, ItemId, Time in seconds): every row a
    product view; YOOCHOOSE has no users, the session is the user."""
    frames = []
    for p in paths:
        d = pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False)
        frames.append(pd.DataFrame({
            "ts": [us_of(t, US) for t in d.Time], "user": d.SessionId, "type": "product_view",
            "product": d.ItemId, "session": d.SessionId, "price": 0}))
    return pd.concat(frames)


def raw_otto(paths, skip):
    kinds = {"clicks": "product_view", "carts": "add_to_cart", "orders": "purchase"}
    rows = []
    for p in paths:
        for line in open(p):
            o = json.loads(line)
            for e in o["events"]:
                rows.append((e["ts"] * 1000, str(o["session"]), kinds[e["type"]], str(e["aid"]),
                             str(o["session"]), 0))
    return pd.DataFrame(rows, columns=["ts", "user", "type", "product", "session", "price"])


def raw_diginetica(paths, skip):
    """Every row a product view at eventdate (UTC midnight) + timeframe ms;
    an anonymous row (user_id NA) belongs to the user 'session:<id>'."""
    d = pd.concat(pd.read_csv(p, sep=";", dtype=str, keep_default_na=False) for p in paths)
    day = pd.to_datetime(d.eventdate).astype("datetime64[ns]").astype("int64") // 1000
    return pd.DataFrame({
        "ts": day + d.timeframe.astype("int64") * 1000,
        "user": np.where(d.user_id == "NA", "session:" + d.session_id, d.user_id),
        "type": "product_view", "product": d.item_id, "session": d.session_id, "price": 0})


def raw_ga(paths, skip):
    """GA hits: visit start (visitId, seconds) + time (ms); funnel steps by
    eCommerceAction_type; money in millionths -> cents."""
    steps = ["page_view", "page_view", "product_view", "add_to_cart", "remove_from_cart",
             "checkout", "purchase", "refund", "checkout"]
    d = pd.concat(pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths)
    act = d.eCommerceAction_type.astype(int)
    kind = [("search" if a == 0 and k else steps[a]) for a, k in zip(act, d.searchKeyword)]

    def money(row, k):
        if k in ("purchase", "refund"):
            m = int(row.productRevenue) if row.productRevenue else \
                int(row.productPrice or 0) * (int(row.productQuantity) if row.productQuantity else 1)
        else:
            m = int(row.productPrice or 0)
        return cents(str(Decimal(m) / 1000000))
    return pd.DataFrame({
        "ts": d.visitId.astype("int64") * US + d.time.astype("int64") * 1000,
        "user": d.fullVisitorId, "type": kind, "product": d.productSKU,
        "session": d.fullVisitorId + "-" + d.visitId,
        "price": [money(r, k) for r, k in zip(d.itertuples(), kind)],
        "category": d.v2ProductCategory.replace("(not set)", "")})


def raw_truth(paths, skip):
    """A canonical CSV a test wrote beside the file it imports: ts (µs),
    user, type (v1 name), product, session, price (cents)."""
    return pd.concat(pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths).astype(
        {"ts": "int64", "price": "int64"})


RAW = {"rees46": raw_rees46, "yoochoose": raw_yoochoose, "otto": raw_otto,
       "diginetica": raw_diginetica, "ga": raw_ga, "truth": raw_truth}


# ---- the archive ----

def period_label(ts_us, split):
    t = pd.to_datetime(ts_us, unit="us")
    if split == "day":
        return set(t.dt.strftime("%Y-%m-%d"))
    if split == "month":
        return set(t.dt.strftime("%Y-%m"))
    iso = t.dt.isocalendar()
    return {f"{y}-W{w:02d}" for y, w in zip(iso.year, iso.week)}


def read_archive(adir, split="day"):
    files = sorted(glob.glob(os.path.join(adir, "events*.h5")))
    assert files, f"no archive files in {adir}"
    parts, prev = [], None
    for f in files:
        with h5py.File(f, "r") as h:
            e = h["events"]
            d = pd.DataFrame({k: e[k][:] for k in e})
            assert (np.diff(d.ts.values) >= 0).all(), f"{f}: not in time order"
            if prev is not None:
                assert d.ts.iloc[0] >= prev, f"{f}: files not in time order"
            prev = d.ts.iloc[-1]
            name = os.path.basename(f)
            if split == "none":
                assert name == "events.h5", name
            else:
                got = period_label(d.ts, split)
                assert got == {name[len("events-"):-3]}, f"{f}: holds periods {sorted(got)}"
            parts.append(d)
    ev = pd.concat(parts, ignore_index=True)
    dicts = {}
    dp = os.path.join(adir, "dictionaries.h5")
    if os.path.exists(dp):
        with h5py.File(dp, "r") as h:
            for name, g in h["dictionaries"].items():
                ids = g["id"][:].astype(np.uint64)
                keys = [k.decode() for k in g["key"][:]]
                labels = [k.decode() for k in g["label"][:]]
                assert len(set(ids.tolist())) == len(ids), f"dictionary {name}: repeated ids"
                dicts[name] = (dict(zip(ids.tolist(), keys)), dict(zip(ids.tolist(), labels)))
    return ev, dicts


def decode(col, dicts, name):
    """Archive id column -> the source's text (dictionary key, else the number)."""
    m = dicts.get(name, ({}, {}))[0]
    return [m.get(int(v), str(int(v))) for v in col]


def figures(d):
    """events, users, purchases, revenue, source-mode sessions of a frame
    with columns ts, user, type, session, price (type as a name)."""
    s = d.sort_values(["user", "ts", "session"], kind="stable")
    runs = ((s.user != s.user.shift()) | (s.session != s.session.shift())).sum()
    s2 = d.sort_values(["user", "ts", "session"], ascending=[True, True, False], kind="stable")
    runs2 = ((s2.user != s2.user.shift()) | (s2.session != s2.session.shift())).sum()
    assert runs == runs2, ("two sessions of one user share a timestamp: source-mode "
                           "sessions depend on the order of ties; use other test data")
    pur = d[d.type == "purchase"]
    return {"events": len(d), "users": d.user.nunique(), "purchases": len(pur),
            "revenue": int(pur.price.sum()), "sessions": int(runs)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("format")
    ap.add_argument("archive")
    ap.add_argument("raw", nargs="+")
    ap.add_argument("--report")
    ap.add_argument("--skip-lines", default="")
    ap.add_argument("--split", default="day", choices=["day", "week", "month", "none"])
    a = ap.parse_args()
    skip = {int(x) for x in a.skip_lines.split(",") if x}
    raw = RAW[a.format](a.raw, skip)
    ev, dicts = read_archive(a.archive, a.split)
    got = pd.DataFrame({
        "ts": ev.ts.values, "user": decode(ev.user_id, dicts, "user"),
        "type": [TYPES[int(t)] for t in ev.event_type],
        "product": decode(ev.product_id, dicts, "product"),
        "session": decode(ev.session_id, dicts, "session"), "price": ev.price.values})
    raw = raw.astype({"ts": "int64", "price": "int64"})
    cols = ["ts", "user", "type", "product", "session", "price"]
    for c in ("category", "brand"):   # checked when the raw reader knows them
        if c in raw:
            got[c] = decode(ev[c + "_id"], dicts, c)
            cols.append(c)
    for c in cols[3:]:
        if c != "price":
            raw[c] = raw[c].astype(str).replace("", "0")
    a_rows = raw[cols].sort_values(cols).reset_index(drop=True)
    b_rows = got[cols].sort_values(cols).reset_index(drop=True)
    assert len(a_rows) == len(b_rows), f"raw has {len(a_rows)} events, archive {len(b_rows)}"
    diff = (a_rows != b_rows).any(axis=1)
    assert not diff.any(), ("archive differs from the raw file:\n" +
                            pd.concat([a_rows[diff].head(), b_rows[diff].head()], axis=1).to_string())
    fr, fa = figures(raw), figures(got)
    assert fr == fa, (fr, fa)
    print(f"import_check {a.format}: {fr} (raw = archive)")
    types = raw.type.value_counts().to_dict()
    summ = json.load(open(os.path.join(a.archive, "import.json")))
    assert summ["events_written"] == fr["events"], summ["events_written"]
    for t, n in types.items():
        assert summ["event_types"][t] == n, (t, summ["event_types"][t], n)
    if a.report:
        tot = json.load(open(os.path.join(a.report, "report.json")))["totals"]
        assert tot["events"] == fr["events"], (tot["events"], fr["events"])
        assert tot["users"] == fr["users"], (tot["users"], fr["users"])
        assert tot["sessions"] == fr["sessions"], (tot["sessions"], fr["sessions"])
        if tot["bot_sessions"] == 0:
            assert tot["revenue"] == fr["revenue"], (tot["revenue"], fr["revenue"])
        print(f"import_check {a.format}: report totals agree "
              f"(events {tot['events']}, users {tot['users']}, sessions {tot['sessions']}, "
              f"revenue {tot['revenue']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

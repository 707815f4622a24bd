#!/usr/bin/python3
"""Writes edge-case clickstream archives (format v1) with plain h5py.

Usage:
  make_edge_archive.py OUTDIR [--variant edge|bad-overflow|no-events|unequal]
                       [--expect FILE.json] [--seed N]

No clickseg attributes or code are used: the files are what a third party
could produce.  Variants:

  edge          (default) valid archive of several files covering:
                gaps of exactly `gap` and gap+1 us; equal timestamps of one
                user; a session crossing midnight; a session crossing a file
                boundary; a user with 100000 events (bot burst); bot-rule
                boundaries (100 events in 300 s / 301 s, 1000 slow events);
                immediate-buyer boundaries (12 / 13 events); an empty file;
                single-event users; event_type as an HDF5 enum (a_enum.h5),
                plain uint8 (b_uint8.h5) and int64 (d_cat64.h5); user_id as
                int32 (c_int32_user.h5); category_id as int64 (d_cat64.h5,
                with the uint32 maximum); user_id and session_id >= 2^63; a
                file with rows out of time order (e_ooo.h5): displaced by less
                than max_lateness, plus rows that are late (one exactly at the
                limit, which is not late); rejected rows (event_type 9, ts < 0);
                purchases and refunds with prices; missing optional columns
                (b_uint8.h5 lacks brand_id, c_int32_user.h5 lacks session_id);
                gzip-compressed chunked and contiguous datasets; and a
                profile-only file profiles.h5 (/customers, no /events).
  bad-overflow  valid file + a file whose int64 category_id holds 2^40:
                clickseg must refuse with an error naming it.
  no-events     valid file + an HDF5 file with neither /events nor /customers.
  unequal       valid file + a file whose /events datasets differ in length.

--expect writes the counts the edge archive was built to have (rejected and
late rows with the default max_lateness of 3600 s) for the tests to check;
it is not written inside OUTDIR unless asked, so OUTDIR holds only *.h5.
"""

import argparse
import json
import os
import sys

import h5py
import numpy as np

EVENT_TYPES = ["page_view", "product_view", "search", "add_to_cart",
               "remove_from_cart", "checkout", "purchase", "refund"]
PV, PRV, SEARCH, CART, UNCART, CHECKOUT, PURCHASE, REFUND = range(8)

US = 1_000_000
MIN = 60 * US
HOUR = 3600 * US
GAP = 1800 * US
LATENESS = 3600 * US
T0 = int(np.datetime64("2024-01-30T00:00:00", "us").astype(np.int64))  # a Tuesday

COLS = ["ts", "user_id", "event_type", "product_id", "category_id", "brand_id",
        "price", "session_id"]
DEFAULT_TYPES = {"ts": np.int64, "user_id": np.uint64, "event_type": np.uint8,
                 "product_id": np.uint64, "category_id": np.uint32,
                 "brand_id": np.uint32, "price": np.int64, "session_id": np.uint64}


class Rows:
    """Accumulates event rows (python ints) for one file."""

    def __init__(self):
        self.r = {c: [] for c in COLS}

    def add(self, ts, user, et, product=0, category=0, brand=0, price=0, sid=0):
        for c, v in zip(COLS, (ts, user, et, product, category, brand, price, sid)):
            self.r[c].append(int(v))

    def extend(self, other):
        for c in COLS:
            self.r[c].extend(other.r[c])

    def __len__(self):
        return len(self.r["ts"])

    def sort_by_ts(self):
        o = sorted(range(len(self)), key=lambda i: self.r["ts"][i])
        self.reorder(o)

    def reorder(self, o):
        for c in COLS:
            self.r[c] = [self.r[c][i] for i in o]


def event_enum():
    return h5py.enum_dtype({n: i for i, n in enumerate(EVENT_TYPES)}, basetype="u1")


def write_events(path, rows, types=None, omit=(), compress=False, truth=False):
    """Writes /events; `types` maps column -> numpy dtype or 'enum'."""
    t = dict(DEFAULT_TYPES)
    t.update(types or {})
    n = len(rows)
    with h5py.File(path, "w") as f:
        g = f.create_group("events")
        for c in COLS:
            if c in omit:
                continue
            kw = {}
            if compress and n:
                kw = dict(chunks=(min(n, 4096),), compression="gzip", shuffle=True)
            if t[c] == "enum":
                data = np.array(rows.r[c], dtype=np.uint8)
                g.create_dataset(c, data=data, dtype=event_enum(), **kw)
            else:
                vals = rows.r[c]
                data = np.array(vals, dtype=t[c]) if n else np.zeros(0, t[c])
                g.create_dataset(c, data=data, **kw)
        if truth:
            f.create_dataset("truth/intent", data=np.zeros(n, np.uint8))


def visits(rows, rng, users, t_lo, t_hi, nvisits, sid_base):
    """Random ordinary visits of `users` starting in [t_lo, t_hi)."""
    w = np.array([40, 30, 10, 6, 2, 3, 3, 1], float)
    w /= w.sum()
    for k in range(nvisits):
        user = int(rng.choice(users))
        t = int(rng.integers(t_lo, t_hi))
        nev = int(rng.geometric(0.25))
        sid = sid_base + k
        for _ in range(nev):
            et = int(rng.choice(8, p=w))
            prod = int(rng.integers(1, 500)) if et != SEARCH and rng.random() < 0.8 else 0
            cat = prod % 37 + 1 if prod else 0
            brand = prod % 11 if prod else 0       # brand 0 = none for some products
            price = int(rng.integers(100, 50000)) if et in (PURCHASE, REFUND, CART) else 0
            rows.add(t, user, et, prod, cat, brand, price, sid)
            # mostly short steps, sometimes a long pause (> gap) inside a visit
            step = int(rng.integers(1 * US, 10 * MIN)) if rng.random() < 0.93 \
                else int(rng.integers(GAP - 2 * MIN, GAP + 20 * MIN))
            t += step
    return rows


# ---------------------------------------------------------------- variants

def make_edge(outdir, seed):
    rng = np.random.default_rng(seed)
    expect = {"rejected_events": 0, "late_events": 0, "files": {}}
    pool = np.arange(1000, 1300)            # ordinary users, across all files

    # ---- a_enum.h5: event_type enum, all columns, gzip chunks, [T0, T0+6h)
    a = Rows()
    t1 = T0 + 1 * HOUR
    a.add(t1, 101, PV, sid=11)                         # gap tests (user 101)
    a.add(t1 + GAP, 101, PV, sid=11)                   # exactly gap: same session
    a.add(t1 + 2 * GAP + 1, 101, PV, sid=12)           # gap + 1 us: new session
    a.add(t1 + 2 * GAP + 1 + 500_000, 101, PRV, 7, 3, 2, sid=12)
    t2 = T0 + 2 * HOUR + 123_456                       # equal timestamps (user 102)
    a.add(t2, 102, PRV, 5001, 50, 5, sid=21)
    a.add(t2, 102, PURCHASE, 5001, 50, 5, 2500, sid=21)
    a.add(t2, 102, PRV, 5002, 50, 6, sid=22)           # source id changes at equal ts
    a.add(t2, 102, CART, 5002, 50, 6, 1800, sid=22)
    a.add(T0 + 3 * HOUR, 103, SEARCH, sid=31)           # single-event user
    t4 = T0 + 1 * HOUR + 17 * MIN                      # immediate buyer + later refund
    for i, et in enumerate([PV, PRV, CART, CHECKOUT, PURCHASE]):
        a.add(t4 + i * 40 * US, 104, et, 77 if et != PV else 0, 9 if et != PV else 0,
              3 if et != PV else 0, 1999 if et in (CART, PURCHASE) else 0, sid=41)
    a.add(t4 + 3 * HOUR, 104, REFUND, 77, 9, 3, 1999, sid=42)
    t5 = T0 + 4 * HOUR                                 # information collector, abandoned cart
    for i, (et, p) in enumerate([(SEARCH, 0), (PRV, 11), (PRV, 12), (SEARCH, 0), (PRV, 13),
                                 (PRV, 11), (PRV, 14), (PRV, 15), (CART, 14), (UNCART, 14),
                                 (CART, 15)]):
        a.add(t5 + i * 75 * US, 105, et, p, p // 2 if p else 0, p % 3 if p else 0,
              3000 if et in (CART, UNCART) else 0, sid=51)
    big_user = 2**64 - 1                               # uint64 ids above 2^63
    a.add(T0 + 2 * HOUR, big_user, PV, sid=2**64 - 2)
    a.add(T0 + 2 * HOUR + 5 * MIN, big_user, PURCHASE, 9, 9, 9, 4200, sid=2**64 - 2)
    a.add(T0 + 2 * HOUR + 1 * MIN, 2**63 + 5, PRV, 10, 10, 10, sid=2**63)
    for i, m in enumerate([40, 50, 58]):               # session crossing into b_uint8.h5
        a.add(T0 + 5 * HOUR + m * MIN, 110, PRV, 300 + i, 30, 3, sid=1101)
    visits(a, rng, pool, T0 + 10 * MIN, T0 + 5 * HOUR, 120, 100000)
    a.add(T0, 1000, PV, sid=99)                        # fix the first and last ts
    a.add(T0 + 6 * HOUR - 1, 1001, PV, sid=98)
    a.sort_by_ts()
    a.r["ts"] = [min(x, T0 + 6 * HOUR - 1) for x in a.r["ts"]]
    write_events(os.path.join(outdir, "a_enum.h5"), a, {"event_type": "enum"},
                 compress=True, truth=True)

    # ---- b_uint8.h5: plain uint8 event_type, no brand_id, [T0+6h, T0+12h)
    b = Rows()
    b.add(T0 + 6 * HOUR + 5 * MIN, 110, PRV, 303, 30, 0, sid=1101)
    b.add(T0 + 6 * HOUR + 20 * MIN, 110, PURCHASE, 303, 30, 0, 12900, sid=1101)
    t6 = T0 + 7 * HOUR                                 # several purchases + refund, one session
    for i, (et, price) in enumerate([(PRV, 0), (PURCHASE, 1000), (PRV, 0), (PURCHASE, 2500),
                                     (REFUND, 1000), (PV, 0)]):
        b.add(t6 + i * 2 * MIN, 201, et, 600 + i, 60, 0, price, sid=2011)
    visits(b, rng, pool, T0 + 6 * HOUR + 10 * MIN, T0 + 11 * HOUR, 120, 200000)
    b.add(T0 + 6 * HOUR, 1002, PV, sid=97)
    b.add(T0 + 12 * HOUR - 1, 1003, PV, sid=96)
    b.sort_by_ts()
    b.r["ts"] = [min(x, T0 + 12 * HOUR - 1) for x in b.r["ts"]]
    # rejected rows in the middle of the file: bad type and negative ts
    mid = len(b) // 2
    o = list(range(len(b)))
    rej = Rows()
    rej.add(b.r["ts"][mid], 202, 9, sid=7)
    rej.add(b.r["ts"][mid] + 1, 202, 9, 5, 5, 0, 100, sid=7)
    rej.add(b.r["ts"][mid + 3], 1004, 200, sid=7)
    rej.add(-1, 203, PV, sid=8)
    rej.add(-3600 * US, 203, PURCHASE, 1, 1, 0, 999, sid=8)
    # prices beyond +-10^12 minor units (two such wrapped an int64 sum)
    rej.add(b.r["ts"][mid] + 2, 202, PURCHASE, 5, 5, 0, 5 * 10**16, sid=7)
    rej.add(b.r["ts"][mid] + 3, 202, REFUND, 5, 5, 0, -(10**12 + 1), sid=7)
    b2 = Rows()
    for i in o[:mid]:
        b2.add(*[b.r[c][i] for c in COLS])
    b2.extend(rej)
    for i in o[mid:]:
        b2.add(*[b.r[c][i] for c in COLS])
    write_events(os.path.join(outdir, "b_uint8.h5"), b2, omit=("brand_id",))
    expect["rejected_events"] += 7

    # ---- c_int32_user.h5: user_id int32, no session_id, [T0+12h, T0+18h)
    c = Rows()
    s = T0 + 12 * HOUR + 30 * MIN
    for i in range(100):                               # 100 events in 300 s: epm 20 -> bot
        if i >= 97:                                    # its purchases: not the customer's money
            c.add(s + (i * 300 * US) // 99, 301, PURCHASE, i + 1, 1, 1, 12345)
        else:
            c.add(s + (i * 300 * US) // 99, 301, PV if i % 2 else PRV, i + 1, 1, 1)
    s = T0 + 13 * HOUR
    for i in range(100):                               # 100 events in 301 s: epm 19 -> not bot
        c.add(s + (i * 301 * US) // 99, 302, PV if i % 2 else PRV, i + 1, 1, 1)
    s = T0 + 12 * HOUR + 5 * MIN
    for i in range(1000):                              # 1000 slow events: bot by rule 2
        c.add(s + i * 10 * US, 303, PV)
    s = T0 + 14 * HOUR
    seq12 = [PV, PV, PRV, PV, PRV, SEARCH, PV, PRV, PV, CART, CHECKOUT, PURCHASE]
    for i, et in enumerate(seq12):                     # 12 events: immediate buyer
        c.add(s + i * 20 * US, 304, et, 40 if et != PV and et != SEARCH else 0, 4, 4,
              777 if et in (CART, PURCHASE) else 0)
    s = T0 + 15 * HOUR
    for i, et in enumerate([PV] + seq12):              # 13 events: information collector
        c.add(s + i * 20 * US, 305, et, 41 if et != PV and et != SEARCH else 0, 4, 4,
              888 if et in (CART, PURCHASE) else 0)
    visits(c, rng, pool, T0 + 12 * HOUR + 10 * MIN, T0 + 17 * HOUR, 120, 0)
    c.add(T0 + 12 * HOUR, 1005, PV)
    c.add(T0 + 18 * HOUR - 1, 1006, PV)
    c.sort_by_ts()
    c.r["ts"] = [min(x, T0 + 18 * HOUR - 1) for x in c.r["ts"]]
    write_events(os.path.join(outdir, "c_int32_user.h5"), c,
                 {"user_id": np.int32}, omit=("session_id",))

    # ---- d_cat64.h5: category_id int64, event_type int64, midnight, [T0+18h, T0+25h)
    d = Rows()
    for m, et in [(23 * 60 + 50, PV), (23 * 60 + 58, PRV), (24 * 60 + 5, CART),
                  (24 * 60 + 20, PURCHASE)]:           # session crossing midnight
        d.add(T0 + m * MIN, 401, et, 4001 if et != PV else 0,
              2**32 - 1 if et != PV else 0, 2**32 - 1 if et != PV else 0,
              5555 if et in (CART, PURCHASE) else 0, sid=4011)
    visits(d, rng, pool, T0 + 18 * HOUR + 10 * MIN, T0 + 24 * HOUR + 30 * MIN, 150, 400000)
    d.add(T0 + 18 * HOUR, 1007, PV, sid=95)
    d.add(T0 + 25 * HOUR - 1, 1008, PV, sid=94)
    d.sort_by_ts()
    d.r["ts"] = [min(x, T0 + 25 * HOUR - 1) for x in d.r["ts"]]
    write_events(os.path.join(outdir, "d_cat64.h5"), d,
                 {"category_id": np.int64, "event_type": np.int64}, compress=True)
    prior_max = T0 + 25 * HOUR - 1

    # ---- e_ooo.h5: rows out of time order, [T0+25h, T0+30h)
    e = Rows()
    visits(e, rng, pool, T0 + 25 * HOUR + 20 * MIN, T0 + 29 * HOUR, 300, 500000)
    e.add(T0 + 25 * HOUR, 1009, PV, sid=93)
    e.r["ts"] = [min(x, T0 + 30 * HOUR - 1) for x in e.r["ts"]]
    # displace rows: order by ts + up to 40 minutes of noise (< max_lateness)
    noise = rng.integers(0, 40 * MIN, len(e))
    noise[e.r["ts"].index(T0 + 25 * HOUR)] = 0
    o = sorted(range(len(e)), key=lambda i: (e.r["ts"][i] + int(noise[i]), i))
    e.reorder(o)
    assert e.r["ts"][0] == T0 + 25 * HOUR
    # insert late rows (and boundary rows that are not late) at chosen positions
    n = len(e)
    inserts = []      # (position, ts offset from the running max, user, type, price)
    spec = [(n // 5, -2 * HOUR, PURCHASE, 31400, True),
            (n // 4, -LATENESS - 1, PRV, 0, True),
            (n // 3, -LATENESS, PURCHASE, 27100, False),     # exactly at the limit
            (n // 2, -LATENESS + 1, PV, 0, False),
            (2 * n // 3, -5 * HOUR, REFUND, 1500, True),
            (3 * n // 4, -LATENESS - 1, SEARCH, 0, True)]
    late_count = 0
    ts_list = e.r["ts"]
    for pos, off, et, price, is_late in sorted(spec, reverse=True):
        runmax = max([prior_max] + ts_list[:pos])
        inserts.append((pos, runmax + off, et, price, is_late))
    for pos, ts, et, price, is_late in inserts:         # descending positions
        user = int(pool[pos % len(pool)])
        for c_ in COLS:
            val = {"ts": ts, "user_id": user, "event_type": et, "product_id": 77,
                   "category_id": 7, "brand_id": 7, "price": price,
                   "session_id": 999}[c_]
            e.r[c_].insert(pos, val)
        late_count += is_late
    write_events(os.path.join(outdir, "e_ooo.h5"), e)
    expect["late_events"] += late_count

    # ---- f_bot.h5: a user with 100000 events (50 ms apart), [T0+30h, T0+33h)
    fb = Rows()
    s = T0 + 30 * HOUR + 10 * MIN
    types = rng.choice([PV, PRV, SEARCH], size=100000, p=[0.5, 0.4, 0.1])
    prods = rng.integers(1, 5000, 100000)
    for i in range(100000):
        et = int(types[i])
        p = int(prods[i]) if et == PRV else 0
        fb.add(s + i * 50_000, 601, et, p, p % 97 if p else 0, p % 13 if p else 0, 0, 6011)
    visits(fb, rng, pool, T0 + 30 * HOUR + 5 * MIN, T0 + 32 * HOUR, 100, 600000)
    fb.add(T0 + 30 * HOUR, 1010, PV, sid=92)
    fb.sort_by_ts()
    write_events(os.path.join(outdir, "f_bot.h5"), fb, compress=True)

    # ---- g_empty.h5: /events with 0 rows
    write_events(os.path.join(outdir, "g_empty.h5"), Rows())

    # ---- profiles.h5: /customers only
    users = np.array(sorted(set(int(x) for x in pool[:200]) | {101, 102, 104, 105, 201, 999999}),
                     np.uint64)
    with h5py.File(os.path.join(outdir, "profiles.h5"), "w") as f:
        g = f.create_group("customers")
        g.create_dataset("user_id", data=users)
        g.create_dataset("gender", data=(users % 3).astype(np.uint8))
        g.create_dataset("age_band", data=(users % 7).astype(np.uint8))
        g.create_dataset("region", data=(users % 5).astype(np.uint8))

    for name, rows in [("a_enum.h5", a), ("b_uint8.h5", b2), ("c_int32_user.h5", c),
                       ("d_cat64.h5", d), ("e_ooo.h5", e), ("f_bot.h5", fb),
                       ("g_empty.h5", Rows())]:
        expect["files"][name] = len(rows)
    expect["files"]["profiles.h5"] = 0
    expect["rows"] = sum(expect["files"].values())
    return expect


def small_valid(path, rng, nvisits=40):
    r = Rows()
    visits(r, rng, np.arange(1, 30), T0, T0 + 2 * HOUR, nvisits, 1)
    r.sort_by_ts()
    write_events(path, r)
    return r


def make_bad_overflow(outdir, seed):
    rng = np.random.default_rng(seed)
    small_valid(os.path.join(outdir, "a_valid.h5"), rng)
    r = Rows()
    visits(r, rng, np.arange(1, 30), T0 + 3 * HOUR, T0 + 4 * HOUR, 20, 1000)
    r.sort_by_ts()
    r.r["category_id"][len(r) // 2] = 2**40
    write_events(os.path.join(outdir, "b_overflow.h5"), r, {"category_id": np.int64})
    return {"error_file": "b_overflow.h5", "error_dataset": "category_id",
            "error_row": len(r) // 2}


def make_no_events(outdir, seed):
    rng = np.random.default_rng(seed)
    small_valid(os.path.join(outdir, "a_valid.h5"), rng)
    with h5py.File(os.path.join(outdir, "b_no_events.h5"), "w") as f:
        f.create_dataset("logs/ts", data=np.arange(10, dtype=np.int64) + T0)
        f.attrs["note"] = "no /events and no /customers"
    return {"error_file": "b_no_events.h5", "error_dataset": "events"}


def make_unequal(outdir, seed):
    rng = np.random.default_rng(seed)
    small_valid(os.path.join(outdir, "a_valid.h5"), rng)
    r = Rows()
    visits(r, rng, np.arange(1, 30), T0 + 3 * HOUR, T0 + 4 * HOUR, 20, 1000)
    r.sort_by_ts()
    path = os.path.join(outdir, "b_unequal.h5")
    write_events(path, r)
    with h5py.File(path, "a") as f:
        et = f["events/event_type"][:-1]
        del f["events/event_type"]
        f.create_dataset("events/event_type", data=et)
    return {"error_file": "b_unequal.h5", "error_dataset": "event_type"}


VARIANTS = {"edge": make_edge, "bad-overflow": make_bad_overflow,
            "no-events": make_no_events, "unequal": make_unequal}


def main(argv=None):
    ap = argparse.ArgumentParser(description="write edge-case archives (format v1)")
    ap.add_argument("outdir")
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="edge")
    ap.add_argument("--expect", help="write the built-in expectations (JSON) here")
    ap.add_argument("--seed", type=int, default=20240130)
    a = ap.parse_args(argv)
    os.makedirs(a.outdir, exist_ok=True)
    expect = VARIANTS[a.variant](a.outdir, a.seed)
    expect["variant"] = a.variant
    if a.expect:
        with open(a.expect, "w") as f:
            json.dump(expect, f, indent=1)
            f.write("\n")
    print("make_edge_archive: %s -> %s" % (a.variant, a.outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Self-check of reference.py (and compare.py) on a hand-written archive.

Run: /usr/bin/python3 tests/lib/test_reference_selfcheck.py
Exits 0 when every check passes, 1 otherwise.

The 20 rows below are split over two files (rows 0-9 in a.h5, 10-19 in
b.h5) and passed in the order b, a: the files must be ordered by first ts.
Every expected value was computed by hand from the specification.
"""

import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference as ref  # noqa: E402

US = 1_000_000
T = int(np.datetime64("2024-03-04T10:00:00", "us").astype(np.int64))  # a Monday
PV, PRV, SEARCH, CART, UNCART, CHECKOUT, PURCHASE, REFUND = range(8)

# row: (ts, user, type, product, category, brand, price, session_id)
ROWS = [
    (T + 0 * US, 1, PV, 0, 0, 0, 0, 1),                  # 0
    (T + 30 * US, 1, PRV, 11, 1, 7, 0, 1),               # 1
    (T + 60 * US, 1, CART, 11, 1, 7, 1500, 1),           # 2
    (T + 90 * US, 1, PURCHASE, 11, 1, 7, 1500, 1),       # 3
    (T + 100 * US, 2, SEARCH, 0, 0, 0, 0, 3),            # 4
    (T + 200 * US, 2, PRV, 21, 2, 8, 0, 3),              # 5
    (T + 300 * US, 2, PRV, 22, 2, 9, 0, 3),              # 6
    (T + 400 * US, 2, PRV, 21, 2, 8, 0, 3),              # 7
    (T + 450 * US, 2, 9, 0, 0, 0, 0, 3),                 # 8  rejected: type 9
    (-1, 2, PV, 0, 0, 0, 0, 3),                          # 9  rejected: ts < 0
    (T + 2200 * US, 2, PV, 0, 0, 0, 0, 3),               # 10 exactly gap after row 7
    (T + 4001 * US, 2, PV, 0, 0, 0, 0, 3),               # 11 gap + 1 s: new session
    (T + 7200 * US, 3, PV, 0, 0, 0, 0, 5),               # 12
    (T + 3599 * US, 4, PV, 0, 0, 0, 0, 7),               # 13 late: 3599 < 7200 - 3600
    (T + 3600 * US, 4, SEARCH, 0, 0, 0, 0, 7),           # 14 at the limit: not late
    (T + 7300 * US, 3, REFUND, 31, 3, 0, 700, 6),        # 15
    (T + 7300 * US, 3, PRV, 31, 3, 0, 0, 5),             # 16 same ts as row 15
    (T + 7400 * US, 5, PURCHASE, 51, 5, 5, 5000, 8),     # 17
    (T + 7500 * US, 1, PURCHASE, 12, 1, 7, 2000, 2),     # 18
    (T + 9000 * US, 1, PRV, 12, 1, 7, 0, 2),             # 19 a view after the purchase
]

FAILS = []


def check(what, got, want):
    if got is None or want is None:   # an undefined rate (no sessions)
        ok = got is want
    elif isinstance(want, float) or isinstance(got, float):
        ok = abs(float(got) - float(want)) <= 1e-9
    else:
        ok = got == want
    if not ok:
        FAILS.append("%s: got %r, want %r" % (what, got, want))


def write_archive(d):
    cols = ["ts", "user_id", "event_type", "product_id", "category_id", "brand_id",
            "price", "session_id"]
    types = [np.int64, np.uint64, np.uint8, np.uint64, np.uint32, np.uint32, np.int64,
             np.uint64]
    paths = []
    for name, rows in (("a.h5", ROWS[:10]), ("b.h5", ROWS[10:])):
        p = os.path.join(d, name)
        with h5py.File(p, "w") as f:
            for i, (c, t) in enumerate(zip(cols, types)):
                data = np.array([r[i] for r in rows], dtype=t)
                if c == "event_type" and name == "b.h5":
                    enum = h5py.enum_dtype({n: k for k, n in enumerate(ref.EVENT_TYPES)},
                                           basetype="u1")
                    f.create_dataset("events/" + c, data=data, dtype=enum)
                elif c == "user_id" and name == "b.h5":
                    f.create_dataset("events/" + c, data=data.astype(np.int32))
                else:
                    f.create_dataset("events/" + c, data=data)
        paths.append(p)
    with h5py.File(os.path.join(d, "profiles.h5"), "w") as f:
        f.create_dataset("customers/user_id", data=np.array([1, 2, 77], np.uint64))
        f.create_dataset("customers/gender", data=np.array([1, 2, 0], np.uint8))
    with h5py.File(os.path.join(d, "empty.h5"), "w") as f:
        for c, t in zip(cols[:3], types[:3]):
            f.create_dataset("events/" + c, data=np.zeros(0, t))
    return paths


def session_rows(R):
    S = R.sessions
    return {(int(S["user_id"][i]), int(S["start_ts"][i])): {k: int(S[k][i]) for k in S}
            for i in range(len(S["user_id"]))}


def main():
    with tempfile.TemporaryDirectory() as d:
        a, b = write_archive(d)
        R = ref.compute([b, a, os.path.join(d, "profiles.h5"), os.path.join(d, "empty.h5")])
        check("file order", [os.path.basename(p) for p in R.files], ["a.h5", "b.h5"])
        t = R.report["totals"]
        for k, v in dict(events=17, sessions=7, users=5, purchase_sessions=3, revenue=8500,
                         refunds=700, bot_sessions=0, late_events=1,
                         rejected_events=2).items():
            check("totals." + k, t[k], v)
        check("late rows", list(R.late_rows), [13])

        segs = {s["name"]: s for s in R.report["segments"]}
        check("segment order", [s["name"] for s in R.report["segments"]], ref.SEGMENTS)
        want = {
            "bot": dict(sessions=0, share=0.0, users=0, events=0, revenue=0, refunds=0,
                        purchase_sessions=0, conversion=None, cart_sessions=0,
                        abandoned_cart_sessions=0),
            "immediate_buyer": dict(sessions=3, share=3 / 7, users=2, events=7, revenue=8500,
                                    refunds=0, purchase_sessions=3, conversion=1.0,
                                    cart_sessions=1, abandoned_cart_sessions=0),
            "information_collector": dict(sessions=1, share=1 / 7, users=1, events=5,
                                          revenue=0, refunds=0, purchase_sessions=0,
                                          conversion=0.0, cart_sessions=0,
                                          abandoned_cart_sessions=0),
            "simple_browser": dict(sessions=3, share=3 / 7, users=3, events=5, revenue=0,
                                   refunds=700, purchase_sessions=0, conversion=0.0,
                                   cart_sessions=0, abandoned_cart_sessions=0),
        }
        for name, kv in want.items():
            for k, v in kv.items():
                check("segments.%s.%s" % (name, k), segs[name][k], v)
        check("periods", [p["period"] for p in R.report["periods"]], ["2024-03-04"])
        pseg = {s["name"]: s for s in R.report["periods"][0]["segments"]}
        for name, kv in want.items():
            for k in ref.PERIOD_KEYS:
                check("periods[0].%s.%s" % (name, k), pseg[name][k], kv[k])

        S = session_rows(R)
        ib, ic, sb = 1, 2, 3
        check("session keys", sorted(S), sorted([
            (1, T), (1, T + 7500 * US), (2, T + 100 * US), (2, T + 4001 * US),
            (3, T + 7200 * US), (4, T + 3600 * US), (5, T + 7400 * US)]))
        want_sessions = {
            (1, T): dict(segment=ib, end_ts=T + 90 * US, events=4, duration_s=90,
                         page_views=1, product_views=1, searches=0, cart_adds=1,
                         cart_removes=0, checkouts=0, purchases=1, refunds=0,
                         distinct_products=1, distinct_categories=1, distinct_brands=1,
                         revenue=1500, refund_amount=0, time_to_purchase_s=90,
                         views_before_purchase=2, entry_hour=10, entry_weekday=0,
                         events_per_minute=2, min_gap_ms=30000),
            (2, T + 100 * US): dict(segment=ic, end_ts=T + 2200 * US, events=5,
                                    duration_s=2100, page_views=1, product_views=3,
                                    searches=1, cart_adds=0, cart_removes=0, checkouts=0,
                                    purchases=0, refunds=0, distinct_products=2,
                                    distinct_categories=1, distinct_brands=2, revenue=0,
                                    refund_amount=0, time_to_purchase_s=-1,
                                    views_before_purchase=-1, entry_hour=10,
                                    entry_weekday=0, events_per_minute=0,
                                    min_gap_ms=100000),
            (1, T + 7500 * US): dict(segment=ib, events=2, duration_s=1500, searches=0,
                                     product_views=1, distinct_products=1,
                                     purchases=1, revenue=2000, time_to_purchase_s=0,
                                     views_before_purchase=0, entry_hour=12,
                                     events_per_minute=0, min_gap_ms=1500000),
            (2, T + 4001 * US): dict(segment=sb, events=1, duration_s=0, page_views=1,
                                     entry_hour=11, events_per_minute=60, min_gap_ms=-1,
                                     time_to_purchase_s=-1, views_before_purchase=-1),
            (3, T + 7200 * US): dict(segment=sb, events=3, duration_s=100, page_views=1,
                                     product_views=1, refunds=1, refund_amount=700,
                                     distinct_products=1, distinct_categories=1,
                                     distinct_brands=0, entry_hour=12, events_per_minute=1,
                                     min_gap_ms=0),
            (4, T + 3600 * US): dict(segment=sb, events=1, searches=1, entry_hour=11),
            (5, T + 7400 * US): dict(segment=ib, events=1, purchases=1, revenue=5000,
                                     time_to_purchase_s=0, views_before_purchase=0,
                                     distinct_brands=1, events_per_minute=60, min_gap_ms=-1),
        }
        for key, kv in want_sessions.items():
            for k, v in kv.items():
                check("session %s.%s" % (key, k), S.get(key, {}).get(k), v)

        C = R.customers
        cust = {int(C["user_id"][i]): {k: int(C[k][i]) for k in C}
                for i in range(len(C["user_id"]))}
        check("customers users", sorted(cust), [1, 2, 3, 4, 5])
        want_c = {
            1: dict(events=6, sessions=2, purchase_sessions=2, purchases=2, revenue=3500,
                    refunds=0, first_ts=T, last_ts=T + 9000 * US, sessions_bot=0,
                    sessions_immediate_buyer=2, sessions_information_collector=0,
                    sessions_simple_browser=0),
            2: dict(events=6, sessions=2, purchase_sessions=0, purchases=0, revenue=0,
                    first_ts=T + 100 * US, last_ts=T + 4001 * US,
                    sessions_information_collector=1, sessions_simple_browser=1),
            3: dict(events=3, sessions=1, refunds=700, first_ts=T + 7200 * US,
                    last_ts=T + 7300 * US, sessions_simple_browser=1),
            4: dict(events=1, sessions=1, first_ts=T + 3600 * US, last_ts=T + 3600 * US),
            5: dict(events=1, purchase_sessions=1, purchases=1, revenue=5000,
                    sessions_immediate_buyer=1),
        }
        for u, kv in want_c.items():
            for k, v in kv.items():
                check("customer %d.%s" % (u, k), cust.get(u, {}).get(k), v)

        # Parameter variations (hand-computed session / late counts).
        def run(**kw):
            return ref.compute([a, b], **kw).report["totals"]
        check("gap 1799 s sessions", run(gap_us=1799 * US)["sessions"], 8)
        check("gap 1499 s sessions", run(gap_us=1499 * US)["sessions"], 9)
        check("max_duration 60 s sessions", run(max_duration_us=60 * US)["sessions"], 14)
        check("max_duration 90 s sessions", run(max_duration_us=90 * US)["sessions"], 13)
        t = run(max_lateness_us=3601 * US)
        check("max_lateness 3601 late", t["late_events"], 0)
        check("max_lateness 3601 events", t["events"], 18)
        check("max_lateness 3601 sessions", t["sessions"], 7)
        check("max_lateness 0 late", run(max_lateness_us=0)["late_events"], 2)
        Rs = ref.compute([a, b], mode="source")
        check("source sessions", Rs.report["totals"]["sessions"], 8)
        Ss = session_rows(Rs)
        check("source u2 events", Ss.get((2, T + 100 * US), {}).get("events"), 6)
        check("source u2 duration", Ss.get((2, T + 100 * US), {}).get("duration_s"), 3901)
        su, st = Rs.sessions["user_id"], Rs.sessions["start_ts"]
        check("source u3 sessions", sorted(int(x) for x in st[su == 3]),
              [T + 7200 * US, T + 7300 * US, T + 7300 * US])

        # Rule boundaries on synthetic feature vectors (first match wins).
        def seg_of(**kw):
            F = {k: np.array([kw.get(k, 0)], np.int64) for k in ref.FEATURES}
            return int(ref._segment_of(F)[0])
        check("rule bot epm 20", seg_of(events=100, events_per_minute=20), 0)
        check("rule bot epm 19", seg_of(events=100, events_per_minute=19), 3)
        check("rule bot 99 events", seg_of(events=99, events_per_minute=500), 3)
        check("rule bot 1000 events", seg_of(events=1000, events_per_minute=1), 0)
        check("rule bot before buyer", seg_of(events=1000, purchases=1), 0)
        check("rule buyer 12", seg_of(events=12, purchases=1, product_views=3, searches=1), 1)
        check("rule buyer 13", seg_of(events=13, purchases=1), 2)
        check("rule buyer 4 views", seg_of(events=5, purchases=1, product_views=4), 2)
        check("rule buyer 2 searches", seg_of(events=5, purchases=1, searches=2), 2)
        check("rule collector views", seg_of(events=3, product_views=3), 2)
        check("rule collector 2 views", seg_of(events=3, product_views=2, searches=1), 3)
        check("rule collector cart", seg_of(events=1, cart_adds=1), 2)

        # A bot session (100 events in exactly 300 s, ending with a purchase)
        # is counted but kept out of the business totals and the customer's
        # orders and money; the same in 301 s is
        # not a bot (events_per_minute 6000 // 301 = 19).
        for dur, is_bot in ((300, True), (301, False)):
            bd = os.path.join(d, "bot%d" % dur)
            os.mkdir(bd)
            ts = np.array([T + 10000 * US + (i * dur * US) // 99 for i in range(100)], np.int64)
            et = np.zeros(100, np.uint8)
            et[-1] = PURCHASE
            with h5py.File(os.path.join(bd, "bot.h5"), "w") as f:
                f.create_dataset("events/ts", data=ts)
                f.create_dataset("events/user_id", data=np.full(100, 9, np.uint64))
                f.create_dataset("events/event_type", data=et)
                f.create_dataset("events/price", data=np.where(et == PURCHASE, 100, 0))
            Rb = ref.compute([a, b, bd])
            tb = Rb.report["totals"]
            sb_ = {s_["name"]: s_ for s_ in Rb.report["segments"]}
            tag = "bot%d " % dur
            check(tag + "events", tb["events"], 117)
            check(tag + "sessions", tb["sessions"], 8)
            check(tag + "bot_sessions", tb["bot_sessions"], 1 if is_bot else 0)
            check(tag + "purchase_sessions", tb["purchase_sessions"], 3 if is_bot else 4)
            check(tag + "revenue", tb["revenue"], 8500 if is_bot else 8600)
            check(tag + "bot share", sb_["bot"]["share"], 1 / 8 if is_bot else 0.0)
            check(tag + "bot revenue", sb_["bot"]["revenue"], 100 if is_bot else 0)
            check(tag + "bot conversion", sb_["bot"]["conversion"], 1.0 if is_bot else None)
            check(tag + "buyer share", sb_["immediate_buyer"]["share"], 3 / 7 if is_bot else 3 / 8)
            check(tag + "collector sessions", sb_["information_collector"]["sessions"],
                  1 if is_bot else 2)
            C9 = Rb.customers
            i9 = int(np.nonzero(C9["user_id"] == 9)[0][0])
            check(tag + "customer purchase_sessions", int(C9["purchase_sessions"][i9]),
                  0 if is_bot else 1)
            # a customer's orders and money are business figures, as the totals
            check(tag + "customer purchases", int(C9["purchases"][i9]), 0 if is_bot else 1)
            check(tag + "customer revenue", int(C9["revenue"][i9]), 0 if is_bot else 100)
            check(tag + "customer sessions_bot", int(C9["sessions_bot"][i9]), 1 if is_bot else 0)
            check(tag + "epm", int(Rb.sessions["events_per_minute"][Rb.sessions["user_id"] == 9][0]),
                  20 if is_bot else 19)

        # Invalid archives are refused.
        os.mkdir(os.path.join(d, "bad"))
        bad = os.path.join(d, "bad", "bad.h5")
        with h5py.File(bad, "w") as f:
            f.create_dataset("events/ts", data=np.array([T], np.int64))
            f.create_dataset("events/user_id", data=np.array([1], np.uint64))
            f.create_dataset("events/event_type", data=np.array([0], np.uint8))
            f.create_dataset("events/category_id", data=np.array([2**40], np.int64))
        try:
            ref.compute([a, bad])
            FAILS.append("category_id 2^40 accepted")
        except ref.ArchiveError:
            pass
        with h5py.File(bad, "w") as f:
            f.create_dataset("logs/ts", data=np.array([T], np.int64))
        try:
            ref.compute([a, bad])
            FAILS.append("file without /events accepted")
        except ref.ArchiveError:
            pass

        # The CLI and compare.py round trip.
        py = sys.executable
        out1, out2 = os.path.join(d, "ref1"), os.path.join(d, "ref2")
        for out in (out1, out2):
            subprocess.run([py, os.path.join(HERE, "reference.py"), d, "--out", out],
                           check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out1, "report.json")) as f:
            check("CLI report totals", json.load(f)["totals"], R.report["totals"])

        def cmp(*args):
            return subprocess.run([py, os.path.join(HERE, "compare.py")] + list(args),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True)
        r = cmp(out1, out2, "--sessions")
        check("compare identical rc", r.returncode, 0)
        check("compare identical msg", r.stdout.strip(),
              "compare: 5 customers, 7 sessions identical")
        check("compare --same rc", cmp("--same", out1, out2, "--sessions").returncode, 0)
        with h5py.File(os.path.join(out2, "customers.h5"), "a") as f:
            ds = f["customers/revenue"]
            v = ds[()]
            v[0] += 1
            ds[...] = v
        check("compare customers mismatch rc", cmp(out1, out2).returncode, 1)
        check("compare --same customers mismatch rc", cmp("--same", out1, out2).returncode, 1)
        subprocess.run([py, os.path.join(HERE, "reference.py"), d, "--out", out2],
                       check=True, stdout=subprocess.DEVNULL)
        with h5py.File(os.path.join(out2, "sessions.h5"), "a") as f:
            ds = f["sessions/min_gap_ms"]
            v = ds[()]
            v[-1] += 1
            ds[...] = v
        check("compare sessions ignored rc", cmp(out1, out2).returncode, 0)
        check("compare sessions mismatch rc", cmp(out1, out2, "--sessions").returncode, 1)
        with open(os.path.join(out2, "report.json")) as f:
            rep = json.load(f)
        rep["segments"][2]["share"] += 1e-6
        with open(os.path.join(out2, "report.json"), "w") as f:
            json.dump(rep, f)
        check("compare share mismatch rc", cmp(out1, out2).returncode, 1)
        check("compare missing dir rc", cmp(out1, os.path.join(d, "nope")).returncode, 2)

    if FAILS:
        print("reference selfcheck: %d failure(s)" % len(FAILS))
        for m in FAILS:
            print("  " + m)
        return 1
    print("reference selfcheck: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Independent reference computation for clickseg's end-to-end tests.

Written from the specification (archive format v1 and the sessionize /
features / segment / report semantics), not from clickseg's C code, so that
the end-to-end tests compare two independent implementations.  Vectorised
with numpy: 10^6 events take a few seconds.

Usage:
  reference.py ARCHIVE... [--gap S] [--max-duration S] [--max-lateness S]
               [--mode gap|source] [--split none|day|week|month]
               [--json OUT.json] [--customers OUT.h5]
               [--sessions OUT.h5] [--out DIR]

An ARCHIVE that is a directory means every *.h5 file inside it.  Durations
take seconds ("1800", "0.5") or a unit suffix ("30m", "1h", "90s", "1d").
--out DIR writes DIR/report.json, DIR/customers.h5 and DIR/sessions.h5, the
names compare.py expects.

As a module: ``compute(paths, gap_us=..., ...)`` returns a Result with the
sorted used events, the session table, the customers table and the report
dictionary.
"""

import argparse
import json
import os
import sys

import numpy as np

EVENT_TYPES = ["page_view", "product_view", "search", "add_to_cart",
               "remove_from_cart", "checkout", "purchase", "refund"]
EV = {name: code for code, name in enumerate(EVENT_TYPES)}

# Segment ids, as in the sessions table and the report's segment order.
SEGMENTS = ["bot", "immediate_buyer", "information_collector", "simple_browser"]
SEG = {name: i for i, name in enumerate(SEGMENTS)}

FEATURES = ["events", "duration_s", "page_views", "product_views", "searches",
            "cart_adds", "cart_removes", "checkouts", "purchases", "refunds",
            "distinct_products", "distinct_categories", "distinct_brands",
            "revenue", "refund_amount", "time_to_purchase_s",
            "views_before_purchase", "entry_hour", "entry_weekday",
            "events_per_minute", "min_gap_ms"]

# Event columns: name, native type, required.
COLUMNS = [("ts", np.int64, True), ("user_id", np.uint64, True),
           ("event_type", np.uint8, True), ("product_id", np.uint64, False),
           ("category_id", np.uint32, False), ("brand_id", np.uint32, False),
           ("price", np.int64, False), ("session_id", np.uint64, False)]

US = 1_000_000
DAY_US = 86400 * US
HOUR_US = 3600 * US

DEFAULT_GAP_S = 1800
DEFAULT_MAX_DURATION_S = 0
DEFAULT_MAX_LATENESS_S = 3600

TOTAL_KEYS = ["events", "sessions", "users", "purchase_sessions", "revenue",
              "refunds", "bot_sessions", "late_events", "rejected_events"]
SEGMENT_INT_KEYS = ["sessions", "users", "events", "purchase_sessions",
                    "revenue", "refunds", "cart_sessions",
                    "abandoned_cart_sessions", "product_view_sessions",
                    "checkout_sessions"]
SEGMENT_FLOAT_KEYS = ["share", "conversion"]
PERIOD_KEYS = ["sessions", "users", "events", "purchase_sessions", "revenue"]
CUSTOMER_COLUMNS = (["user_id", "events", "sessions", "purchase_sessions",
                     "purchases", "revenue", "refunds", "first_ts", "last_ts"]
                    + ["sessions_" + s for s in SEGMENTS])
SESSION_COLUMNS = ["user_id", "start_ts", "end_ts", "segment"] + FEATURES


class ArchiveError(Exception):
    """The archive violates format v1 (clickseg must refuse it too)."""


def parse_duration_us(text):
    """'1800' / '0.5' / '30m' / '1h' / '90s' / '1d' / '250ms' -> microseconds."""
    s = str(text).strip().lower()
    units = [("ms", 1000), ("us", 1), ("s", US), ("m", 60 * US),
             ("h", HOUR_US), ("d", DAY_US)]
    for suffix, mult in units:
        if s.endswith(suffix) and s[:-len(suffix)].strip():
            num = s[:-len(suffix)].strip()
            break
    else:
        num, mult = s, US
    try:
        if "." in num or "e" in num:
            return int(round(float(num) * mult))
        return int(num) * mult
    except ValueError:
        raise argparse.ArgumentTypeError("bad duration %r" % text)


# ---------------------------------------------------------------- reading

def expand_paths(args):
    """Directories mean every *.h5 inside (not recursive)."""
    out = []
    for a in args:
        if os.path.isdir(a):
            names = sorted(n for n in os.listdir(a) if n.endswith(".h5"))
            out.extend(os.path.join(a, n) for n in names)
        else:
            out.append(a)
    return out


def _out_of_range(arr, native):
    """Boolean mask of values of integer array `arr` that do not fit `native`."""
    src, dst = np.iinfo(arr.dtype), np.iinfo(native)
    bad = np.zeros(arr.shape, bool)
    if src.min < dst.min:          # then dst.min (0 or negative) fits src's type
        bad |= arr < np.array(dst.min, dtype=arr.dtype)
    if src.max > dst.max:          # then dst.max fits src's type
        bad |= arr > np.array(dst.max, dtype=arr.dtype)
    return bad


def _read_int_column(path, ds, native, name):
    import h5py
    if ds.ndim != 1:
        raise ArchiveError("%s: /events/%s is not 1-D" % (path, name))
    dt = ds.dtype
    enum = h5py.check_enum_dtype(dt)
    if enum is not None:
        if name != "event_type":
            raise ArchiveError("%s: /events/%s is an enum" % (path, name))
        for member, value in enum.items():
            if member not in EV or EV[member] != int(value):
                raise ArchiveError("%s: /events/event_type enum member %s=%s is not "
                                   "format v1's" % (path, member, value))
    if dt.kind not in "iu":
        raise ArchiveError("%s: /events/%s has non-integer type %s" % (path, name, dt))
    arr = np.asarray(ds[()])
    if arr.dtype.kind not in "iu":
        raise ArchiveError("%s: /events/%s has non-integer type %s" % (path, name, arr.dtype))
    if arr.size:
        bad = _out_of_range(arr, native)
        if bad.any():
            raise ArchiveError("%s: /events/%s: value %d at row %d does not fit %s"
                               % (path, name, int(arr[np.argmax(bad)]), int(np.argmax(bad)),
                                  np.dtype(native).name))
        if enum is not None:
            valid = np.zeros(256, bool)
            valid[[int(v) for v in enum.values()]] = True
            if not valid[arr.astype(np.int64)].all():
                raise ArchiveError("%s: /events/event_type holds a value outside the "
                                   "enum" % path)
    return arr.astype(native)


class ArchiveFile:
    def __init__(self, path, columns, rows):
        self.path = path
        self.columns = columns      # dict name -> native array (rows)
        self.rows = rows
        self.ts_first = int(columns["ts"][0]) if rows else None
        self.ts_last = int(columns["ts"][-1]) if rows else None
        self.ts_mid = int(columns["ts"][rows // 2]) if rows else None


def read_file(path):
    """Reads one archive file; returns ArchiveFile (rows may be 0)."""
    import h5py
    with h5py.File(path, "r") as f:
        if "events" not in f:
            if "customers" in f or "dictionaries" in f:
                return ArchiveFile(path, {}, 0)   # profile-only or dictionary file
            raise ArchiveError("%s: no /events group" % path)
        g = f["events"]
        if not isinstance(g, h5py.Group):
            raise ArchiveError("%s: /events is not a group" % path)
        cols, n = {}, None
        for name, native, required in COLUMNS:
            if name not in g:
                if required:
                    raise ArchiveError("%s: /events/%s missing" % (path, name))
                continue
            ds = g[name]
            if not isinstance(ds, h5py.Dataset):
                raise ArchiveError("%s: /events/%s is not a dataset" % (path, name))
            if ds.ndim != 1:
                raise ArchiveError("%s: /events/%s is not 1-D" % (path, name))
            if n is None:
                n = ds.shape[0]
            elif ds.shape[0] != n:
                raise ArchiveError("%s: /events/%s has %d rows, /events/ts has %d"
                                   % (path, name, ds.shape[0], n))
            cols[name] = _read_int_column(path, ds, native, name)
        for name, native, _ in COLUMNS:
            if name not in cols:
                cols[name] = np.zeros(n, native)
        return ArchiveFile(path, cols, n)


TS_MAX_US = 253402300799999999   # 9999-12-31T23:59:59.999999Z
PRICE_MAX = 10**12               # |price| beyond it: rejected (event.h CS_PRICE_MAX)


def order_key(f):
    """The time a file is ordered by (docs/run.md): the median of the valid
    times (0..TS_MAX) among its first, middle (rows // 2) and last rows; the
    earlier of two; the one; the first row's when none is valid."""
    v = [t for t in (f.ts_first, f.ts_mid, f.ts_last) if 0 <= t <= TS_MAX_US]
    if not v:
        return f.ts_first
    return sorted(v)[1] if len(v) == 3 else min(v)


def read_archive(paths):
    """Reads and orders the files: by (order key, first ts, last ts, path);
    files without rows contribute nothing.  Returns (ordered files
    with rows, all files)."""
    files = [read_file(p) for p in expand_paths(paths)]
    used = [f for f in files if f.rows > 0]
    used.sort(key=lambda f: (order_key(f), f.ts_first, f.ts_last, f.path))
    return used, files


# ---------------------------------------------------------------- compute

class Result:
    pass


def _segment_of(F):
    """Default rules, first match wins -> segment id array."""
    ev, epm = F["events"], F["events_per_minute"]
    conds = [
        (ev >= 100) & (epm >= 20),
        ev >= 1000,
        (F["purchases"] >= 1) & (F["product_views"] <= 3) & (F["searches"] <= 1) & (ev <= 12),
        F["product_views"] >= 3,
        F["searches"] >= 2,
        F["cart_adds"] >= 1,
        F["purchases"] >= 1,
    ]
    choices = [SEG["bot"], SEG["bot"], SEG["immediate_buyer"]] + [SEG["information_collector"]] * 4
    return np.select(conds, choices, default=SEG["simple_browser"]).astype(np.uint8)


def _int_bincount(key, values, n):
    """Exact int64 sums of `values` per key (np.bincount weights are floats)."""
    o = np.argsort(key, kind="stable")
    k, v = key[o], values[o].astype(np.int64)
    out = np.zeros(n, np.int64)
    if k.size:
        starts = np.nonzero(np.concatenate(([True], k[1:] != k[:-1])))[0]
        out[k[starts]] = np.add.reduceat(v, starts)
    return out


def _distinct_per_session(sess, ids, nsess):
    m = ids != 0
    s, v = sess[m], ids[m]
    if s.size == 0:
        return np.zeros(nsess, np.int64)
    o = np.lexsort((v, s))
    s, v = s[o], v[o]
    first = np.ones(s.size, bool)
    first[1:] = (s[1:] != s[:-1]) | (v[1:] != v[:-1])
    return np.bincount(s[first], minlength=nsess).astype(np.int64)


def split_key(t, split):
    """A number per event that changes exactly where a UTC day, ISO week
    (Monday) or month starts."""
    days = np.floor_divide(t, DAY_US)
    if split == "day":
        return days
    if split == "week":
        return np.floor_divide(days + 3, 7)   # 1970-01-01 was a Thursday
    if split == "month":
        return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    raise ValueError("split must be none, day, week or month")


def compute(paths, gap_us=DEFAULT_GAP_S * US, max_duration_us=DEFAULT_MAX_DURATION_S * US,
            max_lateness_us=DEFAULT_MAX_LATENESS_S * US, mode="gap",
            source_max_duration=True, split="none"):
    files, all_files = read_archive(paths)
    R = Result()
    R.files = [f.path for f in files]
    R.params = dict(gap_us=gap_us, max_duration_us=max_duration_us,
                    max_lateness_us=max_lateness_us, mode=mode,
                    source_max_duration=source_max_duration, split=split)

    cat = {}
    for name, native, _ in COLUMNS:
        parts = [f.columns[name] for f in files]
        cat[name] = np.concatenate(parts) if parts else np.zeros(0, native)
    nrows = cat["ts"].size
    R.rows = nrows

    # Rejected rows, then late rows among the non-rejected ones in global order.
    ts_all, et_all = cat["ts"], cat["event_type"]
    TS_MAX = TS_MAX_US
    price_all = cat["price"]
    rejected = ((et_all > 7) | (ts_all < 0) | (ts_all > TS_MAX) |
                (price_all > PRICE_MAX) | (price_all < -PRICE_MAX))
    ok_idx = np.nonzero(~rejected)[0]
    t_ok = ts_all[ok_idx]
    late = np.zeros(t_ok.size, bool)
    if t_ok.size > 1:
        prevmax = np.maximum.accumulate(t_ok)[:-1]
        late[1:] = t_ok[1:] < prevmax - max_lateness_us
    R.rejected_events = int(rejected.sum())
    R.late_events = int(late.sum())
    R.late_rows = ok_idx[late]
    used = ok_idx[~late]

    # Sort the used events by (user_id, ts, global row).
    row = used.astype(np.int64)
    u0, t0 = cat["user_id"][used], ts_all[used]
    order = np.lexsort((row, t0, u0))
    E = {name: cat[name][used][order] for name, _, _ in COLUMNS}
    E["row"] = row[order]
    R.events_sorted = E
    u, t, et = E["user_id"], E["ts"], E["event_type"]
    m = t.size

    # Session boundaries.
    new = np.ones(m, bool)
    if m > 1:
        brk = u[1:] != u[:-1]
        if mode == "gap":
            brk |= (t[1:] - t[:-1]) > gap_us
        elif mode == "source":
            sid = E["session_id"]
            brk |= sid[1:] != sid[:-1]
        else:
            raise ValueError("mode must be gap or source")
        if split != "none":
            # session.split: a session also ends where a UTC day/week/month ends.
            pk = split_key(t, split)
            brk |= pk[1:] != pk[:-1]
        new[1:] = brk
    if m and max_duration_us > 0 and (mode == "gap" or source_max_duration):
        starts = np.nonzero(new)[0]
        ends = np.append(starts[1:], m)
        long_ = np.nonzero(t[ends - 1] - t[starts] > max_duration_us)[0]
        for k in long_:
            s, e = int(starts[k]), int(ends[k])
            while True:
                j = s + int(np.searchsorted(t[s:e], t[s] + max_duration_us, side="right"))
                if j >= e:
                    break
                new[j] = True
                s = j
    starts = np.nonzero(new)[0]
    S = starts.size
    ends = np.append(starts[1:], m) - 1 if S else np.zeros(0, np.int64)
    sess = np.cumsum(new) - 1 if m else np.zeros(0, np.int64)

    F = {}
    if S:
        F["events"] = (ends - starts + 1).astype(np.int64)
        first, last = t[starts], t[ends]
        F["duration_s"] = (last - first) // US
        names = {0: "page_views", 1: "product_views", 2: "searches", 3: "cart_adds",
                 4: "cart_removes", 5: "checkouts", 6: "purchases", 7: "refunds"}
        for code, name in names.items():
            F[name] = np.add.reduceat((et == code).astype(np.int64), starts)
        F["distinct_products"] = _distinct_per_session(sess, E["product_id"], S)
        F["distinct_categories"] = _distinct_per_session(sess, E["category_id"], S)
        F["distinct_brands"] = _distinct_per_session(sess, E["brand_id"], S)
        price = E["price"]
        F["revenue"] = np.add.reduceat(np.where(et == 6, price, 0), starts)
        F["refund_amount"] = np.add.reduceat(np.where(et == 7, price, 0), starts)
        ttp = np.full(S, -1, np.int64)
        vbp = np.full(S, -1, np.int64)
        pidx = np.nonzero(et == 6)[0]
        if pidx.size:
            ps, pfirst = np.unique(sess[pidx], return_index=True)
            fp = pidx[pfirst]
            ttp[ps] = (t[fp] - first[ps]) // US
            views = np.concatenate(([0], np.cumsum((et <= 1).astype(np.int64))))
            vbp[ps] = views[fp] - views[starts[ps]]
        F["time_to_purchase_s"] = ttp
        F["views_before_purchase"] = vbp
        F["entry_hour"] = (first // HOUR_US) % 24
        F["entry_weekday"] = (first // DAY_US + 3) % 7    # 1970-01-01 was a Thursday
        F["events_per_minute"] = F["events"] * 60 // np.maximum(F["duration_s"], 1)
        big = np.iinfo(np.int64).max
        g = np.empty(m, np.int64)
        g[0] = big
        g[1:] = (t[1:] - t[:-1]) // 1000
        g[new] = big
        mg = np.minimum.reduceat(g, starts)
        mg[F["events"] == 1] = -1
        F["min_gap_ms"] = mg
    else:
        first = last = np.zeros(0, np.int64)
        for name in FEATURES:
            F[name] = np.zeros(0, np.int64)
    for name in FEATURES:
        F[name] = F[name].astype(np.int64)

    seg = _segment_of(F)
    su = u[starts] if S else np.zeros(0, np.uint64)
    R.sessions = dict(user_id=su, start_ts=first.astype(np.int64),
                      end_ts=last.astype(np.int64), segment=seg, **F)
    R.session_of_event = sess

    # ---- report
    bot = seg == SEG["bot"]
    nonbot = ~bot
    has_p = F["purchases"] >= 1
    totals = {
        "events": int(m),
        "sessions": int(S),
        "users": int(np.unique(u).size),
        "purchase_sessions": int((has_p & nonbot).sum()),
        "revenue": int(F["revenue"][nonbot].sum()),
        "refunds": int(F["refund_amount"][nonbot].sum()),
        "bot_sessions": int(bot.sum()),
        "late_events": R.late_events,
        "rejected_events": R.rejected_events,
    }
    n_nonbot = int(nonbot.sum())
    segments = []
    for sid_, name in enumerate(SEGMENTS):
        k = seg == sid_
        ns = int(k.sum())
        ps = int((k & has_p).sum())
        carts = k & (F["cart_adds"] >= 1)
        denom = S if name == "bot" else n_nonbot
        segments.append({
            "name": name,
            "sessions": ns,
            "share": ns / denom if denom else None,   # undefined: no sessions to share
            "users": int(np.unique(su[k]).size),
            "events": int(F["events"][k].sum()),
            "revenue": int(F["revenue"][k].sum()),
            "refunds": int(F["refund_amount"][k].sum()),
            "purchase_sessions": ps,
            "conversion": ps / ns if ns else None,    # undefined, not 0%
            "cart_sessions": int(carts.sum()),
            "abandoned_cart_sessions": int((carts & ~has_p).sum()),
            "product_view_sessions": int((k & (F["product_views"] >= 1)).sum()),
            "checkout_sessions": int((k & (F["checkouts"] >= 1)).sum()),
        })
    periods = []
    day = first // DAY_US
    if S:
        # per (day, segment) groups, vectorised: key = day index * 4 + segment
        days, dinv = np.unique(day, return_inverse=True)
        key = dinv.astype(np.int64) * len(SEGMENTS) + seg
        nkey = days.size * len(SEGMENTS)
        g_sessions = np.bincount(key, minlength=nkey)
        g_events = _int_bincount(key, F["events"], nkey)
        g_purchase = np.bincount(key[has_p], minlength=nkey)
        g_revenue = _int_bincount(key, F["revenue"], nkey)
        o = np.lexsort((su, key))
        ks, us_ = key[o], su[o]
        firstpair = np.ones(S, bool)
        firstpair[1:] = (ks[1:] != ks[:-1]) | (us_[1:] != us_[:-1])
        g_users = np.bincount(ks[firstpair], minlength=nkey)
        for di, d in enumerate(days):
            rows_ = []
            for sid_, name in enumerate(SEGMENTS):
                k = di * len(SEGMENTS) + sid_
                rows_.append({
                    "name": name,
                    "sessions": int(g_sessions[k]),
                    "users": int(g_users[k]),
                    "events": int(g_events[k]),
                    "purchase_sessions": int(g_purchase[k]),
                    "revenue": int(g_revenue[k]),
                })
            periods.append({"period": str(np.datetime64(int(d), "D")), "segments": rows_})
    R.report = {
        "totals": totals,
        "segments": segments,
        "periods": periods,
        "run": {
            "reference": True,
            "files": R.files,
            "rows": int(nrows),
            "gap_s": gap_us / US,
            "max_duration_s": max_duration_us / US,
            "max_lateness_s": max_lateness_us / US,
            "mode": mode,
        },
    }

    # ---- customers (sessions are contiguous per user, ordered by user_id)
    C = {}
    if S:
        ustart = np.nonzero(np.concatenate(([True], su[1:] != su[:-1])))[0]
        C["user_id"] = su[ustart].astype(np.uint64)
        red = lambda a: np.add.reduceat(a.astype(np.int64), ustart)
        C["events"] = red(F["events"])
        C["sessions"] = red(np.ones(S, np.int64))
        C["purchase_sessions"] = red(has_p & nonbot)
        # money and orders of bot sessions are not the customer's (business figures)
        C["purchases"] = red(np.where(nonbot, F["purchases"], 0))
        C["revenue"] = red(np.where(nonbot, F["revenue"], 0))
        C["refunds"] = red(np.where(nonbot, F["refund_amount"], 0))
        C["first_ts"] = np.minimum.reduceat(first, ustart).astype(np.int64)
        C["last_ts"] = np.maximum.reduceat(last, ustart).astype(np.int64)
        for sid_, name in enumerate(SEGMENTS):
            C["sessions_" + name] = red(seg == sid_)
    else:
        C["user_id"] = np.zeros(0, np.uint64)
        for name in CUSTOMER_COLUMNS[1:]:
            C[name] = np.zeros(0, np.int64)
    R.customers = C
    return R


# ---------------------------------------------------------------- writing

def segment_enum_dtype():
    import h5py
    return h5py.enum_dtype({name: i for i, name in enumerate(SEGMENTS)}, basetype="u1")


def write_json(R, path):
    with open(path, "w") as f:
        json.dump(R.report, f, indent=1, sort_keys=False)
        f.write("\n")


def write_customers(R, path):
    import h5py
    with h5py.File(path, "w") as f:
        g = f.create_group("customers")
        for name in CUSTOMER_COLUMNS:
            g.create_dataset(name, data=R.customers[name])


def write_sessions(R, path):
    import h5py
    with h5py.File(path, "w") as f:
        g = f.create_group("sessions")
        for name in SESSION_COLUMNS:
            a = R.sessions[name]
            if name == "segment":
                g.create_dataset(name, data=a.astype(np.uint8), dtype=segment_enum_dtype())
            elif name == "user_id":
                g.create_dataset(name, data=a.astype(np.uint64))
            else:
                g.create_dataset(name, data=a.astype(np.int64))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("archives", nargs="+", help="archive files or directories (*.h5)")
    ap.add_argument("--gap", type=parse_duration_us, default=DEFAULT_GAP_S * US,
                    help="session gap, seconds (default 1800)")
    ap.add_argument("--max-duration", type=parse_duration_us,
                    default=DEFAULT_MAX_DURATION_S * US,
                    help="max session duration, seconds; 0 = unlimited (default 0)")
    ap.add_argument("--max-lateness", type=parse_duration_us,
                    default=DEFAULT_MAX_LATENESS_S * US,
                    help="max lateness, seconds (default 3600)")
    ap.add_argument("--mode", choices=["gap", "source"], default="gap")
    ap.add_argument("--source-max-duration", choices=["apply", "ignore"], default="apply",
                    help="whether max-duration also splits sessions in source mode "
                         "(default apply)")
    ap.add_argument("--split", choices=["none", "day", "week", "month"], default="none",
                    help="also end sessions where a UTC day/week/month ends (session.split)")
    ap.add_argument("--json", help="write the report here")
    ap.add_argument("--customers", help="write /customers here")
    ap.add_argument("--sessions", help="write /sessions here")
    ap.add_argument("--out", help="directory for report.json, customers.h5, sessions.h5")
    a = ap.parse_args(argv)
    try:
        R = compute(a.archives, gap_us=a.gap, max_duration_us=a.max_duration,
                    max_lateness_us=a.max_lateness, mode=a.mode,
                    source_max_duration=(a.source_max_duration == "apply"), split=a.split)
    except ArchiveError as e:
        print("reference: error: %s" % e, file=sys.stderr)
        return 2
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        a.json = a.json or os.path.join(a.out, "report.json")
        a.customers = a.customers or os.path.join(a.out, "customers.h5")
        a.sessions = a.sessions or os.path.join(a.out, "sessions.h5")
    if a.json:
        write_json(R, a.json)
    if a.customers:
        write_customers(R, a.customers)
    if a.sessions:
        write_sessions(R, a.sessions)
    t = R.report["totals"]
    print("reference: %d rows, %d events, %d sessions, %d users, %d late, %d rejected"
          % (R.rows, t["events"], t["sessions"], t["users"], t["late_events"],
             t["rejected_events"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

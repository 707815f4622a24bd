#!/usr/bin/python3
"""Compares clickseg's outputs with the reference, or two clickseg outputs.

Usage:
  compare.py REFERENCE_DIR CLICKSEG_OUTDIR [--sessions]
  compare.py --same OUTDIR_A OUTDIR_B [--sessions] [--ignore KEY]...

Each directory holds report.json, customers.h5 (/customers) and, with
--sessions, sessions.h5 (/sessions); reference.py --out DIR writes them.

Reference mode checks the specified keys only (extra keys in clickseg's
outputs are ignored): report totals, segments (by name) and periods (by
period and segment name; a missing segment or period counts as all zeros),
integers exactly and floats (share, conversion) within 1e-9; the customers
table (rows sorted by user_id; rows with events == 0, e.g. profile-only users,
are dropped on both sides) and the sessions table (rows sorted by user_id,
start_ts, then every other column).

--same mode checks that two clickseg outputs are identical: every key of the
report's totals / segments / periods (except --ignore KEYs), and every
dataset of /customers and /sessions, row order aside.

Prints the first mismatches and exits 1 on any difference; exits 0 with
"compare: N customers, M sessions identical" otherwise; 2 on a usage or
missing-file error.
"""

import argparse
import json
import math
import os
import sys

import numpy as np

SEGMENTS = ["bot", "immediate_buyer", "information_collector", "simple_browser"]
TOTAL_KEYS = ["events", "sessions", "users", "purchase_sessions", "revenue",
              "refunds", "bot_sessions", "late_events", "rejected_events"]
SEGMENT_INT_KEYS = ["sessions", "users", "events", "purchase_sessions",
                    "revenue", "refunds", "cart_sessions",
                    "abandoned_cart_sessions", "product_view_sessions",
                    "checkout_sessions"]
SEGMENT_FLOAT_KEYS = ["share", "conversion"]
PERIOD_KEYS = ["sessions", "users", "events", "purchase_sessions", "revenue"]
FLOAT_TOL = 1e-9
MAX_SHOWN = 12


class Diffs:
    def __init__(self):
        self.items = []

    def add(self, msg):
        self.items.append(msg)

    def __len__(self):
        return len(self.items)

    def show(self, out=sys.stdout):
        for m in self.items[:MAX_SHOWN]:
            print("  " + m, file=out)
        if len(self.items) > MAX_SHOWN:
            print("  ... and %d more" % (len(self.items) - MAX_SHOWN), file=out)


class Missing(Exception):
    pass


def load_report(d):
    p = os.path.join(d, "report.json")
    if not os.path.exists(p):
        raise Missing("%s: no report.json" % d)
    with open(p) as f:
        return json.load(f)


def load_table(d, fname, group):
    import h5py
    p = os.path.join(d, fname)
    if not os.path.exists(p):
        raise Missing("%s: no %s" % (d, fname))
    with h5py.File(p, "r") as f:
        if group not in f:
            raise Missing("%s: no /%s group" % (p, group))
        g = f[group]
        return {k: np.asarray(g[k][()]) for k in g if hasattr(g[k], "shape")
                and g[k].ndim == 1}


def _num_equal(a, b, is_float):
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or isinstance(b, str):
        return a == b
    if is_float:
        try:
            return math.isclose(float(a), float(b), rel_tol=FLOAT_TOL, abs_tol=FLOAT_TOL)
        except (TypeError, ValueError):
            return a == b
    return a == b


def _seg_map(rows, where, diffs):
    out = {}
    for r in rows or []:
        name = r.get("name")
        if name in out:
            diffs.add("%s: segment %r listed twice" % (where, name))
        out[name] = r
    return out


def _period_map(report, diffs, where):
    out = {}
    for p in report.get("periods", []) or []:
        key = p.get("period")
        if key in out:
            diffs.add("%s: period %r listed twice" % (where, key))
        out[key] = _seg_map(p.get("segments"), "%s period %s" % (where, key), diffs)
    return out


def _is_zero_row(row, keys):
    return all((row.get(k) or 0) == 0 for k in keys)


def compare_reports_ref(ref, got, diffs):
    rt, gt = ref["totals"], got.get("totals", {})
    for k in TOTAL_KEYS:
        if k not in gt:
            diffs.add("totals.%s: missing (reference %s)" % (k, rt[k]))
        elif not _num_equal(rt[k], gt[k], False):
            diffs.add("totals.%s: reference %s, clickseg %s" % (k, rt[k], gt[k]))
    rs = _seg_map(ref["segments"], "reference", diffs)
    gs = _seg_map(got.get("segments"), "clickseg", diffs)
    for name in SEGMENTS:
        r = rs.get(name, {})
        g = gs.get(name)
        if g is None:
            if _is_zero_row(r, SEGMENT_INT_KEYS):
                continue
            diffs.add("segments.%s: missing in clickseg" % name)
            continue
        for k in SEGMENT_INT_KEYS + SEGMENT_FLOAT_KEYS:
            isf = k in SEGMENT_FLOAT_KEYS
            rv = r.get(k, 0.0 if isf else 0)
            if k not in g:
                diffs.add("segments.%s.%s: missing (reference %s)" % (name, k, rv))
            elif not _num_equal(rv, g[k], isf):
                diffs.add("segments.%s.%s: reference %s, clickseg %s" % (name, k, rv, g[k]))
    for name in gs:
        if name not in SEGMENTS:
            diffs.add("segments: clickseg has unknown segment %r" % name)
    rp = _period_map(ref, diffs, "reference")
    gp = _period_map(got, diffs, "clickseg")
    for period in sorted(set(rp) | set(gp), key=str):
        rsegs, gsegs = rp.get(period, {}), gp.get(period, {})
        for name in sorted(set(rsegs) | set(gsegs), key=str):
            r, g = rsegs.get(name, {}), gsegs.get(name, {})
            for k in PERIOD_KEYS:
                rv, gv = r.get(k, 0), g.get(k, 0)
                if gsegs.get(name) is not None and k not in g:
                    diffs.add("periods[%s].%s.%s: missing (reference %s)" % (period, name, k, rv))
                elif not _num_equal(rv, gv, False):
                    diffs.add("periods[%s].%s.%s: reference %s, clickseg %s"
                              % (period, name, k, rv, gv))


def compare_reports_same(a, b, diffs, ignore):
    def cmp_dict(x, y, where):
        for k in sorted(set(x) | set(y)):
            if k in ignore:
                continue
            if k not in x or k not in y:
                diffs.add("%s.%s: only in %s" % (where, k, "A" if k in x else "B"))
            elif x[k] != y[k]:
                diffs.add("%s.%s: A %s, B %s" % (where, k, x[k], y[k]))

    cmp_dict(a.get("totals", {}), b.get("totals", {}), "totals")
    sa = _seg_map(a.get("segments"), "A", diffs)
    sb = _seg_map(b.get("segments"), "B", diffs)
    if [r.get("name") for r in a.get("segments", [])] != \
            [r.get("name") for r in b.get("segments", [])]:
        diffs.add("segments: order or names differ: A %s, B %s"
                  % ([r.get("name") for r in a.get("segments", [])],
                     [r.get("name") for r in b.get("segments", [])]))
    for name in sorted(set(sa) & set(sb), key=str):
        cmp_dict(sa[name], sb[name], "segments.%s" % name)
    pa = a.get("periods", []) or []
    pb = b.get("periods", []) or []
    if [p.get("period") for p in pa] != [p.get("period") for p in pb]:
        diffs.add("periods: lists differ: A %s, B %s"
                  % ([p.get("period") for p in pa], [p.get("period") for p in pb]))
    mb = {p.get("period"): p for p in pb}
    for p in pa:
        q = mb.get(p.get("period"))
        if q is None:
            continue
        where = "periods[%s]" % p.get("period")
        cmp_dict({k: v for k, v in p.items() if k != "segments"},
                 {k: v for k, v in q.items() if k != "segments"}, where)
        s1 = _seg_map(p.get("segments"), where, diffs)
        s2 = _seg_map(q.get("segments"), where, diffs)
        for name in sorted(set(s1) | set(s2), key=str):
            if name not in s1 or name not in s2:
                diffs.add("%s.%s: only in %s" % (where, name, "A" if name in s1 else "B"))
            else:
                cmp_dict(s1[name], s2[name], "%s.%s" % (where, name))


def _as_key(a):
    """Column as an array that sorts and compares by value (uint64 safe)."""
    a = np.asarray(a)
    if a.dtype.kind == "u":
        return a.astype(np.uint64)
    if a.dtype.kind in "ib":
        return a.astype(np.int64)
    return a


def _values_equal(x, y, exact=False):
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype.kind in "iub" and y.dtype.kind in "iub":
        # exact integer comparison without sign confusion
        xs, ys = x.dtype.kind == "u", y.dtype.kind == "u"
        if xs == ys:
            return _as_key(x) == _as_key(y)
        xi = x.astype(np.uint64) if xs else x.astype(np.int64)
        yi = y.astype(np.uint64) if ys else y.astype(np.int64)
        if xs:
            xi, yi = yi, xi               # now xi signed, yi unsigned
        neg = xi < 0
        return ~neg & (xi.astype(np.uint64) == yi)
    if x.dtype.kind == "f" or y.dtype.kind == "f":
        if exact:
            x, y = x.astype(float), y.astype(float)
            return (x == y) | (np.isnan(x) & np.isnan(y))
        return np.isclose(x.astype(float), y.astype(float), rtol=FLOAT_TOL, atol=FLOAT_TOL)
    return x == y


def _sort_table(t, keys):
    n = len(t[keys[0]])
    order = np.lexsort([_as_key(t[k]) for k in reversed(keys)]) if n else np.zeros(0, int)
    return {k: np.asarray(v)[order] for k, v in t.items()}


def compare_tables(ta, tb, columns, keys, label, diffs, names=("reference", "clickseg"),
                   key_show=("user_id",), exact=False):
    """Compares the `columns` of two column dicts after sorting both by `keys`."""
    for c in columns:
        for t, nm in ((ta, names[0]), (tb, names[1])):
            if c not in t:
                diffs.add("%s: column %s missing in %s" % (label, c, nm))
    cols = [c for c in columns if c in ta and c in tb]
    if not cols:
        return
    lens = {len(ta[c]) for c in cols} | {len(tb[c]) for c in cols}
    la, lb = len(ta[cols[0]]), len(tb[cols[0]])
    if len({len(ta[c]) for c in cols}) > 1 or len({len(tb[c]) for c in cols}) > 1:
        diffs.add("%s: columns of unequal length (%s)" % (label, sorted(lens)))
        return
    if la != lb:
        diffs.add("%s: %d rows in %s, %d in %s" % (label, la, names[0], lb, names[1]))
    # sort by the key columns, then by every other numeric column (stable ties)
    keys = [k for k in keys if k in cols] + [c for c in cols if c not in keys
                                             and np.asarray(ta[c]).dtype.kind in "iufb"
                                             and np.asarray(tb[c]).dtype.kind in "iufb"]
    A, B = _sort_table({c: ta[c] for c in cols}, keys), _sort_table({c: tb[c] for c in cols}, keys)
    if la != lb:
        # show which key rows differ
        ka = set(map(tuple, np.stack([_as_key(A[k]).astype(object) for k in key_show], 1).tolist())) \
            if la else set()
        kb = set(map(tuple, np.stack([_as_key(B[k]).astype(object) for k in key_show], 1).tolist())) \
            if lb else set()
        for k in sorted(ka - kb)[:5]:
            diffs.add("%s: %s=%s only in %s" % (label, key_show, k, names[0]))
        for k in sorted(kb - ka)[:5]:
            diffs.add("%s: %s=%s only in %s" % (label, key_show, k, names[1]))
        return
    bad = np.zeros(la, bool)
    per_col = {}
    for c in cols:
        eq = _values_equal(A[c], B[c], exact)
        per_col[c] = ~eq
        bad |= ~eq
    rows = np.nonzero(bad)[0]
    if rows.size:
        diffs.add("%s: %d of %d rows differ (columns: %s)"
                  % (label, rows.size, la,
                     ", ".join(c for c in cols if per_col[c].any())))
        for i in rows[:6]:
            ident = ", ".join("%s=%s" % (k, A[k][i]) for k in key_show if k in A)
            what = "; ".join("%s %s vs %s" % (c, A[c][i], B[c][i]) for c in cols if per_col[c][i])
            diffs.add("%s [%s]: %s" % (label, ident, what))


def _drop_inactive(t):
    if "events" not in t:
        return t
    keep = np.asarray(t["events"]) != 0
    if keep.all():
        return t
    return {k: np.asarray(v)[keep] if len(v) == len(keep) else v for k, v in t.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="compare clickseg outputs with the reference (or two outputs)")
    ap.add_argument("--same", action="store_true",
                    help="compare two clickseg output directories for identity")
    ap.add_argument("--sessions", action="store_true", help="also compare sessions.h5")
    ap.add_argument("--ignore", action="append", default=[],
                    help="(--same) report key to ignore; repeatable")
    ap.add_argument("dir_a")
    ap.add_argument("dir_b")
    a = ap.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import reference

    diffs = Diffs()
    names = ("A", "B") if a.same else ("reference", "clickseg")
    try:
        b_dir = a.dir_b
        ra, rb = load_report(a.dir_a), load_report(b_dir)
        ca = load_table(a.dir_a, "customers.h5", "customers")
        cb = load_table(b_dir, "customers.h5", "customers")
        if a.sessions:
            sa = load_table(a.dir_a, "sessions.h5", "sessions")
            sb = load_table(b_dir, "sessions.h5", "sessions")
    except Missing as e:
        print("compare: %s" % e, file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        print("compare: cannot read outputs: %s" % e, file=sys.stderr)
        return 2

    if a.same:
        compare_reports_same(ra, rb, diffs, set(a.ignore))
        ccols = sorted(set(ca) | set(cb))
        compare_tables(ca, cb, ccols, ["user_id"], "customers", diffs, names, exact=True)
        if a.sessions:
            scols = sorted(set(sa) | set(sb))
            compare_tables(sa, sb, scols, ["user_id", "start_ts", "end_ts"], "sessions",
                           diffs, names, key_show=("user_id", "start_ts"), exact=True)
    else:
        compare_reports_ref(ra, rb, diffs)
        compare_tables(_drop_inactive(ca), _drop_inactive(cb), reference.CUSTOMER_COLUMNS,
                       ["user_id"], "customers", diffs, names)
        if a.sessions:
            compare_tables(sa, sb, reference.SESSION_COLUMNS,
                           ["user_id", "start_ts", "end_ts"], "sessions", diffs, names,
                           key_show=("user_id", "start_ts"))

    if diffs:
        print("compare: %d difference(s) between %s (%s) and %s (%s):"
              % (len(diffs), a.dir_a, names[0], a.dir_b, names[1]))
        diffs.show()
        return 1
    ncust = len(_drop_inactive(ca).get("user_id", [])) if not a.same else len(ca.get("user_id", []))
    nsess = len(sa.get("user_id", [])) if a.sessions else ra.get("totals", {}).get("sessions", 0)
    print("compare: %d customers, %d sessions identical" % (ncust, nsess))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Checks report.html against report.json: every chart's numbers, the
headline cards and the tables, and that the page is self-contained.

    check_html.py REPORT_DIR PAGE [--dom DOM] [--optional]

PAGE is report.html as written; DOM is the page as Chromium parsed it
(--dump-dom), checked the same way when given. report.json is written by a
different code path (report_summary.c, from the reduced statistics) than the
page (rendered from report.h5), and the expected numbers are recomputed here
from report.json alone, so a wrong chart cannot pass. --optional also checks
the tiers / targets / prospects / profiles sections that add_optional.py
planted in report.h5. Exits non-zero with the list of differences."""
import json
import math
import os
import re
import urllib.parse
import sys
from datetime import date
from html.parser import HTMLParser

VOID = {"meta", "br", "img", "link", "input", "hr", "rect", "line", "circle", "path"}



def calendar(per, period):
    """The charts' axis: every day, ISO week or month from the first period
    to the last, worked out with datetime; the periods of report.json where
    they have sessions, None where not."""
    def number(key):
        d = date(key // 10000, key // 100 % 100, key % 100)
        if period == "week":
            return (d.toordinal() - 1) // 7   # ordinal 1 (0001-01-01) is a Monday
        if period == "month":
            return d.year * 12 + d.month - 1
        return d.toordinal()
    by = {number(p["key"]): p for p in per}
    lo, hi = number(per[0]["key"]), number(per[-1]["key"])
    return [by.get(i) for i in range(lo, hi + 1)]

class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.text = [], ""

    def all(self):
        yield self
        for c in self.children:
            yield from c.all()

    def find_all(self, tag=None, **attrs):
        for n in self.all():
            if (tag is None or n.tag == tag) and all(
                    n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                yield n

    def texts(self):
        return "".join(n.text for n in self.all())


class Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("root", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        t = Node("#text", {}, self.cur)
        t.text = data
        self.cur.children.append(t)


def parse(path):
    t = Tree()
    t.feed(open(path, encoding="utf-8").read())
    return t.root


def money(minor, currency):
    """As numfmt.c's fmt_money for the currencies the tests use, and for a
    report without one (an import's "unknown"): the bare amount."""
    sym = {"EUR": "\u20ac", "USD": "$", "GBP": "\u00a3", "": ""}[currency]
    sign = "-" if minor < 0 else ""
    a = abs(minor)
    return "%s%s%s.%02d" % (sign, sym, format(a // 100, ","), a % 100)


def pct(x, d=1):
    return format(x * 100, ",.%df" % d) + "%"


class Checker:
    def __init__(self, rep, root, where):
        self.rep, self.root, self.where, self.errors = rep, root, where, []

    def err(self, msg):
        self.errors.append("%s: %s" % (self.where, msg))

    def chart(self, cid):
        for n in self.root.find_all("svg", data_chart=cid):
            return n
        self.err("no chart %r" % cid)
        return None

    def bars(self, cid):
        svg = self.chart(cid)
        out = {}
        if svg is None:
            return out
        for g in svg.find_all("g"):
            if g.attrs.get("class") == "bar":
                val = [t for t in g.find_all("text") if t.attrs.get("class") == "value"]
                out[g.attrs["data-key"]] = (float(g.attrs["data-value"]),
                                            val[0].texts() if val else "")
        return out

    def line(self, cid, key):
        svg = self.chart(cid)
        if svg is None:
            return None, None
        plot = next(g for g in svg.find_all("g") if g.attrs.get("class") == "plot")
        for p in plot.find_all("path", data_key=key):
            return [float(v) for v in p.attrs["data-values"].split()], (plot, p)
        self.err("%s: no line %r" % (cid, key))
        return None, None

    def check_line(self, cid, key, want):
        got, ctx = self.line(cid, key)
        if got is None:
            return
        if len(got) != len(want):
            self.err("%s/%s: %d values, want %d" % (cid, key, len(got), len(want)))
            return
        bad = [i for i, (g, w) in enumerate(zip(got, want))
               if not ((math.isnan(g) and math.isnan(w)) or g == w or abs(g - w) <= 1e-12 * abs(w))]
        if bad:
            i = bad[0]
            self.err("%s/%s: %d values differ, first at %d: %r vs %r"
                     % (cid, key, len(bad), i, got[i], want[i]))
        # The drawn points are the values: invert the pixel mapping.
        plot, path = ctx
        a = {k: float(plot.attrs["data-" + k]) for k in ("x0", "x1", "y0", "y1", "ymin", "ymax")}
        pts = [tuple(map(float, m)) for m in re.findall(r"[ML]\s*([-\d.]+) ([-\d.]+)", path.attrs["d"])]
        finite = [(i, w) for i, w in enumerate(want) if not math.isnan(w)]
        if len(pts) != len(finite):
            self.err("%s/%s: %d points drawn, %d values" % (cid, key, len(pts), len(finite)))
            return
        tol = (a["ymax"] - a["ymin"]) / (a["y0"] - a["y1"]) * 0.06
        n = len(want)
        for (x, y), (i, w) in zip(pts, finite):
            v = a["ymin"] + (a["y0"] - y) / (a["y0"] - a["y1"]) * (a["ymax"] - a["ymin"])
            xi = a["x0"] + (i * (a["x1"] - a["x0"]) / (n - 1) if n > 1 else (a["x1"] - a["x0"]) / 2)
            if abs(v - w) > tol or abs(x - xi) > 0.06:
                self.err("%s/%s: point %d drawn at (%.1f, %.1f), value %r" % (cid, key, i, x, y, w))
                return

    def run(self):
        r, cur = self.rep, self.rep["currency"]
        segs = r["segments"]
        bars = self.bars("segment-share")
        for s in segs:
            v, text = bars.get(s["name"], (None, ""))
            # null: no sessions to share out (a run of bots only): a dash, no bar
            share = 0 if s["share"] is None else s["share"]
            if v != share:
                self.err("segment-share/%s: bar value %r, report.json share %r" % (s["name"], v, s["share"]))
            want = "%s (%s)" % ("\u2013" if s["share"] is None else pct(share), format(s["sessions"], ","))
            if text != want:
                self.err("segment-share/%s: label %r, want %r" % (s["name"], text, want))
        bars = self.bars("revenue-by-segment")
        tot = sum(s["revenue"] for s in segs)
        for s in segs:
            v, text = bars.get(s["name"], (None, ""))
            want = "%s (%s)" % (money(s["revenue"], cur), pct(s["revenue"] / tot if tot else 0))
            if v != s["revenue"] or text != want:
                self.err("revenue/%s: %r %r, want %r %r" % (s["name"], v, text, s["revenue"], want))
        for s in segs:
            bars = self.bars("funnel-" + s["name"])
            for k in ("product_view_sessions", "cart_sessions", "checkout_sessions", "purchase_sessions"):
                v, text = bars.get(k, (None, ""))
                want = "%s (%s)" % (format(s[k], ","), pct(s[k] / s["sessions"] if s["sessions"] else 0))
                if v != s[k] or text != want:
                    self.err("funnel-%s/%s: %r %r, want %r %r" % (s["name"], k, v, text, s[k], want))
        # periods: shares and conversion per business segment, sessions in all
        per = calendar(r["periods"], r["period"]) if r["periods"] else []
        business = [s["name"] for s in segs if s["business"]]
        self.check_line("sessions-over-time", "sessions",
                        [float(sum(x["sessions"] for x in p["segments"])) if p else 0.0 for p in per])
        for name in business:
            share, conv, num, den = [], [], [], []
            for p in per:
                if p is None:   # a period without sessions: a gap in the ratios
                    share.append(float("nan"))
                    conv.append(float("nan"))
                    num.append(0)
                    den.append(0)
                    continue
                by = {x["name"]: x for x in p["segments"]}
                allb = sum(by[b]["sessions"] for b in business)
                me = by[name]["sessions"]
                share.append(me / allb if allb else float("nan"))
                conv.append(by[name]["purchase_sessions"] / me if me else float("nan"))
                num.append(me)
                den.append(allb)
            self.check_line("share-" + name, name, share)
            self.check_line("conversion-" + name, name, conv)
            if len(per) > 120:   # the 28-day rolling share: a ratio of sums
                avg = [sum(num[i - 27:i + 1]) / sum(den[i - 27:i + 1]) if i >= 27 and sum(den[i - 27:i + 1])
                       else float("nan") for i in range(len(per))]
                self.check_line("share-" + name, name + "-avg", avg)
        bars = self.bars("phase-times")
        for k, v in r["run"]["phase_s"].items():
            if k in bars and abs(bars[k][0] - v) > 1e-6:
                self.err("phase-times/%s: %r vs %r" % (k, bars[k][0], v))
        cards = {d.attrs["data-key"]: d.texts() for d in self.root.find_all("div") if d.attrs.get("class") == "card"}
        t = r["totals"]
        for k in ("events", "sessions", "users", "purchase_sessions", "rows_read"):
            if not cards.get(k, "").startswith(format(t[k], ",")):
                self.err("card %s: %r, want %s" % (k, cards.get(k), format(t[k], ",")))
        if not cards.get("revenue", "").startswith(money(t["revenue"], cur)):
            self.err("card revenue: %r, want %s" % (cards.get("revenue"), money(t["revenue"], cur)))
        rows = [tr for tr in self.root.find_all("tr") if "data-key" in tr.attrs]
        want = [s["name"] for s in segs if s["business"]] + [s["name"] for s in segs if not s["business"]]
        if [tr.attrs["data-key"] for tr in rows] != want:
            self.err("segment table rows %r, want %r" % ([tr.attrs["data-key"] for tr in rows], want))
        return self.errors


def self_contained(page, report_dir):
    """No scripts, styles, fonts, images or frames from anywhere; links only
    to anchors and to files beside the report."""
    text = open(page, encoding="utf-8").read()
    errs = []
    for pat in (r"<script", r"<link", r"<img", r"<iframe", r"<object", r"<embed", r"@import",
                r"url\(", r"@font-face", r"\ssrc="):
        if re.search(pat, text, re.I):
            errs.append("page has %s" % pat)
    for m in re.finditer(r"https?://[^\s\"'<>]+", text):
        if m.group(0) != "http://www.w3.org/2000/svg":
            errs.append("page names %s" % m.group(0))
    for href in re.findall(r'href="([^"]*)"', text):
        if href.startswith("#"):
            if not re.search(r'id="%s"' % re.escape(href[1:]), text):
                errs.append("broken anchor %s" % href)
            continue
        # a file link is a URL path: anything else percent-encoded (a "#"
        # would cut it at an anchor, a space or "<" is no URL character)
        if not re.fullmatch(r"[A-Za-z0-9._~/%-]+", href):
            errs.append("link not URL-encoded: %s" % href)
        path = urllib.parse.unquote(href)
        if not os.path.exists(path if path.startswith("/") else os.path.join(os.path.dirname(page), path)):
            errs.append("link to a missing file: %s" % href)
    return errs


def optional_sections(root, report_dir):
    """The sections planted by add_optional.py: present, 50 rows shown."""
    errs = []
    for sid in ("tiers", "targets", "profiles"):
        if not any(n.attrs.get("id") == sid for n in root.all()):
            errs.append("no section #%s" % sid)
    for table, rows in (("/targets", 50), ("/prospects", 50), ("/tiers", 4), ("/rfm_segments", 5),
                        ("/profiles/gender", 3)):
        t = list(root.find_all("table", data_table=table))
        if not t:
            errs.append("no table %s" % table)
            continue
        n = sum(1 for tr in t[0].find_all("tr")) - 1
        if n != rows:
            errs.append("table %s: %d rows, want %d" % (table, n, rows))
    def head_and_row(name, i):
        t = next(root.find_all("table", data_table=name), None)
        if t is None:
            return [], []
        rows = list(t.find_all("tr"))
        return ([th.attrs.get("data-col") for th in t.find_all("th")],
                [td.texts() for td in rows[i].find_all("td")])
    cols, first = head_and_row("/targets", 1)
    if cols[:6] != ["#", "user_id", "score", "tier", "rfm_segment", "recency_days"]:
        errs.append("targets columns start %r" % cols[:6])
    if first[:5] != ["1", "18446744073709551615", "600", "high", "champions"]:
        errs.append("targets first row %r" % first[:6])
    cols, last = head_and_row("/targets", 50)
    if last[:5] != ["50", "1049", "110", "high", "loyal"]:
        errs.append("targets row 50 %r" % last[:6])
    cols, first = head_and_row("/prospects", 1)
    if cols[:4] != ["rank", "user_id", "score", "tier"] or first[:4] != ["1", "5000", "0.990", "ordinary"]:
        errs.append("prospects start %r %r" % (cols[:4], first[:4]))
    cols, first = head_and_row("/profiles/gender", 1)
    if cols[:4] != ["value", "users", "purchase_sessions", "revenue"]:
        errs.append("profile columns %r" % cols)
    if first[:1] != ["no profile"] or head_and_row("/profiles/gender", 3)[1][:1] != ["male"]:
        errs.append("profile rows %r" % first)
    bars = {}
    for svg in root.find_all("svg", data_chart="revenue-by-tier"):
        bars = {g.attrs["data-key"]: float(g.attrs["data-value"]) for g in svg.find_all("g")
                if g.attrs.get("class") == "bar"}
    if bars != {"high": 900000.0, "ordinary": 90000.0, "low": 10000.0, "risk": -500.0}:
        errs.append("revenue-by-tier bars %r" % bars)
    if not any(a.attrs.get("href") == "targets.csv" for a in root.find_all("a")):
        errs.append("no link to targets.csv")
    return errs


def main():
    args = sys.argv[1:]
    opt = "--optional" in args
    args = [a for a in args if a != "--optional"]
    dom = None
    if "--dom" in args:
        i = args.index("--dom")
        dom = args[i + 1]
        del args[i:i + 2]
    report_dir, page = args
    rep = json.load(open(os.path.join(report_dir, "report.json")))
    errors = self_contained(page, report_dir)
    for where, path in (("page", page), ("dom", dom)):
        if path:
            root = parse(path)
            errors += Checker(rep, root, where).run()
            if opt:
                errors += ["%s: %s" % (where, e) for e in optional_sections(root, report_dir)]
    if errors:
        print("\n".join(errors[:30]), file=sys.stderr)
        sys.exit(1)
    print("%s: every chart holds the numbers of report.json (%d segments, %d periods)"
          % (page, len(rep["segments"]), len(rep["periods"])))


if __name__ == "__main__":
    main()

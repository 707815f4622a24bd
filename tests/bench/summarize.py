#!/usr/bin/python3
"""summarize.py — the benchmark's table and its count check (docs/benchmark.md).

    summarize.py OUT/results.tsv [--json OUT/summary.json] [--markdown OUT/table.md]
                 [--weak-per-rank N]

Reads every measurement bench.sh recorded (round 0 is the warm-up and is not
counted), prints per archive size the medians of wall time and time inside
the program, events/s, peak memory per rank, clickseg's phase times, and the
ratios clickseg/floor, DuckDB/clickseg and 1-to-2-rank scaling. Then it
checks that the work was the same: every floor read all rows, every clickseg
run gave the same session and per-segment counts, and DuckDB's counts equal
clickseg's. Then the final table, issue #9's targets with PASS/MISS and the
weak-scaling series (targets.py), also as markdown. Exit 0 when all holds, 1
otherwise (what differs is printed); a missed target is reported, not an error.
"""
import argparse
import csv
import json
import os
import platform
import re
import statistics
import sys
import time

import targets as tg


def floor_detail(path):
    """key=value fields of bench_floor's summary line."""
    with open(path) as f:
        for line in f:
            if line.startswith("bench_floor: ranks="):
                return dict(kv.split("=", 1) for kv in line.split()[1:])
    return None


def load(results):
    """Measurements grouped by (events, tool, ranks), each a dict."""
    groups = {}
    with open(results) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            n, tool, ranks = int(row["events"]), row["tool"], int(row["ranks"])
            m = {"round": int(row["round"]), "ok": row["status"] == "ok",
                 "wall": float(row["wall_s"]), "maxrss_mib": int(row["time_maxrss_kib"]) / 1024,
                 "detail": row["detail"], "inprog": None, "peak": None, "counts": None,
                 "phases": None, "phases_fastest": None, "rows": None, "budget_mib": None, "bytes_per_event": None}
            if m["ok"]:
                fill(m, tool)
            groups.setdefault((n, tool, ranks), []).append(m)
    return groups


def fill(m, tool):
    """Adds what the tool itself measured (in-program time, peak, counts)."""
    d = m["detail"]
    if tool in ("floor", "floor-cold"):
        kv = floor_detail(d)
        if kv is None:
            m["ok"] = False
            return
        m["inprog"], m["peak"], m["rows"] = float(kv["time_s"]), float(kv["peak_rss_mib_max"]), int(kv["rows"])
    elif tool in ("run", "run-imported", "weak", "run-cold"):
        j = os.path.splitext(d)[0] + ".json"
        if not os.path.exists(j):
            m["ok"] = False
            return
        with open(j) as f:
            rep = json.load(f)
        m["inprog"] = float(rep["run"]["wall_s"])
        m["peak"] = float(rep["run"]["peak_rss_mib_max"])
        m["phases"] = rep["run"].get("phase_s", {})
        m["phases_fastest"] = rep["run"].get("phase_s_fastest", {})
        budget = rep.get("config", {}).get("memory_per_rank")
        m["budget_mib"] = budget / 2**20 if budget else None
        if rep["run"].get("shuffle_bytes") is not None and rep["run"].get("rows"):
            m["bytes_per_event"] = rep["run"]["shuffle_bytes"] / rep["run"]["rows"]
        m["counts"] = {"sessions": rep["totals"]["sessions"], "events": rep["totals"]["events"],
                       "segments": {s["name"]: {"sessions": s["sessions"], "events": s["events"]}
                                    for s in rep["segments"]}}
    elif tool == "duckdb":
        with open(d) as f:
            out = json.loads(f.read().strip().splitlines()[-1])
        m["inprog"] = float(out["wall_s"])
        m["peak"] = m["maxrss_mib"]
        m["counts"] = {"sessions": out["sessions"], "events": out["events"],
                       "segments": {k: {"sessions": v["sessions"], "events": v["events"]}
                                    for k, v in out["segments"].items()}}
    elif tool == "generate":  # its own line: "generated DIR: N events ... T s (..."
        m["peak"] = m["maxrss_mib"]
        with open(d) as f:
            g = re.search(r"^generated .*: (\d+) events in .*, ([0-9.]+) s \(", f.read(), re.M)
        if not g:
            m["ok"] = False
            return
        m["rows"], m["inprog"] = int(g.group(1)), float(g.group(2))
    else:  # import: /usr/bin/time's peak (mpirun's largest process); import.json's time
        m["peak"] = m["maxrss_mib"]
        j = os.path.splitext(d)[0] + ".json"
        try:
            with open(j) as f:
                m["inprog"] = float(json.load(f)["seconds"]["total"])
        except (OSError, ValueError, KeyError, TypeError):
            pass


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec):
    return format(x, spec) if x is not None else "-"


def rate(n, t):
    return n / t / 1e6 if t else None


def entry(n, tool, ranks, ms, problems):
    """The medians of one (size, tool, ranks) group; failures become problems."""
    counted = [m for m in ms if m["round"] > 0]
    bad = [m for m in ms if not m["ok"]]
    ok = [m for m in counted if m["ok"]]
    e = {"tool": tool, "ranks": ranks, "events": n, "reps": len(ok), "failed": len(bad),
         "wall_s": med(m["wall"] for m in ok), "inprog_s": med(m["inprog"] for m in ok),
         "wall_min_s": min((m["wall"] for m in ok), default=None),
         "wall_max_s": max((m["wall"] for m in ok), default=None),
         "peak_mib_per_rank": med(m["peak"] for m in ok),
         "budget_mib": med(m["budget_mib"] for m in ok),
         "bytes_per_event": med(m["bytes_per_event"] for m in ok)}
    if tool in ("run", "weak", "run-cold") and ok:
        keys = ok[0]["phases"].keys()
        e["phase_s"] = {k: med(m["phases"].get(k) for m in ok) for k in keys}
        # The fastest rank's (report.json since 082eb60): a wide gap is a
        # rank the others waited for.
        if all(m["phases_fastest"] for m in ok):
            e["phase_s_fastest"] = {k: med(m["phases_fastest"].get(k) for m in ok) for k in keys}
    if bad:
        problems.append(f"{n} events: {tool} ({ranks}) failed in {len(bad)} of {len(ms)} rounds")
    for m in ms:
        if tool in ("floor", "floor-cold", "generate") and m["ok"] and m["rows"] != n:
            what = "generate made" if tool == "generate" else "the floor read"
            problems.append(f"{n} events: {what} {m['rows']} rows ({ranks} ranks)")
    return e


def summarize(groups):
    sizes = sorted({k[0] for k in groups if k[1] != "weak"})
    summary, problems, final = {}, [], []
    for n in sizes:
        rows, entries = [], {}
        for (nn, tool, ranks), ms in sorted(groups.items(), key=lambda kv: order(kv[0])):
            if nn != n or tool in ("run-imported", "weak"):
                continue
            e = entry(n, tool, ranks, ms, problems)
            entries[(tool, ranks)] = e
            rows.append(e)
        ratios = compute_ratios(entries)
        check = check_counts(n, groups, problems)
        tgts = tg.targets(n, rows)
        summary[str(n)] = {"measures": rows, "ratios": ratios, "check": check, "targets": tgts}
        final.append((n, tg.final_rows(n, rows), tgts))
        print_size(n, rows, ratios, check)
    weak = tg.weak_rows([entry(n, tool, ranks, ms, problems)
                         for (n, tool, ranks), ms in groups.items() if tool == "weak"])
    for e in weak:   # every round of one archive gives the same counts
        ref = None
        for m in groups[(e["events"], "weak", e["ranks"])]:
            if m["ok"] and m["counts"]:
                ref = ref or m["counts"]
                if m["counts"] != ref:
                    problems.append(f"weak scaling, {e['ranks']} ranks: round {m['round']} "
                                    f"gave other counts: {m['counts']} vs {ref}")
    return summary, problems, final, weak


def order(key):
    n, tool, ranks = key
    return (n, ["generate", "floor", "run", "duckdb", "floor-cold", "run-cold", "import",
                "run-imported", "weak"].index(tool), ranks)


def compute_ratios(entries):
    r = {}
    runs = sorted(k[1] for k in entries if k[0] == "run")
    for k in runs:
        run, fl = entries[("run", k)], entries.get(("floor", k))
        if fl and run["inprog_s"] and fl["inprog_s"]:
            r[f"run/floor in-program, {k} ranks"] = run["inprog_s"] / fl["inprog_s"]
        if fl and run["wall_s"] and fl["wall_s"]:
            r[f"run/floor wall, {k} ranks"] = run["wall_s"] / fl["wall_s"]
    for k in sorted(k[1] for k in entries if k[0] == "run-cold"):
        run, fl = entries[("run-cold", k)], entries.get(("floor-cold", k))
        if fl and run["inprog_s"] and fl["inprog_s"]:
            r[f"run/floor in-program, page cache dropped, {k} ranks"] = (
                run["inprog_s"] / fl["inprog_s"])
    duck = next((e for (t, _), e in entries.items() if t == "duckdb"), None)
    if duck and runs:
        top = entries[("run", runs[-1])]
        if top["wall_s"] and duck["wall_s"]:
            r[f"duckdb/run wall, run on {runs[-1]} ranks"] = duck["wall_s"] / top["wall_s"]
        if top["inprog_s"] and duck["inprog_s"]:
            r[f"duckdb/run in-program, run on {runs[-1]} ranks"] = duck["inprog_s"] / top["inprog_s"]
        if top["peak_mib_per_rank"] and duck["peak_mib_per_rank"]:
            r[f"duckdb peak / run peak per rank ({runs[-1]} ranks)"] = (
                duck["peak_mib_per_rank"] / top["peak_mib_per_rank"])
    for tool in ("floor", "run", "import"):
        ks = sorted(k[1] for k in entries if k[0] == tool)
        if len(ks) >= 2:
            a, b = entries[(tool, ks[0])], entries[(tool, ks[-1])]
            for what in ("inprog_s", "wall_s"):
                if a[what] and b[what]:
                    label = "in-program" if what == "inprog_s" else "wall"
                    r[f"{tool} speed-up {ks[0]}->{ks[-1]} ranks, {label}"] = a[what] / b[what]
    return r


def check_counts(n, groups, problems):
    """Every run agrees with the first run; DuckDB agrees with clickseg."""
    runs = [(k[2], m) for k, ms in groups.items() if k[0] == n and k[1] in ("run", "run-cold")
            for m in ms if m["ok"] and m["counts"]]
    peers = [m for k, ms in groups.items() if k[0] == n and k[1] == "duckdb"
             for m in ms if m["ok"] and m["counts"]]
    if not runs:
        return {"status": "no clickseg run to compare"}
    ref = runs[0][1]["counts"]
    status = "ok"
    for ranks, m in runs[1:]:
        if m["counts"] != ref:
            problems.append(f"{n} events: clickseg run on {ranks} ranks (round {m['round']}) "
                            f"gave other counts: {m['counts']} vs {ref}")
            status = "MISMATCH"
    for m in peers:
        diff = count_diff(ref, m["counts"])
        if diff:
            problems.append(f"{n} events: DuckDB (round {m['round']}) differs from clickseg: "
                            + "; ".join(diff))
            status = "MISMATCH"
    imported = [(k[2], m) for k, ms in groups.items() if k[0] == n and k[1] == "run-imported"
                for m in ms]
    for ranks, m in imported:
        diff = count_diff(ref, m["counts"]) if m["ok"] and m["counts"] else ["the run failed"]
        if diff:
            problems.append(f"{n} events: clickseg run on the archive imported with {ranks} "
                            "rank(s) differs: " + "; ".join(diff).replace("duckdb", "imported"))
            status = "MISMATCH"
    what = (["DuckDB"] if peers else []) + (["the imported archive"] if imported else [])
    out = {"status": f"{status} (clickseg runs" + "".join(f", {w}" for w in what) + ")",
           "sessions": ref["sessions"],
           "segments": {k: v["sessions"] for k, v in ref["segments"].items()}}
    return out


def count_diff(a, b):
    d = []
    for k in ("sessions", "events"):
        if a[k] != b[k]:
            d.append(f"{k}: clickseg {a[k]}, duckdb {b[k]}")
    for seg in sorted(set(a["segments"]) | set(b["segments"])):
        x = a["segments"].get(seg, {"sessions": 0, "events": 0})
        y = b["segments"].get(seg, {"sessions": 0, "events": 0})
        if x != y:
            d.append(f"segment {seg}: clickseg {x}, duckdb {y}")
    return d


def print_size(n, rows, ratios, check):
    print(f"\n{n:,} events (medians of the measured rounds; wall = /usr/bin/time around "
          f"mpirun or node; duckdb: ranks = threads)")
    hdr = (f"{'':<10}{'ranks':>5} {'reps':>4} {'wall s':>8} {'(min-max)':>15} {'in-prog s':>9} "
           f"{'Mev/s wall':>10} {'Mev/s in':>9} {'peak MiB/rank':>13}")
    print(hdr)
    print("-" * len(hdr))
    for e in rows:
        name = e["tool"]
        spread = (f"{e['wall_min_s']:.2f}-{e['wall_max_s']:.2f}" if e["wall_min_s"] is not None
                  else "-")
        fail = f"  ({e['failed']} failed)" if e["failed"] else ""
        print(f"{name:<10}{e['ranks']:>5} {e['reps']:>4} {fmt(e['wall_s'], '8.2f')} {spread:>15} "
              f"{fmt(e['inprog_s'], '9.3f')} {fmt(rate(n, e['wall_s']), '10.2f')} "
              f"{fmt(rate(n, e['inprog_s']), '9.2f')} {fmt(e['peak_mib_per_rank'], '13.1f')}{fail}")
    for e in rows:
        if e["tool"] in ("run", "run-cold") and e["peak_mib_per_rank"] is not None:
            print(f"{e['tool']} {e['ranks']} rank(s): peak {e['peak_mib_per_rank']:.0f} MiB/rank of "
                  f"memory_per_rank {fmt(e['budget_mib'], '.0f')} MiB, "
                  f"{fmt(e['bytes_per_event'], '.1f')} bytes sent per event")
    for e in rows:
        if e.get("phase_s"):
            fast = e.get("phase_s_fastest") or {}
            ph = " ".join(f"{k} {v:.3f}" + (f" ({fast[k]:.3f})" if fast.get(k) is not None else "")
                          for k, v in e["phase_s"].items() if v is not None)
            print(f"{e['tool']} phases, {e['ranks']} rank(s), s"
                  f"{' (fastest rank in brackets)' if fast else ''}: {ph}")
    for k, v in ratios.items():
        print(f"ratio {k}: {v:.2f}")
    segs = ", ".join(f"{k} {v}" for k, v in check.get("segments", {}).items())
    print(f"check: {check['status']}: {check.get('sessions', '-')} sessions ({segs})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("--json", help="write the medians, ratios, targets and check here")
    ap.add_argument("--markdown", help="write the final table, targets and weak scaling here")
    ap.add_argument("--weak-per-rank", type=int, default=0, help="weak scaling: events per rank")
    a = ap.parse_args()
    groups = load(a.results)
    if not groups:
        print("summarize.py: no measurements in " + a.results, file=sys.stderr)
        return 1
    summary, problems, final, weak = summarize(groups)
    tg.print_final(final, weak, a.weak_per_rank)
    info = {"date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "host": platform.node(), "cpus": os.cpu_count(), "cpu": cpu_model(),
            "loadavg": open("/proc/loadavg").read().split()[:3], "sizes": summary,
            "weak": {"events_per_rank": a.weak_per_rank, "measures": weak},
            "problems": problems}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(info, f, indent=1)
    if a.markdown:
        tg.markdown(a.markdown, info, final, weak, a.weak_per_rank)
    for p in problems:
        print("PROBLEM: " + p, file=sys.stderr)
    return 1 if problems else 0


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())

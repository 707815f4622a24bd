"""targets.py — the benchmark's final table and issue #9's targets (docs/benchmark.md).

Used by summarize.py once the medians are known: final_rows() picks, per
archive size, the measures the issue names (floor, run 1 and 2 ranks,
DuckDB, import 1 and 2 ranks, generate), targets() turns the medians into
each target's value and PASS/MISS, weak_rows() the weak-scaling series, and
markdown() writes all three tables for the README. The targets are set for
10^8 events on an idle machine; at smaller sizes MPI and Node.js start-up
weigh on the wall times, so PASS/MISS there is only indicative.
"""

# Which time each target uses: in-program where start-up is not what the
# target is about (the floor has no start-up of its own to compare, scaling
# is about the work), wall where the user waits for the whole command.
GEN_RATE = 1e8 / 60     # 10^8 events generated in under 60 s
IMPORT_RATE = 1e8 / 180  # a 10^8-row CSV imported in under 3 minutes (2 ranks)

FINAL = [("floor", None), ("run", 1), ("run", 2), ("duckdb", None), ("import", 1),
         ("import", 2), ("generate", None), ("floor-cold", None), ("run-cold", None)]
NAMES = {"floor": "I/O floor", "run": "clickseg run", "duckdb": "DuckDB",
         "import": "clickseg import", "generate": "clickseg generate",
         "floor-cold": "I/O floor, page cache dropped",
         "run-cold": "clickseg run, page cache dropped"}


def rate(n, t):
    return n / t / 1e6 if t else None


def final_rows(n, rows):
    """The issue's measures for one size, in its order (floors: every rank count)."""
    out = []
    for tool, ranks in FINAL:
        for e in rows:
            if e["tool"] == tool and (ranks is None or e["ranks"] == ranks) and e["reps"]:
                out.append(e)
    return out


def _get(rows, tool, ranks=None):
    for e in rows:
        if e["tool"] == tool and (ranks is None or e["ranks"] == ranks) and e["reps"]:
            return e
    return None


def _div(a, b):
    return a / b if a is not None and b else None


def targets(n, rows):
    """Each target as {what, value, target, status, note}; status PASS, MISS or '-'."""
    run1, run2 = _get(rows, "run", 1), _get(rows, "run", 2)
    floor2, duck = _get(rows, "floor", 2), _get(rows, "duckdb")
    imp2, gen = _get(rows, "import", 2), _get(rows, "generate")
    t = []

    def add(what, value, op, goal, note=""):
        if value is None:
            status = "-"
        elif op is None:
            status = ""
        else:
            status = "PASS" if (value <= goal if op == "<=" else value >= goal) else "MISS"
        t.append({"what": what, "value": value, "target": f"{op} {goal:g}" if op else "",
                  "status": status, "note": note})

    add("clickseg run / floor, 2 ranks, in-program",
        _div(run2 and run2["inprog_s"], floor2 and floor2["inprog_s"]), "<=", 3)
    add("DuckDB / clickseg run (2 ranks), wall",
        _div(duck and duck["wall_s"], run2 and run2["wall_s"]), ">=", 10)
    add("strong scaling run 1 -> 2 ranks, in-program",
        _div(run1 and run1["inprog_s"], run2 and run2["inprog_s"]), ">=", 1.7)
    for r in (run1, run2):
        if r:
            add(f"peak RSS / memory_per_rank, run {r['ranks']} rank(s)",
                _div(r["peak_mib_per_rank"], r.get("budget_mib")), "<=", 1.2,
                f"{r['peak_mib_per_rank']:.0f} of {r.get('budget_mib') or 0:.0f} MiB")
    add("clickseg peak per rank (2 ranks) / DuckDB peak",
        _div(run2 and run2["peak_mib_per_rank"], duck and duck["peak_mib_per_rank"]), "<=", 0.25)
    add("generate, M events/s wall (10^8 in 60 s)",
        gen and rate(n, gen["wall_s"]), ">=", round(GEN_RATE / 1e6, 3),
        gen and f"{gen['ranks']} ranks, {gen['wall_s']:.2f} s; 10^8 would take "
        f"{gen['wall_s'] * 1e8 / n:.0f} s at this rate")
    add("import 2 ranks, M events/s wall (10^8 in 180 s)",
        imp2 and rate(n, imp2["wall_s"]), ">=", round(IMPORT_RATE / 1e6, 3),
        imp2 and f"10^8 would take {imp2['wall_s'] * 1e8 / n:.0f} s at this rate")
    for r in (run1, run2):
        if r and r.get("bytes_per_event") is not None:
            add(f"bytes sent per event, run {r['ranks']} rank(s)", r["bytes_per_event"], None, 0,
                "communication volume (report.json run.shuffle_bytes / rows)")
    return t


def weak_rows(entries):
    """Weak scaling: entries sorted by ranks, with efficiency t(1 rank) / t(r)."""
    rows = sorted(entries, key=lambda e: e["ranks"])
    base = rows[0]["inprog_s"] if rows and rows[0]["ranks"] == 1 else None
    for e in rows:
        e["efficiency"] = _div(base, e["inprog_s"])
    return rows


def f(x, spec):
    return format(x, spec) if x is not None else "-"


def measure_line(n, e):
    """One final-table row: events, measure, ranks, wall, in-prog, Mev/s, peak, budget, B/event."""
    ranks = f"{e['ranks']} thr" if e["tool"] == "duckdb" else str(e["ranks"])
    return [f"{n:,}", NAMES[e["tool"]], ranks, f(e["wall_s"], ".2f"), f(e["inprog_s"], ".3f"),
            f(rate(n, e["wall_s"]), ".2f"), f(rate(n, e["inprog_s"]), ".2f"),
            f(e["peak_mib_per_rank"], ".0f"), f(e.get("budget_mib"), ".0f"),
            f(e.get("bytes_per_event"), ".1f")]


MEASURE_HDR = ["events", "measure", "ranks", "wall s", "in-program s", "Mev/s wall",
               "Mev/s in-prog", "peak MiB/rank", "budget MiB", "bytes/event"]
TARGET_HDR = ["events", "target", "value", "goal", "status", "note"]
WEAK_HDR = ["ranks", "events", "wall s", "in-program s", "Mev/s/rank in-prog", "efficiency",
            "bytes/event", "peak MiB/rank", "budget MiB"]


def target_line(n, t):
    return [f"{n:,}", t["what"], f(t["value"], ".2f"), t["target"], t["status"], t["note"] or ""]


def weak_line(e):
    return [str(e["ranks"]), f"{e['events']:,}", f(e["wall_s"], ".2f"), f(e["inprog_s"], ".3f"),
            f(rate(e["events"] / e["ranks"], e["inprog_s"]), ".2f"), f(e["efficiency"], ".2f"),
            f(e.get("bytes_per_event"), ".1f"), f(e["peak_mib_per_rank"], ".0f"),
            f(e.get("budget_mib"), ".0f")]


def text_table(hdr, lines):
    w = [max(len(str(c)) for c in col) for col in zip(hdr, *lines)]
    out = ["  ".join(str(c).ljust(x) for c, x in zip(hdr, w))]
    out.append("-" * len(out[0]))
    out += ["  ".join(str(c).ljust(x) for c, x in zip(ln, w)) for ln in lines]
    return "\n".join(out)


def md_table(hdr, lines):
    esc = [[str(c).replace("|", "\\|") for c in ln] for ln in [hdr] + lines]
    out = ["| " + " | ".join(esc[0]) + " |", "|" + "---|" * len(hdr)]
    out += ["| " + " | ".join(ln) + " |" for ln in esc[1:]]
    return "\n".join(out)


def tables(final, weak, weak_per_rank):
    """(measures, targets, weak) as (header, lines) pairs."""
    m = [measure_line(n, e) for n, rows, _ in final for e in rows]
    t = [target_line(n, x) for n, _, ts in final for x in ts]
    w = [weak_line(e) for e in weak]
    return (MEASURE_HDR, m), (TARGET_HDR, t), (WEAK_HDR, w)


NOTE = ("Medians of the measured rounds. wall: /usr/bin/time around mpirun or node "
        "(start-up included); in-program: the tool's own clock. peak: largest rank's "
        "resident memory; budget: memory_per_rank. Targets are set for 10^8 events on an "
        "idle 2-core machine; at smaller sizes PASS/MISS is indicative only.")


def print_final(final, weak, weak_per_rank):
    (mh, ml), (th, tl), (wh, wl) = tables(final, weak, weak_per_rank)
    print("\n== final table\n" + text_table(mh, ml))
    print("\n== targets (issue #9)\n" + text_table(th, tl))
    if wl:
        print(f"\n== weak scaling: {weak_per_rank:,} events per rank (more ranks than cores "
              "are oversubscribed: for shape, not speed)\n" + text_table(wh, wl))
    print("\n" + NOTE)


def markdown(path, info, final, weak, weak_per_rank):
    (mh, ml), (th, tl), (wh, wl) = tables(final, weak, weak_per_rank)
    parts = [f"Benchmark (tests/bench/bench.sh), {info['date_utc']}, {info['cpus']} cores "
             f"({info['cpu']}), load average at the end {' '.join(info['loadavg'])}.", "",
             NOTE, "", md_table(mh, ml), "", "Targets (issue #9):", "", md_table(th, tl)]
    if wl:
        parts += ["", f"Weak scaling, {weak_per_rank:,} events per rank (ranks beyond the "
                  "cores oversubscribed: for shape, not speed):", "", md_table(wh, wl)]
    with open(path, "w") as fh:
        fh.write("\n".join(parts) + "\n")

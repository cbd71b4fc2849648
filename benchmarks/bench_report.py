#!/usr/bin/env python3
"""Turns the suite's raw results into docs/benchmarks.md and docs/benchmarks.png.

  bench_report.py callgrind DIR DIALECT N OUT.json
      merge the callgrind dumps in DIR (one per measurement, named by CALLGRIND_DUMP_STATS_AT as
      <target>/<op>/<side>) into OUT.json as instructions per call
  bench_report.py compile OUT.json COMPILER VARIANT SOURCE TIME_FILE...
      the medians of several `/usr/bin/time -v` outputs, into OUT.json
  bench_report.py render --in DIR --template T --md OUT.md [--png OUT.png]

Inputs of `render` (all optional except sqlite.json), in DIR:
  sqlite.json, pg.json   Google Benchmark JSON (medians of --benchmark_repetitions)
  callgrind.json         from the `callgrind` command
  pg_counts.json         round trips and statements per PostgreSQL operation (pg_counts.hpp)
  rls_plans.txt          the plan of each RLS read (rls_bench.hpp)
  stream.txt             streaming memory (stream_rss.cpp)
  compile_cost.json      from the `compile` command
  meta.json              how the run was made (written by scripts/bench.sh)
Only the Python standard library is used; the chart is drawn by gnuplot when it is installed.
"""
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

TARGETS = [
    ("sqlite_memory", "SQLite, in memory"),
    ("sqlite_file", "SQLite, file (WAL, synchronous=NORMAL)"),
    ("pg_socket", "PostgreSQL, unix socket"),
    ("pg_tcp", "PostgreSQL, TCP loopback"),
]
OPS = [
    ("insert", "insert one row (autocommit)", True),
    ("insert_many_1000", "insert_many, 1,000 rows in one transaction", False),
    ("insert_many_10000", "insert_many, 10,000 rows in one transaction", False),
    ("find", "find by key", True),
    ("find_many_100", "find_many: 100 keys of one org", False),
    ("list_user_100", "list one user's rows (100 of 10,000)", False),
    ("upsert", "upsert on UNIQUE (org_id, token_prefix), conflict path, row read back", True),
    ("upsert_no_read_back", "put: the same upsert, nothing read back (raw: no RETURNING)", True),
    ("set", "set one column", True),
    ("erase", "erase by key", True),
    ("count", "count one org's rows", True),
    ("join_100", "query: a user's tokens joined to their owner (100 rows)", True),
    ("count_per_status", "query: an org's tokens counted per status (GROUP BY)", True),
    ("batch_set_10", "batch: 10 set() of one org in one transaction (raw: by hand; libpq pipeline on PostgreSQL)", False),
]
BULK_SIDES = [
    ("raw", "raw: prepared INSERT per row, in a transaction"),
    ("raw_pipeline", "raw: the same in libpq pipeline mode (one round trip)"),
    ("raw_multirow_values", "raw: INSERT ... VALUES (...), (...) x 1,000 rows per statement"),
    ("raw_unnest", "raw: INSERT ... SELECT * FROM unnest($1::uuid[], ...) (binary arrays; tenantry's approach)"),
    ("raw_copy", "raw: COPY ... FROM STDIN (FORMAT binary)"),
    ("tenantry", "tenantry: Repository::insert_many"),
]
PAIRED_COUNTERS = ("raw_us", "tenantry_us", "raw_cpu_us", "tenantry_cpu_us", "ratio", "ratio_cpu", "batch",
                   "base_round_trips", "variant_round_trips", "base_server_min_us", "variant_server_min_us",
                   "base_server_mean_us", "variant_server_mean_us")
POINT_TARGET = 1.05
BULK_TARGET = 1.15  # PostgreSQL insert_many(1,000) against raw COPY


# ---- reading ------------------------------------------------------------------------------------

def load_gbench(path):
    """{(target, op, side): {"median": us, "cv": fraction or None, "reps": n}} and the context."""
    # Missing, or empty: a --filter that matched nothing in that binary writes no JSON at all.
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return {}, {}
    with open(path) as f:
        data = json.load(f)
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
    runs = {}
    singles = {}
    for b in data.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        parts = name.split("/")
        if len(parts) < 3:
            continue
        key = (parts[0], parts[1], parts[2])
        t = b["real_time"] * scale[b.get("time_unit", "ns")]
        if b.get("error_occurred"):
            runs.setdefault(key, {})["error"] = b.get("error_message", "error")
            continue
        counters = {c: b[c] for c in PAIRED_COUNTERS if c in b}
        if b.get("run_type") == "aggregate":
            agg = b.get("aggregate_name")
            entry = runs.setdefault(key, {})
            if agg == "median":
                entry["median"] = t
                entry["reps"] = b.get("repetitions", 1)
                entry.update(counters)
            elif agg == "cv":
                entry["cv"] = b["real_time"]  # cv aggregates are fractions
                entry.update({c + "_cv": v for c, v in counters.items()})
        else:
            singles.setdefault(key, []).append((t, counters))
    for key, runs_of in singles.items():
        entry = runs.setdefault(key, {})
        if "median" not in entry:
            ts = [t for t, _ in runs_of]
            entry["median"] = statistics.median(ts)
            entry["reps"] = len(ts)
            if len(ts) > 1 and statistics.mean(ts) > 0:
                entry["cv"] = statistics.stdev(ts) / statistics.mean(ts)
            for c in PAIRED_COUNTERS:
                vs = [cs[c] for _, cs in runs_of if c in cs]
                if vs:
                    entry[c] = statistics.median(vs)
    return runs, data.get("context", {})


PAIR_OPS = [
    ("prepare", "first use of a statement on a connection (DEALLOCATE ALL, then prepare)"),
    ("find", "find by key (index path)"),
    ("count_big", "count one org's 10,000 rows (scan path)"),
    ("list_big", "list one org's 10,000 rows (scan path)"),
]
PAIRS = [
    ("tenantry_vs_raw", "tenantry / raw libpq"),
    ("rls_vs_off", "RLS on (org_context + policy) / off, autocommit"),
    ("rls_tx_vs_off_tx", "policy / no policy, in one transaction"),
    ("rls_old_tx_vs_rls_tx", "earlier policy form / generated form, in one transaction"),
]


def pair_table(runs):
    """The paired variant-vs-baseline benchmarks (<target>_rls, <target>_cold): one line each."""
    lines = ["| target | operation | comparison | baseline | variant | ratio |", "|---|---|---|---|---|---|"]
    for target, title in TARGETS[2:]:
        for suffix in ("_cold",):
            for op, op_title in PAIR_OPS:
                for pair, pair_title in PAIRS:
                    e = runs.get((target + suffix, op, pair))
                    if not e or "ratio" not in e:
                        continue
                    lines.append(f"| {title} | {op_title} | {pair_title} | {fmt_us(e.get('raw_us'))} | "
                                 f"{fmt_us(e.get('tenantry_us'))} | {e['ratio']:.2f} |")
    return "\n".join(lines) if len(lines) > 2 else "_(not measured in this run)_"


HOOK_OPS = [("find", "find by key"), ("insert", "insert one row")]
HOOK_PAIRS = [
    ("counters_vs_none", "observer with per-org counters / no observer"),
    ("counting_vs_none", "counters and a counting on_statement hook / no observer"),
]


def hook_table(runs):
    """<target>_hook pairs (observe_bench.hpp): the cost of a statement observer, every target."""
    lines = ["| target | operation | comparison | no observer | with observer | ratio |", "|---|---|---|---|---|---|"]
    for target, title in TARGETS:
        for op, op_title in HOOK_OPS:
            for pair, pair_title in HOOK_PAIRS:
                e = runs.get((target + "_hook", op, pair))
                if not e or "ratio" not in e:
                    continue
                lines.append(f"| {title} | {op_title} | {pair_title} | {fmt_us(e.get('raw_us'))} | "
                             f"{fmt_us(e.get('tenantry_us'))} | {e['ratio']:.3f} |")
    return "\n".join(lines) if len(lines) > 2 else "_(not measured in this run)_"


def fmt_us(us):
    if us is None:
        return "n/a"
    if us >= 10000:
        return f"{us / 1000:,.1f} ms"
    if us >= 100:
        return f"{us:,.0f} µs"
    if us >= 10:
        return f"{us:.1f} µs"
    return f"{us:.2f} µs"


def fmt_cell(entry, rows=None):
    if not entry:
        return "—"
    if "error" in entry and "median" not in entry:
        return "error: " + entry["error"][:60]
    s = fmt_us(entry["median"])
    if rows:
        s += f" ({entry['median'] / rows:.2f} µs/row)"
    if entry.get("cv") is not None and entry.get("reps", 1) > 1:
        s += f" ±{entry['cv'] * 100:.0f}%"
    return s


def ratio(a, b):
    if not a or not b or "median" not in a or "median" not in b or b["median"] <= 0:
        return None
    return a["median"] / b["median"]


def rows_of(op):
    m = re.match(r"insert_many_(\d+)$", op)
    return int(m.group(1)) if m else None


# ---- tables -------------------------------------------------------------------------------------

def paired_cell(p, key):
    if not p or key not in p:
        return "n/a"
    s = f"{p[key]:.3f}"
    cv = p.get(key + "_cv")
    if cv is not None and p.get("reps", 1) > 1:
        s += f" ±{cv * 100:.1f}%"
    return s


def target_table(runs, target, misses):
    out = ["| operation | raw C API | tenantry | ratio of medians | paired ratio, wall | paired ratio, CPU | "
           "tenantry's extra CPU per call | target |",
           "|---|---:|---:|---:|---:|---:|---:|---|"]
    for op, label, point in OPS:
        raw, ten = runs.get((target, op, "raw")), runs.get((target, op, "tenantry"))
        paired = runs.get((target, op, "paired"))
        if not raw and not ten:
            continue
        separate = ratio(ten, raw)
        r = paired["ratio"] if paired and "ratio" in paired else separate
        rows = rows_of(op)
        goal = ""
        if target.startswith("sqlite") and (point or rows):
            goal = f"≤ {POINT_TARGET:.2f}"
        elif target.startswith("pg") and point:
            goal = "client instructions (below)"
        elif target.startswith("pg") and op == "insert_many_1000":
            goal = f"≤ {BULK_TARGET:.2f} × raw COPY (see below)"
        verdict = ""
        if r is not None and goal.startswith("≤ 1.05"):
            ok = r <= POINT_TARGET
            verdict = " ✓" if ok else " ✗"
            if not ok:
                misses.append((target, op + " (paired wall)", r, POINT_TARGET))
        sep = f"{separate:.3f}" if separate is not None else "n/a"
        if paired and "ratio" in paired:
            pw = f"**{paired_cell(paired, 'ratio')}**{verdict}"
        else:
            pw, sep = "n/a", (f"**{sep}**{verdict}" if separate is not None else sep)
        extra = "n/a"
        if paired and "raw_cpu_us" in paired and "tenantry_cpu_us" in paired:
            d = paired["tenantry_cpu_us"] - paired["raw_cpu_us"]
            extra = f"{d:+,.0f} µs" if abs(d) >= 100 else f"{d:+.2f} µs"
            if rows:
                extra += f" ({1000 * d / rows:+.0f} ns/row)"
        out.append(f"| {label} | {fmt_cell(raw, rows)} | {fmt_cell(ten, rows)} | {sep} | {pw} | "
                   f"{paired_cell(paired, 'ratio_cpu')} | {extra} | {goal} |")
    return "\n".join(out)


def bulk_table(runs, target, misses):
    out = []
    for op in ("insert_many_1000", "insert_many_10000"):
        n = rows_of(op)
        present = [(s, l) for s, l in BULK_SIDES if runs.get((target, op, s))]
        if not present:
            continue
        ten = runs.get((target, op, "tenantry"))
        copy = runs.get((target, op, "raw_copy"))
        out.append(f"**{n:,} rows** ({target})\n")
        out.append("| method | time | rows/s | tenantry / this |")
        out.append("|---|---:|---:|---:|")
        for side, label in present:
            e = runs[(target, op, side)]
            rps = f"{n / (e['median'] / 1e6):,.0f}" if "median" in e else "n/a"
            r = ratio(ten, e)
            out.append(f"| {label} | {fmt_cell(e)} | {rps} | {f'{r:.2f}' if r else 'n/a'} |")
        r = ratio(ten, copy)
        if op == "insert_many_1000" and r is not None:
            ok = r <= BULK_TARGET
            out.append(f"\nTarget: tenantry within {BULK_TARGET:.2f}× of raw COPY: **{r:.2f}×** {'✓' if ok else '✗'}\n")
            if not ok:
                misses.append((target, op + " vs COPY", r, BULK_TARGET))
        out.append("")
    return "\n".join(out)


PG_OPS = ["find", "list_user_100", "insert", "insert_many_1000", "upsert", "upsert_no_read_back", "find_many_100",
          "join_100", "count", "count_per_status", "set", "erase"]
PG_IR_TARGET = 1.10   # issue 15 part 3: client instructions per find / list, tenantry / raw
SQLITE_IR_TARGET = 1.03  # issue 15 part 3: find / list against the NOMUTEX raw twin
QUERY_TARGET = 1.05   # issue 11: join_100 and count_per_status against the same SQL on the C API


def pg_table(runs, cg, counts, misses):
    """Part 4: per PostgreSQL operation, client instructions, round trips and server statements
    (counted), and the wall ratio with its spread (paired, unix socket)."""
    ir = (cg or {}).get("pg_socket", {})
    ops_counts = (counts or {}).get("ops", {})
    if not ir and not ops_counts:
        return "_(PostgreSQL not measured in this run)_"
    server = (counts or {}).get("server_statements")
    labels = {o: l for o, l, _ in OPS}
    out = ["| operation | client Ir/call raw | client Ir/call tenantry | Ir ratio | round trips raw → tenantry | "
           "statements raw → tenantry" + (" (server)" if server else " (client messages)") +
           " | wall, paired (median ± CV) |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for op in PG_OPS:
        e, c = ir.get(op, {}), ops_counts.get(op, {})
        if not e and not c:
            continue
        raw_ir, ten_ir = e.get("raw"), e.get("tenantry")
        r = ten_ir / raw_ir if raw_ir and ten_ir else None
        verdict = ""
        if r is not None and op in ("find", "list_user_100"):
            verdict = " ✓" if r <= PG_IR_TARGET else " ✗"
            if r > PG_IR_TARGET:
                misses.append(("pg_socket", op + " client instructions", r, PG_IR_TARGET))
        if r is not None and op in ("join_100", "count_per_status"):
            verdict = " ✓" if r <= QUERY_TARGET else " ✗"
            if r > QUERY_TARGET:
                misses.append(("pg_socket", op + " client instructions", r, QUERY_TARGET))
        key = "server_statements" if server else "client_statements"
        def pair(k):
            a, b = c.get("raw", {}).get(k), c.get("tenantry", {}).get(k)
            if a is None or b is None:
                return "n/a"
            return f"{a:,.0f} → {b:,.0f}" if (a == int(a) and b == int(b)) else f"{a:,.2f} → {b:,.2f}"
        p = runs.get(("pg_socket", op, "paired"))
        wall = paired_cell(p, "ratio") if p else "n/a"
        unit = " (per call of 1,000 rows)" if op == "insert_many_1000" else ""
        out.append(f"| {labels.get(op, op)}{unit} | {f'{raw_ir:,.0f}' if raw_ir else 'n/a'} | "
                   f"{f'{ten_ir:,.0f}' if ten_ir else 'n/a'} | {f'**{r:.3f}**{verdict}' if r else 'n/a'} | "
                   f"{pair('round_trips')} | {pair(key)} | {wall} |")
    # What the server ran for each tenantry operation that differs from raw
    notes = []
    for op in PG_OPS:
        c = ops_counts.get(op, {})
        t = c.get("tenantry", {}).get("by_statement")
        if not t:
            continue
        parts = []
        for q, n in t:
            q = re.sub(r"\s+", " ", q)
            q = q if len(q) <= 60 else q[:57] + "..."
            parts.append(f"{n:g} × `{q}`")
        notes.append(f"- {op}: " + "; ".join(parts))
    text = "\n".join(out)
    if notes:
        text += "\n\nWhat the server ran per tenantry call (pg_stat_statements, per statement text):\n\n" + "\n".join(notes)
    return text


RLS_OPS = [
    ("find", "find by key"),
    ("count_big", "count one org's 10,000 rows"),
    ("list_big", "list one org's 10,000 rows"),
    ("insert", "insert one row"),
]
RLS_PAIRS = [
    ("rls_tx_vs_off_tx", "policy on / off, inside one transaction (the policy's own cost)"),
    ("rls_vs_off", "RLS mode on / off, autocommit (org_context: set_config pipelined with the statement)"),
    ("rls_old_tx_vs_rls_tx", "earlier per-row policy form / generated once-per-statement form"),
]
RLS_TARGET = 1.05


def rls_plans(path):
    plans = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 3:
                    plans[(parts[0], parts[1])] = parts[2]
    return plans


def scan_of(plan):
    m = re.search(r"(Index Only Scan|Index Scan|Bitmap Heap Scan|Seq Scan)( using \S+)?", plan or "")
    return m.group(0) if m else "?"


def rls_table(runs, plans, misses):
    lines = ["| target | operation (plan, generated policy) | comparison | off / baseline | on / variant | "
             "ratio (median ± CV) | server time per statement, min: off → on (ratio) | round trips per call |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for target, title in TARGETS[2:]:
        for op, op_title in RLS_OPS:
            plan = plans.get((target, op))
            op_cell = op_title + (f" ({scan_of(plan)})" if plan else "")
            for pair, pair_title in RLS_PAIRS:
                e = runs.get((target + "_rls", op, pair))
                if not e or "ratio" not in e:
                    continue
                verdict = ""
                if op == "find" and pair == "rls_tx_vs_off_tx":
                    ok = e["ratio"] <= RLS_TARGET
                    verdict = " ✓" if ok else " ✗"
                    if not ok:
                        misses.append((target, "RLS policy on an indexed find", e["ratio"], RLS_TARGET))
                trips = "n/a"
                if "base_round_trips" in e and "variant_round_trips" in e:
                    trips = f"{e['base_round_trips']:g} → {e['variant_round_trips']:g}"
                server = "n/a"
                if e.get("base_server_min_us") and e.get("variant_server_min_us"):
                    b, v = e["base_server_min_us"], e["variant_server_min_us"]
                    server = f"{fmt_us(b)} → {fmt_us(v)} ({v / b:.2f})"
                lines.append(f"| {title} | {op_cell} | {pair_title} | {fmt_us(e.get('raw_us'))} | "
                             f"{fmt_us(e.get('tenantry_us'))} | **{paired_cell(e, 'ratio')}**{verdict} | {server} | {trips} |")
    if len(lines) == 2:
        return "_(not measured in this run)_"
    text = "\n".join(lines)
    if plans:
        text += "\n\nPlans (EXPLAIN (COSTS OFF) EXECUTE, as the role, generated policy):\n\n"
        text += "\n".join(f"- {t} / {op}: `{p}`" for (t, op), p in sorted(plans.items()) if t == "pg_socket")
    return text


def upsert_table(runs, cg, misses):
    """Raw upsert with and without RETURNING against tenantry's upsert and put (SQLite)."""
    lines = ["| target | raw, RETURNING | tenantry upsert (row read back) | ratio | raw, no RETURNING | "
             "tenantry put | ratio |", "|---|---:|---:|---:|---:|---:|---:|"]
    sq = (cg or {}).get("sqlite_memory", {})
    if sq.get("upsert") and sq.get("upsert_no_read_back"):
        u, p = sq["upsert"], sq["upsert_no_read_back"]
        ru, rp = u["tenantry"] / u["raw"], p["tenantry"] / p["raw"]
        ok = rp <= POINT_TARGET
        if not ok:
            misses.append(("sqlite_memory", "put instructions vs raw without RETURNING", rp, POINT_TARGET))
        lines.append(f"| SQLite in memory, instructions per call | {u['raw']:,.0f} | {u['tenantry']:,.0f} | {ru:.3f} | "
                     f"{p['raw']:,.0f} | {p['tenantry']:,.0f} | **{rp:.3f}** {'✓' if ok else '✗'} |")
    for target, title in TARGETS[:2]:
        u, p = runs.get((target, "upsert", "paired")), runs.get((target, "upsert_no_read_back", "paired"))
        if not u or not p or "raw_us" not in u or "raw_us" not in p:
            continue
        lines.append(f"| {title}, time per call (paired) | {fmt_us(u['raw_us'])} | {fmt_us(u['tenantry_us'])} | "
                     f"{paired_cell(u, 'ratio')} | {fmt_us(p['raw_us'])} | {fmt_us(p['tenantry_us'])} | "
                     f"**{paired_cell(p, 'ratio')}** |")
    return "\n".join(lines) if len(lines) > 2 else "_(not measured in this run)_"


IR_DIFF_OPS = ["find", "list_user_100", "find_many_100", "join_100", "upsert_no_read_back"]
BENCH_FRAMES = re.compile(r"\bmain\b|below main|^0x|run_all|with_runner|measure<|libc_start|^\?\?\?$")


def annotate(path):
    """Exclusive instructions per function of one callgrind dump (callgrind_annotate)."""
    tool = shutil.which("callgrind_annotate")
    if not tool:
        return {}
    r = subprocess.run([tool, "--threshold=100", "--auto=no", "--inclusive=no", path], capture_output=True, text=True)
    out, on = {}, False
    for line in r.stdout.splitlines():
        if "file:function" in line:
            on = True
            continue
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(.*)", line)
        if on and m:
            fn = re.sub(r"\s*\[[^\]]*\]$", "", m.group(2))
            fn = fn.split(":", 1)[1] if ":" in fn else fn
            out[fn] = out.get(fn, 0) + int(m.group(1).replace(",", ""))
    return out


def short_fn(fn):
    if fn.startswith("_Z") and shutil.which("c++filt"):
        fn = subprocess.run(["c++filt", fn], capture_output=True, text=True).stdout.strip() or fn
    fn = re.sub(r"\{lambda\([^{}]*\)#(\d+)\}", r"{lambda#\1}", fn)
    fn = re.sub(r"\(.*", "", fn)  # drop the parameter list
    fn = re.sub(r"<[^<>]*(<[^<>]*(<[^<>]*>[^<>]*)*>[^<>]*)*>", "<…>", fn)
    return fn[:90]


def ir_diff(d, cg):
    """Per operation, the functions whose instructions per call differ most between the two
    sides (tenantry − raw), from the dumps bench.sh keeps in DIR/callgrind/<dialect>/."""
    out = []
    for dialect, target, title in (("sqlite", "sqlite_memory", "SQLite, in memory"),
                                   ("pg", "pg_socket", "PostgreSQL client")):
        dumps = {}
        for path in glob.glob(os.path.join(d, "callgrind", dialect, "callgrind.out.*")):
            with open(path, errors="replace") as f:
                for line in f:
                    if line.startswith("desc: Trigger: Client Request: "):
                        dumps[line.split("Client Request: ", 1)[1].strip()] = path
                        break
        n = cg.get("n", {}).get(target)
        if not dumps or not n:
            continue
        for op in IR_DIFF_OPS:
            raw, ten = dumps.get(f"{target}/{op}/raw"), dumps.get(f"{target}/{op}/tenantry")
            if not raw or not ten:
                continue
            a, b = annotate(raw), annotate(ten)
            diff = {k: (b.get(k, 0) - a.get(k, 0)) / n for k in set(a) | set(b) if not BENCH_FRAMES.search(k)}
            top = [(k, v) for k, v in sorted(diff.items(), key=lambda kv: -abs(kv[1])) if abs(v) >= 20][:8]
            if not top:
                continue
            out.append(f"**{title}, {op}** (instructions per call, tenantry − raw, exclusive per function):\n")
            out.append("| function | Δ Ir/call |\n|---|---:|")
            out += [f"| `{short_fn(k)}` | {v:+,.0f} |" for k, v in top]
            out.append("")
    return "\n".join(out) if out else "_(no callgrind dumps in this run)_"


def callgrind_table(cg, misses=None):
    if not cg:
        return "_(no callgrind measurements in this run)_"
    out = []
    for dialect, title in (("sqlite_memory", "SQLite in memory (everything in the process: tenantry, the raw code and SQLite itself)"),
                           ("pg_socket", "PostgreSQL over the unix socket (client side only: tenantry or the raw code, and libpq; the server is another process)")):
        ops = cg.get(dialect)
        if not ops:
            continue
        n = cg.get("n", {}).get(dialect)
        out.append(f"**{title}**" + (f", {n:,} calls measured per operation" if n else "") + "\n")
        out.append("| operation | raw (Ir/call) | tenantry (Ir/call) | tenantry − raw | tenantry / raw |")
        out.append("|---|---:|---:|---:|---:|")
        for op, label, _ in [("find", "find by key", 1)] + [o for o in OPS if o[0] != "find"]:
            e = ops.get(op)
            if not e or "raw" not in e or "tenantry" not in e:
                continue
            raw, ten = e["raw"], e["tenantry"]
            unit = " (per call of 1,000 rows)" if op == "insert_many_1000" else ""
            verdict = ""
            goal = {"find": SQLITE_IR_TARGET, "list_user_100": SQLITE_IR_TARGET, "join_100": QUERY_TARGET,
                    "count_per_status": QUERY_TARGET}.get(op) if dialect == "sqlite_memory" else None
            if goal is not None:
                verdict = " ✓" if ten / raw <= goal else f" ✗ (target {goal:.2f})"
                if ten / raw > goal and misses is not None:
                    misses.append((dialect, op + " instructions", ten / raw, goal))
            out.append(f"| {label}{unit} | {raw:,.0f} | {ten:,.0f} | {ten - raw:+,.0f} | **{ten / raw:.3f}**{verdict} |")
        out.append("")
    return "\n".join(out)


STREAM_LINE = re.compile(r"^(\w+)\s+stream\s+(\d+) rows: peak \+\s*([\d.]+) MiB \| stream\s+(\d+) rows: peak \+\s*([\d.]+) MiB"
                         r" \| fetch\s+(\d+) rows: peak \+\s*([\d.]+) MiB")


def stream_table(path):
    if not os.path.exists(path):
        return "_(streaming memory not measured in this run)_"
    out = ["| backend | for_each_row, all rows | for_each_row, a tenth of the rows | fetch(), all rows |",
           "|---|---:|---:|---:|"]
    with open(path) as f:
        for line in f:
            m = STREAM_LINE.match(line.strip())
            if not m:
                continue
            name, n, s_all, tenth, s_tenth, _, f_all = m.groups()
            out.append(f"| {name} | {int(n):,} rows: +{float(s_all):,.1f} MiB | {int(tenth):,} rows: +{float(s_tenth):,.1f} MiB | "
                       f"{int(n):,} rows: +{float(f_all):,.1f} MiB |")
    return "\n".join(out) if len(out) > 2 else "_(no streaming results in this run)_"


COMPILE_RATIO_TARGET = 0.6  # issue 15 part 5: user CPU and peak memory against the baseline commit's TU
COMPILE_RSS_LIMIT_MIB = 1024  # and every TU of a -g build within 1 GiB


def compile_table(cc, misses):
    if not cc:
        return "_(compile cost not measured in this run)_"
    out = ["| compiler | dialects instantiated | source | wall time | user CPU | peak memory (max RSS) | "
           "user CPU / before | peak memory / before | runs |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    before = {(e["compiler"], e["variant"]): e for e in cc if e.get("source", "").startswith("before")}
    for e in sorted(cc, key=lambda e: (e["compiler"], e["variant"], e.get("source", "").startswith("before"))):
        src = e.get("source", "")
        b = before.get((e["compiler"], e["variant"])) if not src.startswith("before") else None
        user_r = rss_r = ""
        rss_mib = e["max_rss_kb"] / 1024
        short = e["compiler"].split(" (")[0].split(" version")[0]
        if b:
            ur, rr = e["user_s"] / b["user_s"], e["max_rss_kb"] / b["max_rss_kb"]
            user_r = f"**{ur:.2f}**" + (" ✗" if ur > COMPILE_RATIO_TARGET else "")
            rss_r = f"**{rr:.2f}**" + (" ✗" if rr > COMPILE_RATIO_TARGET else "")
            if ur > COMPILE_RATIO_TARGET:
                misses.append((short, f"compile cost, {e['variant']}: user CPU / before", ur, COMPILE_RATIO_TARGET))
            if rr > COMPILE_RATIO_TARGET:
                misses.append((short, f"compile cost, {e['variant']}: peak memory / before", rr, COMPILE_RATIO_TARGET))
        if not src.startswith("before") and rss_mib > COMPILE_RSS_LIMIT_MIB:
            misses.append((short, f"compile cost, {e['variant']}: -g peak memory (GiB)", rss_mib / 1024, 1.0))
        out.append(f"| {e['compiler']} | {e['variant']} | {src or '?'} | {e['wall_s']:.1f} s | {e['user_s']:.1f} s | "
                   f"{rss_mib:,.0f} MiB | {user_r} | {rss_r} | {e['runs']} |")
    return "\n".join(out)


# ---- chart --------------------------------------------------------------------------------------

def chart(runs, cg, png, workdir):
    """Top: tenantry's latency per call on every target (log scale). Bottom: tenantry / raw by the
    figures that survive a loaded machine: instructions (SQLite in process; PostgreSQL client side)
    and SQLite's paired wall ratio."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        print("bench_report: gnuplot not found; no chart", file=sys.stderr)
        return False
    targets = [t for t, _ in TARGETS if any(k[0] == t for k in runs)]
    if not targets:
        return False
    ops = [o for o, _, _ in OPS if any((t, o, "tenantry") in runs for t in targets)]
    cg = cg or {}
    ratio_series = [("sqlite_memory", "ir", "SQLite in memory: instructions"),
                    ("pg_socket", "ir", "PostgreSQL: client instructions"),
                    ("sqlite_memory", "paired", "SQLite in memory: paired wall")]
    dat = os.path.join(workdir, "chart.dat")
    with open(dat, "w") as f:
        for op in ops:
            cols = []
            for t in targets:
                ten = runs.get((t, op, "tenantry"))
                n = rows_of(op) or 1
                tt = ten["median"] / n if ten and "median" in ten else None
                cols.append(f"{tt:.6g}" if tt else "NaN")
            for t, kind, _ in ratio_series:
                r = None
                if kind == "ir":
                    e = cg.get(t, {}).get(op, {})
                    if e.get("raw") and e.get("tenantry"):
                        r = e["tenantry"] / e["raw"]
                else:
                    p = runs.get((t, op, "paired"))
                    r = p["ratio"] if p and "ratio" in p else None
                cols.append(f"{r:.4f}" if r else "NaN")
            f.write(op.replace("_", "\\\\_") + " " + " ".join(cols) + "\n")
    colors = {"sqlite_memory": "#4C72B0", "sqlite_file": "#55A868", "pg_socket": "#C44E52", "pg_tcp": "#8172B2"}
    titles = dict(TARGETS)
    time_plots, ratio_plots = [], []
    for i, t in enumerate(targets):
        title = titles[t].split(" (")[0].replace("_", "\\\\_")
        xtic = ":xtic(1)" if i == 0 else ""
        time_plots.append(f"'{dat}' using {2 + i}{xtic} title '{title}' lc rgb '{colors[t]}'")
    ratio_colors = ["#4C72B0", "#C44E52", "#A6BDDB"]
    for j, (_, _, title) in enumerate(ratio_series):
        xtic = ":xtic(1)" if j == 0 else ""
        ratio_plots.append(f"'{dat}' using {2 + len(targets) + j}{xtic} title '{title}' lc rgb '{ratio_colors[j]}'")
    script = f"""
set terminal pngcairo size 1400,1000 font 'DejaVu Sans,11'
set output '{png}'
set multiplot layout 2,1 title 'tenantry benchmarks: api\\_tokens rows, 100 orgs x 100 rows preloaded'
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top left horizontal
set grid ytics
set xtics rotate by -20 scale 0
set logscale y
set ylabel 'tenantry, µs per call (median; per row for insert\\_many)'
set title 'Latency by target (wall clock on a shared, loaded machine: see the tables for the spread)'
plot {', '.join(time_plots)}
unset logscale y
set yrange [0.6:1.8]  # a bar beyond the top is clipped; the tables have every ratio
set ylabel 'tenantry / raw C API'
set title 'Overhead over hand-written sqlite3\\_* / libpq code (dashed: 1.05; dotted: 1.10)'
set arrow from graph 0, first 1.05 to graph 1, first 1.05 nohead dt 2 lw 2 lc rgb '#333333'
set arrow from graph 0, first 1.10 to graph 1, first 1.10 nohead dt 3 lw 2 lc rgb '#333333'
set arrow from graph 0, first 1.0 to graph 1, first 1.0 nohead lw 1 lc rgb '#999999'
plot {', '.join(ratio_plots)}
unset multiplot
"""
    gp = os.path.join(workdir, "chart.gp")
    with open(gp, "w") as f:
        f.write(script)
    r = subprocess.run([gnuplot, gp], capture_output=True, text=True)
    if r.returncode != 0:
        print("bench_report: gnuplot failed:\n" + r.stderr, file=sys.stderr)
        return False
    return True


# ---- commands -----------------------------------------------------------------------------------

def cmd_callgrind(args):
    """callgrind DIR DIALECT N OUT.json: merge the dumps of one valgrind run into OUT.json."""
    d, dialect, n, out = args[0], args[1], int(args[2]), args[3]
    data = {}
    if os.path.exists(out):
        with open(out) as f:
            data = json.load(f)
    ops = data.setdefault(dialect, {})
    for path in glob.glob(os.path.join(d, "callgrind.out.*")):
        desc = total = None
        with open(path, errors="replace") as f:
            for line in f:
                if line.startswith("desc: Trigger: Client Request: "):
                    desc = line.split("Client Request: ", 1)[1].strip()
                elif line.startswith("totals:") or (total is None and line.startswith("summary:")):
                    total = int(line.split()[1])
        if not desc or total is None:
            continue
        _, op, side = desc.split("/")
        calls = max(1, n // 1000) if op == "insert_many_1000" else n
        ops.setdefault(op, {})[side] = total / calls
    data.setdefault("n", {})[dialect] = n
    with open(out, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)


def cmd_compile(args):
    """compile OUT.json COMPILER VARIANT SOURCE TIME_FILE...: median of several /usr/bin/time -v runs
    of one compiler on one source tree (SOURCE: the commit, or "before: <commit>" for the baseline)."""
    out, compiler, variant, source, files = args[0], args[1], args[2], args[3], args[4:]
    walls, users, rss = [], [], []
    for path in files:
        with open(path) as f:
            text = f.read()
        m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
        parts = [float(p) for p in m.group(1).split(":")]
        wall = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) > 2 else 0)
        walls.append(wall)
        users.append(float(re.search(r"User time \(seconds\): (\S+)", text).group(1)))
        rss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)))
    data = []
    if os.path.exists(out):
        with open(out) as f:
            data = json.load(f)
    data = [e for e in data if not (e["compiler"] == compiler and e["variant"] == variant
                                    and e.get("source", "") == source)]
    data.append({"compiler": compiler, "variant": variant, "source": source, "wall_s": statistics.median(walls),
                 "user_s": statistics.median(users), "max_rss_kb": int(statistics.median(rss)), "runs": len(files)})
    with open(out, "w") as f:
        json.dump(data, f, indent=1)


def load_causes(path):
    """The misses' explanations: a file of blocks "## <regex on 'target / what'>" + text."""
    if not path or not os.path.exists(path):
        return []
    out, key, body = [], None, []
    with open(path) as f:
        for line in f:
            if line.startswith("## "):
                if key:
                    out.append((key, " ".join(b.strip() for b in body if b.strip())))
                key, body = line[3:].strip(), []
            elif key:
                body.append(line)
    if key:
        out.append((key, " ".join(b.strip() for b in body if b.strip())))
    return out


def cause_of(causes, target, what):
    for pattern, text in causes:
        if re.search(pattern, f"{target} / {what}"):
            return text
    return ""


def cmd_render(args):
    opts = {"--in": None, "--template": None, "--md": None, "--png": None, "--causes": None}
    it = iter(args)
    for a in it:
        opts[a] = next(it)
    d = opts["--in"]
    runs, ctx = {}, {}
    for name in ("sqlite.json", "pg.json"):
        r, c = load_gbench(os.path.join(d, name))
        runs.update(r)
        for k, v in c.items():
            ctx.setdefault(k, v)
    meta = {}
    if os.path.exists(os.path.join(d, "meta.json")):
        with open(os.path.join(d, "meta.json")) as f:
            meta = json.load(f)
    cg = {}
    if os.path.exists(os.path.join(d, "callgrind.json")):
        with open(os.path.join(d, "callgrind.json")) as f:
            cg = json.load(f)
    cc = []
    if os.path.exists(os.path.join(d, "compile_cost.json")):
        with open(os.path.join(d, "compile_cost.json")) as f:
            cc = json.load(f)

    counts = {}
    if os.path.exists(os.path.join(d, "pg_counts.json")):
        with open(os.path.join(d, "pg_counts.json")) as f:
            counts = json.load(f)
    plans = rls_plans(os.path.join(d, "rls_plans.txt"))

    misses = []
    sections = []
    for target, title in TARGETS:
        if not any(k[0] == target for k in runs):
            sections.append(f"### {title}\n\n_(not measured in this run)_\n")
            continue
        sections.append(f"### {title}\n\n" + target_table(runs, target, misses) + "\n")
    bulk = []
    for target, title in TARGETS[2:]:
        t = bulk_table(runs, target, misses)
        if t:
            bulk.append(f"### {title}\n\n{t}")
    png_ok = False
    if opts["--png"]:
        png_ok = chart(runs, cg, os.path.abspath(opts["--png"]), d)
    tables = {
        "PG_TABLE": pg_table(runs, cg, counts, misses),
        "RLS_TABLE": rls_table(runs, plans, misses),
        "UPSERT_TABLE": upsert_table(runs, cg, misses),
        "CALLGRIND_TABLES": callgrind_table(cg, misses),
        "IR_DIFF": ir_diff(d, cg),
        "COMPILE_TABLE": compile_table(cc, misses),
    }

    causes = load_causes(opts.get("--causes"))
    miss_lines = []
    for m in misses:
        t, op, r = m[0], m[1], m[2]
        goal = f" (target {m[3]:.2f})" if len(m) > 3 else ""
        line = f"- **{t} / {op}: {r:.3f}**{goal}."
        why = cause_of(causes, t, op)
        miss_lines.append(line + (" " + why if why else " _(cause not yet written up)_"))
    miss_lines = miss_lines or ["- none"]
    run_info = [
        f"- Run: {meta.get('date', ctx.get('date', '?'))} on {meta.get('host', ctx.get('host_name', '?'))}, "
        f"{ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz, load average at start "
        f"{meta.get('load_at_start', '?')}" + (f"; then {meta['loads']}" if meta.get("loads") else "") +
        " (1-, 5- and 15-minute load averages; the machine has 2 cores shared with other engineers' builds, so "
        "wall times are noisy: instruction counts and counted round trips are the figures that do not move with load).",
        f"- Library: commit {meta.get('library', '?')}. Build: {meta.get('compiler', '?')}, CMake Release with "
        f"`{meta.get('cxx_flags', '?')}`; "
        f"SQLite {ctx.get('sqlite_version', '?')}, libpq {ctx.get('libpq_version', '?')}, "
        f"server {meta.get('pg_server', 'n/a')}.",
        f"- Google Benchmark {meta.get('gbench_args', '?')}: each time is the **median** of the repetitions "
        f"(real time); ±x% is the coefficient of variation across repetitions. Repetitions of all benchmarks "
        f"are interleaved in random order, so machine-load drift hits raw and tenantry alike.",
        f"- Mode: {'QUICK (smoke test: numbers are not meaningful)' if meta.get('quick') else 'full'}.",
    ]
    values = {
        "RUN_INFO": "\n".join(run_info),
        "TARGET_TABLES": "\n".join(sections),
        "BULK_TABLES": "\n".join(bulk) if bulk else "_(PostgreSQL not measured in this run)_",
        "PAIR_TABLE": pair_table(runs),
        "HOOK_TABLE": hook_table(runs),
        "STREAM_TABLE": stream_table(os.path.join(d, "stream.txt")),
        "MISSES": "\n".join(miss_lines),
        **tables,
        "CHART": f"![tenantry benchmarks]({os.path.basename(opts['--png'])})" if png_ok else "_(no chart in this run: gnuplot missing or failed)_",
    }
    with open(opts["--template"]) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace("{{" + k + "}}", v)
    with open(opts["--md"], "w") as f:
        f.write(text)
    print(f"bench_report: wrote {opts['--md']}" + (f" and {opts['--png']}" if png_ok else ""))
    for m in misses:
        print(f"bench_report: target missed: {m[0]} / {m[1]}: {m[2]:.3f}")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    cmd, args = sys.argv[1], sys.argv[2:]
    {"callgrind": cmd_callgrind, "compile": cmd_compile, "render": cmd_render}[cmd](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

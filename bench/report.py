"""RESULTS.md from results.json: one table per benchmark, each figure beside its baseline."""

from __future__ import annotations


def _yes(flag: bool | None) -> str:
    return "—" if flag is None else ("met" if flag else "**missed**")


def _f(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def markdown(r: dict) -> str:
    m = r["machine"]
    lines = [
        "# mlmon benchmarks",
        "",
        f"Run {r['started']} in {r.get('seconds', 0):.0f} s on {m['cpus']} cores, "
        f"{m['memory_gb']} GB, {m['platform']}; Python {m['python']}, pandas {m['pandas']}, "
        f"Elasticsearch {m['elasticsearch']} (local test distribution, 1 GB heap), "
        f"client {m['elasticsearch_client']}"
        + (
            f"; Evidently {r['peers'].get('evidently')}, NannyML {r['peers'].get('nannyml')} "
            f"(pandas {r['peers'].get('pandas')})."
            if r.get("peers")
            else "."
        ),
        "",
        "Every figure is a median of the repeats in this run; ratios are against a baseline "
        "measured in the same run. Regenerate with `make bench` (figures in `results.json`).",
        "",
    ]
    if r.get("section_started"):
        when = ", ".join(f"{name} {at}" for name, at in r["section_started"].items())
        lines += [f"Sections measured at: {when}.", ""]
    if "hot_path" in r:
        h = r["hot_path"]
        d = h["peer_down"]
        t = h["targets"]
        lines += [
            f"## 1. Hot path ({h['events']:,} events × 20 features, Fluentd sink to a live TCP peer)",
            "",
            "| measure | value | baseline | ratio | target |",
            "|---|---|---|---|---|",
            f"| CPU per event, mlmon (caller + worker: tag, serialise, send) | "
            f"{_f(h['mlmon_cpu_us_per_event'])} µs | (a) dict + orjson {_f(h['orjson_cpu_us_per_event'])} µs "
            f"| {_f(h['ratio_vs_orjson'], 2)}× | ≤ 2×: {_yes(t['cpu_at_most_2x_orjson'])} |",
            f"| | | (b) stdlib logging + JSON formatter {_f(h['stdlib_logging_cpu_us_per_event'])} µs "
            f"| {_f(h['ratio_vs_stdlib_logging'], 2)}× | < 1×: {_yes(t['cheaper_than_stdlib_logging'])} |",
            f"| call latency p50 / p99 | {_f(h['call_p50_us'])} / {_f(h['call_p99_us'])} µs | | | "
            f"p99 < 50 µs: {_yes(t['call_p99_under_50us'])} |",
            f"| peer down: call p99 / max | {_f(d['call_p99_us'])} / {_f(d['call_max_us'])} µs | | | "
            f"max < 1 ms: {_yes(t['peer_down_call_under_1ms'])} |",
            f"| peer down: RSS growth over the run, dropped of emitted | {_f(d.get('rss_growth_mb'))} MB, "
            f"{d['dropped']:,} of {d['emitted']:,} (queue bound {d['queue_bound']:,}) | | | bounded |",
            "",
            "Where the caller's time goes: `bench/profile-hot-path.txt` (cProfile, by own time).",
            "",
        ]
    if "ingest" in r:
        g = r["ingest"]
        t = g["targets"]
        lines += [
            f"## 2. Ingest ({g['events']:,} events × {g['features']} features into the local node)",
            "",
            "| measure | value | baseline | ratio | target |",
            "|---|---|---|---|---|",
            f"| mlmon path (normalise + tag + bulk create) | {_f(g['mlmon_events_per_s'], 0)} events/s "
            f"| plain `helpers.bulk` {_f(g['plain_bulk_events_per_s'], 0)} events/s "
            f"| {_f(g['ratio_mlmon_time_vs_plain'], 2)}× the time | ≤ 1.3×: {_yes(t['mlmon_at_most_1_3x_plain'])} |",
            f"| tagging alone | {_f(g['tagging_us_per_event'], 2)} µs/event, "
            f"{_f(g['tagging_us_per_feature'], 3)} µs/feature | | | ≤ 1 µs/feature: "
            f"{_yes(t['tagging_at_most_1us_per_feature'])} |",
            "",
        ]
    if "analyzer" in r:
        rows = r["analyzer"]
        alt = {a["events"]: a for a in r.get("alternatives", [])}
        lines += [
            "## 3. Analyzer: `mlmon trace` (20 features, slices to depth 3, drift, quality, latency)",
            "",
            "| events | mlmon trace, warm (cold) | peak RSS | scroll + pandas (pull / report) | peak RSS "
            "| speed-up | Evidently drift (pull + run) | NannyML drift (pull + run) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in rows:
            a = alt.get(row["events"], {})
            speed = a.get("scroll_pandas_s", 0) / row["trace_s"] if a else None

            def peer(name: str, a=a) -> str:
                p = a.get(name)
                if not p:
                    return "—"
                if "error" in p:
                    return f"failed: {p['error'][:60]}"
                return f"{_f(p['total_s'])} s, {_f(p['peak_rss_mb'], 0)} MB"

            lines.append(
                f"| {row['events']:,} | {_f(row['trace_s'], 2)} s ({_f(row.get('trace_cold_s'), 2)} s) | {_f(row['peak_rss_mb'], 0)} MB "
                f"| {_f(a.get('scroll_pandas_s'))} s ({_f(a.get('pull_s'))} / {_f(a.get('pandas_trace_s'))}) "
                f"| {_f(a.get('scroll_pandas_peak_rss_mb'), 0)} MB | {_f(speed)}× | {peer('evidently')} "
                f"| {peer('nannyml')} |"
            )
        biggest = rows[-1]
        by_size = {row["events"]: row for row in rows}
        at_million = alt.get(1_000_000)
        speedup = (
            at_million["scroll_pandas_s"] / by_size[1_000_000]["trace_s"]
            if at_million and 1_000_000 in by_size
            else None
        )
        flat = biggest["peak_rss_mb"] <= 1.25 * rows[0]["peak_rss_mb"]
        ten_million = by_size.get(10_000_000)
        lines += [
            "",
            f"Top slice found at every size: {', '.join(str(row['top_slice']) for row in rows)}.",
            f"Peak RSS of `mlmon trace` from {rows[0]['events']:,} to {biggest['events']:,} events: "
            f"{_f(rows[0]['peak_rss_mb'], 0)} → {_f(biggest['peak_rss_mb'], 0)} MB.",
            "",
            "| target | measured | |",
            "|---|---|---|",
            f"| ≥ 10× faster than scroll-and-pandas at 10⁶ | {_f(speedup)}× | "
            f"{_yes(None if speedup is None else speedup >= 10)} |",
            f"| peak memory of the mlmon process flat as events grow | "
            f"{_f(rows[0]['peak_rss_mb'], 0)} → {_f(biggest['peak_rss_mb'], 0)} MB | {_yes(flat)} |",
            f"| 10⁷ events × 20 features traced in under 15 s | "
            f"{_f(ten_million['trace_s'], 1) + ' s' if ten_million else 'not run'} | "
            f"{_yes(None if not ten_million else ten_million['trace_s'] < 15)} |",
            "",
        ]
    if r.get("slices"):
        lines += [
            "## 4. Slice search: pruned against exhaustive enumeration of crosses",
            "",
            "Each cell: requests, slices scored, time. Pruned is what `mlmon trace` does (above "
            "500,000 rows its crosses are sampled, then the leaders recounted exactly); exhaustive "
            "scores every cross exactly.",
            "",
            "| events | depth | pruned | exhaustive | same top-K |",
            "|---|---|---|---|---|",
        ]

        def side(x: dict | None) -> str:
            if not x:
                return "not run (failed at a smaller size)"
            if "error" in x:
                return f"failed after {_f(x['trace_s'], 0)} s: {x['error'][:110]}"
            return f"{x['slice_requests']}, {x['slices_scored']:,}, {_f(x['trace_s'], 2)} s"

        for row in r["slices"]:
            for depth, suffix in ((3, ""), (2, "_depth2")):
                if f"pruned{suffix}" not in row:
                    continue
                same = {True: "yes", False: "**no**", None: "—"}[row.get(f"same_top_k{suffix}")]
                lines.append(
                    f"| {row['events']:,} | {depth} | {side(row.get(f'pruned{suffix}'))} "
                    f"| {side(row.get(f'exhaustive{suffix}'))} | {same} |"
                )
        lines.append("")
    return "\n".join(lines) + "\n"

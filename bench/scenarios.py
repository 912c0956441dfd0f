"""Each incident scenario traced on both backends: top slices and causes against the truth.

Simulates every scenario (through the SDK into a JSON-lines file, ingested
into the Elasticsearch at MLMON_ES_URL under a throw-away model name, with
its training profile registered first), traces it with Elasticsearch and
with pandas over the same file, and prints per scenario the truth, the
headline and the reported slices with their causes. The models are deleted
afterwards. Not a timing benchmark: it is the before/after table of the
root-cause work (issue 14).

    python -m bench.scenarios                    # every scenario, both backends
    python -m bench.scenarios --scenario credit-two-incidents --events 20000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

END = datetime(2026, 11, 20, tzinfo=timezone.utc)
WINDOW = "2026-11-13T00:00:00Z..2026-11-20T00:00:00Z"
SCENARIOS = (
    "fraud-incident",
    "churn-segment-drift",
    "credit-two-incidents",
    "ads-overlapping-slices",
    "churn-hard-slices",
)


def load(client, scenario: str, folder: Path, *, events: int, seed: int) -> tuple[str, Path, dict]:
    """Simulate ``scenario`` under a fresh model name: (name, events file, truth)."""
    from mlmon._ingest import ingest_file
    from mlmon.baseline import build_profile, read_table
    from mlmon.baseline.store import save_profile
    from mlmon.simulate.emit import emit, write_reference
    from mlmon.simulate.run import build_traffic

    name = f"bench-{scenario[:6]}-{uuid.uuid4().hex[:8]}"
    traffic = build_traffic(scenario, events=events, days=7, seed=seed, end=END, model=name)
    training = write_reference(traffic, folder / f"{name}.parquet")
    save_profile(
        client,
        build_profile(
            read_table(training),
            model=name,
            version="v1",
            name="training",
            created_at="2026-11-12T00:00:00.000Z",
            label_column=traffic.label_column,
            prediction_column="predicted",
            score_column="score",
        ),
    )
    path = folder / f"{name}.jsonl"
    with path.open("w") as stream:
        emit(traffic, sink="stdout", model=name, stream=stream)
    ingest_file(client, path)
    return name, path, traffic.truth


def forget(client, name: str) -> None:
    from mlmon.schema.event import PROFILES_INDEX

    found = client.indices.get(
        index=f"mlmon-*-{name}-*", allow_no_indices=True, ignore_unavailable=True
    )
    names = [index for index in found if f"-{name}-" in index]
    if names:
        client.indices.delete(index=",".join(names))
    hits = client.search(
        index=PROFILES_INDEX, query={"term": {"model": name}}, size=100, source=False
    )["hits"]["hits"]
    for hit in hits:
        client.delete(index=PROFILES_INDEX, id=hit["_id"], refresh=True)


def trace(client, name: str, events: Path | None) -> dict[str, Any]:
    from mlmon._trace_request import TraceRequest, run
    from mlmon.analysis.result import to_json

    request = TraceRequest(model=name, window=WINDOW, baseline="training", events=events)
    return to_json(run(request, client_factory=lambda: client))


def summary(report: dict[str, Any], top: int) -> list[dict[str, Any]]:
    """The reported slices, each with the cause that names it (if any)."""
    causes = report["root_causes"]
    rows = []
    for rank, s in enumerate(report["slices"][:top], 1):
        cause = s.get("cause") or next((c for c in causes if c.get("slice") == s["filters"]), None)
        rows.append(
            {
                "rank": rank,
                "slice": ", ".join(f"{k}={v}" for k, v in sorted(s["filters"].items())),
                "impact": round(s["impact"], 4),
                "current": round(s["current"], 3) if s["current"] is not None else None,
                "baseline": round(s["baseline"], 3) if s["baseline"] is not None else None,
                "share": round(s["volume_share"], 3),
                "cause": f"{cause['kind']}:{cause['feature']}" if cause else "-",
            }
        )
    return rows


def truth_line(truth: dict[str, Any]) -> str:
    parts = []
    for entry in truth["injected"]:
        if entry["kind"] in ("late_actuals", "latency"):
            continue
        where = entry.get("slice") or {"feature": entry.get("feature")}
        text = ", ".join(f"{k}={v}" for k, v in where.items())
        parts.append(f"{entry['kind']} [{text}]")
    return "; ".join(parts) or "nothing"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", choices=SCENARIOS)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--json", type=Path, help="Also write every row here.")
    parser.add_argument(
        "--keep",
        type=Path,
        help="Keep the loaded models and their files, listed in this JSON file, and reuse "
        "them on the next run with the same file (to trace the same data before and after "
        "a change); delete them with --forget.",
    )
    parser.add_argument("--forget", action="store_true", help="Delete the models --keep lists.")
    args = parser.parse_args(argv)

    from mlmon.es.client import connect
    from mlmon.es.setup import setup

    client = connect()
    setup(client)
    kept = json.loads(args.keep.read_text()) if args.keep and args.keep.exists() else {}
    if args.forget:
        for entry in kept.values():
            forget(client, entry["name"])
        args.keep.unlink()
        return 0
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep.parent if args.keep else Path(tmp)
        for scenario in args.scenario or SCENARIOS:
            started = time.perf_counter()
            if scenario in kept:
                name, path, truth = (
                    kept[scenario]["name"],
                    Path(kept[scenario]["events"]),
                    kept[scenario]["truth"],
                )
            else:
                name, path, truth = load(
                    client, scenario, folder, events=args.events, seed=args.seed
                )
                if args.keep:
                    kept[scenario] = {"name": name, "events": str(path), "truth": truth}
                    args.keep.write_text(json.dumps(kept, indent=2, default=str))
            loaded = time.perf_counter() - started
            try:
                print(f"\n## {scenario}  (truth: {truth_line(truth)}; loaded in {loaded:.0f} s)")
                for backend, events in (("elasticsearch", None), ("pandas", path)):
                    started = time.perf_counter()
                    report = trace(client, name, events)
                    took = time.perf_counter() - started
                    rows = summary(report, args.top)
                    print(f"  [{backend}, {took:.0f} s] {report['headline']}")
                    for row in rows:
                        print(
                            f"    {row['rank']}. {row['slice']:<60} impact {row['impact']:<7} "
                            f"{row['current']} vs {row['baseline']} share {row['share']:<6} "
                            f"→ {row['cause']}"
                        )
                    if not rows:
                        print("    (no slice reported)")
                    out.append(
                        {
                            "scenario": scenario,
                            "backend": backend,
                            "headline": report["headline"],
                            "slices": rows,
                            "root_causes": [
                                {k: c[k] for k in ("kind", "feature", "slice")}
                                for c in report["root_causes"]
                            ],
                            "truth": truth["injected"],
                        }
                    )
            finally:
                if not args.keep:
                    forget(client, name)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Performance estimation without actuals on NannyML's car-loan data, beside NannyML's CBPE.

``python -m bench.carloan`` (main venv, with MLMON_ES_URL's node up). NannyML runs in the peers venv
(``make .venv-peers/bin/.installed``) through ``bench/carloan_nannyml.py``,
which exports the dataset NannyML ships (reference, analysis, analysis
targets) and writes NannyML's own CBPE figures. mlmon's side sees only what
Elasticsearch aggregations would return: the reference's rows per score bin,
positives and negatives apart (a ``range`` aggregation with a ``filter``
sub-aggregation on the label), and each analysis chunk's rows per score bin
(targets withheld). The targets are read afterwards, only to compute the
realized metrics the estimates are judged against.

Targets (issue 14): estimated ROC AUC within 0.005 of realized and accuracy
within 0.01 in every chunk of 5,000 rows and on each half of the analysis
period. The same estimates are then made again through mlmon's own path
(:mod:`bench.carloan_trace`: register, ingest, trace per chunk), which also
gives the drifted features per chunk. Figures: ``bench/carloan.json`` and a
section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from bench.carloan_trace import compare, trace_spans
from bench.carloan_trace import markdown as trace_markdown
from bench.common import BENCH, ROOT, splice_section
from mlmon.analysis.calibration import bin_counts, equal_width_edges, fit_calibration
from mlmon.analysis.cbpe import METRICS, Estimator, PerformanceEstimate, fit_rule
from mlmon.es.client import connect

CHUNK = 5_000
BINS = 200  # width 0.005: the data's scores have two decimals, so each gets its own bin
TARGETS = {"roc_auc": 0.005, "accuracy": 0.01}
START, END = "<!-- bench.carloan: start -->", "<!-- bench.carloan: end -->"


def realized(frame: pd.DataFrame) -> dict[str, float]:
    y, predicted = frame["repaid"].astype(int), frame["y_pred"].astype(int)
    return {
        "accuracy": accuracy_score(y, predicted),
        "precision": precision_score(y, predicted),
        "recall": recall_score(y, predicted),
        "f1": f1_score(y, predicted),
        "roc_auc": roc_auc_score(y, frame["y_pred_proba"]),
    }


def confidence_accuracy_before(scores: pd.Series) -> float:
    """mlmon's estimate before this change: E[max(s, 1 − s)] at 100 bin centres, uncalibrated."""
    counts = np.asarray(bin_counts(scores, equal_width_edges(100)), dtype=float)
    centres = (np.arange(100) + 0.5) / 100
    return float(np.sum(counts * np.maximum(centres, 1 - centres)) / counts.sum())


def _row(span: tuple[int, int], truth: dict, mine: PerformanceEstimate, theirs: dict) -> dict:
    out: dict = {"start": span[0], "end": span[1], "rows": mine.count}
    for name in METRICS:
        estimate = mine.metric(name)
        out[name] = {
            "realized": truth[name],
            "mlmon": estimate.to_dict(),
            "nannyml": theirs[name],
            "mlmon_error": abs(estimate.value - truth[name]),
            "nannyml_error": abs(theirs[name]["value"] - truth[name]),
        }
    return out


def run(peers_python: Path, workdir: Path, client: Any, backend: str) -> dict:
    script = BENCH / "carloan_nannyml.py"
    done = subprocess.run(
        [str(peers_python), str(script), str(workdir)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"NannyML side failed: {done.stderr.strip().splitlines()[-1:]}")
    theirs = json.loads((workdir / "nannyml.json").read_text())
    reference = pd.read_csv(workdir / "reference.csv")
    analysis = pd.read_csv(workdir / "analysis.csv")  # no targets in it

    start = time.perf_counter()
    edges = equal_width_edges(BINS)
    scores, repaid = reference["y_pred_proba"], reference["repaid"]
    calibration = fit_calibration(
        bin_counts(scores, edges, repaid == 1), bin_counts(scores, edges, repaid == 0), edges
    )
    predicted = reference["y_pred"] == 1
    fitted = fit_rule(
        bin_counts(scores, edges, predicted), bin_counts(scores, edges, ~predicted), edges
    )
    estimator = Estimator(calibration, fitted.rule)
    chunks = [(i, min(i + CHUNK, len(analysis))) for i in range(0, len(analysis), CHUNK)]
    half = len(analysis) // 2
    halves = [(0, half), (half, len(analysis))]

    def histogram(span: tuple[int, int]) -> tuple[int, ...]:
        return bin_counts(analysis["y_pred_proba"].iloc[span[0] : span[1]], edges)

    timeline = estimator.timeline([histogram(span) for span in chunks])
    by_half = [estimator.estimate(histogram(span)) for span in halves]
    mlmon_seconds = time.perf_counter() - start

    # Only now the withheld targets: realized metrics to judge the estimates by.
    labelled = analysis.merge(pd.read_csv(workdir / "analysis_targets.csv"), on="id", how="left")
    if len(labelled) != len(analysis) or labelled["repaid"].isna().any():
        raise SystemExit("analysis targets do not match the analysis rows one to one")
    threshold = fitted.rule.threshold
    analysis_misses = int(
        ((analysis["y_pred_proba"] >= threshold).astype(int) != analysis["y_pred"]).sum()
    )

    def rows(spans, estimates, nannyml_rows) -> list[dict]:
        out = []
        for span, mine, their in zip(spans, estimates, nannyml_rows, strict=True):
            if (their["start"], their["end"]) != span:
                raise SystemExit(f"NannyML chunk {their['start']}..{their['end']} is not {span}")
            truth = realized(labelled.iloc[span[0] : span[1]])
            out.append(_row(span, truth, mine, their))
        return out

    def rate(frame: pd.DataFrame, low: float, high: float) -> float:
        inside = frame[(frame["y_pred_proba"] >= low) & (frame["y_pred_proba"] < high)]
        return float(inside["repaid"].mean())

    bands = ((0.3, 0.65), (0.65, 0.95))  # P(repaid | score) where the estimates drifted
    concept = [
        {
            "scores": list(band),
            "reference": rate(reference, *band),
            "first_half": rate(labelled.iloc[:half], *band),
            "second_half": rate(labelled.iloc[half:], *band),
        }
        for band in bands
    ]

    result = {
        "concept": concept,
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "nannyml": theirs["nannyml"],
        "calibration": {
            "method": calibration.method,
            "bins": calibration.bins,
            "check": calibration.check.__dict__ if calibration.check else None,
        },
        "threshold": threshold,
        "rule_misses": {"reference": fitted.misses, "analysis": analysis_misses},
        "mlmon_seconds": mlmon_seconds,
        "nannyml_seconds": theirs["seconds"],
        "chunks": rows(chunks, timeline.buckets, theirs["chunks"]),
        "halves": rows(halves, by_half, theirs["halves"]),
        "accuracy_before": [
            confidence_accuracy_before(analysis["y_pred_proba"].iloc[a:b]) for a, b in halves
        ],
        "overall": timeline.overall.to_dict(),
    }
    spans = result["chunks"] + result["halves"]
    result["targets"] = {
        name: {
            "within": limit,
            "worst_mlmon": max(r[name]["mlmon_error"] for r in spans),
            "worst_nannyml": max(r[name]["nannyml_error"] for r in spans),
            "met": all(r[name]["mlmon_error"] <= limit for r in spans),
        }
        for name, limit in TARGETS.items()
    }
    result["agreement"] = {
        name: {
            "max_vs_nannyml": max(
                abs(r[name]["mlmon"]["value"] - r[name]["nannyml"]["value"]) for r in spans
            ),
            "inside_mlmon_band": int(
                sum(
                    r[name]["mlmon"]["lower"] <= r[name]["realized"] <= r[name]["mlmon"]["upper"]
                    for r in spans
                )
            ),
            "inside_nannyml_band": int(
                sum(
                    r[name]["nannyml"]["lower"]
                    <= r[name]["realized"]
                    <= r[name]["nannyml"]["upper"]
                    for r in spans
                )
            ),
            "spans": len(spans),
        }
        for name in METRICS
    }
    traced = trace_spans(client, workdir, chunks + halves, backend=backend)
    result["trace"] = compare(traced, result["chunks"] + result["halves"], theirs["drift"])
    return result


def _met(flag: bool) -> str:
    return "met" if flag else "**missed**"


def markdown(r: dict) -> str:
    check = r["calibration"]["check"]
    lines = [
        START,
        "## Performance estimation without actuals (car-loan)",
        "",
        f"Measured {r['measured_at']} by `python -m bench.carloan`; NannyML {r['nannyml']}. "
        "NannyML's synthetic car-loan data (`load_synthetic_car_loan_dataset()`: 50,000 "
        "reference rows with targets, 50,000 analysis rows, targets withheld). mlmon fits its "
        f"calibration map on the reference's counts per score bin ({r['calibration']['bins']} "
        "equal bins, positives and negatives apart) and estimates each analysis chunk from its "
        "counts per bin alone — the numbers Elasticsearch aggregations return. "
        f"Calibration: {r['calibration']['method']}"
        + (
            f" (cross-validated ECE {check['ece_raw']:.4f} raw → {check['ece_calibrated']:.4f} "
            "calibrated)"
            if check
            else ""
        )
        + f". Decision rule: score ≥ {r['threshold']}, read off the reference's counts per bin "
        "of rows predicted positive and negative; rows whose `y_pred` it does not reproduce: "
        f"{r['rule_misses']['reference']} in the reference, {r['rule_misses']['analysis']} in the "
        "analysis. Realized metrics from the withheld targets. "
        "Band: mlmon's estimate ± 3 sampling errors. "
        f"mlmon took {r['mlmon_seconds']:.2f} s for calibration and all estimates; NannyML "
        f"{r['nannyml_seconds']:.1f} s (both chunkings, from rows).",
        "",
    ]
    for name, title in (("roc_auc", "ROC AUC"), ("accuracy", "Accuracy")):
        lines += [
            f"### {title}",
            "",
            "| rows | realized | mlmon estimate | mlmon band | NannyML estimate | "
            "\\|error\\| mlmon | \\|error\\| NannyML |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in r["chunks"] + r["halves"]:
            m = row[name]
            e = m["mlmon"]
            lines.append(
                f"| {row['start']:,}–{row['end']:,} | {m['realized']:.4f} | {e['value']:.4f} | "
                f"{e['lower']:.4f}–{e['upper']:.4f} | {m['nannyml']['value']:.4f} | "
                f"{m['mlmon_error']:.4f} | {m['nannyml_error']:.4f} |"
            )
        lines.append("")
    lines += [
        "### Precision, recall, F1 (realized / mlmon / NannyML)",
        "",
        "| rows | precision | recall | F1 |",
        "|---|---|---|---|",
    ]
    for row in r["chunks"] + r["halves"]:
        cells = [
            f"{row[n]['realized']:.4f} / {row[n]['mlmon']['value']:.4f} / "
            f"{row[n]['nannyml']['value']:.4f}"
            for n in ("precision", "recall", "f1")
        ]
        lines.append(f"| {row['start']:,}–{row['end']:,} | " + " | ".join(cells) + " |")
    before = r["accuracy_before"]
    halves = r["halves"]
    lines += [
        "",
        "Before this change mlmon's estimate (uncalibrated E[max(s, 1 − s)]) gave accuracy "
        f"{before[0]:.3f} and {before[1]:.3f} on the two halves against realized "
        f"{halves[0]['accuracy']['realized']:.3f} and {halves[1]['accuracy']['realized']:.3f}.",
        "",
        "| target (every 5,000-row chunk and each half) | worst mlmon | worst NannyML | |",
        "|---|---|---|---|",
    ]
    for name, title in (("roc_auc", "ROC AUC"), ("accuracy", "accuracy")):
        t = r["targets"][name]
        lines.append(
            f"| estimated {title} within {t['within']} of realized | {t['worst_mlmon']:.4f} | "
            f"{t['worst_nannyml']:.4f} | {_met(t['met'])} |"
        )
    lines += [
        "",
        "| metric | max \\|mlmon − NannyML\\| | realized inside mlmon's band | inside NannyML's |",
        "|---|---|---|---|",
    ]
    for name in METRICS:
        a = r["agreement"][name]
        lines.append(
            f"| {name} | {a['max_vs_nannyml']:.1e} | {a['inside_mlmon_band']} of {a['spans']} | "
            f"{a['inside_nannyml_band']} of {a['spans']} |"
        )
    worst = {n: max(row[n]["mlmon_error"] for row in r["chunks"] + r["halves"]) for n in METRICS}
    lines += [
        "",
        "mlmon's figures equal NannyML's to rounding here because the data's scores have two "
        "decimals: each value gets its own bin, so isotonic regression over bins is NannyML's "
        "over rows. With continuous scores the binning costs a little (unit tests: within 0.005 "
        "of realized ROC AUC on 100,000-row windows with 100 bins). Not targeted, and worse: "
        f"precision and recall are off by up to {worst['precision']:.3f} and "
        f"{worst['recall']:.3f} (F1 {worst['f1']:.3f}) in the second half, for both tools, "
        "outside the band where counted above. The cause is in the data, not the estimator: "
        "CBPE assumes P(label | score) stays as in the reference, and in the second half it "
        "fell — "
        + "; ".join(
            f"scores {c['scores'][0]}–{c['scores'][1]}: repaid {c['second_half']:.3f} against "
            f"{c['reference']:.3f} in the reference ({c['first_half']:.3f} in the first half)"
            for c in r["concept"]
        )
        + ". The band covers sampling noise only.",
        "",
        *trace_markdown(r),
        END,
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers-python", type=Path, default=ROOT / ".venv-peers/bin/python")
    parser.add_argument(
        "--backend",
        choices=("elasticsearch", "pandas"),
        default="elasticsearch",
        help="where the traces count (the profile is always stored in MLMON_ES_URL's node)",
    )
    args = parser.parse_args()
    if not args.peers_python.exists():
        sys.exit(f"no NannyML venv at {args.peers_python}: run `make .venv-peers/bin/.installed`")
    with tempfile.TemporaryDirectory(prefix="mlmon-carloan-") as workdir:
        result = run(args.peers_python, Path(workdir), connect(), args.backend)
    (BENCH / "carloan.json").write_text(json.dumps(result, indent=2) + "\n")
    splice_section(markdown(result), BENCH / "RESULTS.md", START, END)
    drift = result["trace"]
    print(
        f"trace path ({drift['backend']}): max |trace − core| "
        + ", ".join(f"{n} {v:.1e}" for n, v in drift["max_vs_core"].items())
        + f"; drifted features as expected: {'met' if drift['drift_met'] else 'MISSED'}"
    )
    for name, t in result["targets"].items():
        print(
            f"{name}: worst |error| {t['worst_mlmon']:.4f} (NannyML {t['worst_nannyml']:.4f}), "
            f"within {t['within']}: {'met' if t['met'] else 'MISSED'}"
        )


if __name__ == "__main__":
    main()

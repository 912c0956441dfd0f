"""Drive a running Fluentd (started by check.sh with fluent.conf) and assert on Elasticsearch.

A maintainer's check, not a test in `make test`: it needs Fluentd's and the
plugin's sources, which CI cannot fetch. Usage (check.sh runs it):

    python check.py --forward 127.0.0.1:24224 --monitor http://127.0.0.1:24220 --log agent.log

Every name it creates carries a run id and is deleted at the end.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from fluent.sender import FluentSender

from mlmon.es.client import connect
from mlmon.es.join import join_pending
from mlmon.es.settings import ConnectionSettings
from mlmon.es.setup import setup
from mlmon.schema.event import (
    actuals_index,
    deadletter_index,
    format_timestamp,
    model_indices,
    predictions_index,
)
from mlmon.sdk import PredictionLogger
from mlmon.sdk.sinks import ElasticsearchSink, epoch_seconds

RUN = uuid.uuid4().hex[:8]
MODELS = (f"fdck-fraud-{RUN}", f"fdck-churn-{RUN}")
BLOCKED = f"fdck-blocked-{RUN}"  # its index may not be created: a 404 per item
JOINED_AT = datetime(2026, 12, 1, tzinfo=timezone.utc)
PER_MODEL = 40
QUIET_SECONDS = 20
FAILURES: list[str] = []


def check(condition: bool, what: str) -> bool:
    print(("ok    " if condition else "FAIL  ") + what)
    if not condition:
        FAILURES.append(what)
    return condition


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def events(model: str) -> list[dict[str, Any]]:
    """Predictions of one model across the October/November UTC month boundary."""
    start = datetime(2026, 10, 31, 22, 0, tzinfo=timezone.utc)
    out = []
    for i in range(PER_MODEL):
        moment = start + timedelta(minutes=7 * i, milliseconds=i)
        out.append(
            {
                "prediction_id": f"{model}-{i:03d}",
                "features": {
                    "amount": 12.5 * i,
                    "country": ["DE", "FR", "Zürich ✓"][i % 3],
                    "is_new": i % 2 == 0,
                    "age": None if i % 5 == 0 else 20 + i,
                },
                "prediction": "fraud" if i % 4 == 0 else "legit",
                "score": round(i / PER_MODEL, 3),
                "latency_ms": {"total": 3.5 + i, "inference": 1.25, "features": {"lookup": 0.5}},
                "tags": {"region": "eu-west", "segment": "ünïcode"},
                "timestamp": stamp(moment),
                "actual": ("fraud" if i % 3 == 0 else "legit") if i % 2 == 0 else None,
            }
        )
    return out


def send(model: str, sink: Any, batch: list[dict[str, Any]]) -> dict[str, int]:
    log = PredictionLogger(model=model, version="v3", sink=sink, environment="check")
    for e in batch:
        log.prediction(
            features=e["features"],
            prediction=e["prediction"],
            score=e["score"],
            latency_ms=e["latency_ms"],
            tags=e["tags"],
            prediction_id=e["prediction_id"],
            timestamp=e["timestamp"],
        )
        if e["actual"] is not None:
            log.actual(e["prediction_id"], label=e["actual"], timestamp=e["timestamp"])
    log.flush(30)
    stats = log.stats()
    log.close()
    return stats


def documents(es: Any, model: str) -> dict[tuple[str, str], dict[str, Any]]:
    pattern = f"{model_indices('predictions', model)},{model_indices('actuals', model)}"
    es.indices.refresh(index=pattern, allow_no_indices=True, ignore_unavailable=True)
    hits = es.search(index=pattern, size=10_000, allow_no_indices=True, ignore_unavailable=True)[
        "hits"
    ]["hits"]
    return {(h["_index"], h["_id"]): h["_source"] for h in hits}


def delete_indices(es: Any, model: str) -> None:
    found = es.indices.get(
        index=f"mlmon-*-{model}-*", allow_no_indices=True, ignore_unavailable=True
    )
    names = [name for name in found if f"-{model}-" in name]
    if names:
        es.indices.delete(index=",".join(names))


def deadletters(es: Any) -> list[dict[str, Any]]:
    """This run's dead letters (every record it provokes carries RUN in its prediction id)."""
    return [{"_index": h["_index"], **h["_source"]} for h in deadletter_hits(es)]


def deadletter_hits(es: Any) -> list[dict[str, Any]]:
    es.indices.refresh(index="mlmon-deadletter-*", allow_no_indices=True, ignore_unavailable=True)
    hits = es.search(
        index="mlmon-deadletter-*",
        query={"wildcard": {"prediction_id": f"*{RUN}*"}},
        size=1000,
        allow_no_indices=True,
        ignore_unavailable=True,
    )["hits"]["hits"]
    return hits


def plugins(monitor: str) -> dict[str, dict[str, Any]]:
    with urllib.request.urlopen(f"{monitor}/api/plugins.json", timeout=5) as answer:
        body = json.load(answer)
    return {p["plugin_id"]: p for p in body["plugins"]}


def outputs_idle(monitor: str) -> bool:
    out = [p for p in plugins(monitor).values() if p.get("output_plugin")]
    return all(
        not p.get("buffer_total_queued_size") and not p.get("buffer_stage_length") for p in out
    )


def wait_for(what: str, condition: Any, timeout: float = 180.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(1.0)
    return check(False, f"{what} within {timeout:.0f} s")


def log_lines(path: str, needle: str) -> int:
    with open(path, encoding="utf-8", errors="replace") as agent_log:
        return sum(needle in line for line in agent_log)


def expected_keys(model: str, batch: list[dict[str, Any]]) -> set[tuple[str, str]]:
    keys = {(predictions_index(model, e["timestamp"]), e["prediction_id"]) for e in batch}
    keys |= {
        (actuals_index(model, e["timestamp"]), e["prediction_id"])
        for e in batch
        if e["actual"] is not None
    }
    return keys


def without_join_time(doc: dict[str, Any]) -> dict[str, Any]:
    """The one field that is the time of the join pass, not of the event."""
    doc = copy.deepcopy(doc)
    if isinstance(doc.get("join"), dict):
        doc["join"].pop("joined_at", None)
    return doc


def raw_event(sender: FluentSender, label: str, record: dict[str, Any]) -> None:
    """The forward protocol without the SDK (which refuses what these records carry)."""
    if not sender.emit_with_time(label, epoch_seconds(record["@timestamp"]), record):
        raise SystemExit(f"fluentd refused a raw record: {sender.last_error}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forward", required=True, help="host:port of Fluentd's forward source")
    parser.add_argument("--monitor", required=True, help="monitor_agent base URL")
    parser.add_argument("--log", required=True, help="the agent's log file")
    args = parser.parse_args()
    host, port = args.forward.rsplit(":", 1)
    sink = f"fluentd://{args.forward}"
    es = connect(ConnectionSettings.from_env())
    setup(es)
    batches = {model: events(model) for model in MODELS}
    counts: dict[str, Any] = {}
    try:
        # 1. What the elasticsearch sink writes for the same events (joined by the sink).
        reference: dict[tuple[str, str], dict[str, Any]] = {}
        for model, batch in batches.items():
            send(model, ElasticsearchSink(), batch)
            join_pending(es, model=model, now=JOINED_AT)
            reference.update(documents(es, model))
            delete_indices(es, model)

        # 2. The same events through the SDK's fluentd sink and the real agent.
        for model, batch in batches.items():
            stats = send(model, sink, batch)
            check(
                stats["sent"] == stats["emitted"] and not stats["dropped_send_failed"],
                f"{model}: SDK sent {stats['sent']} of {stats['emitted']} to Fluentd",
            )
        expected = set().union(*(expected_keys(m, b) for m, b in batches.items()))
        wait_for(
            f"{len(expected)} documents in Elasticsearch",
            lambda: sum(len(documents(es, m)) for m in MODELS) >= len(expected),
        )
        for model in MODELS:
            join_pending(es, model=model, now=JOINED_AT)
        shipped: dict[tuple[str, str], dict[str, Any]] = {}
        for model in MODELS:
            shipped.update(documents(es, model))
        counts["documents"] = len(shipped)
        check(
            set(shipped) == expected,
            "every event in the index predictions_index/actuals_index names, _id = prediction_id",
        )
        months = sorted({index for index, _ in shipped})
        counts["indices"] = len(months)
        check(
            len(months) == 8,
            f"per-model monthly indices: {len(months)} (2 models x predictions/actuals x 2 months)",
        )
        same = [
            key
            for key in expected
            if without_join_time(shipped.get(key, {})) == without_join_time(reference.get(key, {}))
        ]
        counts["equal"] = len(same)
        check(
            len(same) == len(expected) == len(reference),
            f"{len(same)} of {len(expected)} documents equal, field by field, to the es sink's",
        )
        for key in sorted(expected - set(same))[:3]:
            print(f"      differs {key}: fluentd={shipped.get(key)} sdk={reference.get(key)}")

        # 3. Resending the same events adds no document (409 on create = a duplicate).
        duplicate_lines = log_lines(args.log, "duplicates")
        for model, batch in batches.items():
            send(model, sink, batch)
        wait_for(
            "resent events flushed",
            lambda: (
                outputs_idle(args.monitor) and log_lines(args.log, "duplicates") > duplicate_lines
            ),
        )
        time.sleep(3)
        after = sum(len(documents(es, m)) for m in MODELS)
        counts["after_resend"] = after
        check(
            after == len(shipped),
            f"resent {2 * PER_MODEL} predictions: {after} documents, as before",
        )
        dup_counts = duplicates_logged(args.log)
        counts["duplicates_logged"] = dup_counts
        check(
            dup_counts >= 2 * PER_MODEL,
            f"the agent counted {dup_counts} 409s as duplicates (debug log)",
        )

        # 4. Records Elasticsearch refuses, and records no route takes.
        good = next(iter(v for k, v in reference.items() if k[0].startswith("mlmon-predictions-")))
        fraud = MODELS[0]
        rejected = copy.deepcopy(good)
        rejected.pop("actual", None)
        rejected["model"]["name"] = fraud
        rejected["prediction_id"] = f"{fraud}-refused"
        rejected["prediction"] = {"label": "fraud", "score": "very high"}  # score is a double
        sender = FluentSender("mlmon", host=host, port=int(port), nanosecond_precision=True)
        raw_event(sender, f"prediction.{fraud}", rejected)
        unrouted_tags = ("mlmon.prediction", "other.thing", f"mlmon.prediction.{fraud}.extra")
        for n, tag in enumerate(unrouted_tags):
            prefix, _, label = tag.partition(".")
            record = dict(rejected, prediction_id=f"unrouted-{n}-{RUN}")
            record["prediction"] = {"label": "fraud", "score": 0.5}
            FluentSender(prefix, host=host, port=int(port)).emit_with_time(
                label, epoch_seconds(record["@timestamp"]), record
            )
        # Bytes that are not UTF-8 (a msgpack bin value): routed and unrouted.
        for label, pid in (
            (f"prediction.{fraud}", f"{fraud}-binary"),
            ("binary", f"unrouted-binary-{RUN}"),
        ):
            record = dict(rejected, prediction_id=pid)
            record["features"] = {"blob": b"\xff\xfe not utf-8"}
            record["prediction"] = {"label": "fraud", "score": 0.5}
            FluentSender("mlmon", host=host, port=int(port)).emit_with_time(
                label, epoch_seconds(record["@timestamp"]), record
            )
        # A non-400 refusal: this model's index may not be auto-created (404 per item).
        es.cluster.put_settings(
            persistent={"action.auto_create_index": f"-mlmon-predictions-{BLOCKED}-*,+*"}
        )
        blocked = send(BLOCKED, sink, events(BLOCKED)[:1])
        check(
            blocked["sent"] == blocked["emitted"] == 2,
            "blocked model: a prediction and its actual sent",
        )
        expected_dead = 4 + len(unrouted_tags)
        wait_for(
            f"{expected_dead} dead letters",
            lambda: len(deadletters(es)) >= expected_dead and outputs_idle(args.monitor),
        )
        dead = {d["prediction_id"]: d for d in deadletters(es)}
        counts["deadletters"] = len(dead)
        kinds = sorted(d.get("error_type", "?") for d in dead.values())
        counts["deadletter_types"] = {k: kinds.count(k) for k in sorted(set(kinds))}
        sample = dict(dead.get(f"{fraud}-refused", {}))
        sample["raw"] = sample.get("raw", "")[:60] + "…"
        print(f"      dead letter: {json.dumps(sample, ensure_ascii=False)}")
        refused = dead.get(f"{fraud}-refused", {})
        check(
            refused.get("_index") == deadletter_index(format_timestamp(datetime.now(timezone.utc)))
            and refused.get("error_type") == "rejected_by_elasticsearch"
            and model_name(refused) == fraud
            and json.loads(refused.get("raw", "{}")).get("prediction_id") == f"{fraud}-refused",
            f"a 400 (score 'very high') in {refused.get('_index')}: model.name, prediction_id, raw",
        )
        blocked_doc = dead.get(f"{BLOCKED}-000", {})
        check(
            blocked_doc.get("error_type") == "refused_by_elasticsearch"
            and model_name(blocked_doc) == BLOCKED,
            f"a 404 (index_not_found) via retry_tag: {blocked_doc.get('error_type')}",
        )
        for n, tag in enumerate(unrouted_tags):
            doc = dead.get(f"unrouted-{n}-{RUN}", {})
            check(
                doc.get("error_type") == "unrouted_tag" and tag in doc.get("reason", ""),
                f"unrouted tag {tag!r} dead-lettered as unrouted_tag",
            )
        for pid in (f"{fraud}-binary", f"unrouted-binary-{RUN}"):
            doc = dead.get(pid, {})
            check(
                bool(doc) and "blob" in doc.get("raw", ""),
                f"non-UTF-8 bytes ({pid.split('-')[0]}) dead-lettered: {doc.get('error_type')}",
            )
        # A dead letter that is itself refused (its index closed for the moment)
        # must stop in the agent log, not be wrapped and sent again.
        current = deadletter_index(format_timestamp(datetime.now(timezone.utc)))
        notices = log_lines(args.log, "send an error event to @ERROR")
        es.indices.close(index=current)
        try:
            FluentSender("other", host=host, port=int(port)).emit(
                "poison", {"prediction_id": f"poison-{RUN}"}
            )
            wait_for(
                "the refused dead letter in the agent log",
                lambda: (
                    log_lines(args.log, "send an error event to @ERROR") > notices
                    and outputs_idle(args.monitor)
                ),
            )
        finally:
            es.indices.open(index=current, wait_for_active_shards=1)
        time.sleep(3)
        check(
            f"poison-{RUN}" not in {d["prediction_id"] for d in deadletters(es)},
            f"a dead letter refused in turn (index {current} closed) is logged, not re-wrapped",
        )

        # 5. Nothing loops: counters and the log stay still once the agent is idle.
        before = quiet_state(es, args)
        time.sleep(QUIET_SECONDS)
        after_quiet = quiet_state(es, args)
        check(before == after_quiet, f"stable for {QUIET_SECONDS} s: {after_quiet}")
        counts["errors_logged"] = after_quiet["errors_sent_to_@ERROR"]

        # 6. The agent is alive and its own logs stayed out of Elasticsearch.
        alive = plugins(args.monitor)
        check("out_predictions" in alive, "monitor_agent answers: agent alive")
        es.indices.refresh(index="mlmon-*", allow_no_indices=True)
        own = es.count(
            index="mlmon-deadletter-*",
            query={"wildcard": {"reason": "*tag fluent.*"}},
            allow_no_indices=True,
        )["count"]
        check(
            own == 0 and not es.indices.get(index="fluent*", allow_no_indices=True),
            f"Fluentd's own logs in Elasticsearch: {own}",
        )
    finally:
        es.cluster.put_settings(persistent={"action.auto_create_index": None})
        for model in (*MODELS, BLOCKED):
            delete_indices(es, model)
        # (no delete_by_query: the local distribution lacks the reindex module)
        for doc in deadletter_hits(es):
            es.delete(index=doc["_index"], id=doc["_id"], refresh=True)
    print(f"summary: {json.dumps(counts)}")
    print(f"{'PASSED' if not FAILURES else 'FAILED'}: {len(FAILURES)} failed checks")
    return 1 if FAILURES else 0


def model_name(doc: dict[str, Any]) -> Any:
    """``model.name`` nested as the SDK writes it (a dotted key would be another shape)."""
    return (doc.get("model") or {}).get("name")


def duplicates_logged(path: str) -> int:
    """Sum of the plugin's debug line 'Indexed (op = create), N duplicates, …'."""
    total = 0
    with open(path, encoding="utf-8", errors="replace") as agent_log:
        for line in agent_log:
            if "Indexed (op = create)" in line:
                for part in line.split(","):
                    words = part.split()
                    if len(words) == 2 and words[1] == "duplicates":
                        total += int(words[0])
    return total


def quiet_state(es: Any, args: argparse.Namespace) -> dict[str, Any]:
    outs = {k: v for k, v in plugins(args.monitor).items() if k.startswith("out_")}
    return {
        "deadletters": len(deadletters(es)),
        "documents": sum(len(documents(es, m)) for m in MODELS),
        "emit_records": {k: v.get("emit_records") for k, v in outs.items()},
        "retry_count": {k: v.get("retry_count") for k, v in outs.items()},
        "errors_sent_to_@ERROR": log_lines(args.log, "send an error event to @ERROR"),
    }


if __name__ == "__main__":
    sys.exit(main())

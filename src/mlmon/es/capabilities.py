"""What the node offers, checked once, so a missing feature fails with one clear line."""

from __future__ import annotations

from dataclasses import dataclass

from elasticsearch import Elasticsearch

from mlmon.errors import ClusterError, ClusterFeatureMissing

MIN_VERSION = (8, 14)  # index.mapping.total_fields.ignore_dynamic_beyond_limit
#: Aggregations the analyzer builds its answers from (all in the server itself).
REQUIRED_AGGREGATIONS = {
    "terms": {"terms": {"field": "model.name"}},
    "composite": {"composite": {"sources": [{"m": {"terms": {"field": "model.name"}}}]}},
    "filters": {"filters": {"filters": {"all": {"match_all": {}}}}},
    "range": {"range": {"field": "prediction.score", "ranges": [{"to": 0.5}]}},
    "histogram": {"histogram": {"field": "prediction.score", "interval": 0.1}},
    "date_histogram": {"date_histogram": {"field": "@timestamp", "fixed_interval": "1h"}},
    "percentiles": {"percentiles": {"field": "latency_ms.total"}},
    "stats": {"stats": {"field": "prediction.score"}},
    "missing": {"missing": {"field": "prediction.score"}},
    "cardinality": {"cardinality": {"field": "model.name"}},
    "random_sampler": {
        "random_sampler": {"probability": 0.5},
        "aggs": {"t": {"terms": {"field": "model.name"}}},
    },
}


@dataclass(frozen=True)
class NodeInfo:
    version: str
    modules: tuple[str, ...]


def parse_version(text: str) -> tuple[int, int]:
    major, minor, *_ = (text.split("-")[0] + ".0.0").split(".")
    return int(major), int(minor)


def check_node(client: Elasticsearch) -> NodeInfo:
    """Version and aggregations mlmon relies on; raises :class:`ClusterFeatureMissing`."""
    nodes = client.nodes.info(
        node_id="_local", metric="plugins", filter_path="nodes.*.version,nodes.*.modules.name"
    )
    node = next(iter(nodes["nodes"].values()))
    version = node["version"]
    if parse_version(version) < MIN_VERSION or parse_version(version)[0] != 8:
        raise ClusterFeatureMissing(
            f"Elasticsearch {version} is not supported: mlmon needs 8.{MIN_VERSION[1]} or newer 8.x"
        )
    try:
        client.search(
            index="mlmon-capability-probe-*",
            allow_no_indices=True,
            ignore_unavailable=True,
            size=0,
            aggs=REQUIRED_AGGREGATIONS,
        )
    except ClusterError as exc:
        raise ClusterFeatureMissing(
            f"Elasticsearch {version} lacks an aggregation mlmon relies on: {exc}"
        ) from exc
    return NodeInfo(version=version, modules=tuple(m["name"] for m in node.get("modules", [])))

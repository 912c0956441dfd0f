"""`mlmon stack up --nodes 3`: one cluster of three nodes, and the same report on it.

The session starts its own three-node cluster (its own stack directory and
loopback ports, 512 MB heap per node), beside the suite's node, and stops it
at the end. On it, a model's indices get three primary shards and a replica
each (created before the events arrive; the shipped templates keep one shard),
so every aggregation is merged from shards on different nodes; the report
must be the pandas backend's on the same file, as on one node
(tests/integration/test_trace.py).
"""

from __future__ import annotations

import json
import random
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import pytest

from conftest import leaves, run_mlmon, unique_model
from mlmon.schema.event import model_indices
from mlmon.stack.layout import port_is_free
from mlmon.stack.process import is_running
from mlmon.stack.shards import create_split

NODES = 3
SHARDS = 3
# A week that crosses a month: two monthly indices per kind, each split in shards.
END = datetime(2026, 12, 3, tzinfo=timezone.utc)
DAYS = 7
WINDOW = "2026-11-26T00:00:00Z..2026-12-03T00:00:00Z"
EVENTS = 10_000
# Keys that say how each backend got there (requests, the file it read), and the
# latency percentiles (t-digest estimates in Elasticsearch, checked with a tolerance
# below) with the headline that quotes them.
HOW_NOT_WHAT = {"backend", "stats", "events_file", "latency", "headline"}

mlmon = partial(run_mlmon, timeout=600)


@dataclass(frozen=True)
class Cluster:
    url: str
    stack_dir: Path
    env: dict[str, str]

    def client(self):
        from elasticsearch import Elasticsearch

        return Elasticsearch(self.url, request_timeout=120)


def _free_ports(count: int, avoid: set[int] = frozenset()) -> int:
    """The first of ``count`` consecutive free loopback ports, away from 9200-9999."""
    for _ in range(500):
        base = random.randrange(20_000, 30_000)
        ports = set(range(base, base + count))
        if not ports & avoid and all(port_is_free(port) for port in ports):
            return base
    raise RuntimeError(f"no {count} consecutive free ports on 127.0.0.1")


@pytest.fixture(scope="session")
def cluster():
    """Three nodes of our own; failing to start them fails the tests (never a skip)."""
    stack_dir = Path(f"/tmp/mlmon-cluster-test-{uuid.uuid4().hex[:8]}")
    stack_dir.mkdir(mode=0o755)
    http = _free_ports(NODES)
    transport = _free_ports(NODES, avoid=set(range(http, http + NODES)))
    url = f"http://127.0.0.1:{http}"
    env = {"MLMON_ES_URL": url, "MLMON_STACK_DIR": str(stack_dir)}
    try:
        up = mlmon(
            "stack", "up", "--nodes", str(NODES), "--transport-port", str(transport), env=env
        )
        assert up.returncode == 0, up.stderr
        yield Cluster(url, stack_dir, env)
    finally:
        mlmon("stack", "down", env=env)
        shutil.rmtree(stack_dir, ignore_errors=True)


def test_three_nodes_form_one_cluster_each_with_its_own_folders(cluster):
    status = mlmon("stack", "status", env=cluster.env)
    assert status.returncode == 0, status.stderr
    assert "health green" in status.stdout and f"{NODES} nodes, pids" in status.stdout
    client = cluster.client()
    health = client.cluster.health()
    assert health["number_of_nodes"] == NODES and health["status"] == "green"
    info = client.nodes.info(metric="settings")["nodes"].values()
    assert sorted(node["name"] for node in info) == ["node-1", "node-2", "node-3"]
    paths = [node["settings"]["path"]["data"] for node in info]  # a string, or a list of one
    data = {path if isinstance(path, str) else path[0] for path in paths}
    assert len(data) == NODES
    assert all(Path(folder).is_relative_to(cluster.stack_dir) for folder in data)
    assert all("single-node" not in json.dumps(node["settings"]) for node in info)
    state = json.loads((cluster.stack_dir / "node.json").read_text())
    assert len(state["members"]) == NODES
    again = mlmon("stack", "up", "--nodes", str(NODES), env=cluster.env)
    assert again.returncode == 0 and "already running" in again.stdout
    other = mlmon("stack", "up", "--nodes", "2", env=cluster.env)
    assert other.returncode != 0 and "3-node cluster" in other.stderr
    assert len(other.stderr.strip().splitlines()) == 1


def _trace(cluster: Cluster, model: str, out: Path, *extra: str) -> dict:
    done = mlmon(
        "trace", "--model", model, "--window", WINDOW, "--format", "json", "-o", str(out), *extra,
        env=cluster.env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text())


def test_the_same_report_from_shards_on_three_nodes_as_from_pandas(cluster, tmp_path):
    client = cluster.client()
    model = unique_model("cluster")
    events, training = tmp_path / "events.jsonl", tmp_path / "training.parquet"
    simulated = mlmon(
        "simulate", "--scenario", "fraud-incident", "--events", str(EVENTS), "--days", str(DAYS),
        "--end", END.isoformat(), "--via", "stdout", "--model", model,
        "--training-file", str(training), env=cluster.env,
    )  # fmt: skip
    assert simulated.returncode == 0, simulated.stderr
    events.write_text(simulated.stdout)
    registered = mlmon(
        "baseline", "register", "--model", model, "--version", "v1", "--name", "training",
        "--label-column", "is_fraud", "--prediction-column", "predicted",
        "--score-column", "score", str(training), env=cluster.env,
    )  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    created = create_split(
        client, model, END - timedelta(days=DAYS), END, shards=SHARDS, replicas=1
    )
    ingested = mlmon("ingest", str(events), env=cluster.env)
    assert ingested.returncode == 0, ingested.stderr

    pattern = f"{model_indices('predictions', model)},{model_indices('actuals', model)}"
    client.indices.refresh(index=pattern)
    health = client.cluster.health(index=pattern, wait_for_status="green", timeout="90s")
    assert health["status"] == "green" and not health["timed_out"]
    settings = client.indices.get_settings(index=pattern)
    assert sorted(settings) == created  # nothing went to an index of the default layout
    assert {s["settings"]["index"]["number_of_shards"] for s in settings.values()} == {"3"}
    shards = client.cat.shards(index=pattern, format="json", h="index,prirep,state,node")
    assert {s["state"] for s in shards} == {"STARTED"}
    assert len(shards) == len(created) * SHARDS * 2
    assert len({s["node"] for s in shards}) == NODES
    months = [i for i in created if i.startswith("mlmon-predictions-")]
    assert len(months) == 2 and all(client.count(index=i)["count"] for i in months)

    from_es = _trace(cluster, model, tmp_path / "es.json")
    from_file = _trace(cluster, model, tmp_path / "file.json", "--events", str(events))
    assert (from_es["backend"], from_file["backend"]) == ("elasticsearch", "pandas")
    assert from_es["overall"]["baseline"] - from_es["overall"]["current"] > 0.03
    assert from_es["slices"][0]["filters"].get("merchant_name") == "scammeds.com"
    assert from_es["headline"].split(". ")[:3] == from_file["headline"].split(". ")[:3]
    es_leaves = {k: v for k, v in leaves(from_es).items() if k.split(".")[0] not in HOW_NOT_WHAT}
    file_leaves = {
        k: v for k, v in leaves(from_file).items() if k.split(".")[0] not in HOW_NOT_WHAT
    }
    assert sorted(es_leaves) == sorted(file_leaves)
    for path, exact in file_leaves.items():
        found = es_leaves[path]
        if isinstance(exact, float) and isinstance(found, float):
            assert found == pytest.approx(exact, rel=1e-9, abs=1e-12), path
        else:
            assert found == exact, path
    # latency percentiles: Elasticsearch's are t-digest estimates merged over shards
    for version, measures in from_file["latency"]["by_version"].items():
        for measure, values in measures.items():
            for p, exact in values.items():
                estimate = from_es["latency"]["by_version"][version][measure][p]
                assert estimate == pytest.approx(exact, rel=0.03), (version, measure, p)


def test_down_stops_every_node(cluster):
    pids = json.loads((cluster.stack_dir / "node.json").read_text())["members"]
    running = [int(Path(m["pid_file"]).read_text()) for m in pids]
    assert len(running) == NODES and all(Path(f"/proc/{pid}").exists() for pid in running)
    down = mlmon("stack", "down", env=cluster.env)
    assert down.returncode == 0 and f"Stopped {NODES} Elasticsearch nodes" in down.stdout
    assert all(str(pid) in down.stdout for pid in running)
    assert not any(is_running(pid) for pid in running)  # exited (a zombie awaits its reaper)
    assert mlmon("stack", "status", env=cluster.env).returncode == 3

"""Shared fixtures: a real Elasticsearch for integration tests (never mocked, never skipped)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest


@pytest.fixture(scope="session")
def es():
    """One client for the run; `make test` has started the node. A missing node fails the run."""
    from mlmon.errors import ClusterError
    from mlmon.es.client import connect
    from mlmon.es.setup import setup

    try:
        client = connect()
        setup(client)
    except ClusterError as exc:
        pytest.exit(
            f"integration tests need Elasticsearch: {exc} (`make test` starts one)", returncode=3
        )
    return client


def delete_model_indices(client, model: str) -> None:
    """Delete a test model's indices by name (wildcard deletes are refused by default)."""
    found = client.indices.get(
        index=f"mlmon-*-{model}-*",
        allow_no_indices=True,
        ignore_unavailable=True,
        expand_wildcards="all",
    )
    names = [name for name in found if f"-{model}-" in name]
    if names:
        client.indices.delete(index=",".join(names))


def forget_model(client, name: str) -> None:
    """Delete a test model's indices and registered profiles, by name."""
    from mlmon.schema.event import PROFILES_INDEX

    delete_model_indices(client, name)
    hits = client.search(
        index=PROFILES_INDEX,
        query={"term": {"model": name}},
        size=100,
        ignore_unavailable=True,
        source=False,
    )["hits"]["hits"]
    for hit in hits:
        client.delete(index=PROFILES_INDEX, id=hit["_id"], refresh=True)


def leaves(value, path: str = "") -> dict[str, object]:
    """A report as path → scalar, so a difference names where it is."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return {path: value}
    flat: dict[str, object] = {path: type(value).__name__} if path else {}
    for key, item in items:
        flat.update(leaves(item, f"{path}.{key}" if path else str(key)))
    return flat


def unique_model(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def model(es):
    """A unique model name: tests isolate themselves by it and delete its indices after."""
    name = unique_model()
    yield name
    forget_model(es, name)


def run_mlmon(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """The real `mlmon` command in a subprocess, with this environment plus ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "mlmon", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


def same_report(a, b) -> bool:
    """Two reports' parts equal, floats to 1e-9 (shards and pandas sum in another order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_report(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_report(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9, abs=1e-12)
    return a == b


def register_training(client, traffic, folder, *, created_at: str = "2026-11-12T00:00:00.000Z"):
    """Write a simulated model's training file and register it as its ``training`` profile,
    as `mlmon baseline register` would; returns the file."""
    from mlmon.baseline import build_profile, read_table
    from mlmon.baseline.store import save_profile
    from mlmon.simulate.emit import write_reference

    model = traffic.truth["model"]
    training = write_reference(traffic, folder / f"{model}.parquet")
    profile = build_profile(
        read_table(training),
        model=model,
        version="v1",
        name="training",
        created_at=created_at,
        label_column=traffic.label_column,
        prediction_column="predicted",
        score_column="score" if "score" in traffic.reference else None,
    )
    save_profile(client, profile)
    return training

"""`mlmon stack`: idempotent up, and down stops only the node it started."""

from __future__ import annotations

import shutil
import socket
import uuid
from functools import partial
from pathlib import Path

import pytest

from conftest import run_mlmon
from mlmon import stack
from mlmon.es.settings import ConnectionSettings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


mlmon = partial(run_mlmon, timeout=300)


def test_up_on_a_running_cluster_starts_nothing(es):
    url = ConnectionSettings.from_env().url
    before = stack.status(url)
    assert before.running
    done = mlmon("stack", "up")
    assert done.returncode == 0, done.stderr
    after = stack.status(url)
    assert (after.running, after.pid) == (True, before.pid)
    assert "already" in done.stdout or "Using the Elasticsearch" in done.stdout


@pytest.fixture
def private_stack():
    """A second, throw-away stack directory the service user can traverse (not under /root)."""
    folder = Path(f"/tmp/mlmon-stack-test-{uuid.uuid4().hex[:8]}")
    folder.mkdir(mode=0o755)
    yield folder
    stack.down(folder)
    shutil.rmtree(folder, ignore_errors=True)


def test_up_twice_starts_one_node_and_down_stops_only_it(es, private_stack):
    url = f"http://127.0.0.1:{free_port()}"
    env = {"MLMON_ES_URL": url, "MLMON_STACK_DIR": str(private_stack)}
    first = mlmon("stack", "up", env=env)
    assert first.returncode == 0, first.stderr
    assert f"is up at {url}" in first.stdout
    node = stack.status(url, private_stack)
    assert node.running and node.managed and node.health in ("green", "yellow")
    second = mlmon("stack", "up", env=env)
    assert second.returncode == 0 and "already running" in second.stdout
    assert stack.status(url, private_stack).pid == node.pid
    status = mlmon("stack", "status", env=env)
    assert status.returncode == 0 and f"pid {node.pid}" in status.stdout
    down = mlmon("stack", "down", env=env)
    assert down.returncode == 0 and f"pid {node.pid}" in down.stdout
    assert not stack.status(url, private_stack).running
    assert mlmon("stack", "status", env=env).returncode == 3
    # The session's own node is untouched.
    assert stack.status(ConnectionSettings.from_env().url).running
    assert es.cluster.health()["status"] in ("green", "yellow")

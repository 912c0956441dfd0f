"""``mlmon stack``: a local Elasticsearch (one node or a loopback cluster) without Docker."""

from __future__ import annotations

import click

from mlmon.cli._common import console, err_console
from mlmon.errors import ClusterUnavailable, UsageError
from mlmon.es.settings import ConnectionSettings


@click.group()
def stack() -> None:
    """A local Elasticsearch without Docker, for development, tests and the demo.

    Elastic's test distribution (8.x, pinned) is downloaded once with Maven,
    runs as an unprivileged user when you are root, with a 1 GB heap on
    127.0.0.1, security off. If MLMON_ES_URL already answers, nothing is started.
    """


@stack.command("up")
@click.option(
    "--nodes",
    type=click.IntRange(1, 9),
    help="Start this many nodes forming one cluster (512 MB heap each, HTTP on the "
    "URL's port and the next ones) instead of the single node.",
)
@click.option(
    "--transport-port",
    type=click.IntRange(1024, 65535),
    help="First transport port of a cluster's nodes (default: the HTTP port + 200).",
)
def stack_up(nodes: int | None, transport_port: int | None) -> None:
    """Start the local node (idempotent) and wait until it is healthy.

    \b
    With --nodes N, N nodes on 127.0.0.1 find each other through their loopback
    transport ports, each with its own data and logs under the stack directory
    (MLMON_STACK_DIR); `mlmon stack down` stops them all.
    """
    from mlmon import stack as local

    if transport_port is not None and (nodes or 1) == 1:
        raise UsageError("--transport-port is for a cluster: give --nodes 2 or more")
    url = ConnectionSettings.from_env().url
    before = local.status(url)
    node = local.up(
        url, nodes=nodes, transport_port=transport_port, say=lambda text: err_console.print(text)
    )
    if before.running and not before.managed:
        console.print(f"Using the Elasticsearch already answering at {node.url} (nothing started).")
    elif before.running:
        console.print(
            f"Elasticsearch {node.version} already running at {node.url} ({_processes(node)})."
        )
    else:
        console.print(
            f"Elasticsearch {node.version} is up at {node.url} ({_processes(node)}, "
            f"health {node.health})."
        )


def _processes(node) -> str:
    """``pid 12`` for the single node, ``3 nodes, pids 12, 13, 14`` for a cluster."""
    if len(node.pids) <= 1 and (node.nodes or 1) == 1:
        return f"pid {node.pid}"
    return f"{node.nodes} nodes, pids {', '.join(map(str, node.pids))}"


@stack.command("down")
def stack_down() -> None:
    """Stop the node(s) `mlmon stack up` started (never another one). Data is kept."""
    from mlmon import stack as local

    pids = local.down()
    if not pids:
        console.print("No mlmon-managed node is running.")
    elif len(pids) == 1:
        console.print(f"Stopped Elasticsearch (pid {pids[0]}).")
    else:
        console.print(
            f"Stopped {len(pids)} Elasticsearch nodes (pids {', '.join(map(str, pids))})."
        )


@stack.command("status")
def stack_status() -> None:
    """Say whether Elasticsearch answers, and with how many nodes; exit 3 when it does not."""
    from mlmon import stack as local

    node = local.status(ConnectionSettings.from_env().url)
    if not node.running:
        raise ClusterUnavailable(f"nothing answers at {node.url}: start it with `mlmon stack up`")
    owner = (
        f"mlmon-managed, {_processes(node)}, {node.stack_dir}"
        if node.managed
        else f"{node.nodes} nodes, not started by mlmon"
        if (node.nodes or 1) > 1
        else "not started by mlmon"
    )
    console.print(f"Elasticsearch at {node.url}: health {node.health} ({owner}).")

"""Where a local stack lives: its directory, each node's ports and folders, how nodes meet.

One node (the default) keeps the layout mlmon has always used: the
distribution's own ``config``, ``<stack dir>/data`` and ``logs``, and
``discovery.type: single-node``. Several nodes (``mlmon stack up --nodes 3``)
each get ``<stack dir>/nodes/node-<i>/`` with a config, data and log folder of
their own, consecutive HTTP ports from the URL's, explicit loopback transport
ports (never the ``9300-9399`` range single nodes take the first free port of),
and find each other through ``discovery.seed_hosts``. No processes here.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from mlmon.stack.distribution import DEFAULT_HEAP_MB, SINGLE_NODE, Discovery, StackError

#: A cluster's nodes share a small machine: half the single node's heap each.
CLUSTER_HEAP_MB = 512
#: Transport ports default to the HTTP ports + this (9220 → 9420): outside 9300-9399.
TRANSPORT_OFFSET = 200
MAX_NODES = 9


def default_stack_dir() -> Path:
    """Where the node lives; as root, outside /root (the service user cannot read it)."""
    configured = os.environ.get("MLMON_STACK_DIR")
    if configured:
        return Path(configured)
    if os.geteuid() == 0:
        return Path("/var/lib/mlmon/stack")
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mlmon" / "stack"


@dataclass(frozen=True)
class NodeLayout:
    """One node's ports, folders and pid file, and how it joins its cluster."""

    name: str
    port: int
    config: Path  # ES_PATH_CONF
    data: Path
    logs: Path
    pid_file: Path
    heap_mb: int = DEFAULT_HEAP_MB
    discovery: Discovery = SINGLE_NODE

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def console(self) -> Path:
        return self.logs / "console.log"


def single_node(stack_dir: Path, home: Path, port: int) -> NodeLayout:
    """The one node of a default stack, exactly where it has always lived."""
    return NodeLayout(
        name=SINGLE_NODE.node_name,
        port=port,
        config=home / "config",
        data=stack_dir / "data",
        logs=stack_dir / "logs",
        pid_file=stack_dir / "es.pid",
    )


def cluster_name(stack_dir: Path) -> str:
    """Named after its stack directory, so two local clusters never merge."""
    return "mlmon-" + (re.sub(r"[^a-z0-9-]+", "-", stack_dir.name.lower()).strip("-") or "cluster")


def cluster_nodes(
    stack_dir: Path,
    *,
    nodes: int,
    port: int,
    transport_port: int | None = None,
    heap_mb: int = CLUSTER_HEAP_MB,
    bootstrap: bool,
) -> list[NodeLayout]:
    """``nodes`` layouts: HTTP on ``port``, ``port + 1``…, transport on ``transport_port``…

    ``bootstrap`` (a first start) names every node an initial master.
    """
    if not 2 <= nodes <= MAX_NODES:
        raise StackError(f"--nodes must be 1 to {MAX_NODES}, not {nodes}")
    base = transport_port if transport_port is not None else port + TRANSPORT_OFFSET
    names = tuple(f"node-{i}" for i in range(1, nodes + 1))
    seeds = tuple(range(base, base + nodes))
    if set(seeds) & set(range(port, port + nodes)):
        raise StackError(
            f"transport ports {seeds[0]}-{seeds[-1]} overlap the HTTP ports "
            f"{port}-{port + nodes - 1}; choose another --transport-port"
        )
    cluster = cluster_name(stack_dir)
    layouts = []
    for index, name in enumerate(names):
        folder = stack_dir / "nodes" / name
        discovery = Discovery(
            cluster_name=cluster,
            node_name=name,
            transport_port=str(seeds[index]),
            seed_ports=seeds,
            initial_masters=names if bootstrap else (),
        )
        layouts.append(
            NodeLayout(
                name=name,
                port=port + index,
                config=folder / "config",
                data=folder / "data",
                logs=folder / "logs",
                pid_file=folder / "es.pid",
                heap_mb=heap_mb,
                discovery=discovery,
            )
        )
    return layouts


def _formed_marker(stack_dir: Path) -> Path:
    return stack_dir / "nodes" / "formed"


def is_new_cluster(stack_dir: Path) -> bool:
    """This stack's cluster never formed: its start must bootstrap it.

    Not "the data folders are empty": a first start that failed leaves node
    files behind, and a restart without initial masters would never elect one.
    """
    return not _formed_marker(stack_dir).is_file()


def mark_formed(stack_dir: Path) -> None:
    """Every node joined: later starts find the cluster in their data, not by bootstrap."""
    _formed_marker(stack_dir).write_text("the cluster formed; restarts need no initial masters\n")


def prepare_folders(layout: NodeLayout, home: Path) -> None:
    """A node's folders; a cluster node's config starts as a copy of the distribution's."""
    for folder in (layout.data, layout.logs):
        folder.mkdir(parents=True, exist_ok=True)
    if not (layout.config / "jvm.options").is_file():
        shutil.copytree(home / "config", layout.config, dirs_exist_ok=True)


def ports_in_use(layouts: list[NodeLayout]) -> list[int]:
    """HTTP and transport ports of ``layouts`` that something on loopback already holds."""
    wanted = [layout.port for layout in layouts]
    wanted += [int(layout.discovery.transport_port) for layout in layouts]
    return [port for port in wanted if not port_is_free(port)]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Elasticsearch binds
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True

"""The local stack mlmon manages: one node (the default) or a cluster of several.

``up`` starts nothing when something already answers at the URL; the
processes themselves are `mlmon.stack.process`'s, their places
`mlmon.stack.layout`'s.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from mlmon.es.settings import DEFAULT_URL
from mlmon.stack import process
from mlmon.stack.distribution import ES_VERSION, StackError, fetch_zip, home_dir, unpack
from mlmon.stack.layout import (
    NodeLayout,
    cluster_nodes,
    default_stack_dir,
    is_new_cluster,
    mark_formed,
    ports_in_use,
    prepare_folders,
    single_node,
)


@dataclass(frozen=True)
class NodeStatus:
    url: str
    running: bool
    managed: bool  # started by mlmon (else: an existing cluster we only use)
    pid: int | None = None
    health: str | None = None
    version: str | None = None
    stack_dir: str | None = None
    nodes: int | None = None  # in the cluster, as its health says
    pids: tuple[int, ...] = ()  # every node this stack directory started

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def status(url: str = DEFAULT_URL, stack_dir: Path | None = None) -> NodeStatus:
    stack_dir = stack_dir or default_stack_dir()
    pids = process.managed_pids(stack_dir)
    health = process.probe(url)
    state = process.read_state(stack_dir) or {}
    managed = bool(pids) and state.get("url") == url
    return NodeStatus(
        url=url,
        running=health is not None,
        managed=managed,
        pid=pids[0] if managed else None,
        health=health.get("status") if health else None,
        version=state.get("version") if managed else None,
        stack_dir=str(stack_dir),
        nodes=health.get("number_of_nodes") if health else None,
        pids=pids if managed else (),
    )


def up(
    url: str = DEFAULT_URL,
    stack_dir: Path | None = None,
    *,
    security: bool = False,
    nodes: int | None = None,
    transport_port: int | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> NodeStatus:
    """Make sure an Elasticsearch answers at ``url``; start the local node only if none does.

    ``nodes`` > 1 starts that many nodes forming one cluster (HTTP on the
    URL's port and the next ones); None or 1 is the single node.
    """
    stack_dir = stack_dir or default_stack_dir()
    current = status(url, stack_dir)
    if current.running:
        if nodes is not None and current.managed and current.nodes != nodes:
            raise StackError(
                f"a {current.nodes}-node cluster from {stack_dir} already answers at {url}; "
                f"stop it with `mlmon stack down` to start {nodes}"
            )
        return current
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost") or parts.scheme != "http":
        raise StackError(
            f"nothing answers at MLMON_ES_URL={url}, and mlmon only starts a local node on "
            "http://127.0.0.1:<port>; start that cluster or unset MLMON_ES_URL"
        )
    if current.pid is None and process.managed_pid(stack_dir) is not None:
        raise StackError(f"a node from {stack_dir} is running but not answering at {url}")
    home = prepare_home(stack_dir, say=say)
    port = parts.port or 9200
    if (nodes or 1) == 1:
        launcher = launch(stack_dir, home, port=port, url=url, security=security, say=say)
        process.wait_healthy(url, [(launcher, stack_dir / "logs" / "console.log")])
    else:
        layouts = cluster_nodes(
            stack_dir,
            nodes=nodes,
            port=port,
            transport_port=transport_port,
            bootstrap=is_new_cluster(stack_dir),
        )
        busy = ports_in_use(layouts)
        if busy:
            raise StackError(
                f"ports {', '.join(map(str, busy))} on 127.0.0.1 are taken; the {nodes} nodes "
                f"need HTTP {port}-{port + nodes - 1} and transport "
                f"{layouts[0].discovery.transport_port}-{layouts[-1].discovery.transport_port}"
            )
        _launch_cluster(stack_dir, home, layouts, url=url, security=security, say=say)
    return status(url, stack_dir)


def prepare_home(
    stack_dir: Path, *, downloads: Path | None = None, say: Callable[[str], None] = lambda _: None
) -> Path:
    """The unpacked distribution in ``stack_dir`` (downloaded once, cached in ``downloads``)."""
    stack_dir.mkdir(parents=True, exist_ok=True)
    home = home_dir(stack_dir)
    if not (home / "bin" / "elasticsearch").is_file():
        say(f"Downloading Elasticsearch {ES_VERSION} (test distribution) with Maven…")
        archive = fetch_zip(downloads or stack_dir / "downloads")
        say("Unpacking…")
        unpack(archive, stack_dir)
    for folder in (stack_dir / "data", stack_dir / "logs"):
        folder.mkdir(exist_ok=True)
    return home


def launch(
    stack_dir: Path,
    home: Path,
    *,
    port: int,
    url: str,
    security: bool,
    tls: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> subprocess.Popen:
    """Write the config and start the single node as the service user; returns the launcher."""
    layout = single_node(stack_dir, home, port)
    user = process.service_user(stack_dir)
    say(
        f"Starting Elasticsearch on {url} (1 GB heap, single node, security "
        f"{'on' if security else 'off'}{', TLS' if tls else ''})…"
    )
    launcher = process.start_node(layout, stack_dir, home, security=security, tls=tls, user=user)
    process.write_state(stack_dir, url=url, security=security, started=[(layout, launcher)])
    return launcher


def _launch_cluster(
    stack_dir: Path,
    home: Path,
    layouts: list[NodeLayout],
    *,
    url: str,
    security: bool,
    say: Callable[[str], None],
) -> None:
    """Start every node at once (they elect a master among themselves), then wait for all.

    A node that fails to start stops the others: nothing is left half-formed.
    """
    for layout in layouts:
        prepare_folders(layout, home)
    user = process.service_user(stack_dir)
    transport = f"{layouts[0].discovery.transport_port}-{layouts[-1].discovery.transport_port}"
    say(
        f"Starting {len(layouts)} Elasticsearch nodes on {url} and the next ports "
        f"({layouts[0].heap_mb} MB heap each, transport {transport}, security "
        f"{'on' if security else 'off'})…"
    )
    started = [
        (layout, process.start_node(layout, stack_dir, home, security=security, user=user))
        for layout in layouts
    ]
    process.write_state(stack_dir, url=url, security=security, started=started)
    watched = [(launcher, layout.console) for layout, launcher in started]
    try:
        for layout in layouts:  # each node answers, and sees the whole cluster
            process.wait_healthy(
                layout.url, watched, nodes=len(layouts), timeout=process.CLUSTER_START_TIMEOUT
            )
    except StackError:
        process.down(stack_dir)
        raise
    mark_formed(stack_dir)


def down(stack_dir: Path | None = None, *, timeout: float = 60.0) -> tuple[int, ...]:
    """Stop every node this stack directory started; return their pids (none: empty)."""
    return process.down(stack_dir or default_stack_dir(), timeout=timeout)

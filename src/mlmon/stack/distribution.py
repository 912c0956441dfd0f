"""Elastic's test distribution of Elasticsearch: fetch it with Maven, unpack it, configure it.

The integ-test zip is the server with only the transport modules and x-pack
core/security (no ingest, Painless, data streams, ILM): small, no Docker, and
enough for everything mlmon does.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from mlmon.errors import StackError

#: Pinned: the newest 8.x that Maven Central served when this was written.
ES_VERSION = "8.19.21"
ES_ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip"
MIN_JAVA = 17


def home_dir(base: Path) -> Path:
    return base / f"elasticsearch-{ES_VERSION}"


def fetch_zip(downloads: Path) -> Path:
    """Download the zip once with Maven (it also lands in ~/.m2, Maven's own cache)."""
    target = downloads / f"elasticsearch-{ES_VERSION}.zip"
    if target.is_file() and zipfile.is_zipfile(target):
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError(
            "Maven (mvn) is not on PATH: it downloads Elasticsearch from Maven Central "
            "(Debian: apt-get install maven)"
        )
    downloads.mkdir(parents=True, exist_ok=True)
    cmd = [
        mvn,
        "-q",
        "-B",
        "dependency:copy",
        f"-Dartifact={ES_ARTIFACT}",
        f"-DoutputDirectory={downloads}",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not target.is_file():
        errors = [line for line in done.stdout.splitlines() if "[ERROR]" in line]
        reason = errors[0] if errors else (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise StackError(f"Maven could not download {ES_ARTIFACT}: {reason[:300]}")
    return target


def unpack(archive: Path, base: Path) -> Path:
    """Unzip into ``base`` keeping the executable bits (``zipfile`` drops them)."""
    home = home_dir(base)
    if (home / "bin" / "elasticsearch").is_file():
        return home
    staging = base / f".unpack-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            path = Path(zipped.extract(info, staging))
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                path.chmod(mode)
    unpacked = staging / home.name
    if not (unpacked / "bin" / "elasticsearch").is_file():
        raise StackError(f"{archive} does not hold {home.name}/bin/elasticsearch")
    unpacked.rename(home)
    shutil.rmtree(staging, ignore_errors=True)
    return home


def java_home() -> Path:
    """A Java 17+ home for Elasticsearch: ES_JAVA_HOME, JAVA_HOME, or ``java`` on PATH."""
    candidates = [os.environ.get("ES_JAVA_HOME"), os.environ.get("JAVA_HOME")]
    on_path = shutil.which("java")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent.parent))
    for candidate in filter(None, candidates):
        java = Path(candidate) / "bin" / "java"
        if java.is_file():
            version = java_major_version(java)
            if version >= MIN_JAVA:
                return Path(candidate)
    raise StackError(
        f"Elasticsearch needs Java {MIN_JAVA}+ and none was found "
        "(set ES_JAVA_HOME or install openjdk-17-jre-headless)"
    )


def java_major_version(java: Path) -> int:
    done = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=False)
    return parse_java_version(done.stderr + done.stdout)


def parse_java_version(text: str) -> int:
    """``openjdk version "17.0.15"`` → 17; ``"1.8.0_392"`` → 8; unknown → 0."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not match:
        return 0
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


@dataclass(frozen=True)
class Discovery:
    """How a node finds its cluster: alone (``single-node``), or through seed peers.

    Peers are loopback transport ports; ``initial_masters`` bootstraps a new
    cluster and is written only on its first start (Elasticsearch warns when
    it stays set on a node that already belongs to a cluster).
    """

    cluster_name: str = "mlmon-local"
    node_name: str = "mlmon-local"
    transport_port: str = "9300-9399"
    seed_ports: tuple[int, ...] = ()
    initial_masters: tuple[str, ...] = ()


SINGLE_NODE = Discovery()


def render_config(
    *,
    port: int,
    data: Path,
    logs: Path,
    security: bool,
    tls: bool = False,
    discovery: Discovery = SINGLE_NODE,
) -> str:
    """elasticsearch.yml for a dev node on loopback: a single node, or one of a cluster.

    Security is an explicit choice: off for development and tests, on only
    where a test exercises credentials.
    """
    lines = [
        "# Written by `mlmon stack up`; edits are overwritten.",
        f"cluster.name: {discovery.cluster_name}",
        f"node.name: {discovery.node_name}",
        "network.host: 127.0.0.1",
        f"http.port: {port}",
        f"transport.port: {discovery.transport_port}",
        *_discovery_lines(discovery),
        f"path.data: {data}",
        f"path.logs: {logs}",
        "# A laptop or CI disk may be nearly full; never go read-only mid-test.",
        "cluster.routing.allocation.disk.threshold_enabled: false",
        f"xpack.security.enabled: {'true' if security else 'false'}",
    ]
    if tls:  # HTTPS with the certificates `mlmon.stack.secure` generates into config/certs
        lines += [
            "xpack.security.http.ssl.enabled: true",
            "xpack.security.http.ssl.key: certs/node/node.key",
            "xpack.security.http.ssl.certificate: certs/node/node.crt",
            "xpack.security.http.ssl.certificate_authorities: certs/ca/ca.crt",
        ]
    return "\n".join(lines) + "\n"


def _discovery_lines(discovery: Discovery) -> list[str]:
    if not discovery.seed_ports:
        return ["discovery.type: single-node"]
    seeds = ", ".join(f'"127.0.0.1:{port}"' for port in discovery.seed_ports)
    lines = [f"discovery.seed_hosts: [{seeds}]"]
    if discovery.initial_masters:
        lines.append(f"cluster.initial_master_nodes: [{', '.join(discovery.initial_masters)}]")
    return lines


#: The single node's heap; a cluster's nodes get less each (see ``mlmon.stack.cluster``).
DEFAULT_HEAP_MB = 1024


def jvm_options(heap_mb: int = DEFAULT_HEAP_MB) -> str:
    """A fixed heap (min = max), as Elastic recommends."""
    return f"-Xms{heap_mb}m\n-Xmx{heap_mb}m\n"

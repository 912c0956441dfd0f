"""The node processes of a local stack: start one, find its pid, wait for it, stop it.

State lives in ``<stack dir>/node.json``, one entry per node; ``down`` only
signals a pid whose command line points into this stack directory, so it
never stops a node it did not start.
"""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import urllib3

from mlmon.stack.distribution import ES_VERSION, StackError, java_home, jvm_options, render_config
from mlmon.stack.layout import NodeLayout

SERVICE_USER = "mlmon-es"
START_TIMEOUT = 180.0
#: Several JVMs boot at once on what may be a two-core machine.
CLUSTER_START_TIMEOUT = 300.0


def probe(url: str, timeout: float = 2.0) -> dict | None:
    """Cluster health of ``url`` or None when nothing answers (no credentials needed for None)."""
    http = urllib3.PoolManager(timeout=urllib3.Timeout(total=timeout), retries=False)
    headers = _auth_headers()
    try:
        response = http.request("GET", url.rstrip("/") + "/_cluster/health", headers=headers)
    except urllib3.exceptions.HTTPError:
        return None
    if response.status == 401:
        return {"status": "unauthorised"}
    if response.status != 200:
        return None
    try:
        return orjson.loads(response.data)
    except orjson.JSONDecodeError:
        return None


def _auth_headers() -> dict[str, str]:
    api_key = os.environ.get("MLMON_ES_API_KEY")
    if api_key:
        return {"Authorization": f"ApiKey {api_key}"}
    user, password = os.environ.get("MLMON_ES_USER"), os.environ.get("MLMON_ES_PASSWORD")
    if user and password:
        return urllib3.make_headers(basic_auth=f"{user}:{password}")
    return {}


def state_file(stack_dir: Path) -> Path:
    return stack_dir / "node.json"


def read_state(stack_dir: Path) -> dict | None:
    try:
        return json.loads(state_file(stack_dir).read_text())
    except (OSError, ValueError):
        return None


def pid_is_ours(pid: int, stack_dir: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return str(stack_dir).encode() in cmdline and b"elasticsearch" in cmdline


def is_running(pid: int) -> bool:
    """The process exists and has not exited. A node that has exited but whose launcher
    has not reaped it yet (a zombie) still has its /proc entry, empty: it is stopped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def members(state: dict) -> list[dict]:
    """One entry per node; a node.json written before clusters holds its one node at the top."""
    return state.get("members") or [state]


def managed_pids(stack_dir: Path) -> tuple[int, ...]:
    state = read_state(stack_dir)
    if not state:
        return ()
    pids = []
    for member in members(state):
        try:
            pid = int(Path(member.get("pid_file", "")).read_text().strip())
        except (OSError, ValueError):
            pid = member.get("launcher_pid")
        if pid and pid_is_ours(int(pid), stack_dir):
            pids.append(int(pid))
    return tuple(pids)


def managed_pid(stack_dir: Path) -> int | None:
    pids = managed_pids(stack_dir)
    return pids[0] if pids else None


def tool_env(stack_dir: Path, home: Path, config: Path | None = None) -> dict[str, str]:
    """Environment for a node and its CLI tools (certutil, keystore)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ES_JAVA_HOME": str(java_home()),
        "HOME": str(stack_dir),
        "ES_PATH_CONF": str(config or home / "config"),
        "LANG": "C.UTF-8",
    }


def start_node(
    layout: NodeLayout,
    stack_dir: Path,
    home: Path,
    *,
    security: bool,
    tls: bool = False,
    user: str | None,
) -> subprocess.Popen:
    """Write ``layout``'s config and heap, and start its node; returns the launcher."""
    config = render_config(
        port=layout.port,
        data=layout.data,
        logs=layout.logs,
        security=security,
        tls=tls,
        discovery=layout.discovery,
    )
    (layout.config / "elasticsearch.yml").write_text(config)
    (layout.config / "jvm.options.d" / "mlmon.options").write_text(jvm_options(layout.heap_mb))
    layout.pid_file.unlink(missing_ok=True)
    with open(layout.console, "ab") as console:
        return subprocess.Popen(
            [str(home / "bin" / "elasticsearch"), "-p", str(layout.pid_file)],
            cwd=str(stack_dir),
            env=tool_env(stack_dir, home, layout.config),
            stdout=console,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            user=user,
        )


def write_state(
    stack_dir: Path,
    *,
    url: str,
    security: bool,
    started: list[tuple[NodeLayout, subprocess.Popen]],
) -> None:
    members = [
        {
            "name": layout.name,
            "http_port": layout.port,
            "transport_port": layout.discovery.transport_port,
            "pid_file": str(layout.pid_file),
            "launcher_pid": launcher.pid,
        }
        for layout, launcher in started
    ]
    state = {"url": url, "version": ES_VERSION, "security": security, "members": members}
    state_file(stack_dir).write_text(json.dumps(state, indent=2))


def service_user(stack_dir: Path) -> str | None:
    """Elasticsearch refuses to run as root: as root, run it as an unprivileged user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        done = subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise StackError(
                f"could not create user {SERVICE_USER}: {done.stderr.strip()}"
            ) from None
    entry = pwd.getpwnam(SERVICE_USER)
    for root, dirs, files in os.walk(stack_dir):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
    os.chown(stack_dir, entry.pw_uid, entry.pw_gid)
    return SERVICE_USER


def wait_healthy(
    url: str,
    launchers: list[tuple[subprocess.Popen, Path]],
    check: Callable[[str], dict | None] = probe,
    *,
    nodes: int = 1,
    timeout: float = START_TIMEOUT,
) -> None:
    """Until ``url`` is green or yellow with ``nodes`` nodes; a launcher's exit (with its
    console log) ends the wait at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = check(url)
        if (
            health
            and health.get("status") in ("green", "yellow")
            and health.get("number_of_nodes", 1) >= nodes
        ):
            return
        for launcher, console in launchers:
            if launcher.poll() is not None:
                raise StackError(
                    f"Elasticsearch exited with code {launcher.returncode} while starting: "
                    f"{last_error(console)} (log: {console})"
                )
        time.sleep(0.5)
    raise StackError(
        f"Elasticsearch did not become healthy within {timeout:.0f}s (log: {launchers[0][1]})"
    )


def last_error(console: Path) -> str:
    try:
        lines = console.read_text(errors="replace").splitlines()
    except OSError:
        return "no log"
    for line in reversed(lines):
        if "ERROR" in line or "Exception" in line:
            return line.strip()[:300]
    return lines[-1].strip()[:300] if lines else "no output"


def down(stack_dir: Path, *, timeout: float = 60.0) -> tuple[int, ...]:
    """Stop every node this stack directory started; return their pids (none: empty)."""
    pids = managed_pids(stack_dir)
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    # Until each has exited: an exiting JVM's cmdline reads empty before the process is
    # gone, so "no longer ours" alone returned while the nodes were still shutting down.
    while time.monotonic() < deadline and any(is_running(pid) for pid in pids):
        time.sleep(0.3)
    for pid in pids:
        if pid_is_ours(pid, stack_dir):
            os.kill(pid, signal.SIGKILL)
    return pids

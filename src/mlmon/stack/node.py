"""Start, find and stop the one local Elasticsearch node mlmon manages.

State lives in ``<stack dir>/node.json``; ``down`` only signals a pid whose
command line points into this stack directory, so it never stops a node it
did not start.
"""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import urllib3

from mlmon.es.settings import DEFAULT_URL
from mlmon.stack.distribution import (
    ES_VERSION,
    JVM_OPTIONS,
    StackError,
    fetch_zip,
    home_dir,
    java_home,
    render_config,
    unpack,
)

SERVICE_USER = "mlmon-es"
START_TIMEOUT = 180.0


def default_stack_dir() -> Path:
    """Where the node lives; as root, outside /root (the service user cannot read it)."""
    configured = os.environ.get("MLMON_STACK_DIR")
    if configured:
        return Path(configured)
    if os.geteuid() == 0:
        return Path("/var/lib/mlmon/stack")
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mlmon" / "stack"


@dataclass(frozen=True)
class NodeStatus:
    url: str
    running: bool
    managed: bool  # started by mlmon (else: an existing cluster we only use)
    pid: int | None = None
    health: str | None = None
    version: str | None = None
    stack_dir: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


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


def _state_file(stack_dir: Path) -> Path:
    return stack_dir / "node.json"


def _read_state(stack_dir: Path) -> dict | None:
    try:
        return json.loads(_state_file(stack_dir).read_text())
    except (OSError, ValueError):
        return None


def _pid_is_ours(pid: int, stack_dir: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return str(stack_dir).encode() in cmdline and b"elasticsearch" in cmdline


def _managed_pid(stack_dir: Path) -> int | None:
    state = _read_state(stack_dir)
    if not state:
        return None
    pid_file = Path(state.get("pid_file", ""))
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        pid = state.get("launcher_pid")
    if pid and _pid_is_ours(int(pid), stack_dir):
        return int(pid)
    return None


def status(url: str = DEFAULT_URL, stack_dir: Path | None = None) -> NodeStatus:
    stack_dir = stack_dir or default_stack_dir()
    pid = _managed_pid(stack_dir)
    health = probe(url)
    state = _read_state(stack_dir) or {}
    managed = pid is not None and state.get("url") == url
    return NodeStatus(
        url=url,
        running=health is not None,
        managed=managed,
        pid=pid if managed else None,
        health=health.get("status") if health else None,
        version=state.get("version") if managed else None,
        stack_dir=str(stack_dir),
    )


def up(
    url: str = DEFAULT_URL,
    stack_dir: Path | None = None,
    *,
    security: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> NodeStatus:
    """Make sure an Elasticsearch answers at ``url``; start the local node only if none does."""
    stack_dir = stack_dir or default_stack_dir()
    current = status(url, stack_dir)
    if current.running:
        return current
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost") or parts.scheme != "http":
        raise StackError(
            f"nothing answers at MLMON_ES_URL={url}, and mlmon only starts a local node on "
            "http://127.0.0.1:<port>; start that cluster or unset MLMON_ES_URL"
        )
    if current.pid is None and _managed_pid(stack_dir) is not None:
        raise StackError(f"a node from {stack_dir} is running but not answering at {url}")
    home = prepare_home(stack_dir, say=say)
    process = launch(stack_dir, home, port=parts.port or 9200, url=url, security=security, say=say)
    _wait_healthy(url, process, stack_dir / "logs" / "console.log")
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


def tool_env(stack_dir: Path, home: Path) -> dict[str, str]:
    """Environment for the node and its CLI tools (certutil, keystore)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ES_JAVA_HOME": str(java_home()),
        "HOME": str(stack_dir),
        "ES_PATH_CONF": str(home / "config"),
        "LANG": "C.UTF-8",
    }


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
    """Write the config and start the node as the service user; returns the launcher."""
    data, logs = stack_dir / "data", stack_dir / "logs"
    (home / "config" / "elasticsearch.yml").write_text(
        render_config(port=port, data=data, logs=logs, security=security, tls=tls)
    )
    (home / "config" / "jvm.options.d" / "mlmon.options").write_text(JVM_OPTIONS)
    pid_file = stack_dir / "es.pid"
    pid_file.unlink(missing_ok=True)
    user = _service_user(stack_dir)
    say(
        f"Starting Elasticsearch on {url} (1 GB heap, single node, security "
        f"{'on' if security else 'off'}{', TLS' if tls else ''})…"
    )
    with open(logs / "console.log", "ab") as console:
        process = subprocess.Popen(
            [str(home / "bin" / "elasticsearch"), "-p", str(pid_file)],
            cwd=str(stack_dir),
            env=tool_env(stack_dir, home),
            stdout=console,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            user=user,
        )
    _state_file(stack_dir).write_text(
        json.dumps(
            {
                "url": url,
                "version": ES_VERSION,
                "pid_file": str(pid_file),
                "launcher_pid": process.pid,
                "security": security,
            }
        )
    )
    return process


def _service_user(stack_dir: Path) -> str | None:
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


def _wait_healthy(
    url: str,
    process: subprocess.Popen,
    console: Path,
    check: Callable[[str], dict | None] = probe,
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        health = check(url)
        if health and health.get("status") in ("green", "yellow"):
            return
        if process.poll() is not None:
            raise StackError(
                f"Elasticsearch exited with code {process.returncode} while starting: "
                f"{_last_error(console)} (log: {console})"
            )
        time.sleep(0.5)
    raise StackError(
        f"Elasticsearch did not become healthy within {START_TIMEOUT:.0f}s (log: {console})"
    )


def _last_error(console: Path) -> str:
    try:
        lines = console.read_text(errors="replace").splitlines()
    except OSError:
        return "no log"
    for line in reversed(lines):
        if "ERROR" in line or "Exception" in line:
            return line.strip()[:300]
    return lines[-1].strip()[:300] if lines else "no output"


def down(stack_dir: Path | None = None, *, timeout: float = 60.0) -> int | None:
    """Stop the node this stack directory started; return its pid, or None if none was running."""
    stack_dir = stack_dir or default_stack_dir()
    pid = _managed_pid(stack_dir)
    if pid is None:
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _pid_is_ours(pid, stack_dir):
        time.sleep(0.3)
    if _pid_is_ours(pid, stack_dir):
        os.kill(pid, signal.SIGKILL)
    return pid

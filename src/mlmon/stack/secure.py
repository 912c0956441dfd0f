"""A second local node with security on and HTTPS, to test credentials for real.

The test distribution carries x-pack security. This node gets its own stack
directory and port, certificates from the distribution's own
``elasticsearch-certutil`` (a CA and a node certificate for 127.0.0.1), and
the ``elastic`` password through the keystore's ``bootstrap.password``.
Nothing here is for production: it is how tests prove roles, API keys and
certificate checks against a real cluster.
"""

from __future__ import annotations

import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
import urllib3
import yaml

from mlmon.stack.distribution import StackError
from mlmon.stack.layout import default_stack_dir
from mlmon.stack.node import down, launch, prepare_home
from mlmon.stack.process import service_user, tool_env, wait_healthy


@dataclass(frozen=True)
class SecureNode:
    url: str
    ca_certs: Path
    password: str  # of the built-in ``elastic`` superuser
    stack_dir: Path


def _tool(
    stack_dir: Path, home: Path, name: str, *args: str, stdin: str | None = None, check: bool = True
) -> None:
    """Run a distribution tool as the node's user, so the files it writes stay the node's."""
    done = subprocess.run(
        [str(home / "bin" / name), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=tool_env(stack_dir, home),
        user=service_user(stack_dir),
        check=False,
    )
    if check and done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise StackError(f"{name} {args[0]} failed: {last[:300]}")


def _certificates(stack_dir: Path, home: Path) -> Path:
    """CA and node certificate (127.0.0.1, localhost) in ``config/certs``, made once."""
    certs = home / "config" / "certs"
    if (certs / "node" / "node.crt").is_file():
        return certs / "ca" / "ca.crt"
    certs.mkdir(parents=True, exist_ok=True)
    ca_zip, node_zip = stack_dir / "ca.zip", stack_dir / "node.zip"
    for stale in (ca_zip, node_zip):
        stale.unlink(missing_ok=True)
    _tool(
        stack_dir, home, "elasticsearch-certutil", "ca", "--pem", "--silent", "--out", str(ca_zip)
    )
    with zipfile.ZipFile(ca_zip) as archive:
        archive.extractall(certs)
    _tool(
        stack_dir, home, "elasticsearch-certutil", "cert", "--pem", "--silent",
        "--ca-cert", str(certs / "ca" / "ca.crt"), "--ca-key", str(certs / "ca" / "ca.key"),
        "--ip", "127.0.0.1", "--dns", "localhost", "--name", "node", "--out", str(node_zip),
    )  # fmt: skip
    with zipfile.ZipFile(node_zip) as archive:
        archive.extractall(certs)
    return certs / "ca" / "ca.crt"


def _keystore(stack_dir: Path, home: Path, password: str) -> None:
    keystore = home / "config" / "elasticsearch.keystore"
    if not keystore.is_file():
        _tool(stack_dir, home, "elasticsearch-keystore", "create")
    _tool(
        stack_dir, home, "elasticsearch-keystore", "add", "-x", "-f", "bootstrap.password",
        stdin=password,
    )  # fmt: skip


def _health_checker(ca_certs: Path, password: str) -> Callable[[str], dict | None]:
    http = urllib3.PoolManager(
        ca_certs=str(ca_certs), timeout=urllib3.Timeout(total=2.0), retries=False
    )
    headers = urllib3.make_headers(basic_auth=f"elastic:{password}")

    def check(url: str) -> dict | None:
        try:
            response = http.request("GET", f"{url}/_cluster/health", headers=headers)
        except urllib3.exceptions.HTTPError:
            return None
        return orjson.loads(response.data) if response.status == 200 else None

    return check


def _file_realm(
    stack_dir: Path, home: Path, roles: dict[str, dict], users: dict[str, tuple[str, str]]
) -> None:
    """Roles in ``config/roles.yml`` and users in the file realm (``elasticsearch-users``).

    The test distribution cannot hold native users or API keys: its ``.security``
    index mappings need analysis-common's ``pattern_capture`` filter, which it
    lacks (create_api_key answers 400 "Unknown filter type [pattern_capture]").
    File-realm users with file roles need no index, and authorise the same way.
    """
    (home / "config" / "roles.yml").write_text(yaml.safe_dump(roles, sort_keys=True))
    for name, (user_password, role) in users.items():
        _tool(stack_dir, home, "elasticsearch-users", "userdel", name, check=False)
        _tool(stack_dir, home, "elasticsearch-users", "useradd", name, "-p", user_password,
              "-r", role)  # fmt: skip


def up_secure(
    *,
    port: int = 9250,
    password: str,
    roles: dict[str, dict] | None = None,
    users: dict[str, tuple[str, str]] | None = None,
    stack_dir: Path | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> SecureNode:
    """Start the secure node on https://127.0.0.1:``port`` (restarting one already running,
    so the password, roles and users given here are the ones in force)."""
    stack_dir = stack_dir or default_stack_dir().with_name("stack-secure")
    url = f"https://127.0.0.1:{port}"
    home = prepare_home(stack_dir, downloads=default_stack_dir() / "downloads", say=say)
    ca_certs = _certificates(stack_dir, home)
    check = _health_checker(ca_certs, password)
    down(stack_dir)
    _keystore(stack_dir, home, password)
    _file_realm(stack_dir, home, roles or {}, users or {})
    launcher = launch(stack_dir, home, port=port, url=url, security=True, tls=True, say=say)
    wait_healthy(url, [(launcher, stack_dir / "logs" / "console.log")], check)
    return SecureNode(url, ca_certs, password, stack_dir)


def down_secure(stack_dir: Path | None = None) -> tuple[int, ...]:
    return down(stack_dir or default_stack_dir().with_name("stack-secure"))

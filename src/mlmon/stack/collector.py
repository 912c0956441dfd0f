"""Build, find and run mlmon's OpenTelemetry Collector (the forward-protocol agent).

The binary is built once from Go modules with the collector's builder
(``pipelines/otelcol/builder.yaml``) and cached next to the Elasticsearch
download, in ``<stack dir>/otelcol-<version>/otelcol-mlmon``; a second build is
a no-op. The Go module and build caches are Go's own (``go env GOMODCACHE
GOCACHE``) and checksums are verified as usual.

``python -m mlmon.stack.collector build`` builds (prints its progress);
``python -m mlmon.stack.collector path`` prints where the binary is.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from mlmon._resources import pipelines_dir
from mlmon.stack.distribution import StackError
from mlmon.stack.node import default_stack_dir

#: The collector core / contrib release of every module but the receiver.
COLLECTOR_VERSION = "0.120.0"
BUILDER_MODULE = f"go.opentelemetry.io/collector/cmd/builder@v{COLLECTOR_VERSION}"
#: The newest release of the receiver the Go module proxy serves (see the patch's header).
RECEIVER_MODULE = (
    "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/fluentforwardreceiver"
)
RECEIVER_VERSION = "v0.117.0"
BINARY_NAME = "otelcol-mlmon"
GO_FALLBACK = Path("/usr/local/go/bin/go")
START_TIMEOUT = 30.0


def source_dir() -> Path:
    """``pipelines/otelcol``: builder manifest, receiver patch, collector config."""
    return pipelines_dir() / "otelcol"


def config_file() -> Path:
    return source_dir() / "config.yaml"


def binary_path(stack_dir: Path | None = None) -> Path:
    return (stack_dir or default_stack_dir()) / f"otelcol-{COLLECTOR_VERSION}" / BINARY_NAME


def find_go() -> Path:
    found = shutil.which("go")
    if found:
        return Path(found)
    if GO_FALLBACK.is_file():
        return GO_FALLBACK
    raise StackError(
        "Go is not on PATH (nor at /usr/local/go/bin/go): the collector is built from Go "
        "modules (https://go.dev/dl, Go 1.23 or newer)"
    )


def build(stack_dir: Path | None = None, *, say: Callable[[str], None] = lambda _: None) -> Path:
    """The collector binary, built unless already cached; progress goes to ``say``."""
    target = binary_path(stack_dir)
    if _runs(target):
        say(f"otelcol: cached {target}")
        return target
    go = find_go()
    env = _go_env(go)
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="build-", dir=target.parent) as work_dir:
        work = Path(work_dir)
        say(f"otelcol: installing the builder ({BUILDER_MODULE})")
        _go(go, ["install", BUILDER_MODULE], env={**env, "GOBIN": str(work / "bin")})
        say(f"otelcol: patching {RECEIVER_MODULE.rsplit('/', 1)[-1]} {RECEIVER_VERSION}")
        _patched_receiver(go, env, work / "fluentforwardreceiver")
        shutil.copyfile(source_dir() / "builder.yaml", work / "builder.yaml")
        say("otelcol: building (cold: ~6 min on 2 idle cores, longer on a busy machine)")
        _run([str(work / "bin" / "builder"), "--config", "builder.yaml"], cwd=work, env=env)
        built = work / "dist" / BINARY_NAME
        staged = target.with_suffix(".new")
        shutil.copyfile(built, staged)
        staged.chmod(0o755)
        staged.replace(target)
    say(f"otelcol: built {target} in {time.monotonic() - started:.0f} s")
    return target


def _runs(binary: Path) -> bool:
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        return False
    done = subprocess.run([str(binary), "--version"], capture_output=True, check=False)
    return done.returncode == 0


def _go_env(go: Path) -> dict[str, str]:
    """The build's environment: the found Go first on PATH, no toolchain switching."""
    path = os.pathsep.join([str(go.parent), os.environ.get("PATH", "")])
    return {**os.environ, "PATH": path, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}


def _patched_receiver(go: Path, env: Mapping[str, str], copy: Path) -> None:
    """The receiver's module, copied out of the module cache, with the patch applied."""
    fetched = _go(
        go, ["mod", "download", "-json", f"{RECEIVER_MODULE}@{RECEIVER_VERSION}"], env=env
    )
    module = Path(json.loads(fetched)["Dir"])
    shutil.copytree(module, copy)
    for folder, _, files in os.walk(copy):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(Path(folder) / name, 0o644)
    patch = source_dir() / f"fluentforwardreceiver-{RECEIVER_VERSION}.patch"
    _run(["patch", "--forward", "--batch", "-p1", "-i", str(patch)], cwd=copy, env=env)


def _go(go: Path, args: list[str], *, env: Mapping[str, str]) -> str:
    return _run([str(go), *args], cwd=None, env=env)


def _run(cmd: list[str], *, cwd: Path | None, env: Mapping[str, str]) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=dict(env), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise StackError(f"{Path(cmd[0]).name} {' '.join(cmd[1:3])} failed:\n{tail}")
    return done.stdout


@dataclass(frozen=True)
class Agent:
    """A running collector: its forward-protocol port and process."""

    process: subprocess.Popen
    forward_port: int
    log_file: Path

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL if it hangs."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)


def start(
    binary: Path,
    *,
    es_url: str,
    forward_port: int,
    metrics_port: int,
    log_file: Path,
    config: Path | None = None,
) -> Agent:
    """Run the collector with mlmon's config and wait until its forward port accepts."""
    if not _runs(binary):
        raise StackError(
            f"no collector at {binary}: build it with `make otelcol` "
            "(python -m mlmon.stack.collector build)"
        )
    env = {
        **os.environ,
        "MLMON_ES_URL": es_url,
        "MLMON_FORWARD_ENDPOINT": f"127.0.0.1:{forward_port}",
        "MLMON_OTELCOL_METRICS_HOST": "127.0.0.1",
        "MLMON_OTELCOL_METRICS_PORT": str(metrics_port),
    }
    cmd = [str(binary), "--config", str(config or config_file())]
    with log_file.open("ab") as log:
        process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    agent = Agent(process=process, forward_port=forward_port, log_file=log_file)
    _wait_listening(agent)
    return agent


def _wait_listening(agent: Agent) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if agent.process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", agent.forward_port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    agent.stop()
    tail = "\n".join(agent.log_file.read_text(errors="replace").splitlines()[-10:])
    raise StackError(f"the collector did not listen on {agent.forward_port}:\n{tail}")


def main(argv: list[str]) -> int:
    if argv == ["build"]:
        try:
            build(say=lambda line: print(line, flush=True))
        except StackError as error:
            print(f"otelcol: {error}", file=sys.stderr)
            return 1
        return 0
    if argv == ["path"]:
        print(binary_path())
        return 0
    print("usage: python -m mlmon.stack.collector build|path", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

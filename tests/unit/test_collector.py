"""The collector's build inputs agree with each other; a cached binary is never rebuilt."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from mlmon.stack import StackError
from mlmon.stack.collector import (
    BINARY_NAME,
    COLLECTOR_VERSION,
    RECEIVER_MODULE,
    RECEIVER_VERSION,
    binary_path,
    build,
    config_file,
    source_dir,
    start,
)

MANIFEST = yaml.safe_load((source_dir() / "builder.yaml").read_text())
CONFIG = yaml.safe_load(config_file().read_text())


def manifest_modules() -> dict[str, str]:
    """module path → version, for every component and provider of the builder manifest."""
    modules = {}
    for section in ("receivers", "processors", "exporters", "providers"):
        for entry in MANIFEST[section]:
            path, version = entry["gomod"].split()
            modules[path] = version
    return modules


def test_the_manifest_pins_one_release_except_the_patched_receiver():
    versions = manifest_modules()
    assert versions.pop(RECEIVER_MODULE) == RECEIVER_VERSION
    providers = {path for path in versions if "/confmap/provider/" in path}
    assert {versions.pop(path) for path in providers} == {"v1.26.0"}
    assert set(versions.values()) == {f"v{COLLECTOR_VERSION}"}
    assert MANIFEST["dist"]["name"] == BINARY_NAME
    assert MANIFEST["replaces"] == [
        f"{RECEIVER_MODULE} {RECEIVER_VERSION} => ../fluentforwardreceiver"
    ]
    patch = (source_dir() / f"fluentforwardreceiver-{RECEIVER_VERSION}.patch").read_text()
    assert "+++ b/internal/metadata/generated_telemetry.go" in patch
    assert "settings.MetricsLevel undefined" in patch  # says why, above the diff


def test_every_component_the_config_uses_is_built_and_in_the_pipeline():
    built = {path.rsplit("/", 1)[-1] for path in manifest_modules()}
    pipeline = CONFIG["service"]["pipelines"]["logs"]
    for section, suffix in (
        ("receivers", "receiver"),
        ("processors", "processor"),
        ("exporters", "exporter"),
    ):
        names = set(CONFIG[section])
        assert names == set(pipeline[section]), section
        for name in names:
            assert f"{name.split('/')[0]}{suffix}" in built, name


def test_the_exporter_writes_the_body_under_the_routed_index_and_id():
    exporter = CONFIG["exporters"]["elasticsearch"]
    assert exporter["mapping"] == {"mode": "bodymap"}
    assert exporter["logs_dynamic_index"] == {"enabled": True}
    assert exporter["logs_dynamic_id"] == {"enabled": True}
    assert exporter["logs_index"] == "mlmon-"
    statements = " ".join(
        statement
        for group in CONFIG["processors"]["transform/mlmon"]["log_statements"]
        for statement in group["statements"]
    )
    assert re.search(r'Concat\(\["deadletter-"', statements)
    assert 'set(log.attributes["elasticsearch.document_id"], log.body["prediction_id"])' in (
        statements
    )


def test_the_binary_is_cached_in_the_stack_dir_and_not_rebuilt(tmp_path, monkeypatch):
    target = binary_path(tmp_path)
    assert target == tmp_path / f"otelcol-{COLLECTOR_VERSION}" / BINARY_NAME
    target.parent.mkdir(parents=True)
    target.write_text("#!/bin/sh\necho otelcol-mlmon version 0.120.0-mlmon\n")
    target.chmod(0o755)
    monkeypatch.setenv("PATH", "")  # no Go: a rebuild would fail
    said: list[str] = []
    assert build(tmp_path, say=said.append) == target
    assert said == [f"otelcol: cached {target}"]


def test_a_missing_binary_is_one_clear_error(tmp_path):
    with pytest.raises(StackError, match=r"no collector at .*make otelcol"):
        start(
            binary_path(tmp_path),
            es_url="http://127.0.0.1:9",
            forward_port=1,
            metrics_port=2,
            log_file=tmp_path / "log",
        )


def test_the_build_script_runs_the_module():
    script = source_dir() / "build.sh"
    assert script.stat().st_mode & 0o111
    assert "-m mlmon.stack.collector build" in script.read_text()
    done = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr

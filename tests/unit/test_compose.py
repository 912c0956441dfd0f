"""docker-compose.yml and the Fluentd config cannot run here (no Docker engine): validate them.

The compose file must parse, pin every image, mount only files that exist,
and agree with the SDK's and CLI's defaults; the Fluentd config is parsed
into its directive tree and its routes checked against mlmon's index names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from mlmon.es.settings import DEFAULT_URL
from mlmon.stack import ES_VERSION

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_compose_has_the_seven_services_and_named_volumes():
    assert set(SERVICES) == {
        "certs",
        "elasticsearch",
        "kibana",
        "fluentd",
        "setup",
        "kibana-setup",
        "retention",
        "otelcol",  # optional, profile `otelcol` (see test_the_otelcol_profile_…)
    }
    assert set(COMPOSE["volumes"]) == {"certs", "es-data", "fluentd-buffer"}
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source in COMPOSE["volumes"] or (ROOT / source).exists(), (name, volume)


def test_every_image_is_pinned_and_the_elastic_stack_matches_the_local_one():
    for name, service in SERVICES.items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), (name, image)
    assert SERVICES["elasticsearch"]["image"].endswith(f":{ES_VERSION}")
    assert SERVICES["kibana"]["image"].endswith(f":{ES_VERSION}")
    dockerfile = (ROOT / "pipelines/fluentd/Dockerfile").read_text()
    assert re.search(r"^FROM fluent/fluentd:v\d+\.\d+\.\d+-\S+$", dockerfile, re.M)
    assert re.search(r"fluent-plugin-elasticsearch -v \d+\.\d+\.\d+", dockerfile)
    assert re.search(r"elasticsearch -v 8\.\d+\.\d+", dockerfile)  # a 9.x client refuses 8.x


def test_build_contexts_and_copied_files_exist():
    for name in ("fluentd", "setup"):
        build = SERVICES[name]["build"]
        context = ROOT / build["context"]
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), name
        for line in dockerfile.read_text().splitlines():
            if line.startswith("COPY "):
                for source in line.split()[1:-1]:
                    assert (context / source).exists(), (name, source)
    setup_script = ROOT / "pipelines/setup/setup.sh"
    assert setup_script.stat().st_mode & 0o111


def test_ports_and_environment_agree_with_sdk_and_cli_defaults():
    es_port = urlsplit(DEFAULT_URL).port
    assert f"127.0.0.1:{es_port}:9200" in SERVICES["elasticsearch"]["ports"]
    assert "127.0.0.1:24224:24224" in SERVICES["fluentd"]["ports"]
    for name in ("fluentd", "setup", "retention"):
        environment = SERVICES[name]["environment"]
        assert environment["MLMON_ES_URL"] == "https://elasticsearch:9200"
        assert environment["MLMON_ES_CA_CERTS"] == "/certs/ca/ca.crt"
        assert "certs:/certs:ro" in SERVICES[name]["volumes"]
    assert SERVICES["elasticsearch"]["environment"]["discovery.type"] == "single-node"
    assert SERVICES["setup"]["restart"] == "no"


def test_health_checks_and_start_order():
    for name in ("elasticsearch", "kibana", "fluentd"):
        assert SERVICES[name]["healthcheck"]["test"], name
    assert SERVICES["setup"]["depends_on"]["elasticsearch"]["condition"] == "service_healthy"
    # Fluentd writes only after the templates exist.
    assert (
        SERVICES["fluentd"]["depends_on"]["setup"]["condition"] == "service_completed_successfully"
    )


# --- the Fluentd configuration, parsed -------------------------------------


@dataclass
class Directive:
    name: str
    arg: str
    params: dict[str, str] = field(default_factory=dict)
    children: list[Directive] = field(default_factory=list)

    def find(self, name: str) -> list[Directive]:
        return [child for child in self.children if child.name == name]


def parse_fluentd(text: str) -> Directive:
    """Fluentd's syntax: ``<name arg>`` … ``</name>`` sections of ``key value`` lines."""
    root = Directive("root", "")
    stack = [root]
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        opening = re.fullmatch(r"<([a-z@_]+)(?:\s+(.+?))?>", line)
        closing = re.fullmatch(r"</([a-z@_]+)>", line)
        if closing:
            assert stack[-1].name == closing.group(1), (
                f"line {number}: unbalanced </{closing.group(1)}>"
            )
            stack.pop()
        elif opening:
            directive = Directive(opening.group(1), opening.group(2) or "")
            stack[-1].children.append(directive)
            stack.append(directive)
        else:
            key, _, value = line.partition(" ")
            assert re.fullmatch(r"@?[a-z_][a-z0-9_.]*", key), (
                f"line {number}: bad parameter {key!r}"
            )
            assert key not in stack[-1].params, f"line {number}: {key} set twice"
            stack[-1].params[key] = value.strip()
    assert len(stack) == 1, f"unclosed <{stack[-1].name}>"
    return root


CONFIG = parse_fluentd((ROOT / "pipelines/fluentd/fluent.conf").read_text())


def test_fluentd_config_is_balanced_and_has_a_forward_source_on_the_sdk_port():
    sources = {s.params["@type"]: s for s in CONFIG.find("source")}
    assert sources["forward"].params["port"] == "24224"
    assert sources["monitor_agent"].params["port"] == "24220"


@pytest.mark.parametrize(
    ("pattern", "kind", "operation"),
    [("mlmon.prediction.*", "predictions", "create"), ("mlmon.actual.*", "actuals", "index")],
)
def test_fluentd_routes_events_to_the_sdk_sink_indices(pattern, kind, operation):
    from mlmon.schema.event import INDEX_PERIOD_STRFTIME

    match = next(m for m in CONFIG.find("match") if m.arg == pattern)
    params = match.params
    assert params["@type"] == "elasticsearch"
    # ${tag[2]} is a buffer placeholder (``tag_parts`` is not: it stayed literal and
    # every model went into one index); it needs the tag as the buffer's chunk key.
    assert (params["logstash_format"], params["logstash_prefix"]) == (
        "true",
        f"mlmon-{kind}-${{tag[2]}}",
    )
    assert match.find("buffer")[0].arg == "tag"
    assert (params["logstash_dateformat"], params["utc_index"]) == (INDEX_PERIOD_STRFTIME, "true")
    assert (params["id_key"], params["write_operation"]) == ("prediction_id", operation)
    assert params["verify_es_version_at_startup"] == "false"  # no GET / probe
    assert "MLMON_ES_URL" in params["hosts"]
    # Transient per-item errors retry the chunk with back-off; other refusals go to the
    # dead letter under retry_tag instead of being re-emitted forever.
    assert "es_rejected_execution_exception" in params["unrecoverable_error_types"]
    assert params["retry_tag"] == "mlmon.refused"
    buffer = match.find("buffer")[0]
    assert buffer.params["@type"] == "file"
    assert buffer.params["retry_type"] == "exponential_backoff"
    assert buffer.params["overflow_action"] == "block"


def test_the_fluentd_index_is_the_sdk_index_for_any_model_and_time():
    """Render the Fluentd route as fluent-plugin-elasticsearch does and compare."""
    from datetime import datetime, timezone

    from mlmon.schema.event import actuals_index, predictions_index

    routes = {m.arg: m.params for m in CONFIG.find("match")}
    for model in ("fraud", "churn-v2", "a_b"):
        for moment in (datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2027, 12, 31, 23, 59)):
            stamp = moment.replace(tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            for tag_kind, naming in (("prediction", predictions_index), ("actual", actuals_index)):
                params = routes[f"mlmon.{tag_kind}.*"]
                parts = ["mlmon", tag_kind, model]
                prefix = params["logstash_prefix"].replace("${tag[2]}", parts[2])
                index = f"{prefix}-{moment.strftime(params['logstash_dateformat'])}"
                assert index == naming(model, stamp)


def test_fluentd_values_have_no_comment_marker():
    """An unquoted value is cut at ` #` (the comment start): `${"tag #{tag}"}` became `${"tag`."""
    text = (ROOT / "pipelines/fluentd/fluent.conf").read_text()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("<"):
            continue
        _, _, value = line.partition(" ")
        quoted = value.startswith('"') and value.endswith('"')
        assert quoted or " #" not in value, f"line {number}: ' #' would start a comment: {line}"


def test_fluentd_sends_refused_and_unrouted_records_to_the_deadletter():
    from mlmon.schema.event import INDEX_PERIOD_STRFTIME

    routes = [(m.arg, m.params) for m in CONFIG.find("match")]
    assert routes[-1] == ("**", {"@type": "relabel", "@label": "@UNROUTED"})
    assert ("mlmon.refused", {"@type": "relabel", "@label": "@ERROR"}) in routes
    labels = {label.arg: label for label in CONFIG.find("label")}
    assert set(labels) == {"@FLUENT_LOG", "@UNROUTED", "@ERROR", "@DEADLETTER"}
    # Fluentd's own logs are not events: they never reach the dead letter.
    assert labels["@FLUENT_LOG"].find("match")[0].params["@type"] == "null"
    for name in ("@UNROUTED", "@ERROR"):
        record = next(
            f for f in labels[name].find("filter") if f.params["@type"] == "record_transformer"
        )
        fields = record.find("record")[0].params
        # The SDK's dead-letter shape: a nested ``model`` object, not a dotted key.
        assert {"source", "error_type", "reason", "raw", "prediction_id", "model"} <= set(fields)
        assert "@timestamp" not in fields  # reserved; logstash_format adds it
        # Bytes that are not UTF-8 made to_json raise, and the error re-entered @ERROR
        # until the stack overflowed (real Fluentd 1.17.1): raw falls back to inspect.
        assert fields["raw"] == "${(record.to_json rescue record.inspect)}"
        # Dated when dead-lettered (the SDK uses deadletter_index of now), not by the event.
        assert record.params["renew_time_key"] == "dead_lettered_at"
        assert record.params["remove_keys"] == "dead_lettered_at"
        assert "Time.now" in fields["dead_lettered_at"]
        assert labels[name].find("match")[0].params["@label"] == "@DEADLETTER"
    # A dead letter refused in turn is not wrapped again (that looped).
    grep = labels["@ERROR"].find("filter")[0]
    assert grep.params["@type"] == "grep"
    assert grep.find("exclude")[0].params["key"] == "error_type"
    out = labels["@DEADLETTER"].find("match")[0].params
    assert out["time_precision"] == "3"  # milliseconds, as format_timestamp writes
    assert (out["logstash_prefix"], out["logstash_dateformat"]) == (
        "mlmon-deadletter",
        INDEX_PERIOD_STRFTIME,
    )


def test_certs_leave_the_ca_certificate_readable_by_fluentd():
    """Fluentd's image runs as uid 999: 640 on ca.crt failed every flush over TLS."""
    script = (ROOT / "pipelines/setup/make-certs.sh").read_text()
    tail = script[script.index('chown -R 1000:0 "$out"') :]
    assert 'chmod 644 "$out/ca/ca.crt"' in tail
    assert 'chmod 755 "$out" "$out/ca"' in tail
    assert tail.index("chmod 644") > tail.index("-exec chmod 640")  # after the blanket 640


def test_the_parser_rejects_broken_configs():
    with pytest.raises(AssertionError):
        parse_fluentd("<match a>\n  @type stdout\n")
    with pytest.raises(AssertionError):
        parse_fluentd("<match a>\n</source>\n")


def test_kibana_setup_imports_the_committed_objects_for_this_kibana_version():
    from click.testing import CliRunner

    from mlmon.cli import cli
    from mlmon.kibana.lens import KIBANA_VERSION

    service = SERVICES["kibana-setup"]
    assert service["image"] == SERVICES["setup"]["image"]
    assert SERVICES["kibana"]["image"].endswith(f":{KIBANA_VERSION}")
    program, *args = service["entrypoint"]
    assert program == "mlmon" and args[:2] == ["kibana", "import"]
    folder = args[args.index("--dir") + 1]
    assert "COPY kibana " + folder in (ROOT / "pipelines/setup/Dockerfile").read_text()
    assert (ROOT / "kibana" / "mlmon-saved-objects.ndjson").is_file()
    # every option the entrypoint passes exists (an unknown one exits 2 before any request)
    options = [a for a in args[2:] if a.startswith("--")]
    help_text = CliRunner().invoke(cli, ["kibana", "import", "--help"]).output
    assert all(option in help_text for option in options)
    assert service["depends_on"]["kibana"]["condition"] == "service_healthy"


def test_retention_service_runs_the_retention_command_daily():
    from click.testing import CliRunner

    from mlmon.cli import cli

    service = SERVICES["retention"]
    assert service["image"] == SERVICES["setup"]["image"]
    shell, flag, script = service["entrypoint"]
    assert (shell, flag) == ("sh", "-c")
    assert 'mlmon retention apply --older-than "$$MLMON_RETENTION"' in script
    assert "sleep 86400" in script
    assert service["environment"]["MLMON_RETENTION"] == "${MLMON_RETENTION:-30d}"
    help_text = CliRunner().invoke(cli, ["retention", "apply", "--help"]).output
    assert "--older-than" in help_text


def test_security_is_on_with_tls_and_each_service_has_its_own_credentials():
    es = SERVICES["elasticsearch"]["environment"]
    assert es["xpack.security.enabled"] == "true"
    assert es["xpack.security.http.ssl.enabled"] == "true"
    assert es["xpack.security.transport.ssl.enabled"] == "true"
    kibana = SERVICES["kibana"]["environment"]
    assert kibana["ELASTICSEARCH_HOSTS"] == '["https://elasticsearch:9200"]'
    assert kibana["ELASTICSEARCH_USERNAME"] == "kibana_system"
    assert kibana["ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES"].endswith("ca/ca.crt")
    users = {name: SERVICES[name]["environment"].get("MLMON_ES_USER") for name in SERVICES}
    assert users["fluentd"] == "mlmon_writer"
    assert users["retention"] == "mlmon_retention"
    assert users["setup"] == "elastic" and users["kibana-setup"] == "elastic"
    # Secrets come from .env only: never a literal password in the compose file.
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            if "PASSWORD" in key or "ENCRYPTIONKEY" in key:
                assert str(value).startswith("${"), (name, key)
    # .env is untracked; its template names every variable the compose file needs.
    needed = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "docker-compose.yml").read_text()))
    template = (ROOT / ".env.example").read_text()
    assert all(f"\n{name}=" in template for name in needed), needed
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


def test_roles_in_compose_setup_are_the_shipped_ones():
    from mlmon.es.security import USERS, roles

    shipped = roles()
    assert {role for _, role in USERS.values()} <= set(shipped)
    writer = shipped["mlmon_writer"]["indices"]
    assert not any("delete_index" in block["privileges"] for block in writer)
    reader = shipped["mlmon_reader"]["indices"]
    assert all(set(block["privileges"]) <= {"read", "view_index_metadata"} for block in reader)
    script = (ROOT / "pipelines/setup/setup.sh").read_text()
    assert "mlmon setup --security" in script
    for name in ("MLMON_WRITER_PASSWORD", "MLMON_READER_PASSWORD", "MLMON_RETENTION_PASSWORD"):
        assert name in SERVICES["setup"]["environment"]


# --- the optional OpenTelemetry Collector agent (profile otelcol) ----------


def test_the_otelcol_profile_runs_the_pinned_contrib_image_with_the_tested_config():
    from mlmon.stack.collector import COLLECTOR_VERSION

    service = SERVICES["otelcol"]
    assert service["profiles"] == ["otelcol"]  # not started by a plain `docker compose up`
    assert service["image"] == f"otel/opentelemetry-collector-contrib:{COLLECTOR_VERSION}"
    mount = next(v for v in service["volumes"] if v.startswith("./pipelines/otelcol/"))
    source, target = mount.split(":")[:2]
    assert source == "./pipelines/otelcol/config.yaml" and (ROOT / source).is_file()
    assert service["command"] == [f"--config={target}"]
    assert service["depends_on"]["setup"]["condition"] == "service_completed_successfully"


def test_the_otelcol_ports_do_not_clash_with_fluentd_and_match_its_config():
    service = SERVICES["otelcol"]
    environment = service["environment"]
    assert environment["MLMON_FORWARD_ENDPOINT"] == "0.0.0.0:24224"
    assert "127.0.0.1:24225:24224" in service["ports"]  # Fluentd keeps 24224
    assert "127.0.0.1:8888:8888" in service["ports"]
    host_ports = [
        (p.split(":")[1], p.endswith("/udp")) for s in SERVICES.values() for p in s.get("ports", [])
    ]
    assert len(host_ports) == len(set(host_ports)), host_ports
    assert environment["MLMON_ES_URL"] == "https://elasticsearch:9200"
    assert environment["MLMON_ES_CA_CERTS"] == "/certs/ca/ca.crt"
    assert environment["MLMON_ES_USER"] == "mlmon_writer"
    assert "certs:/certs:ro" in service["volumes"]
    config = (ROOT / "pipelines/otelcol/config.yaml").read_text()
    for variable in ("MLMON_FORWARD_ENDPOINT", "MLMON_ES_URL", "MLMON_ES_CA_CERTS"):
        assert f"${{env:{variable}" in config, variable

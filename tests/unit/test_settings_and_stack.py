"""Connection settings and the local stack's pure parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlmon.errors import UsageError
from mlmon.es.settings import DEFAULT_URL, ConnectionSettings
from mlmon.stack.distribution import StackError, jvm_options, parse_java_version, render_config
from mlmon.stack.layout import (
    cluster_nodes,
    is_new_cluster,
    mark_formed,
    ports_in_use,
    prepare_folders,
    single_node,
)
from mlmon.stack.process import members


def test_defaults_and_environment():
    assert ConnectionSettings.from_env({}).url == DEFAULT_URL
    settings = ConnectionSettings.from_env(
        {"MLMON_ES_URL": "https://es:9200", "MLMON_ES_USER": "u", "MLMON_ES_PASSWORD": "secret"}
    )
    assert settings.client_options()["basic_auth"] == ("u", "secret")
    assert "secret" not in repr(settings)
    keyed = ConnectionSettings.from_env({"MLMON_ES_API_KEY": "k3y"})
    assert keyed.client_options()["api_key"] == "k3y" and "k3y" not in repr(keyed)


@pytest.mark.parametrize(
    "env",
    [
        {"MLMON_ES_URL": "localhost:9200"},
        {"MLMON_ES_API_KEY": "k", "MLMON_ES_USER": "u", "MLMON_ES_PASSWORD": "p"},
        {"MLMON_ES_USER": "u"},
        {"MLMON_ES_URL": "https://127.0.0.1:9200", "MLMON_ES_CA_CERTS": "/nonexistent/ca.pem"},
        {"MLMON_ES_URL": "http://127.0.0.1:9200", "MLMON_ES_CA_CERTS": __file__},  # CA, no TLS
    ],
)
def test_bad_settings_are_usage_errors(env):
    with pytest.raises(UsageError):
        ConnectionSettings.from_env(env)


def test_java_versions():
    assert parse_java_version('openjdk version "17.0.15" 2025-04-15') == 17
    assert parse_java_version('java version "1.8.0_392"') == 8
    assert parse_java_version('openjdk version "21" 2023-09-19') == 21
    assert parse_java_version("nothing") == 0


def test_config_is_single_node_loopback_with_explicit_security():
    text = render_config(port=9201, data=Path("/d"), logs=Path("/l"), security=False)
    assert "network.host: 127.0.0.1" in text and "http.port: 9201" in text
    assert "discovery.type: single-node" in text
    assert "xpack.security.enabled: false" in text
    assert "cluster.routing.allocation.disk.threshold_enabled: false" in text
    assert "xpack.security.enabled: true" in render_config(
        port=1, data=Path("/d"), logs=Path("/l"), security=True
    )
    assert "ssl" not in text
    tls = render_config(port=1, data=Path("/d"), logs=Path("/l"), security=True, tls=True)
    assert "xpack.security.http.ssl.enabled: true" in tls
    assert "xpack.security.http.ssl.certificate_authorities: certs/ca/ca.crt" in tls


def test_the_single_node_keeps_its_folders_and_heap():
    layout = single_node(Path("/s"), Path("/s/es"), 9200)
    assert (layout.config, layout.data, layout.logs) == (
        Path("/s/es/config"),
        Path("/s/data"),
        Path("/s/logs"),
    )
    assert layout.pid_file == Path("/s/es.pid") and layout.heap_mb == 1024
    assert jvm_options(layout.heap_mb) == "-Xms1024m\n-Xmx1024m\n"


def _config(layout) -> str:
    return render_config(
        port=layout.port,
        data=layout.data,
        logs=layout.logs,
        security=False,
        discovery=layout.discovery,
    )


def test_cluster_nodes_find_each_other_on_loopback_with_their_own_folders():
    stack_dir = Path("/var/lib/mlmon/stack-Nodes")
    nodes = cluster_nodes(stack_dir, nodes=3, port=9220, bootstrap=True)
    assert [n.port for n in nodes] == [9220, 9221, 9222]
    assert [n.discovery.transport_port for n in nodes] == ["9420", "9421", "9422"]
    assert len({n.data for n in nodes}) == len({n.logs for n in nodes}) == 3
    assert all(n.data.is_relative_to(stack_dir) and n.heap_mb == 512 for n in nodes)
    texts = [_config(n) for n in nodes]
    for node, text in zip(nodes, texts, strict=True):
        assert "discovery.type" not in text
        assert "cluster.name: mlmon-stack-nodes" in text
        assert f"node.name: {node.name}" in text
        assert f"transport.port: {node.discovery.transport_port}\n" in text
        assert (
            'discovery.seed_hosts: ["127.0.0.1:9420", "127.0.0.1:9421", "127.0.0.1:9422"]' in text
        )
        assert "cluster.initial_master_nodes: [node-1, node-2, node-3]" in text
        assert f"path.data: {node.data}" in text and "network.host: 127.0.0.1" in text
    restart = cluster_nodes(stack_dir, nodes=3, port=9220, transport_port=9500, bootstrap=False)
    assert [n.discovery.transport_port for n in restart] == ["9500", "9501", "9502"]
    assert not any("initial_master_nodes" in _config(n) for n in restart)


def test_cluster_ports_and_sizes_are_checked():
    with pytest.raises(StackError, match="overlap"):
        cluster_nodes(Path("/s"), nodes=3, port=9220, transport_port=9222, bootstrap=True)
    with pytest.raises(StackError, match="--nodes"):
        cluster_nodes(Path("/s"), nodes=12, port=9220, bootstrap=True)
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        nodes = cluster_nodes(Path("/s"), nodes=2, port=taken, transport_port=1, bootstrap=True)
        assert taken in ports_in_use(nodes)


def test_a_new_cluster_bootstraps_and_an_existing_one_does_not(tmp_path):
    assert is_new_cluster(tmp_path)
    home = tmp_path / "home"
    (home / "config" / "jvm.options.d").mkdir(parents=True)
    (home / "config" / "jvm.options").write_text("-Xss1m\n")
    nodes = cluster_nodes(tmp_path, nodes=2, port=9220, bootstrap=True)
    for node in nodes:
        prepare_folders(node, home)
        assert (node.config / "jvm.options").read_text() == "-Xss1m\n"
    (nodes[1].data / "_state").mkdir()
    assert is_new_cluster(tmp_path)  # a failed first start leaves files, and still bootstraps
    mark_formed(tmp_path)
    assert not is_new_cluster(tmp_path)


def test_state_of_a_node_started_before_clusters_is_its_one_member():
    legacy = {"url": "http://127.0.0.1:9200", "pid_file": "/s/es.pid", "launcher_pid": 7}
    assert members(legacy) == [legacy]
    state = {"url": "u", "members": [{"pid_file": "a"}, {"pid_file": "b"}]}
    assert [m["pid_file"] for m in members(state)] == ["a", "b"]


def _api_error(status: int, body: dict | None = None):
    import elastic_transport
    import elasticsearch

    meta = elastic_transport.ApiResponseMeta(status, "1.1", {}, 0.0, None)
    kind = {401: elasticsearch.AuthenticationException, 403: elasticsearch.AuthorizationException}
    kind |= {404: elasticsearch.NotFoundError}
    return kind.get(status, elasticsearch.ApiError)("error", meta=meta, body=body or {})


def test_client_errors_map_to_the_most_specific_mlmon_error_with_its_exit_code():
    import elastic_transport

    from mlmon.errors import ClusterError, ClusterNotFound, ClusterUnavailable
    from mlmon.es.client import mlmon_error

    url = "http://127.0.0.1:9"
    down = mlmon_error(elastic_transport.ConnectionError("refused"), url)
    assert type(down) is ClusterUnavailable and down.transient and down.exit_code == 3
    assert str(down).startswith(f"Elasticsearch at {url} is unreachable (refused)")
    tls = mlmon_error(elastic_transport.TlsError("bad certificate"), url)
    assert type(tls) is ClusterUnavailable and not tls.transient and "MLMON_ES_CA_CERTS" in str(tls)
    assert type(mlmon_error(_api_error(401), url)) is ClusterUnavailable
    refused = mlmon_error(_api_error(403), url)
    assert type(refused) is ClusterUnavailable and refused.status == 403
    missing = mlmon_error(_api_error(404), url)
    assert type(missing) is ClusterNotFound and missing.status == 404 and not missing.transient
    body = {"error": {"root_cause": [{"type": "x_exception", "reason": "why"}]}}
    busy = mlmon_error(_api_error(429, body), url)
    assert type(busy) is ClusterError and busy.transient
    assert str(busy) == "Elasticsearch error 429: x_exception: why"


def test_transient_errors_are_retried_with_backoff_and_others_are_not():
    import elastic_transport

    from mlmon.errors import ClusterError, ClusterUnavailable
    from mlmon.es.client import mlmon_error, with_backoff

    waits: list[float] = []
    calls = iter(
        [
            mlmon_error(elastic_transport.ConnectionError("node restarting")),
            mlmon_error(_api_error(429)),
            "answer",
        ]
    )

    def call():
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item

    assert with_backoff(call, sleep=waits.append) == "answer"
    assert waits == [0.5, 1.0]

    def refused():
        raise mlmon_error(_api_error(403))

    waits.clear()
    with pytest.raises(ClusterUnavailable):
        with_backoff(refused, sleep=waits.append)
    assert waits == []

    def down():
        raise mlmon_error(elastic_transport.ConnectionError("down"))

    with pytest.raises(ClusterError):
        with_backoff(down, sleep=waits.append)
    assert waits == [0.5, 1.0, 2.0]  # four attempts, then the one-line error


def test_shard_failures_are_named_and_whole_answers_pass():
    from mlmon.es.client import shard_failure

    assert shard_failure({"_shards": {"total": 3, "failed": 0}}) is None
    partial = {
        "_shards": {
            "total": 130,
            "failed": 2,
            "failures": [
                {"reason": {"type": "query_shard_exception", "caused_by": {"reason": "bad query"}}}
            ],
        }
    }
    assert shard_failure(partial) == "2 of 130 shards failed: bad query"

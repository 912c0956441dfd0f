"""Every call through the client `connect` returns raises mlmon's errors, on the real node.

The mapping happens once, in the client; so plain calls, namespaced ones
(``client.indices``) and ``client.options(...)`` copies all raise classes of
:mod:`mlmon.errors`, with the client library's exception kept as the cause.
"""

from __future__ import annotations

import elastic_transport
import elasticsearch
import pytest

from mlmon.errors import ClusterError, ClusterNotFound, ClusterUnavailable, MlmonError
from mlmon.es.client import Client, connect
from mlmon.es.settings import ConnectionSettings

ABSENT = "mlmon-test-absent-index"


def test_the_client_is_the_mapping_one(es):
    assert isinstance(es, Client)
    assert isinstance(es.options(request_timeout=30), Client)


def test_a_missing_document_or_index_is_cluster_not_found(es):
    with pytest.raises(ClusterNotFound) as missing:
        es.get(index=ABSENT, id="1")
    assert missing.value.status == 404 and missing.value.exit_code == 3
    assert isinstance(missing.value.__cause__, elasticsearch.NotFoundError)
    with pytest.raises(ClusterNotFound):
        es.indices.get(index=ABSENT)  # a namespaced call
    with pytest.raises(ClusterNotFound):
        es.options(request_timeout=30).indices.get_mapping(index=ABSENT)


def test_a_refused_request_names_the_root_cause(es):
    with pytest.raises(ClusterError) as refused:
        es.search(index="mlmon-*", query={"no_such_query": {}}, allow_no_indices=True)
    assert refused.value.status == 400 and not refused.value.transient
    assert str(refused.value).startswith("Elasticsearch error 400: parsing_exception:")


def test_an_unreachable_node_is_cluster_unavailable_with_its_url():
    client = connect(
        ConnectionSettings.from_env({"MLMON_ES_URL": "http://127.0.0.1:9"}), check=False
    )
    with pytest.raises(ClusterUnavailable) as down:
        client.options(max_retries=0).cluster.health()
    assert str(down.value).startswith("Elasticsearch at http://127.0.0.1:9 is unreachable")
    assert down.value.transient
    assert isinstance(down.value.__cause__, elastic_transport.ConnectionError)
    assert isinstance(down.value, MlmonError)

"""Access control for real: a second local node with security on and HTTPS.

The test distribution carries x-pack security, so this starts it on
https://127.0.0.1:9250 with certificates from its own certutil (about 20 s),
sets up mlmon as the ``elastic`` administrator, and then checks least
privilege: the writer ingests and is refused reading traffic and managing
templates; the reader traces and is refused writing. TLS is verified against
the node's CA; wrong credentials and a missing CA are one-line errors;
secrets never show in any output.

Writer and reader are file-realm users with file roles: this distribution
cannot create API keys (see mlmon.stack.secure), so API-key auth is tested
only as far as the client options (tests/unit/test_settings_and_stack.py).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

import orjson
import pytest
from elasticsearch import AuthorizationException, Elasticsearch

from conftest import run_mlmon, unique_model
from mlmon import PredictionLogger
from mlmon.es.security import roles
from mlmon.es.settings import ConnectionSettings
from mlmon.stack.secure import down_secure, up_secure


@pytest.fixture(scope="module")
def secure(tmp_path_factory):
    password = "Pw-" + secrets.token_urlsafe(12)
    keys = {name: "Pw-" + secrets.token_urlsafe(12) for name in ("writer", "reader")}
    node = up_secure(
        password=password,
        roles=roles(),  # the shipped definitions (pipelines/elasticsearch/security)
        users={name: (keys[name], f"mlmon_{name}") for name in keys},
    )
    admin = Elasticsearch(node.url, basic_auth=("elastic", password), ca_certs=str(node.ca_certs))
    env = {"MLMON_ES_URL": node.url, "MLMON_ES_CA_CERTS": str(node.ca_certs)}
    admin_env = {**env, "MLMON_ES_USER": "elastic", "MLMON_ES_PASSWORD": password}
    setup = run_mlmon("setup", env=admin_env)
    assert setup.returncode == 0, setup.stderr
    yield {
        "node": node,
        "admin": admin,
        "admin_env": admin_env,
        "writer_env": {**env, "MLMON_ES_USER": "writer", "MLMON_ES_PASSWORD": keys["writer"]},
        "reader_env": {**env, "MLMON_ES_USER": "reader", "MLMON_ES_PASSWORD": keys["reader"]},
        "secrets": [password, *keys.values()],
    }
    admin.close()
    down_secure()


def no_secrets(secure, *results) -> None:
    for result in results:
        for secret in secure["secrets"]:
            assert secret not in result.stdout and secret not in result.stderr


def events_file(path, model: str, n: int = 300):
    start = datetime.now(timezone.utc) - timedelta(hours=2)
    with path.open("wb") as out:
        for i in range(n):
            stamp = (start + timedelta(seconds=10 * i)).isoformat()
            event = {
                "@timestamp": stamp,
                "model": {"name": model, "version": "v1"},
                "prediction_id": f"{model}-{i}",
                "features": {"merchant": "bad" if i % 5 == 0 else "good", "amount": float(i)},
                "prediction": {"label": "legit"},
                "actual": {"label": "fraud" if i % 5 == 0 else "legit"},
            }
            out.write(orjson.dumps(event) + b"\n")
    return path


def test_tls_is_verified_and_bad_credentials_are_one_line(secure):
    no_ca = {k: v for k, v in secure["admin_env"].items() if k != "MLMON_ES_CA_CERTS"}
    unverified = run_mlmon("baseline", "list", env={**no_ca, "MLMON_ES_CA_CERTS": ""})
    assert unverified.returncode == 3
    assert "TLS to Elasticsearch" in unverified.stderr and "MLMON_ES_CA_CERTS" in unverified.stderr
    wrong = run_mlmon(
        "baseline", "list", env={**secure["admin_env"], "MLMON_ES_PASSWORD": "not-it"}
    )
    assert wrong.returncode == 3
    assert "rejected the credentials (401)" in wrong.stderr
    http_url = secure["node"].url.replace("https", "http")
    mixed = run_mlmon("baseline", "list", env={**secure["admin_env"], "MLMON_ES_URL": http_url})
    assert mixed.returncode == 2 and "is not https" in mixed.stderr
    plain_http = run_mlmon(
        "baseline",
        "list",
        env={**secure["admin_env"], "MLMON_ES_URL": http_url, "MLMON_ES_CA_CERTS": ""},
    )
    assert plain_http.returncode == 3
    for result in (unverified, wrong, mixed, plain_http):
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
    no_secrets(secure, unverified, wrong, mixed, plain_http)


def test_writer_ingests_and_is_refused_templates_deletes_and_other_indices(secure, tmp_path):
    model = unique_model("acl")
    secure["admin"].index(index="hr-salaries", document={"name": "ann"}, refresh=True)
    path = events_file(tmp_path / "events.jsonl", model)
    ingested = run_mlmon("ingest", str(path), env=secure["writer_env"])
    assert ingested.returncode == 0, ingested.stderr
    assert "300 lines: 300 indexed" in ingested.stdout
    deleted = run_mlmon("retention", "apply", "--older-than", "1d", env=secure["writer_env"])
    assert deleted.returncode == 3 and "(403)" in deleted.stderr
    writer = Elasticsearch(
        secure["node"].url,
        basic_auth=("writer", secure["writer_env"]["MLMON_ES_PASSWORD"]),
        ca_certs=str(secure["node"].ca_certs),
    )
    with pytest.raises(AuthorizationException):
        writer.search(index="hr-salaries")
    with pytest.raises(AuthorizationException):
        writer.cluster.put_component_template(name="mlmon-event", template={})
    own = next(iter(secure["admin"].indices.get(index=f"mlmon-predictions-{model}-*")))
    with pytest.raises(AuthorizationException):
        writer.indices.delete(index=own)
    no_secrets(secure, ingested, deleted)


def test_reader_key_traces_and_is_refused_writing(secure, tmp_path):
    model = unique_model("acl")
    path = events_file(tmp_path / "events.jsonl", model)
    assert run_mlmon("ingest", str(path), env=secure["writer_env"]).returncode == 0
    secure["admin"].indices.refresh(index=f"mlmon-predictions-{model}-*")
    traced = run_mlmon(
        "trace", "--model", model, "--window", "now-95m..now", "--baseline",
        "window:now-3h..now-95m", "--format", "json", env=secure["reader_env"],
    )  # fmt: skip
    assert traced.returncode == 0, traced.stderr
    report = orjson.loads(traced.stdout)
    assert report["model"] == model and report["overall"]["current"] is not None
    written = run_mlmon("ingest", str(path), env=secure["reader_env"])
    assert written.returncode == 3
    assert "refused the request (403)" in written.stderr and "bulk" in written.stderr
    count = secure["admin"].count(index=f"mlmon-predictions-{model}-*")["count"]
    assert count == 300  # nothing more got in
    no_secrets(secure, traced, written)


def test_the_sdk_delivers_over_tls_as_the_writer(secure):
    model = unique_model("acl")
    env = secure["writer_env"]
    settings = ConnectionSettings(
        url=env["MLMON_ES_URL"],
        username="writer",
        password=env["MLMON_ES_PASSWORD"],
        ca_certs=env["MLMON_ES_CA_CERTS"],
    )
    assert env["MLMON_ES_PASSWORD"] not in repr(settings)
    with PredictionLogger(model, "v1", sink="elasticsearch", settings=settings) as log:
        for i in range(50):
            log.prediction({"merchant": "a", "amount": float(i)}, prediction="legit")
        assert log.flush(30)
        assert log.stats()["sent"] == 50
    secure["admin"].indices.refresh(index=f"mlmon-predictions-{model}-*")
    assert secure["admin"].count(index=f"mlmon-predictions-{model}-*")["count"] == 50

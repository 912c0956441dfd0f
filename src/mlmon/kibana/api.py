"""Post the bundle to Kibana: saved objects with overwrite, rules created or updated.

Kibana's APIs want ``kbn-xsrf`` on every write and take a space as a
``/s/<space>`` path prefix. Credentials: ``MLMON_KIBANA_API_KEY``, else the
Elasticsearch ones (``MLMON_ES_USER``/``MLMON_ES_PASSWORD``), which Kibana
accepts for the same users. Secrets never reach an error message.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import urllib3

from mlmon.errors import ClusterUnavailable, UsageError
from mlmon.kibana.bundle import SAVED_OBJECTS, Bundle
from mlmon.kibana.rules import rule_id_in_space


@dataclass(frozen=True)
class KibanaTarget:
    url: str
    space: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    ca_certs: str | None = None

    @classmethod
    def from_env(
        cls, url: str, space: str | None, environ: Mapping[str, str] | None = None
    ) -> KibanaTarget:
        env = os.environ if environ is None else environ
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(
                f"--kibana-url {url!r} is not an http(s) URL like http://127.0.0.1:5601"
            )
        if space is not None and (not space or "/" in space):
            raise UsageError(f"--space {space!r} is not a Kibana space id")
        headers = {"kbn-xsrf": "mlmon"}
        if env.get("MLMON_KIBANA_API_KEY"):
            headers["Authorization"] = f"ApiKey {env['MLMON_KIBANA_API_KEY']}"
        elif env.get("MLMON_ES_USER") and env.get("MLMON_ES_PASSWORD"):
            token = f"{env['MLMON_ES_USER']}:{env['MLMON_ES_PASSWORD']}".encode()
            headers["Authorization"] = f"Basic {base64.b64encode(token).decode()}"
        return cls(url.rstrip("/"), space, headers, env.get("MLMON_ES_CA_CERTS") or None)

    def endpoint(self, path: str) -> str:
        prefix = f"/s/{quote(self.space)}" if self.space else ""
        return f"{self.url}{prefix}{path}"


@dataclass
class ImportResult:
    objects: int
    rules_created: int = 0
    rules_updated: int = 0


def _pool(target: KibanaTarget) -> urllib3.PoolManager:
    options = {"ca_certs": target.ca_certs} if target.ca_certs else {}
    return urllib3.PoolManager(timeout=urllib3.Timeout(connect=5, read=60), retries=2, **options)


def _request(http, method: str, url: str, target: KibanaTarget, **kw) -> urllib3.BaseHTTPResponse:
    try:
        return http.request(method, url, headers={**target.headers, **kw.pop("headers", {})}, **kw)
    except urllib3.exceptions.HTTPError as error:
        raise ClusterUnavailable(
            f"Kibana at {target.url} is unreachable ({error.__class__.__name__})"
        ) from None


def _failure(response: urllib3.BaseHTTPResponse, what: str, target: KibanaTarget) -> str:
    try:
        message = json.loads(response.data).get("message", "")
    except (ValueError, AttributeError):
        message = response.data[:200].decode("utf-8", "replace")
    return f"Kibana at {target.url} refused {what}: HTTP {response.status} {message}".strip()


def wait_until_ready(target: KibanaTarget, seconds: float, *, poll: float = 5.0) -> None:
    """Poll ``/api/status`` until Kibana says it is available (compose starts it slowly)."""
    http = _pool(target)
    deadline = time.monotonic() + seconds
    while True:
        try:
            response = http.request("GET", f"{target.url}/api/status", headers=target.headers)
            level = json.loads(response.data).get("status", {}).get("overall", {}).get("level")
            if response.status == 200 and level == "available":
                return
            state = f"HTTP {response.status}, {level or 'no status'}"
        except (urllib3.exceptions.HTTPError, ValueError) as error:
            state = error.__class__.__name__
        if time.monotonic() >= deadline:
            raise ClusterUnavailable(
                f"Kibana at {target.url} was not available after {seconds:.0f} s ({state})"
            )
        time.sleep(poll)


def import_bundle(bundle: Bundle, target: KibanaTarget) -> ImportResult:
    """``_import?overwrite=true`` for the saved objects, then each rule by its id in that
    space (created, or updated when it exists)."""
    http = _pool(target)
    response = _request(
        http,
        "POST",
        target.endpoint("/api/saved_objects/_import?overwrite=true"),
        target,
        fields={"file": (SAVED_OBJECTS, bundle.ndjson.encode("utf-8"), "application/ndjson")},
    )
    if response.status != 200:
        raise ClusterUnavailable(_failure(response, "the saved objects", target))
    answer = json.loads(response.data)
    if not answer.get("success", False):
        errors = answer.get("errors", [])
        first = errors[0] if errors else {}
        raise UsageError(
            f"Kibana imported {answer.get('successCount', 0)} objects and rejected {len(errors)}; "
            f"first: {first.get('type')} {first.get('id')}: {first.get('error', {}).get('type')}"
        )
    result = ImportResult(objects=answer.get("successCount", 0))
    for rule in bundle.rules:
        rule_id = rule_id_in_space(rule["id"], target.space)
        create = {k: v for k, v in rule.items() if k != "id"}
        url = target.endpoint(f"/api/alerting/rule/{rule_id}")
        json_headers = {"Content-Type": "application/json"}
        response = _request(
            http, "POST", url, target, body=json.dumps(create), headers=json_headers
        )
        if response.status == 409:  # exists: update what an update may change
            update = {k: create[k] for k in ("name", "tags", "schedule", "params", "actions")}
            response = _request(
                http, "PUT", url, target, body=json.dumps(update), headers=json_headers
            )
            result.rules_updated += response.status == 200
        else:
            result.rules_created += response.status == 200
        if response.status != 200:
            raise UsageError(_failure(response, f"rule {rule['id']} (id {rule_id})", target))
    return result

"""Connection settings shared by the SDK and the CLI, read from ``MLMON_ES_*``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from mlmon.errors import UsageError

DEFAULT_URL = "http://127.0.0.1:9200"


@dataclass(frozen=True)
class ConnectionSettings:
    """Where Elasticsearch is and how to authenticate; secrets never appear in ``repr``."""

    url: str = DEFAULT_URL
    api_key: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_certs: str | None = None
    request_timeout: float = 30.0

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> ConnectionSettings:
        """``MLMON_ES_URL``, ``MLMON_ES_API_KEY`` or ``MLMON_ES_USER``/``MLMON_ES_PASSWORD``,
        ``MLMON_ES_CA_CERTS``; explicit keyword arguments win over the environment."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            "url": env.get("MLMON_ES_URL") or DEFAULT_URL,
            "api_key": env.get("MLMON_ES_API_KEY") or None,
            "username": env.get("MLMON_ES_USER") or None,
            "password": env.get("MLMON_ES_PASSWORD") or None,
            "ca_certs": env.get("MLMON_ES_CA_CERTS") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"MLMON_ES_URL {self.url!r} is not an http(s) URL like {DEFAULT_URL}")
        if self.api_key and (self.username or self.password):
            raise UsageError(
                "set either MLMON_ES_API_KEY or MLMON_ES_USER/MLMON_ES_PASSWORD, not both"
            )
        if bool(self.username) != bool(self.password):
            raise UsageError("MLMON_ES_USER and MLMON_ES_PASSWORD go together: set both or neither")
        if self.ca_certs and parts.scheme != "https":
            raise UsageError(
                f"MLMON_ES_CA_CERTS is set but MLMON_ES_URL {self.url!r} is not https: "
                "use https:// (or unset MLMON_ES_CA_CERTS)"
            )
        if self.ca_certs and not os.path.isfile(self.ca_certs):
            raise UsageError(f"MLMON_ES_CA_CERTS {self.ca_certs!r} is not a readable file")

    def client_options(self) -> dict[str, object]:
        """Keyword arguments for :class:`elasticsearch.Elasticsearch`."""
        options: dict[str, object] = {"hosts": [self.url], "request_timeout": self.request_timeout}
        if self.api_key:
            options["api_key"] = self.api_key
        elif self.username:
            options["basic_auth"] = (self.username, self.password)
        if self.ca_certs:
            options["ca_certs"] = self.ca_certs
        return options

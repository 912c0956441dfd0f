"""mlmon's roles and users: one definition (``pipelines/elasticsearch/security``) for all.

``mlmon setup --security`` puts the roles and, for each ``MLMON_*_PASSWORD``
set in the environment, the matching user (compose does this with the
passwords from ``.env``), and sets ``kibana_system``'s password from
``KIBANA_PASSWORD``. The access-control tests load the same roles into a
secure local node, so what is shipped is what is tested.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from elasticsearch import Elasticsearch

from mlmon._resources import pipelines_dir

#: user → (environment variable with its password, role)
USERS = {
    "mlmon_writer": ("MLMON_WRITER_PASSWORD", "mlmon_writer"),
    "mlmon_reader": ("MLMON_READER_PASSWORD", "mlmon_reader"),
    "mlmon_retention": ("MLMON_RETENTION_PASSWORD", "mlmon_retention"),
}


def roles() -> dict[str, dict[str, Any]]:
    """Role bodies as Elasticsearch takes them (the description kept as metadata)."""
    path = pipelines_dir() / "elasticsearch" / "security" / "roles.json"
    out = {}
    for name, body in json.loads(path.read_text()).items():
        role = {k: v for k, v in body.items() if k != "description"}
        role["metadata"] = {"description": body.get("description", ""), "managed_by": "mlmon"}
        out[name] = role
    return out


def install_security(client: Elasticsearch, environ: Mapping[str, str] | None = None) -> list[str]:
    """Put roles, users with a password in ``environ``, and kibana_system's password.

    Returns what was done, without any secret.
    """
    env = os.environ if environ is None else environ
    done = []
    for name, body in roles().items():
        client.security.put_role(name=name, **body)
        done.append(f"role {name}")
    for user, (variable, role) in USERS.items():
        password = env.get(variable)
        if password:
            client.security.put_user(username=user, password=password, roles=[role])
            done.append(f"user {user} ({role})")
    if env.get("KIBANA_PASSWORD"):
        client.security.change_password(username="kibana_system", password=env["KIBANA_PASSWORD"])
        done.append("password of kibana_system")
    return done

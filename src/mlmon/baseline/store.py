"""Store and load baseline profiles in Elasticsearch (index ``mlmon-profiles``).

One document per (model, version, name); registering again replaces it and
bumps its revision, so the profile id stamped on events tells which
revision tagged them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from elasticsearch import Elasticsearch

from mlmon._tagging import ProfileLoader
from mlmon.baseline.profile import Profile
from mlmon.errors import ClusterNotFound
from mlmon.es.client import connect
from mlmon.es.settings import ConnectionSettings
from mlmon.schema.event import PROFILES_INDEX, format_timestamp


def profile_doc_id(model: str, version: str, name: str) -> str:
    return f"{model}:{version}:{name}"


def save_profile(
    client: Elasticsearch, profile: Profile, *, now: datetime | None = None
) -> Profile:
    """Store ``profile`` as the next revision of its (model, version, name); return it."""
    doc_id = profile_doc_id(profile.model, profile.version, profile.name)
    try:
        previous = client.get(index=PROFILES_INDEX, id=doc_id, source_includes=["revision"])
        revision = int(previous["_source"]["revision"]) + 1
    except ClusterNotFound:
        revision = 1
    stored = profile.with_revision(revision)
    client.index(
        index=PROFILES_INDEX,
        id=doc_id,
        refresh="wait_for",
        document={
            "profile_id": stored.profile_id,
            "model": stored.model,
            "version": stored.version,
            "name": stored.name,
            "revision": revision,
            "created_at": stored.created_at,
            "registered_at": format_timestamp(now or datetime.now(timezone.utc)),
            "profile": stored.to_dict(),
        },
    )
    return stored


def load_profile(
    client: Elasticsearch, *, model: str, version: str | None = None, name: str | None = None
) -> Profile | None:
    """The profile to tag against: exact when version and name are given, else the newest
    registered for the model's version, else the newest for the model."""
    if version and name:
        try:
            found = client.get(index=PROFILES_INDEX, id=profile_doc_id(model, version, name))
        except ClusterNotFound:
            return None
        return Profile.from_dict(found["_source"]["profile"])
    attempts = [version, None] if version else [None]
    for wanted_version in attempts:
        hit = _newest(client, model=model, version=wanted_version, name=name)
        if hit is not None:
            return Profile.from_dict(hit["profile"])
    return None


def profile_loader(client: Elasticsearch, *, name: str | None = None) -> ProfileLoader:
    """:func:`load_profile` on ``client`` as a :class:`~mlmon._tagging.RulesCache` loader."""
    return lambda model, version: load_profile(client, model=model, version=version, name=name)


def connecting_loader(
    settings: ConnectionSettings | None = None, *, name: str | None = None
) -> ProfileLoader:
    """A loader that connects for each lookup and closes again: for the SDK, which looks a
    profile up every few minutes from a long-lived process (settings default to the env)."""

    def load(model: str, version: str | None) -> Profile | None:
        client = connect(settings or ConnectionSettings.from_env(), check=False)
        try:
            return load_profile(client, model=model, version=version, name=name)
        finally:
            client.close()

    return load


def list_profiles(client: Elasticsearch, *, model: str | None = None) -> list[dict[str, Any]]:
    """Metadata of stored profiles, newest first."""
    query: dict[str, Any] = {"term": {"model": model}} if model else {"match_all": {}}
    hits = client.search(
        index=PROFILES_INDEX,
        query=query,
        size=1000,
        sort=[{"registered_at": "desc"}],
        source_excludes=["profile"],
        ignore_unavailable=True,
    )["hits"]["hits"]
    return [hit["_source"] for hit in hits]


def _newest(
    client: Elasticsearch, *, model: str, version: str | None, name: str | None
) -> dict[str, Any] | None:
    filters: list[dict[str, Any]] = [{"term": {"model": model}}]
    if version:
        filters.append({"term": {"version": version}})
    if name:
        filters.append({"term": {"name": name}})
    hits = client.search(
        index=PROFILES_INDEX,
        query={"bool": {"filter": filters}},
        size=1,
        sort=[{"registered_at": "desc"}],
        ignore_unavailable=True,
    )["hits"]["hits"]
    return hits[0]["_source"] if hits else None

"""The sampled pair searches of one trace, two ways: kept values in the query, or under the sampler.

An in-process trace of N events runs until its pair level (the first sampled
``_msearch``, caught on its way out); then each of those searches goes to the
node twice, alternating, caches cleared before each: as the tree sends it
(kept-value filters under ``random_sampler``) and with the same filters in the
query instead (how they were sent before). The node's ``took`` of each, and
whether the two answers' buckets are identical.

    PYTHONPATH=src:. python -m bench.sampled_filter 10000000
"""

from __future__ import annotations

import argparse
import copy
import os
from typing import Any

import elasticsearch

from bench import dataset

#: Keys of the sampler's answer beside the buckets (the two ways count the kept rows apart).
NOT_COUNTS = {"doc_count", "seed", "probability"}


class _Caught(Exception):
    pass


def pair_searches(client, n: int) -> list[dict[str, Any]]:
    """The bodies of the first sampled ``_msearch`` of a trace over ``n`` events."""
    from mlmon._trace_request import TraceRequest, run

    send = elasticsearch.Elasticsearch.msearch
    caught: list[dict[str, Any]] = []

    def catch(self, *args, **kwargs):
        bodies = kwargs["searches"][1::2]
        if any("s" in body.get("aggs", {}) for body in bodies):
            caught.extend(bodies)
            raise _Caught
        return send(self, *args, **kwargs)

    elasticsearch.Elasticsearch.msearch = catch
    try:
        run(
            TraceRequest(model=dataset.model_name(n), window=dataset.WINDOW, baseline="training"),
            client_factory=lambda: client,
        )
    except _Caught:
        pass
    finally:
        elasticsearch.Elasticsearch.msearch = send
    return caught


def in_query(body: dict[str, Any]) -> dict[str, Any]:
    """The same search with the filter under the sampler moved into the query."""
    out = copy.deepcopy(body)
    sampler = out["aggs"]["s"]
    if "k" in sampler["aggs"]:
        kept = sampler["aggs"].pop("k")
        out["query"]["bool"]["filter"] += kept["filter"]["bool"]["filter"]
        sampler["aggs"] = kept["aggs"]
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("events", type=int)
    args = parser.parse_args(argv)
    from mlmon.es.client import connect

    client = connect().options(request_timeout=600)
    index = dataset.pattern(args.events)
    bodies = pair_searches(client, args.events)

    def took(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        client.indices.clear_cache(index=index, query=True, request=True)
        found = client.search(index=index, **body).body
        aggs = found["aggregations"]["s"]
        inner = aggs.get("k", aggs)
        return found["took"], {k: v for k, v in inner.items() if k not in NOT_COUNTS}

    under = over = 0
    same = True
    for i, body in enumerate(bodies):
        t_under, a_under = took(body)
        t_over, a_over = took(in_query(body))
        under, over = under + t_under, over + t_over
        same &= a_under == a_over
        print(f"  search {i + 1:2d}: under the sampler {t_under:5d} ms, in the query {t_over:5d}")
    print(
        f"{args.events:,} events, {len(bodies)} sampled pair searches: under the sampler "
        f"{under / 1000:.2f} s, in the query {over / 1000:.2f} s of the node's time "
        f"({under / over:.2f}×); identical buckets: {'yes' if same else 'NO'}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()

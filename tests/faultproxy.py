"""A loopback HTTP proxy in front of the real Elasticsearch that injects faults into ``_bulk``.

Each bulk request takes the next fault of a plan (then the plan repeats);
every other request passes through untouched. Per-item faults are made the
way Elasticsearch makes them: the chosen items are *not* forwarded, and the
answer carries a rejection at their positions, so a client that resends
them is right to, and one that does not loses them. Only loopback is used.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import orjson


@dataclass(frozen=True)
class Fault:
    """``kind``: pass, items (reject every ``every``-th item with ``status``), whole
    (answer ``status`` without forwarding), slow (forward, answer after ``delay`` s),
    reset (read the request, forward it if ``forward``, close without answering)."""

    kind: str
    status: int = 0
    every: int = 1
    delay: float = 0.0
    forward: bool = False


PASS = Fault("pass")

_ITEM_ERRORS = {
    429: ("es_rejected_execution_exception", "injected: rejected execution of bulk item"),
    503: ("unavailable_shards_exception", "injected: primary shard is not active"),
}


class FaultProxy:
    def __init__(self, upstream: str, plan: list[Fault]) -> None:
        self.upstream = urlsplit(upstream)
        self.plan = plan
        self.seen = Counter()  # fault kinds applied, and items rejected
        self._bulk_count = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                return None

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.path.split("?")[0].endswith("/_bulk"):
                    proxy._bulk(self, body)
                else:
                    status, headers, data = proxy.forward(
                        self.command, self.path, self.headers, body
                    )
                    proxy.answer(self, status, headers, data)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _any

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:
                return None  # a client gone mid-answer (the faults make them) is expected

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_fault(self) -> Fault:
        with self._lock:
            fault = self.plan[self._bulk_count % len(self.plan)] if self.plan else PASS
            self._bulk_count += 1
            self.seen[fault.kind] += 1
            return fault

    def forward(self, method: str, path: str, headers, body: bytes):
        connection = http.client.HTTPConnection(
            self.upstream.hostname, self.upstream.port, timeout=60
        )
        try:
            wanted = {
                k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")
            }
            connection.request(method, path, body=body or None, headers=wanted)
            response = connection.getresponse()
            data = response.read()
            return response.status, response.getheaders(), data
        finally:
            connection.close()

    @staticmethod
    def answer(handler, status: int, headers, data: bytes) -> None:
        handler.send_response(status)
        for key, value in headers:
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)

    def _bulk(self, handler, body: bytes) -> None:
        fault = self._next_fault()
        if fault.kind == "whole":
            data = orjson.dumps(
                {"error": {"type": "injected", "reason": "injected"}, "status": fault.status}
            )
            self.answer(handler, fault.status, [("Content-Type", "application/json")], data)
            return
        if fault.kind == "reset":
            if fault.forward:
                self.forward(handler.command, handler.path, handler.headers, body)
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault.kind == "slow":
            status, headers, data = self.forward(
                handler.command, handler.path, handler.headers, body
            )
            time.sleep(fault.delay)
            with contextlib.suppress(OSError):  # the client gave up first: that is the point
                self.answer(handler, status, headers, data)
            return
        if fault.kind == "items":
            self._reject_items(handler, body, fault)
            return
        status, headers, data = self.forward(handler.command, handler.path, handler.headers, body)
        self.answer(handler, status, headers, data)

    def _reject_items(self, handler, body: bytes, fault: Fault) -> None:
        lines = body.splitlines()
        pairs = []
        position = 0
        while position < len(lines):
            action = orjson.loads(lines[position])
            op = next(iter(action))
            width = 1 if op == "delete" else 2
            pairs.append((op, action[op], lines[position : position + width]))
            position += width
        rejected = {i for i in range(len(pairs)) if i % fault.every == 0}
        kept = [pair for i, pair in enumerate(pairs) if i not in rejected]
        real_items: list = []
        headers = [("Content-Type", "application/json")]
        if kept:
            forwarded = b"\n".join(line for _, _, group in kept for line in group) + b"\n"
            _, headers, data = self.forward(
                handler.command, handler.path, handler.headers, forwarded
            )
            real_items = orjson.loads(data)["items"]
        error_type, reason = _ITEM_ERRORS[fault.status]
        items, real = [], iter(real_items)
        for i, (op, meta, _) in enumerate(pairs):
            if i in rejected:
                fake = {
                    "_index": meta.get("_index"),
                    "_id": meta.get("_id"),
                    "status": fault.status,
                }
                fake["error"] = {"type": error_type, "reason": reason}
                items.append({op: fake})
            else:
                items.append(next(real))
        with self._lock:
            self.seen[f"rejected_{fault.status}"] += len(rejected)
        data = orjson.dumps({"took": 1, "errors": True, "items": items})
        self.answer(handler, 200, [h for h in headers if h[0].lower() == "content-type"], data)

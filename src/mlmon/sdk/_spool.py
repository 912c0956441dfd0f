"""The logger's optional disk spool: what cannot be sent now waits in segment files.

A directory of append-only segments (``seg-<n>.jsonl``, one JSON event a line)
plus a ``cursor`` file naming the first line not yet replayed. Events are
appended in whole lines with one ``write`` each call and replayed oldest
first; a replayed batch moves the cursor (written to a new file and renamed
over the old one), and a segment wholly replayed is deleted. The directory
is bounded in bytes: an append that does not fit is refused whole (the
logger counts it as ``dropped_spool_full``).

Durability: an event is *spooled* once its line is handed to the kernel, so a
process killed with SIGKILL (or an OOM kill) loses nothing it spooled. Against
power loss the ``fsync`` policy decides: ``"segment"`` (default) syncs a
segment when it is closed and at ``close()``, so a machine crash loses at most
the open segment's unsynced tail; ``"always"`` syncs after every append
(each costs a disk flush); ``"never"`` leaves it to the kernel. A crash can
leave a torn last line: it is skipped on replay and counted as
``spool_corrupt``. Replay after a crash may resend the last batch before the
cursor moved: Elasticsearch takes predictions with ``create`` by
``prediction_id`` (a counted duplicate) and actuals with ``index`` under the
same id, so a replay never makes a second document.

One process at a time: the directory is locked (``flock``) while a logger
holds it, and the lock dies with the process.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from mlmon.errors import UsageError

FSYNC_POLICIES = ("segment", "always", "never")
_PREFIX, _SUFFIX = "seg-", ".jsonl"


def _name(number: int) -> str:
    return f"{_PREFIX}{number:012d}{_SUFFIX}"


def _number(path: Path) -> int:
    return int(path.name[len(_PREFIX) : -len(_SUFFIX)])


class Spool:
    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        max_bytes: int = 1 << 30,
        segment_bytes: int = 16 << 20,
        fsync: str = "segment",
        dumps: Any = orjson.dumps,
    ) -> None:
        if fsync not in FSYNC_POLICIES:
            raise UsageError(f"spool_fsync {fsync!r}: use one of {', '.join(FSYNC_POLICIES)}")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise UsageError(
                f"spool_dir {str(self.directory)!r} is in use by another live process"
            ) from None
        self.max_bytes, self.segment_bytes, self.fsync = max_bytes, segment_bytes, fsync
        self._dumps = dumps
        self._lock = threading.Lock()
        self.corrupt = 0
        segments = sorted(self.directory.glob(f"{_PREFIX}*{_SUFFIX}"), key=_number)
        self._head, self._offset = self._read_cursor(segments)
        for old in segments:
            if _number(old) < self._head:
                old.unlink()  # replayed before a crash, deleted too late
        segments = [s for s in segments if _number(s) >= self._head]
        for segment in segments:
            self._cut_torn_tail(segment)
        self._sizes = {_number(s): s.stat().st_size for s in segments}
        self._pending = sum(self._count_lines(s) for s in segments)
        # Always a fresh segment to write: a torn tail of an earlier one stays behind it.
        self._tail = max(self._sizes, default=self._head - 1) + 1
        self._fd = self._open_tail()

    # -- bookkeeping ---------------------------------------------------------

    def _read_cursor(self, segments: list[Path]) -> tuple[int, int]:
        try:
            head, offset = (self.directory / "cursor").read_text().split()
            return int(head), int(offset)
        except (OSError, ValueError):
            return (_number(segments[0]) if segments else 0), 0

    def _write_cursor(self) -> None:
        temp = self.directory / "cursor.tmp"
        temp.write_text(f"{self._head} {self._offset}\n")
        os.replace(temp, self.directory / "cursor")

    def _cut_torn_tail(self, segment: Path) -> None:
        """A crash mid-write leaves a last line without its newline: cut it off, count it."""
        size = segment.stat().st_size
        if not size:
            return
        with segment.open("rb+") as f:
            f.seek(max(0, size - (1 << 20)))
            tail = f.read()
            if tail.endswith(b"\n"):
                return
            cut = tail.rfind(b"\n")
            f.truncate(size - len(tail) + cut + 1 if cut >= 0 else max(0, size - len(tail)))
        self.corrupt += 1

    def _count_lines(self, segment: Path) -> int:
        with segment.open("rb") as f:
            if _number(segment) == self._head:
                f.seek(self._offset)
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))

    def _open_tail(self) -> int:
        self._sizes[self._tail] = 0
        path = self.directory / _name(self._tail)
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    @property
    def pending(self) -> int:
        """Events on disk not yet replayed."""
        return self._pending

    @property
    def bytes(self) -> int:
        return sum(self._sizes.values())

    # -- writing -------------------------------------------------------------

    def append(self, events: Iterable[dict[str, Any]]) -> int:
        """Append whole lines; returns how many were spooled (0 when they do not fit)."""
        lines = [self._dumps(event) for event in events]
        if not lines:
            return 0
        data = b"\n".join(lines) + b"\n"
        with self._lock:
            if self.bytes + len(data) > self.max_bytes:
                return 0
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            self._sizes[self._tail] += len(data)
            self._pending += len(lines)
            if self.fsync == "always":
                os.fsync(self._fd)
            if self._sizes[self._tail] >= self.segment_bytes:
                self._rotate(sync=self.fsync != "never")
        return len(lines)

    def _rotate(self, *, sync: bool) -> None:
        if sync:
            os.fsync(self._fd)
        os.close(self._fd)
        self._tail += 1
        self._fd = self._open_tail()

    # -- replaying -----------------------------------------------------------

    def peek(self, limit: int, max_bytes: int = 8 << 20) -> tuple[list[dict[str, Any]], int]:
        """Up to ``limit`` of the oldest events, and a token for :meth:`commit` once sent."""
        with self._lock:
            while self._head < self._tail and self._offset >= self._sizes.get(self._head, 0):
                self._drop_head()
            end = self._sizes.get(self._head, 0)
            if self._offset >= end:
                return [], self._offset
            with (self.directory / _name(self._head)).open("rb") as f:
                f.seek(self._offset)
                data = f.read(min(end - self._offset, max_bytes))
        events: list[dict[str, Any]] = []
        consumed = 0
        for line in data.split(b"\n")[:-1]:  # the last piece is after the last newline
            if len(events) == limit:
                break
            consumed += len(line) + 1
            try:
                events.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                self.corrupt += 1
                self._pending -= 1
        return events, self._offset + consumed

    def commit(self, token: int, count: int) -> None:
        """The events returned by the last :meth:`peek` were delivered."""
        with self._lock:
            self._offset = token
            self._pending -= count
            if self._offset >= self._sizes.get(self._head, 0):
                if self._head == self._tail:  # all replayed: start a new one, free the bytes
                    self._rotate(sync=False)
                self._drop_head()
            self._write_cursor()

    def _drop_head(self) -> None:
        (self.directory / _name(self._head)).unlink(missing_ok=True)
        self._sizes.pop(self._head, None)
        self._head += 1
        self._offset = 0
        self._write_cursor()

    def close(self) -> None:
        with self._lock:
            if self.fsync != "never":
                os.fsync(self._fd)
            os.close(self._fd)
            if self._sizes.get(self._tail) == 0 and self._head < self._tail:
                (self.directory / _name(self._tail)).unlink(missing_ok=True)
            os.close(self._lock_fd)

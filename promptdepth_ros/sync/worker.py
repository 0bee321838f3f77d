"""A background thread that processes the newest submitted items (bounded, drop-oldest queue)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from promptdepth_ros.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class WorkerStats:
    """Counters: ``submitted == processed + failed + skipped + (item pending or running)``."""

    submitted: int
    processed: int
    skipped: int
    failed: int
    last_error: str | None


class LatestWorker(Generic[T]):
    """Runs ``handler(item)`` on a daemon thread, in order, for the newest submitted items.

    At most ``max_pending`` items wait; submitting to a full queue drops the oldest waiting item
    (counted as skipped). ``max_pending=1`` is a one-slot mailbox: a live robot always gets the
    newest frame; a larger value absorbs short stalls when no frame may be lost (bag replay).
    Exceptions from the handler are counted, passed to ``on_error`` and the worker keeps running.
    Raises ConfigError for ``max_pending < 1``.
    """

    def __init__(
        self,
        handler: Callable[[T], object],
        on_error: Callable[[BaseException], object] | None = None,
        name: str = "latest-worker",
        max_pending: int = 1,
    ) -> None:
        if max_pending < 1:
            raise ConfigError(f"max_pending must be >= 1, got {max_pending}")
        self._handler = handler
        self._on_error = on_error
        self._cond = threading.Condition()
        self._pending: deque[T] = deque()
        self._max_pending = max_pending
        self._busy = False
        self._closed = False
        self._submitted = self._processed = self._skipped = self._failed = 0
        self._last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def stats(self) -> WorkerStats:
        """A snapshot of the counters."""
        with self._cond:
            return WorkerStats(
                self._submitted, self._processed, self._skipped, self._failed, self._last_error
            )

    def submit(self, item: T) -> bool:
        """Hand ``item`` to the worker; returns False (counted as skipped) once closed."""
        with self._cond:
            self._submitted += 1
            if self._closed:
                self._skipped += 1
                return False
            if len(self._pending) >= self._max_pending:
                self._pending.popleft()
                self._skipped += 1
            self._pending.append(item)
            self._cond.notify_all()
            return True

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no item is waiting or running; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Stop after the running item; waiting items are dropped (skipped). True if joined."""
        with self._cond:
            self._closed = True
            self._skipped += len(self._pending)
            self._pending.clear()
            self._cond.notify_all()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        """Thread body: wait for an item, run the handler outside the lock, count the result."""
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._pending) or self._closed)
                if self._closed:
                    return
                item = self._pending.popleft()
                self._busy = True
            error: BaseException | None = None
            try:
                self._handler(item)
            except Exception as exc:
                error = exc
            with self._cond:
                if error is None:
                    self._processed += 1
                else:
                    self._failed += 1
                    self._last_error = f"{type(error).__name__}: {error}"
            if error is not None and self._on_error is not None:
                self._report(error)
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _report(self, error: BaseException) -> None:
        """Pass ``error`` to ``on_error``; a failing reporter is recorded, not fatal."""
        try:
            if self._on_error is not None:
                self._on_error(error)
        except Exception as exc:
            with self._cond:
                self._last_error = f"on_error failed with {type(exc).__name__}: {exc}"

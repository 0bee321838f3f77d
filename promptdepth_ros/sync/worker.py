"""A background thread that processes only the newest submitted item (one-slot mailbox)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

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
    """Runs ``handler(item)`` on a daemon thread for the newest submitted item only.

    Submitting while an item waits replaces it (the old one is counted as skipped). Exceptions
    from the handler are counted, passed to ``on_error`` and the worker keeps running.
    """

    def __init__(
        self,
        handler: Callable[[T], object],
        on_error: Callable[[BaseException], object] | None = None,
        name: str = "latest-worker",
    ) -> None:
        self._handler = handler
        self._on_error = on_error
        self._cond = threading.Condition()
        self._item: T | None = None
        self._has_item = False
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
            if self._has_item:
                self._skipped += 1
            self._item, self._has_item = item, True
            self._cond.notify_all()
            return True

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no item is waiting or running; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._has_item and not self._busy, timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Stop after the running item; a waiting item is dropped (skipped). True if joined."""
        with self._cond:
            self._closed = True
            if self._has_item:
                self._skipped += 1
                self._item, self._has_item = None, False
            self._cond.notify_all()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        """Thread body: wait for an item, run the handler outside the lock, count the result."""
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._has_item or self._closed)
                if self._closed:
                    return
                item = self._item
                self._item, self._has_item, self._busy = None, False, True
            error: BaseException | None = None
            try:
                self._handler(item)  # type: ignore[arg-type]
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

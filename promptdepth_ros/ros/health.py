"""Counters of what happened to every input, and rate limiting of the log lines about it."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

ProblemKind = Literal["error", "skipped"]


@dataclass
class HealthMonitor:
    """Thread-safe named counters, the last message per problem, and per-problem log throttling.

    ``count(name)`` records an event; ``problem(cause, message)`` records a dropped input
    (``error.<cause>``) or, with ``kind="skipped"``, a frame the policy skipped
    (``skipped.<cause>``), and returns True when the caller should log it now (at most once per
    ``throttle_s`` per counter), so a flood of bad messages costs one log line per period, never
    a silent drop.
    """

    throttle_s: float = 5.0
    counters: Counter[str] = field(default_factory=Counter)
    last_messages: dict[str, str] = field(default_factory=dict)  # problem counter -> message
    latest_ms: dict[str, float] = field(default_factory=dict)
    _last_logged: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to counter ``name``."""
        with self._lock:
            self.counters[name] += n

    def set_counts(self, prefix: str, counts: dict[str, int]) -> None:
        """Replace the counters under ``prefix.`` with ``counts`` (from a component's stats)."""
        with self._lock:
            for name, value in counts.items():
                self.counters[f"{prefix}.{name}"] = value

    def timing(self, name: str, ms: float) -> None:
        """Record the latest duration of stage ``name`` in milliseconds."""
        with self._lock:
            self.latest_ms[name] = ms

    def problem(
        self,
        cause: str,
        message: str,
        now: float | None = None,
        kind: ProblemKind = "error",
    ) -> bool:
        """Count a ``kind`` of problem of ``cause``; True when it should be logged now."""
        now = time.monotonic() if now is None else now
        key = f"{kind}.{cause}"
        with self._lock:
            self.counters[key] += 1
            self.last_messages[key] = message
            last = self._last_logged.get(key)
            if last is not None and now - last < self.throttle_s:
                return False
            self._last_logged[key] = now
            return True

    def snapshot(self) -> tuple[dict[str, int], dict[str, str], dict[str, float]]:
        """Copies of the counters, the last message per problem counter and latest timings."""
        with self._lock:
            return dict(self.counters), dict(self.last_messages), dict(self.latest_ms)

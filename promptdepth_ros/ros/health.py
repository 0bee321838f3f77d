"""Counters of what happened to every input, and rate limiting of the log lines about it."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class HealthMonitor:
    """Thread-safe named counters, the last error per cause, and per-cause log throttling.

    ``count(name)`` records an event; ``problem(cause, message)`` records a failure and
    returns True when the caller should log it now (at most once per ``throttle_s`` per
    cause), so a flood of bad messages costs one log line per period, never a silent drop.
    """

    throttle_s: float = 5.0
    counters: Counter[str] = field(default_factory=Counter)
    last_errors: dict[str, str] = field(default_factory=dict)
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

    def problem(self, cause: str, message: str, now: float | None = None) -> bool:
        """Count a failure of ``cause``; True when it should be logged now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self.counters[f"error.{cause}"] += 1
            self.last_errors[cause] = message
            last = self._last_logged.get(cause)
            if last is not None and now - last < self.throttle_s:
                return False
            self._last_logged[cause] = now
            return True

    def snapshot(self) -> tuple[dict[str, int], dict[str, str], dict[str, float]]:
        """Copies of the counters, last errors and latest timings."""
        with self._lock:
            return dict(self.counters), dict(self.last_errors), dict(self.latest_ms)

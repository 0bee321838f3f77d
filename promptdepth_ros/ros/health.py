"""Counters of what happened to every input, and rate limiting of the log lines about it."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

# error: a dropped input; skipped: a frame the policy skipped; lost: messages missing from an
# input's stamps; incompatible_qos: a publisher that cannot reach an input; stalled: nothing
# published while inputs arrive.
ProblemKind = Literal["error", "skipped", "lost", "incompatible_qos", "stalled"]
PROBLEM_KINDS: tuple[ProblemKind, ...] = (
    "error",
    "skipped",
    "lost",
    "incompatible_qos",
    "stalled",
)


@dataclass
class HealthMonitor:
    """Thread-safe named counters, the last message per problem, and per-problem log throttling.

    ``count(name)`` records an event; ``problem(cause, message)`` records a dropped input
    (``error.<cause>``) or, with ``kind="skipped"``, a frame the policy skipped
    (``skipped.<cause>``), and returns True when the caller should log it now (at most once per
    ``throttle_s`` per counter), so a flood of bad messages costs one log line per period, never
    a silent drop. ``output()`` counts a published output; ``silence(after_s)`` says why nothing
    was published for ``after_s`` while inputs arrived (the inputs and every problem counter
    that grew meanwhile), once ``watch()`` started the watchdog.
    """

    throttle_s: float = 5.0
    counters: Counter[str] = field(default_factory=Counter)
    last_messages: dict[str, str] = field(default_factory=dict)  # problem counter -> message
    latest_ms: dict[str, float] = field(default_factory=dict)
    _last_logged: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _quiet_since: float | None = None  # None: the watchdog is off
    _counters_then: Counter[str] = field(default_factory=Counter)

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
        n: int = 1,
    ) -> bool:
        """Count ``n`` of a ``kind`` of problem of ``cause``; True when it should be logged now."""
        now = time.monotonic() if now is None else now
        key = f"{kind}.{cause}"
        with self._lock:
            self.counters[key] += n
            self.last_messages[key] = message
            last = self._last_logged.get(key)
            if last is not None and now - last < self.throttle_s:
                return False
            self._last_logged[key] = now
            return True

    def watch(self, now: float | None = None) -> None:
        """Start (or restart) the no-output watchdog from ``now``."""
        with self._lock:
            self._restart_quiet(time.monotonic() if now is None else now)

    def unwatch(self) -> None:
        """Stop the watchdog (no output is expected, e.g. while inactive)."""
        with self._lock:
            self._quiet_since = None

    def output(self, name: str = "published", now: float | None = None) -> None:
        """Count an output under ``name``; the watchdog's quiet time starts over."""
        with self._lock:
            self.counters[name] += 1
            if self._quiet_since is not None:
                self._restart_quiet(time.monotonic() if now is None else now)

    def _restart_quiet(self, now: float) -> None:
        self._quiet_since = now
        self._counters_then = self.counters.copy()

    def silence(self, after_s: float, now: float | None = None) -> str | None:
        """Why nothing was published for ``after_s`` or more while inputs arrived, else None."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if self._quiet_since is None or now - self._quiet_since < after_s:
                return None
            grown = {
                key: n - self._counters_then[key]
                for key, n in self.counters.items()
                if n > self._counters_then[key]
            }
            quiet_s = now - self._quiet_since
            causes = [
                f"{key} (+{grown[key]}): {self.last_messages.get(key, '')}"
                for key in sorted(grown)
                if key.startswith(tuple(f"{kind}." for kind in PROBLEM_KINDS if kind != "stalled"))
            ]
        inputs = [
            f"{n} {key.removeprefix('received.')}"
            for key, n in sorted(grown.items())
            if key.startswith("received.")
        ]
        if not inputs:
            return None
        why = "; ".join(causes) if causes else "no drop was counted (is the engine stuck?)"
        arriving = ", ".join(inputs)
        return f"nothing published for {quiet_s:.1f} s while inputs arrive ({arriving}): {why}"

    def snapshot(self) -> tuple[dict[str, int], dict[str, str], dict[str, float]]:
        """Copies of the counters, the last message per problem counter and latest timings."""
        with self._lock:
            return dict(self.counters), dict(self.last_messages), dict(self.latest_ms)

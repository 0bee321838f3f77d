"""Approximate-time synchronisation of N message streams, with every unused message counted.

Same matching policy as ROS 2 ``message_filters.ApproximateTimeSynchronizer`` (Python): one
queue per input keyed by stamp and bounded by ``queue_size`` (oldest evicted); when a message
arrives, the other queues are searched for stamps within ``slop`` of it (nearest first, combined
in that order) and the first complete set whose spread (max - min stamp) is within ``slop`` is
emitted and removed from the queues. Differences, all counted in :class:`SyncStats`:

* a second message with the same stamp on an input replaces the first (``duplicate``);
* a stamp more than ``reset_on_jump_back_s`` older than the newest one seen on its input (a bag
  loop, a restarted driver) clears every queue instead of stalling (``reset``, ``resets``);
* after a set is emitted, queued messages older than its oldest stamp can never be part of a
  later set and are dropped, as are arrivals older than it (``stale``);
* the spread test is inclusive (``<= slop``), so ``slop_s = 0`` means exact-time matching.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from promptdepth_ros.errors import ConfigError, InputError


@dataclass
class SyncStats:
    """Message accounting: ``received == emitted_messages + unused + pending`` at any time."""

    received: int = 0
    emitted_sets: int = 0
    emitted_messages: int = 0
    evicted_by_queue: int = 0
    stale: int = 0
    reset: int = 0
    duplicate: int = 0
    resets: int = 0
    pending: int = 0

    @property
    def unused(self) -> int:
        """Messages that left a queue (or never entered one) without being emitted."""
        return self.evicted_by_queue + self.stale + self.reset + self.duplicate


class ApproximateTimeSync:
    """Thread-safe approximate-time synchroniser; ``callback(*msgs)`` runs outside the lock."""

    def __init__(
        self,
        n_inputs: int,
        queue_size: int,
        slop_s: float,
        reset_on_jump_back_s: float | None = 1.0,
        callback: Callable[..., Any] | None = None,
    ) -> None:
        if n_inputs < 2:
            raise ConfigError(f"n_inputs must be >= 2, got {n_inputs}")
        if queue_size < 1:
            raise ConfigError(f"queue_size must be >= 1, got {queue_size}")
        if not (math.isfinite(slop_s) and slop_s >= 0.0):
            raise ConfigError(f"slop_s must be finite and >= 0 seconds, got {slop_s}")
        if reset_on_jump_back_s is not None and not reset_on_jump_back_s > 0.0:
            raise ConfigError(
                f"reset_on_jump_back_s must be > 0 seconds or None (never reset), "
                f"got {reset_on_jump_back_s}"
            )
        self.n_inputs = n_inputs
        self.queue_size = queue_size
        self.slop_s = slop_s
        self.callback = callback
        self._slop_ns = round(slop_s * 1e9)
        self._reset_ns = (
            None if reset_on_jump_back_s is None else round(reset_on_jump_back_s * 1e9)
        )
        self._lock = threading.Lock()
        self._queues: list[dict[int, Any]] = [{} for _ in range(n_inputs)]
        self._newest_ns: list[int | None] = [None] * n_inputs
        self._last_emitted_ns: int | None = None
        self._stats = SyncStats()

    @property
    def stats(self) -> SyncStats:
        """A snapshot of the counters."""
        with self._lock:
            return replace(self._stats, pending=sum(len(q) for q in self._queues))

    def add(self, input_index: int, stamp_s: float, msg: Any) -> tuple[Any, ...] | None:
        """Queue ``msg`` (stamped ``stamp_s`` seconds) on input ``input_index``.

        Returns the emitted set (one message per input, in input order) after passing it to the
        callback, or None. Raises InputError for a bad index or a non-finite stamp.
        """
        if not 0 <= input_index < self.n_inputs:
            raise InputError(f"input_index must be in [0, {self.n_inputs}), got {input_index}")
        if not math.isfinite(stamp_s):
            raise InputError(f"stamp must be finite seconds, got {stamp_s}")
        stamp_ns = round(stamp_s * 1e9)
        with self._lock:
            emitted = self._add_locked(input_index, stamp_ns, msg)
        if emitted is not None and self.callback is not None:
            self.callback(*emitted)
        return emitted

    def _add_locked(self, index: int, stamp_ns: int, msg: Any) -> tuple[Any, ...] | None:
        """The body of :meth:`add`, run with the lock held; returns the emitted set or None."""
        stats = self._stats
        stats.received += 1
        newest = self._newest_ns[index]
        if (
            newest is not None
            and self._reset_ns is not None
            and newest - stamp_ns > self._reset_ns
        ):
            self._clear()
            newest = None
        if self._last_emitted_ns is not None and stamp_ns < self._last_emitted_ns:
            stats.stale += 1
            return None
        queue = self._queues[index]
        if stamp_ns in queue:
            stats.duplicate += 1
        queue[stamp_ns] = msg
        self._newest_ns[index] = stamp_ns if newest is None else max(newest, stamp_ns)
        while len(queue) > self.queue_size:
            del queue[min(queue)]
            stats.evicted_by_queue += 1
        if stamp_ns not in queue:  # it arrived late into a full queue and was the oldest
            return None
        stamps = self._match(index, stamp_ns)
        if stamps is None:
            return None
        emitted = tuple(q.pop(s) for q, s in zip(self._queues, stamps, strict=True))
        stats.emitted_sets += 1
        stats.emitted_messages += len(emitted)
        self._last_emitted_ns = min(stamps)
        for q in self._queues:
            for old in [s for s in q if s < self._last_emitted_ns]:
                del q[old]
                stats.stale += 1
        return emitted

    def _match(self, index: int, stamp_ns: int) -> list[int] | None:
        """Stamps of the first complete set around ``stamp_ns`` (nearest candidates first)."""
        candidates = []
        for other, queue in enumerate(self._queues):
            if other == index:
                continue
            near = [s for s in queue if abs(s - stamp_ns) <= self._slop_ns]
            if not near:
                return None
            candidates.append(sorted(near, key=lambda s: abs(s - stamp_ns)))
        for combo in itertools.product(*candidates):
            stamps = list(combo)
            stamps.insert(index, stamp_ns)
            if max(stamps) - min(stamps) <= self._slop_ns:
                return stamps
        return None

    def _clear(self) -> None:
        """Drop every queued message (counted as ``reset``) and forget the time history."""
        self._stats.reset += sum(len(q) for q in self._queues)
        self._stats.resets += 1
        for q in self._queues:
            q.clear()
        self._newest_ns = [None] * self.n_inputs
        self._last_emitted_ns = None

"""The newest stamped input, and a bounded wait for one that a request accepts (pure).

A node that answers requests on demand (plan grasps now) keeps only the newest input; a
request says how fresh the input must be (:class:`Freshness`) and waits, at most a given time,
for one that qualifies (:meth:`NewestInput.wait_for`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from promptdepth_ros.errors import InputError, NoInput, StaleInput

T = TypeVar("T")
NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class Freshness:
    """Which inputs a request accepts (stamps and ages in nanoseconds, the reader's clock).

    ``min_stamp_ns``: only inputs stamped at or after it (0 = any stamp), e.g. the moment the
    arm left the camera's view. ``max_age_ns``: only inputs at most this old when the request
    is answered (0 = any age). Raises InputError for a negative value.
    """

    min_stamp_ns: int = 0
    max_age_ns: int = 0

    def __post_init__(self) -> None:
        if self.min_stamp_ns < 0 or self.max_age_ns < 0:
            raise InputError(
                f"min_stamp and max_age must be >= 0, got {self.min_stamp_ns} ns and "
                f"{self.max_age_ns} ns"
            )

    @classmethod
    def from_request(cls, min_stamp_ns: int, max_age_s: float) -> Freshness:
        """Freshness of a request that gives the age in seconds; InputError when not >= 0."""
        if not math.isfinite(max_age_s) or max_age_s < 0.0:
            raise InputError(f"max_age_s must be a number >= 0, got {max_age_s}")
        return cls(min_stamp_ns, round(max_age_s * NS_PER_S))

    def rejection(self, stamp_ns: int, now_ns: int) -> str | None:
        """Why an input stamped ``stamp_ns`` is not accepted at ``now_ns``; None if it is."""
        if stamp_ns < self.min_stamp_ns:
            return (
                f"stamped {_seconds(stamp_ns)} s, before min_stamp {_seconds(self.min_stamp_ns)} s"
            )
        age_ns = now_ns - stamp_ns
        if self.max_age_ns and age_ns > self.max_age_ns:
            return (
                f"{_seconds(age_ns, 3)} s old, more than max_age_s {_seconds(self.max_age_ns, 3)}"
            )
        return None


@dataclass(frozen=True)
class Stamped(Generic[T]):
    """An input and its stamp, nanoseconds."""

    item: T
    stamp_ns: int


class NewestInput(Generic[T]):
    """Thread-safe holder of the newest input (by arrival, whatever its stamp).

    ``what`` names the input in error messages ('cloud').
    """

    def __init__(self, what: str = "input") -> None:
        self._what = what
        self._cond = threading.Condition()
        self._newest: Stamped[T] | None = None

    def put(self, item: T, stamp_ns: int) -> None:
        """Keep ``item`` as the newest input and wake the waiting requests."""
        with self._cond:
            self._newest = Stamped(item, stamp_ns)
            self._cond.notify_all()

    def wait_for(
        self, freshness: Freshness, now_ns: Callable[[], int], timeout_s: float
    ) -> Stamped[T]:
        """The newest input once ``freshness`` accepts it, waiting at most ``timeout_s``.

        ``now_ns`` is the clock the ages are measured on (the node's, sim time included);
        the wait itself is in wall-clock seconds. Raises NoInput when nothing arrived and
        StaleInput when the newest input was not accepted, both saying how long they waited.
        """
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                newest = self._newest
                reason = None if newest is None else freshness.rejection(newest.stamp_ns, now_ns())
                if newest is not None and reason is None:
                    return newest
                remaining = deadline - time.monotonic()
                if remaining <= 0.0:
                    break
                self._cond.wait(remaining)
        waited = f"waited {timeout_s:g} s"
        if newest is None:
            raise NoInput(f"no {self._what} received yet ({waited})")
        raise StaleInput(f"the newest {self._what} is {reason} ({waited})")


def _seconds(ns: int, decimals: int = 9) -> str:
    """``ns`` nanoseconds as seconds with ``decimals`` decimals."""
    return f"{ns / NS_PER_S:.{decimals}f}"

"""Input loss seen in the stamps: a stream whose stamp gaps are whole multiples of its period."""

from __future__ import annotations

from collections import deque
from statistics import median

# Intervals that make a period estimate, and how many of them it keeps (the median of these).
MIN_INTERVALS = 5
MAX_INTERVALS = 50
# A gap this many periods long or longer means messages are missing (1.5: one lost message).
GAP_PERIODS = 1.5
RATE_CHANGE_TOLERANCE = 0.1


class StampGaps:
    """Counts messages missing from one input stream by its stamps (nanoseconds).

    A driver stamps its messages at a steady rate; the receiver estimates that period as the
    median interval of the recent stamps. An interval of ``GAP_PERIODS`` periods or more means
    ``round(interval / period) - 1`` messages were published but never arrived (e.g. large
    messages over best-effort QoS); those intervals do not enter the estimate, unless
    ``MIN_INTERVALS`` of them in a row agree within ``RATE_CHANGE_TOLERANCE`` (the publisher
    changed its rate; random loss gives irregular gaps): they become the new estimate. A stamp
    that is not newer than the previous one (a bag loop, a driver restart) starts over.
    """

    def __init__(self) -> None:
        self._previous_ns: int | None = None
        self._intervals: deque[int] = deque(maxlen=MAX_INTERVALS)
        self._gaps: deque[int] = deque(maxlen=MIN_INTERVALS)  # the gap intervals in a row
        self.received = 0
        self.missing = 0

    @property
    def period_ns(self) -> float | None:
        """The estimated publishing period, or None while too few stamps arrived."""
        return median(self._intervals) if len(self._intervals) >= MIN_INTERVALS else None

    def add(self, stamp_ns: int) -> int:
        """Record a message stamped ``stamp_ns``; the number of messages missing before it."""
        self.received += 1
        previous, self._previous_ns = self._previous_ns, stamp_ns
        if previous is None or stamp_ns <= previous:
            if previous is not None:
                self._intervals.clear()
                self._gaps.clear()
            return 0
        interval = stamp_ns - previous
        period = self.period_ns
        if period is None or interval < GAP_PERIODS * period:
            self._gaps.clear()
            self._intervals.append(interval)
            return 0
        self._gaps.append(interval)
        typical = median(self._gaps)
        if len(self._gaps) == MIN_INTERVALS and all(
            abs(gap - typical) <= RATE_CHANGE_TOLERANCE * typical for gap in self._gaps
        ):
            self._intervals.clear()
            self._intervals.extend(self._gaps)
            self._gaps.clear()
        lost = round(interval / period) - 1
        self.missing += lost
        return lost

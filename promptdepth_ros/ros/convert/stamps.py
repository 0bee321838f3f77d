"""Header stamps and builtin_interfaces Time/Duration <-> integer nanoseconds and seconds."""

from __future__ import annotations

from typing import Any

from builtin_interfaces.msg import Duration, Time

from promptdepth_ros.errors import InvalidStamp

NS_PER_S = 1_000_000_000
# Stamps further ahead of the receiving node's clock are garbage (INT32_MAX seconds, an unset
# driver clock), not clock drift between machines.
MAX_STAMP_AHEAD_S = 86_400


def stamp_ns(header: Any) -> int:
    """Nanoseconds of a std_msgs/Header stamp (anything with ``stamp.sec``, ``stamp.nanosec``).

    Raises InvalidStamp for a negative ``sec`` or ``nanosec`` outside [0, 1e9).
    """
    sec, nanosec = int(header.stamp.sec), int(header.stamp.nanosec)
    if sec < 0 or not 0 <= nanosec < NS_PER_S:
        raise InvalidStamp(
            f"header stamp sec={sec}, nanosec={nanosec} is not a ROS time: expected sec >= 0 "
            "and 0 <= nanosec < 1e9; fix the publisher's stamping"
        )
    return sec * NS_PER_S + nanosec


def stamp_s(header: Any) -> float:
    """Seconds of a std_msgs/Header stamp; raises InvalidStamp like :func:`stamp_ns`."""
    return stamp_ns(header) * 1e-9


def check_stamp_not_ahead(stamp: int, now: int) -> None:
    """Raise InvalidStamp when ``stamp`` ns is more than MAX_STAMP_AHEAD_S after ``now`` ns.

    A clock at 0 (simulated time before the first /clock message) accepts every stamp.
    """
    if now > 0 and stamp - now > MAX_STAMP_AHEAD_S * NS_PER_S:
        raise InvalidStamp(
            f"header stamp {stamp * 1e-9:.3f} s is {(stamp - now) * 1e-9:.0f} s ahead of this "
            f"node's clock ({now * 1e-9:.3f} s); expected at most {MAX_STAMP_AHEAD_S} s ahead"
        )


def split_ns(ns: int) -> tuple[int, int]:
    """(sec, nanosec) of ``ns`` nanoseconds, with 0 <= nanosec < 1e9 (the Time fields)."""
    return ns // NS_PER_S, ns % NS_PER_S


def time_msg(ns: int) -> Time:
    """builtin_interfaces/Time of ``ns`` nanoseconds."""
    sec, nanosec = split_ns(ns)
    return Time(sec=sec, nanosec=nanosec)


def duration_msg(seconds: float) -> Duration:
    """builtin_interfaces/Duration of ``seconds`` >= 0 (nanoseconds truncated)."""
    sec = int(seconds)
    return Duration(sec=sec, nanosec=int((seconds - sec) * 1e9))

"""Header stamps and builtin_interfaces Time/Duration <-> integer nanoseconds and seconds."""

from __future__ import annotations

from typing import Any

from builtin_interfaces.msg import Duration, Time

NS_PER_S = 1_000_000_000


def stamp_ns(header: Any) -> int:
    """Nanoseconds of a std_msgs/Header stamp (anything with ``stamp.sec``, ``stamp.nanosec``)."""
    return int(header.stamp.sec) * NS_PER_S + int(header.stamp.nanosec)


def stamp_s(header: Any) -> float:
    """Seconds of a std_msgs/Header stamp."""
    return stamp_ns(header) * 1e-9


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

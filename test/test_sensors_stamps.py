"""Header stamps and builtin_interfaces Time/Duration <-> nanoseconds and seconds."""

from __future__ import annotations

import pytest
from builtin_interfaces.msg import Time
from hypothesis import given
from hypothesis import strategies as st
from std_msgs.msg import Header

from promptdepth_ros.errors import InvalidStamp
from promptdepth_ros.ros.convert.stamps import (
    MAX_STAMP_AHEAD_S,
    check_stamp_not_ahead,
    duration_msg,
    split_ns,
    stamp_ns,
    stamp_s,
    time_msg,
)

# builtin_interfaces/Time holds int32 seconds.
TIME_NS = st.integers(min_value=0, max_value=(2**31 - 1) * 10**9 + 999_999_999)


@given(TIME_NS)
def test_time_message_round_trips_nanoseconds(ns: int) -> None:
    msg = time_msg(ns)
    assert 0 <= msg.nanosec < 10**9
    assert stamp_ns(Header(stamp=msg)) == ns
    assert split_ns(ns) == (msg.sec, msg.nanosec)


def test_stamp_in_seconds() -> None:
    header = Header(stamp=Time(sec=1_700_000_000, nanosec=250_000_000))
    assert stamp_ns(header) == 1_700_000_000_250_000_000
    assert stamp_s(header) == 1_700_000_000.25


def test_duration_truncates_to_whole_nanoseconds() -> None:
    assert (duration_msg(0.0).sec, duration_msg(0.0).nanosec) == (0, 0)
    assert (duration_msg(2.5).sec, duration_msg(2.5).nanosec) == (2, 500_000_000)
    assert duration_msg(0.3).nanosec == int(0.3 * 1e9)


@given(st.integers(-(2**31), -1), st.integers(0, 2**32 - 1))
def test_negative_seconds_are_an_invalid_stamp(sec: int, nanosec: int) -> None:
    with pytest.raises(InvalidStamp, match=f"sec={sec}, nanosec={nanosec}.*expected sec >= 0"):
        stamp_ns(Header(stamp=Time(sec=sec, nanosec=nanosec)))


@given(st.integers(0, 2**31 - 1), st.integers(10**9, 2**32 - 1))
def test_a_second_or_more_of_nanoseconds_is_an_invalid_stamp(sec: int, nanosec: int) -> None:
    with pytest.raises(InvalidStamp, match="0 <= nanosec < 1e9"):
        stamp_s(Header(stamp=Time(sec=sec, nanosec=nanosec)))


def test_stamps_more_than_a_day_ahead_of_a_running_clock_are_invalid() -> None:
    now = 1_700_000_000 * 10**9
    check_stamp_not_ahead(now + MAX_STAMP_AHEAD_S * 10**9, now)
    check_stamp_not_ahead(0, now)
    with pytest.raises(InvalidStamp, match="ahead of this node's clock"):
        check_stamp_not_ahead((2**31 - 1) * 10**9, now)
    check_stamp_not_ahead((2**31 - 1) * 10**9, 0)  # simulated time before the first /clock

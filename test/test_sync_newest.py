"""NewestInput and Freshness: newest input wins, rejections say why, waits are bounded."""

from __future__ import annotations

import threading
import time

import pytest

from promptdepth_ros.errors import InputError, NoInput, StaleInput
from promptdepth_ros.sync.newest import Freshness, NewestInput

S = 1_000_000_000


def test_any_input_is_fresh_without_limits():
    assert Freshness().rejection(stamp_ns=5, now_ns=100 * S) is None


def test_an_input_stamped_before_min_stamp_is_rejected_with_both_stamps():
    freshness = Freshness(min_stamp_ns=43 * S)
    assert freshness.rejection(43 * S, 50 * S) is None
    reason = freshness.rejection(42 * S + 5, 50 * S)
    assert reason == "stamped 42.000000005 s, before min_stamp 43.000000000 s"


def test_an_input_older_than_max_age_is_rejected_with_its_age():
    freshness = Freshness(max_age_ns=S // 2)
    assert freshness.rejection(10 * S, 10 * S + S // 2) is None
    assert freshness.rejection(10 * S, 11 * S + S // 4) == "1.250 s old, more than max_age_s 0.500"
    # A stamp ahead of the reader's clock (skew) is not old.
    assert freshness.rejection(12 * S, 10 * S) is None


def test_negative_limits_are_refused():
    with pytest.raises(InputError, match="must be >= 0"):
        Freshness(max_age_ns=-1)


def test_a_request_age_in_seconds_becomes_nanoseconds_and_must_be_a_number():
    assert Freshness.from_request(7, 0.25) == Freshness(min_stamp_ns=7, max_age_ns=S // 4)
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(InputError, match="max_age_s must be a number >= 0"):
            Freshness.from_request(0, bad)


def test_the_newest_input_wins_and_is_returned_at_once_when_accepted():
    store: NewestInput[str] = NewestInput("cloud")
    store.put("a", 1 * S)
    store.put("b", 2 * S)
    start = time.monotonic()
    got = store.wait_for(Freshness(), lambda: 3 * S, timeout_s=5.0)
    assert (got.item, got.stamp_ns) == ("b", 2 * S)
    assert time.monotonic() - start < 1.0


def test_no_input_fails_after_the_timeout_saying_nothing_arrived():
    store: NewestInput[str] = NewestInput("cloud")
    start = time.monotonic()
    with pytest.raises(NoInput, match=r"no cloud received yet \(waited 0.2 s\)"):
        store.wait_for(Freshness(), lambda: 0, timeout_s=0.2)
    assert 0.2 <= time.monotonic() - start < 2.0


def test_a_stale_input_fails_with_the_reason_and_zero_timeout_does_not_wait():
    store: NewestInput[str] = NewestInput("cloud")
    store.put("old", 1 * S)
    start = time.monotonic()
    with pytest.raises(StaleInput, match=r"newest cloud is stamped 1\.0+ s, before min_stamp"):
        store.wait_for(Freshness(min_stamp_ns=2 * S), lambda: 3 * S, timeout_s=0.0)
    assert time.monotonic() - start < 0.5


def test_a_wait_ends_when_an_accepted_input_arrives():
    store: NewestInput[str] = NewestInput("cloud")
    store.put("old", 1 * S)

    def publish_later() -> None:
        time.sleep(0.2)
        store.put("too old too", 1 * S + 1)
        time.sleep(0.1)
        store.put("new", 2 * S)

    thread = threading.Thread(target=publish_later)
    thread.start()
    start = time.monotonic()
    got = store.wait_for(Freshness(min_stamp_ns=2 * S), lambda: 2 * S, timeout_s=10.0)
    thread.join()
    assert got.item == "new"
    assert time.monotonic() - start < 5.0

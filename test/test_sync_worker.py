"""LatestWorker: newest items win, skips and failures are counted, the worker survives errors."""

from __future__ import annotations

import threading

import pytest

from promptdepth_ros.sync.worker import LatestWorker, WorkerStats


def _run_burst(max_pending: int) -> tuple[list[int], WorkerStats]:
    """Items 1-5 arrive while item 0 runs; returns what ran, in order, and the counters."""
    started, release = threading.Event(), threading.Event()
    done: list[int] = []

    def handler(item: int) -> None:
        started.set()
        release.wait(5.0)
        done.append(item)

    worker = LatestWorker(handler, max_pending=max_pending)
    worker.submit(0)
    assert started.wait(5.0)
    for item in range(1, 6):
        worker.submit(item)
    release.set()
    assert worker.wait_idle(5.0)
    assert worker.close(5.0)
    return done, worker.stats


def test_only_the_newest_waiting_item_is_processed():
    done, stats = _run_burst(max_pending=1)
    assert done == [0, 5]
    assert (stats.submitted, stats.processed, stats.skipped, stats.failed) == (6, 2, 4, 0)


def test_a_deeper_queue_keeps_the_newest_items_in_order():
    done, stats = _run_burst(max_pending=3)
    assert done == [0, 3, 4, 5]
    assert (stats.submitted, stats.processed, stats.skipped, stats.failed) == (6, 4, 2, 0)


def test_a_queue_without_room_is_refused():
    with pytest.raises(ValueError, match="max_pending"):
        LatestWorker(lambda item: None, max_pending=0)


def test_handler_errors_are_counted_reported_and_survived():
    errors: list[BaseException] = []
    done = []

    def handler(item: int) -> None:
        if item % 2:
            raise ValueError(f"bad item {item}")
        done.append(item)

    worker = LatestWorker(handler, on_error=errors.append)
    for item in range(4):
        worker.submit(item)
        assert worker.wait_idle(5.0)
    stats = worker.stats
    assert done == [0, 2] and (stats.processed, stats.failed) == (2, 2)
    assert stats.last_error == "ValueError: bad item 3"
    assert [str(e) for e in errors] == ["bad item 1", "bad item 3"]
    assert worker.close(5.0)


def test_a_failing_error_reporter_does_not_stop_the_worker():
    def broken_reporter(error: BaseException) -> None:
        raise RuntimeError("reporter down")

    def handler(item: int) -> None:
        if item == 0:
            raise ValueError("first")

    worker = LatestWorker(handler, on_error=broken_reporter)
    worker.submit(0)
    assert worker.wait_idle(5.0)
    worker.submit(1)
    assert worker.wait_idle(5.0)
    stats = worker.stats
    assert (stats.processed, stats.failed) == (1, 1)
    assert "reporter down" in (stats.last_error or "")
    assert worker.close(5.0)


def test_close_drops_a_waiting_item_and_refuses_new_ones():
    started, release = threading.Event(), threading.Event()
    worker = LatestWorker(lambda item: (started.set(), release.wait(5.0)))
    worker.submit("running")
    assert started.wait(5.0)
    worker.submit("waiting")
    closer = threading.Thread(target=worker.close, args=(5.0,))
    closer.start()
    release.set()
    closer.join(5.0)
    assert worker.submit("after close") is False
    stats = worker.stats
    assert (stats.submitted, stats.processed, stats.skipped) == (3, 1, 2)

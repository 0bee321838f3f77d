"""ApproximateTimeSync: camera/LiDAR pairing, disorder, drops, duplicates, resets, accounting."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from promptdepth_ros.errors import ConfigError, InputError
from promptdepth_ros.sync.approximate import ApproximateTimeSync, SyncStats

CAM, LIDAR = 0, 1


def balanced(stats: SyncStats) -> bool:
    return stats.received == stats.emitted_messages + stats.unused + stats.pending


def camera_lidar_stream(seconds: float, seed: int, t0: float = 0.0):
    """30 Hz camera and 10 Hz LiDAR with +-2 ms stamp jitter; events sorted by arrival time.

    Camera frames arrive 5-80 ms after their stamp (so they arrive out of order, sometimes after
    the scan they belong to), LiDAR scans 50 ms after theirs.
    """
    rng = np.random.default_rng(seed)
    cams = t0 + np.arange(int(seconds * 30)) / 30 + rng.uniform(-0.002, 0.002, int(seconds * 30))
    scans = (
        t0
        + np.arange(int(seconds * 10)) / 10
        + 0.004
        + rng.uniform(-0.002, 0.002, int(seconds * 10))
    )
    events = [(s + rng.uniform(0.005, 0.080), CAM, s) for s in cams]
    events += [(s + 0.050, LIDAR, s) for s in scans]
    events.sort()
    return cams, scans, [(index, stamp) for _, index, stamp in events]


def run(sync: ApproximateTimeSync, events, drop=frozenset()):
    outputs = []
    sync.callback = lambda cam, scan: outputs.append((cam, scan))
    for index, stamp in events:
        if (index, stamp) not in drop:
            sync.add(index, stamp, (index, stamp))
    return outputs


def nearest(stamps, t):
    return stamps[np.argmin(np.abs(np.asarray(stamps) - t))]


def test_camera_30hz_lidar_10hz_gives_one_output_per_scan_with_the_nearest_image():
    cams, scans, events = camera_lidar_stream(3.0, seed=1)
    arrival_order = [stamp for index, stamp in events if index == CAM]
    assert arrival_order != sorted(arrival_order)  # the stream really is out of order
    position = {event: i for i, event in enumerate(events)}
    assert any(position[(CAM, nearest(cams, s))] > position[(LIDAR, s)] for s in scans)
    sync = ApproximateTimeSync(2, queue_size=10, slop_s=0.015)
    outputs = run(sync, events)
    assert [scan[1] for _, scan in outputs] == list(scans)
    assert [cam[1] for cam, _ in outputs] == [nearest(cams, s) for s in scans]
    stats = sync.stats
    assert stats.emitted_sets == 30 and stats.received == 120 and balanced(stats)


def test_drops_only_lose_the_affected_scans():
    cams, scans, events = camera_lidar_stream(3.0, seed=2)
    rng = np.random.default_rng(5)
    dropped = {(CAM, s) for s in cams if rng.random() < 0.15}
    dropped |= {(LIDAR, s) for s in scans if rng.random() < 0.15}
    outputs = run(ApproximateTimeSync(2, queue_size=10, slop_s=0.015), events, dropped)
    kept_cams = [s for s in cams if (CAM, s) not in dropped]
    expected = [
        (nearest(cams, s), s)
        for s in scans
        if (LIDAR, s) not in dropped and (CAM, nearest(cams, s)) not in dropped
    ]
    assert [(cam[1], scan[1]) for cam, scan in outputs] == expected
    assert all(nearest(kept_cams, s) == c for c, s in expected)


def test_either_arrival_order_pairs_the_same_messages():
    sync = ApproximateTimeSync(2, queue_size=5, slop_s=0.01)
    assert sync.add(LIDAR, 0.100, "scan0") is None
    assert sync.add(CAM, 0.2005, "cam2") is None
    assert sync.add(CAM, 0.1003, "cam1") == ("cam1", "scan0")
    assert sync.add(LIDAR, 0.200, "scan1") == ("cam2", "scan1")


def test_nearest_candidate_is_chosen_first():
    sync = ApproximateTimeSync(2, queue_size=5, slop_s=0.02)
    sync.add(CAM, 1.000, "far")
    sync.add(CAM, 1.012, "near")
    assert sync.add(LIDAR, 1.015, "scan") == ("near", "scan")


def test_duplicate_stamp_replaces_the_older_message_and_is_counted():
    sync = ApproximateTimeSync(2, queue_size=5, slop_s=0.01)
    sync.add(CAM, 0.1, "first")
    sync.add(CAM, 0.1, "second")
    assert sync.add(LIDAR, 0.1, "scan") == ("second", "scan")
    stats = sync.stats
    assert stats.duplicate == 1 and stats.emitted_messages == 2 and balanced(stats)


def test_full_queue_evicts_its_oldest_message():
    sync = ApproximateTimeSync(2, queue_size=2, slop_s=0.01)
    for stamp in (0.0, 0.1, 0.2):
        sync.add(CAM, stamp, stamp)
    assert sync.add(LIDAR, 0.0, "scan0") is None
    assert sync.add(LIDAR, 0.1, "scan1") == (0.1, "scan1")
    stats = sync.stats
    assert stats.evicted_by_queue == 1 and stats.stale == 1 and stats.pending == 1
    assert balanced(stats)


def test_a_late_message_evicted_from_a_full_queue_is_never_emitted():
    sync = ApproximateTimeSync(2, queue_size=2, slop_s=0.01)
    sync.add(LIDAR, 0.4, "scan")
    sync.add(CAM, 0.5, "cam5")
    sync.add(CAM, 0.6, "cam6")
    assert sync.add(CAM, 0.4, "late") is None
    stats = sync.stats
    assert stats.evicted_by_queue == 1 and stats.emitted_sets == 0 and balanced(stats)


def test_messages_older_than_the_last_set_are_stale():
    sync = ApproximateTimeSync(2, queue_size=5, slop_s=0.01)
    sync.add(CAM, 0.9, "old")
    sync.add(CAM, 1.0, "cam")
    sync.add(LIDAR, 1.0, "scan")
    assert sync.add(LIDAR, 0.95, "late") is None
    stats = sync.stats
    assert stats.stale == 2 and stats.pending == 0 and balanced(stats)


def test_backwards_time_jump_resets_and_synchronisation_continues():
    _, scans, first = camera_lidar_stream(2.0, seed=3, t0=100.0)
    _, scans_again, second = camera_lidar_stream(2.0, seed=4, t0=100.0)
    sync = ApproximateTimeSync(2, queue_size=10, slop_s=0.015, reset_on_jump_back_s=1.0)
    outputs = run(sync, first + second)
    assert len(outputs) == len(scans) + len(scans_again)
    assert [scan[1] for _, scan in outputs[len(scans) :]] == list(scans_again)
    stats = sync.stats
    assert stats.resets == 1 and stats.reset > 0 and balanced(stats)


def test_without_reset_a_bag_loop_stalls_on_stale_messages():
    _, _, first = camera_lidar_stream(2.0, seed=3, t0=100.0)
    _, _, second = camera_lidar_stream(2.0, seed=4, t0=100.0)
    sync = ApproximateTimeSync(2, queue_size=10, slop_s=0.015, reset_on_jump_back_s=None)
    outputs = run(sync, first + second)
    assert len(outputs) == 20
    assert sync.stats.stale >= len(second) and balanced(sync.stats)


def test_three_inputs_need_all_three():
    sync = ApproximateTimeSync(3, queue_size=5, slop_s=0.01)
    assert sync.add(0, 1.0, "a") is None
    assert sync.add(1, 1.005, "b") is None
    assert sync.add(2, 1.02, "too late") is None
    assert sync.add(2, 1.008, "c") == ("a", "b", "c")


def test_callback_runs_outside_the_lock():
    sync = ApproximateTimeSync(2, queue_size=5, slop_s=0.01)
    seen = []
    sync.callback = lambda cam, scan: seen.append(sync.stats.emitted_sets)
    worker = threading.Thread(target=lambda: (sync.add(CAM, 1.0, 1), sync.add(LIDAR, 1.0, 2)))
    worker.start()
    worker.join(timeout=5.0)
    assert not worker.is_alive() and seen == [1]


def test_concurrent_producers_keep_the_accounting_exact():
    _, _, events = camera_lidar_stream(4.0, seed=6)
    sync = ApproximateTimeSync(2, queue_size=20, slop_s=0.015)
    threads = [
        threading.Thread(target=lambda i=i: [sync.add(i, s, s) for j, s in events if j == i])
        for i in (CAM, LIDAR)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10.0)
    stats = sync.stats
    assert stats.received == len(events) and balanced(stats)


def test_invalid_arguments_are_rejected():
    with pytest.raises(ConfigError, match="n_inputs"):
        ApproximateTimeSync(1, 5, 0.01)
    with pytest.raises(ConfigError, match="queue_size"):
        ApproximateTimeSync(2, 0, 0.01)
    with pytest.raises(ConfigError, match="slop_s"):
        ApproximateTimeSync(2, 5, -0.1)
    sync = ApproximateTimeSync(2, 5, 0.01)
    with pytest.raises(InputError, match="input_index"):
        sync.add(2, 0.0, None)
    with pytest.raises(InputError, match="finite"):
        sync.add(0, float("nan"), None)

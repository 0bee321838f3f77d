"""Our pairing and message_filters.ApproximateTimeSynchronizer agree where both are defined.

A phase-locked LiDAR (each scan within a few ms of an image, the case an approximate-time slop
handles) gives the same image-scan pairs; free-running phases, which message_filters misses,
are covered by test_sync_pairing.py.

Runs wherever message_filters is importable (a ROS 2 install, or ../shared/ros-extra in CI).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from sensor_msgs.msg import Image

from promptdepth_ros.ros.convert.stamps import stamp_s
from promptdepth_ros.sync.pairing import CAMERA_INFO, IMAGE, PROMPT, PromptPairing, SyncConfig

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("message_filters") is None,
    reason="message_filters not importable: source a ROS 2 install, or ../shared/ros-extra "
    "(scripts/test.sh builds and sources it where it exists)",
)


def _stream(seed: int) -> list[tuple[float, int, Image]]:
    """(arrival, input index, message) in arrival order: camera 30 Hz, LiDAR 10 Hz with
    jitter and latency."""
    rng = np.random.default_rng(seed)
    events = []
    for i in range(90):
        events.append((i / 30.0, 0.004 + rng.uniform(0, 0.002), 0))
    for j in range(30):
        events.append((j / 10.0 + rng.uniform(-0.003, 0.003), 0.02 + rng.uniform(0, 0.01), 1))
    out = []
    for stamp, latency, index in sorted(events, key=lambda e: e[0] + e[1]):
        msg = Image()
        msg.header.stamp = Time(sec=int(stamp), nanosec=round((stamp % 1) * 1e9))
        out.append((stamp + latency, index, msg))
    return out


def _key(msgs) -> tuple[tuple[int, int], ...]:
    return tuple((m.header.stamp.sec, m.header.stamp.nanosec) for m in msgs)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_sets_as_message_filters(seed: int) -> None:  # pragma: no cover - needs ROS
    import message_filters

    theirs, ours = [], []
    inputs = [message_filters.SimpleFilter(), message_filters.SimpleFilter()]
    reference = message_filters.ApproximateTimeSynchronizer(inputs, 10, 0.015)
    reference.registerCallback(lambda *m: theirs.append(_key(m)))
    own = PromptPairing(3, SyncConfig(max_offset_s=0.015))
    for arrival, index, msg in _stream(seed):
        inputs[index].signalMessage(msg)
        ours_index = (PROMPT,) if index == 1 else (IMAGE, CAMERA_INFO)
        for i in ours_index:
            for image, _, scan in own.add(i, stamp_s(msg.header), msg, arrival):
                ours.append(_key((image, scan)))
    assert ours == theirs
    assert len(ours) == 30

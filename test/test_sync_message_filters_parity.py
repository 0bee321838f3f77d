"""Our synchroniser and message_filters.ApproximateTimeSynchronizer pair the same messages.

Runs wherever message_filters is importable (a ROS 2 install, or ../shared/ros-extra in CI).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from sensor_msgs.msg import Image

from promptdepth_ros.ros.convert.stamps import stamp_s
from promptdepth_ros.sync.approximate import ApproximateTimeSync

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("message_filters") is None,
    reason="message_filters not importable: source a ROS 2 install, or ../shared/ros-extra "
    "(scripts/test.sh builds and sources it where it exists)",
)


def _stream(seed: int) -> list[tuple[int, Image]]:
    """(input index, message) in arrival order: camera 30 Hz, LiDAR 10 Hz with jitter/latency."""
    rng = np.random.default_rng(seed)
    events = []
    for i in range(90):
        events.append((i / 30.0, 0.004 + rng.uniform(0, 0.002), 0))
    for j in range(30):
        events.append((j / 10.0 + rng.uniform(-0.003, 0.003), 0.02 + rng.uniform(0, 0.01), 1))
    out = []
    for stamp, _latency, index in sorted(events, key=lambda e: e[0] + e[1]):
        msg = Image()
        msg.header.stamp = Time(sec=int(stamp), nanosec=round((stamp % 1) * 1e9))
        out.append((index, msg))
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
    own = ApproximateTimeSync(2, 10, 0.015, callback=lambda *m: ours.append(_key(m)))
    for index, msg in _stream(seed):
        inputs[index].signalMessage(msg)
        own.add(index, stamp_s(msg.header), msg)
    assert ours == theirs
    assert len(ours) == 30

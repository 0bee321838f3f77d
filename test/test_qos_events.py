"""Incompatible QoS is detected over real DDS and reported with the fix."""

from __future__ import annotations

from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_helpers import ros_session, wait_until
from sensor_msgs.msg import Image

from promptdepth_ros.ros.health import HealthMonitor
from promptdepth_ros.ros.qos import input_qos, subscription_events


class _RecordingNode:
    """Stands in for the node only as a log sink; the subscription itself is real."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def get_logger(self) -> _RecordingNode:
        return self

    def warning(self, text: str) -> None:
        self.lines.append(text)


def test_reliable_subscription_warns_about_a_best_effort_publisher() -> None:
    sink = _RecordingNode()
    health = HealthMonitor()
    with ros_session() as (_, helper, _nodes):
        helper.create_subscription(
            Image,
            "/qos_test/image",
            lambda _m: None,
            input_qos(reliable=True),
            event_callbacks=subscription_events(sink, "image", health),  # type: ignore[arg-type]
        )
        helper.create_publisher(
            Image,
            "/qos_test/image",
            QoSProfile(depth=5, reliability=ReliabilityPolicy.BEST_EFFORT),
        )
        assert wait_until(lambda: sink.lines, 10.0)
    assert "RELIABILITY" in sink.lines[0]
    assert "input.reliable_qos: false" in sink.lines[0]
    assert health.counters["incompatible_qos.image"] == 1
    assert health.last_messages["incompatible_qos.image"] == sink.lines[0]


def test_default_input_qos_is_sensor_data() -> None:
    assert input_qos(reliable=False).reliability == ReliabilityPolicy.BEST_EFFORT
    assert input_qos(reliable=True).reliability == ReliabilityPolicy.RELIABLE

"""QoS profiles of the package's topics, and the inputs' warning for incompatible QoS."""

from __future__ import annotations

from rclpy.event_handler import QoSRequestedIncompatibleQoSInfo, SubscriptionEventCallbacks
from rclpy.node import Node
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_policy_name_from_kind,
    qos_profile_sensor_data,
)

from promptdepth_ros.ros.health import HealthMonitor

SENSOR_QOS = qos_profile_sensor_data
RELIABLE_INPUT_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE
)
OUTPUT_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST, depth=5, reliability=ReliabilityPolicy.RELIABLE
)
LATCHED_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)


def input_qos(reliable: bool) -> QoSProfile:
    """Sensor-data (best-effort) QoS by default, which accepts every publisher; RELIABLE when
    asked, so that large messages are repaired instead of lost (needs a reliable publisher)."""
    return RELIABLE_INPUT_QOS if reliable else SENSOR_QOS


def subscription_events(
    node: Node, topic: str, health: HealthMonitor
) -> SubscriptionEventCallbacks:
    """Event callbacks that count (``incompatible_qos.<topic>``) and say, with the fix, when a
    publisher's QoS cannot reach us."""

    def warn(info: QoSRequestedIncompatibleQoSInfo) -> None:
        policy = qos_policy_name_from_kind(info.last_policy_kind)
        fix = (
            "this subscription is reliable (input.reliable_qos: true) and the publisher best "
            "effort: set input.reliable_qos: false, and against lost large messages give the "
            "publisher and this node the large-message transport profile "
            "(config/fastdds_large_data.xml)"
            if policy == "RELIABILITY"
            else "match the publisher's QoS"
        )
        reason = (
            f"'{topic}': a publisher offers QoS incompatible with this subscription "
            f"(policy {policy}, {info.total_count} so far); no data will arrive from it: {fix}."
        )
        if health.problem(topic, reason, kind="incompatible_qos"):
            node.get_logger().warning(reason)

    return SubscriptionEventCallbacks(incompatible_qos=warn)

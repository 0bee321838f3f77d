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
    """Sensor-data QoS by default; RELIABLE when asked (matches `ros2 bag play` defaults)."""
    return RELIABLE_INPUT_QOS if reliable else SENSOR_QOS


def subscription_events(node: Node, topic: str) -> SubscriptionEventCallbacks:
    """Event callbacks that warn, with the fix, when a publisher's QoS cannot reach us."""

    def warn(info: QoSRequestedIncompatibleQoSInfo) -> None:
        policy = qos_policy_name_from_kind(info.last_policy_kind)
        node.get_logger().warning(
            f"'{topic}': a publisher offers QoS incompatible with this subscription "
            f"(policy {policy}, {info.total_count} so far); no data will arrive. Set "
            "input.reliable_qos to match the publisher (true for RELIABLE publishers such as "
            "`ros2 bag play` defaults, false for sensor drivers)."
        )

    return SubscriptionEventCallbacks(incompatible_qos=warn)

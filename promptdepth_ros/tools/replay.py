"""Bag replay and recording over DDS, for the demo and the node tests.

:class:`BagPlayer` publishes a bag's messages as serialised CDR at their recorded pace
(like ``ros2 bag play``); :class:`TopicRecorder` subscribes to topics as raw CDR, keeps what
arrives with its arrival time, and writes it to a bag (like ``ros2 bag record``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rclpy.node import Node

from promptdepth_ros.ros.bag import BagRecord, BagWriter, message_class
from promptdepth_ros.ros.qos import LATCHED_QOS, RELIABLE_INPUT_QOS

# Topics that ROS publishes latched (TRANSIENT_LOCAL), as `ros2 bag play` replays them.
LATCHED_TOPICS = frozenset({"/tf_static"})


def _poll(condition: Callable[[], bool], timeout_s: float) -> bool:
    """True once ``condition()`` holds, checked at once and every 50 ms; False after
    ``timeout_s`` (0: checked once)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def wait_for_subscription(node: Node, topic: str, node_name: str, timeout_s: float) -> bool:
    """True once the ROS graph shows a subscription to ``topic`` by the node ``node_name``."""
    return _poll(
        lambda: any(
            info.node_name == node_name for info in node.get_subscriptions_info_by_topic(topic)
        ),
        timeout_s,
    )


class BagPlayer:
    """Publishes the records of a bag on ``node`` (topics whose type is not installed, such
    as tf2_msgs here, are listed in ``unpublishable`` and skipped)."""

    def __init__(self, node: Node, records: Sequence[BagRecord], rate: float = 1.0) -> None:
        self._node = node
        self._records = list(records)
        self._rate = rate
        self.publishers: dict[str, object] = {}
        self.unpublishable: set[str] = set()
        # (topic, bag time ns) -> wall-clock time (s) the message was published.
        self.published_at_s: dict[tuple[str, int], float] = {}
        for record in self._records:
            if record.topic in self.publishers or record.topic in self.unpublishable:
                continue
            try:
                msg_type = message_class(record.msgtype)
            except Exception:
                self.unpublishable.add(record.topic)
                continue
            qos = LATCHED_QOS if record.topic in LATCHED_TOPICS else RELIABLE_INPUT_QOS
            self.publishers[record.topic] = node.create_publisher(msg_type, record.topic, qos)

    def wait_for_subscribers(self, topics: Sequence[str], timeout_s: float) -> bool:
        """True once every topic in ``topics`` has a matched subscriber."""
        return _poll(
            lambda: all(self.publishers[t].get_subscription_count() > 0 for t in topics),  # type: ignore[attr-defined]
            timeout_s,
        )

    def play(self) -> int:
        """Publish every record at its recorded pace; returns the number published."""
        if not self._records:
            return 0
        first_ns = self._records[0].stamp_ns
        start = time.monotonic()
        count = 0
        for record in self._records:
            publisher = self.publishers.get(record.topic)
            if publisher is None:
                continue
            due = start + (record.stamp_ns - first_ns) * 1e-9 / self._rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            publisher.publish(record.data)  # type: ignore[attr-defined]
            self.published_at_s[(record.topic, record.stamp_ns)] = time.time()
            count += 1
        return count


@dataclass(frozen=True)
class Received:
    """A recorded message: topic, arrival wall time (s) and its CDR bytes."""

    topic: str
    arrival_s: float
    data: bytes


class TopicRecorder:
    """Records raw messages of ``topics`` ([(name, type string)]) published by others."""

    def __init__(self, node: Node, topics: Sequence[tuple[str, str]]) -> None:
        self._lock = threading.Lock()
        self.topics = dict(topics)
        self.received: list[Received] = []
        self._subscriptions = {
            name: node.create_subscription(
                message_class(msgtype),
                name,
                lambda data, n=name: self._store(n, data),
                RELIABLE_INPUT_QOS,
                raw=True,
            )
            for name, msgtype in topics
        }

    def wait_for_publishers(self, topics: Sequence[str], timeout_s: float) -> bool:
        """Wait until each of ``topics`` has a matched publisher; False after ``timeout_s``."""
        return _poll(
            lambda: all(self._subscriptions[t].get_publisher_count() > 0 for t in topics),
            timeout_s,
        )

    def _store(self, topic: str, data: bytes) -> None:
        with self._lock:
            self.received.append(Received(topic, time.time(), bytes(data)))

    def count(self, topic: str) -> int:
        """Messages received on ``topic`` so far."""
        with self._lock:
            return sum(1 for r in self.received if r.topic == topic)

    def messages(self, topic: str) -> list[Received]:
        """The messages received on ``topic``, in arrival order."""
        with self._lock:
            return [r for r in self.received if r.topic == topic]

    def write_bag(self, path: Path) -> int:
        """Write everything received to a new bag (arrival times as bag times)."""
        with self._lock:
            received = list(self.received)
        with BagWriter(path) as bag:
            for name, msgtype in self.topics.items():
                bag.add_topic(name, msgtype)
            for r in received:
                bag.write_raw(r.topic, int(r.arrival_s * 1e9), r.data)
        return len(received)

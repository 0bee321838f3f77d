"""Subscribe to N topics and emit approximate-time synchronised sets.

Uses ``message_filters.ApproximateTimeSynchronizer`` when it is installed, else the
package's :class:`ApproximateTimeSync` with the same pairing semantics (plus reset on a
backwards time jump and counters for every unused message).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from typing import Any

from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.node import Node
from rclpy.qos import QoSProfile

from promptdepth_ros.ros.convert.stamps import stamp_s
from promptdepth_ros.ros.health import HealthMonitor
from promptdepth_ros.sync.approximate import ApproximateTimeSync


class TopicSynchronizer:
    """Synchronises ``topics`` ([(name, type)]) and calls ``callback(*msgs)`` in topic order.

    ``callback`` must return quickly (hand the set to a worker): message_filters holds its
    lock while calling it. Receipts per topic and the sync's counters go to ``health``.
    """

    def __init__(
        self,
        node: Node,
        topics: Sequence[tuple[str, type]],
        qos: QoSProfile,
        queue_size: int,
        slop_s: float,
        callback: Callable[..., None],
        health: HealthMonitor,
        event_callbacks: Callable[[str], SubscriptionEventCallbacks],
    ) -> None:
        self._node = node
        self._health = health
        self._callback = callback
        self._subscriptions: list[Any] = []
        self._own: ApproximateTimeSync | None = None
        if importlib.util.find_spec("message_filters") is not None:
            import message_filters

            filters = []
            for name, msg_type in topics:
                sub = message_filters.Subscriber(
                    node, msg_type, name, qos_profile=qos, event_callbacks=event_callbacks(name)
                )
                sub.registerCallback(lambda _msg, n=name: health.count(f"received.{n}"))
                filters.append(sub)
            self._filters = message_filters.ApproximateTimeSynchronizer(
                filters, queue_size, slop_s
            )
            self._filters.registerCallback(self._emit)
            self._subscriptions = [f.sub for f in filters]
            self.backend = "message_filters"
        else:
            self._own = ApproximateTimeSync(len(topics), queue_size, slop_s, callback=self._emit)
            for index, (name, msg_type) in enumerate(topics):
                self._subscriptions.append(
                    node.create_subscription(
                        msg_type,
                        name,
                        self._receiver(index, name),
                        qos,
                        event_callbacks=event_callbacks(name),
                    )
                )
            self.backend = "promptdepth_ros"

    def _receiver(self, index: int, name: str) -> Callable[[Any], None]:
        own = self._own

        def receive(msg: Any) -> None:
            self._health.count(f"received.{name}")
            if own is not None:
                own.add(index, stamp_s(msg.header), msg)
                stats = own.stats
                self._health.set_counts(
                    "sync",
                    {
                        "emitted_sets": stats.emitted_sets,
                        "evicted_by_queue": stats.evicted_by_queue,
                        "stale": stats.stale,
                        "reset": stats.reset,
                        "duplicate": stats.duplicate,
                        "resets": stats.resets,
                        "pending": stats.pending,
                    },
                )

        return receive

    def _emit(self, *msgs: Any) -> None:
        self._health.count("synced_sets")
        self._callback(*msgs)

    def destroy(self) -> None:
        """Unsubscribe from every topic."""
        for sub in self._subscriptions:
            self._node.destroy_subscription(sub)
        self._subscriptions = []

"""Subscribe to N topics, check every message, and emit approximate-time synchronised sets.

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
from promptdepth_ros.ros.diagnostics import report_dropped
from promptdepth_ros.ros.health import HealthMonitor
from promptdepth_ros.sync.approximate import ApproximateTimeSync


class TopicSynchronizer:
    """Synchronises ``topics`` ([(name, type)]) and calls ``callback(*msgs)`` in topic order.

    Each message first goes through ``check(name, msg)``; one that raises is counted and
    reported (:func:`report_dropped`) and never reaches the synchroniser, so a bad stamp cannot
    break it. ``callback`` must return quickly (hand the set to a worker): message_filters
    holds its lock while calling it. Receipts per topic and the sync's counters go to ``health``.
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
        check: Callable[[str, Any], None],
    ) -> None:
        self._node = node
        self._health = health
        self._callback = callback
        self._check = check
        deliver: list[Callable[[Any], None]]
        if importlib.util.find_spec("message_filters") is not None:
            import message_filters

            inputs = [message_filters.SimpleFilter() for _ in topics]
            self._filters = message_filters.ApproximateTimeSynchronizer(inputs, queue_size, slop_s)
            self._filters.registerCallback(self._emit)
            deliver = [f.signalMessage for f in inputs]
            self.backend = "message_filters"
        else:
            own = ApproximateTimeSync(len(topics), queue_size, slop_s, callback=self._emit)
            deliver = [self._own_input(own, index) for index in range(len(topics))]
            self.backend = "promptdepth_ros"
        self._subscriptions = [
            node.create_subscription(
                msg_type,
                name,
                self._receiver(name, to_sync),
                qos,
                event_callbacks=event_callbacks(name),
            )
            for (name, msg_type), to_sync in zip(topics, deliver, strict=True)
        ]

    def _own_input(self, own: ApproximateTimeSync, index: int) -> Callable[[Any], None]:
        def add(msg: Any) -> None:
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

        return add

    def _receiver(self, name: str, to_sync: Callable[[Any], None]) -> Callable[[Any], None]:
        def receive(msg: Any) -> None:
            self._health.count(f"received.{name}")
            try:
                self._check(name, msg)
                to_sync(msg)
            except Exception as error:  # counted and logged; an executor callback must not raise
                report_dropped(self._node, self._health, error, f"'{name}' message")

        return receive

    def _emit(self, *msgs: Any) -> None:
        self._health.count("synced_sets")
        self._callback(*msgs)

    def destroy(self) -> None:
        """Unsubscribe from every topic."""
        for sub in self._subscriptions:
            self._node.destroy_subscription(sub)
        self._subscriptions = []

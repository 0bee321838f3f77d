"""Subscribe to the node's inputs and pair them with :class:`PromptPairing`.

The package's own pairing runs everywhere (message_filters, where installed, is only a test
oracle): prompts are paired with their nearest image at any clock phase, and every message that
is not used is counted by cause in ``sync.*``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.node import Node
from rclpy.qos import QoSProfile

from promptdepth_ros.ros.convert.stamps import stamp_ns
from promptdepth_ros.ros.diagnostics import report_dropped, report_lost, report_skipped
from promptdepth_ros.ros.health import HealthMonitor
from promptdepth_ros.sync.gaps import StampGaps
from promptdepth_ros.sync.pairing import PromptPairing, SyncConfig

POLL_PERIOD_S = 0.02  # how often prompts that waited max_wait_s are decided
# Unpaired inputs that mean no depth comes out: each is a skipped frame, said with its cause.
FRAME_LOSSES = {
    "prompt_without_image": "prompts had no image within {window_ms:.0f} ms (sync.max_offset_s)",
    "prompt_without_info": "depth images had no depth_camera_info with their stamp",
    "image_without_prompt": "images had no prompt at most sync.max_prompt_age_s old",
}


class TopicSynchronizer:
    """Pairs ``topics`` ([(name, type)], in set order) and calls ``callback(*msgs)``.

    Each message first goes through ``check(name, msg)``; one that raises is counted and
    reported (:func:`report_dropped`) and never reaches the pairing, so a bad stamp cannot break
    it. ``callback`` must return quickly (hand the set to a worker). Receipts per topic, the
    pairing's counters and messages missing from each topic's stamps (:class:`StampGaps`,
    ``lost.<topic>``) go to ``health``.
    """

    def __init__(
        self,
        node: Node,
        topics: Sequence[tuple[str, type]],
        qos: QoSProfile,
        config: SyncConfig,
        callback: Callable[..., None],
        health: HealthMonitor,
        event_callbacks: Callable[[str], SubscriptionEventCallbacks],
        check: Callable[[str, Any], None],
    ) -> None:
        self._node = node
        self._health = health
        self._callback = callback
        self._check = check
        self._pairing = PromptPairing(len(topics), config)
        self._reported: Counter[str] = Counter()
        self._counted: Counter[str] = Counter()
        self._gaps = {name: StampGaps() for name, _ in topics}
        self._subscriptions = [
            node.create_subscription(
                msg_type,
                name,
                self._receiver(index, name),
                qos,
                event_callbacks=event_callbacks(name),
            )
            for index, (name, msg_type) in enumerate(topics)
        ]
        self._timer = node.create_timer(POLL_PERIOD_S, self._poll)

    def _receiver(self, index: int, name: str) -> Callable[[Any], None]:
        def receive(msg: Any) -> None:
            self._health.count(f"received.{name}")
            try:
                self._check(name, msg)
                stamp = stamp_ns(msg.header)
                sets = self._pairing.add(index, stamp * 1e-9, msg, time.monotonic())
            except Exception as error:  # counted and logged; an executor callback must not raise
                report_dropped(self._node, self._health, error, f"'{name}' message")
                return
            lost = self._gaps[name].add(stamp)
            if lost:
                report_lost(self._node, self._health, name, lost, self._gaps[name])
            self._emit(sets)

        return receive

    def _poll(self) -> None:
        self._emit(self._pairing.poll(time.monotonic()))

    def _emit(self, sets: list[tuple[Any, ...]]) -> None:
        counts = dict(self._pairing.counts)
        for name, n in counts.items():  # added, so a new pairing (re-activation) resets nothing
            self._health.count(f"sync.{name}", n - self._counted[name])
            self._counted[name] = n
        for cause, text in FRAME_LOSSES.items():
            for _ in range(counts.get(cause, 0) - self._reported[cause]):
                reason = text.format(window_ms=self._pairing.max_offset_ns * 1e-6)
                report_skipped(self._node, self._health, cause, f"{counts[cause]} {reason}")
            self._reported[cause] = counts.get(cause, 0)
        for msgs in sets:
            self._health.count("synced_sets")
            self._callback(*msgs)

    def destroy(self) -> None:
        """Stop the poll timer and unsubscribe from every topic."""
        self._node.destroy_timer(self._timer)
        for sub in self._subscriptions:
            self._node.destroy_subscription(sub)
        self._subscriptions = []

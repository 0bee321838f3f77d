"""Publish a HealthMonitor as diagnostic_msgs/DiagnosticArray on /diagnostics; report drops."""

from __future__ import annotations

import traceback

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node

from promptdepth_ros.errors import PromptDepthError
from promptdepth_ros.ros.health import HealthMonitor

DIAGNOSTICS_TOPIC = "/diagnostics"
PROBLEM_PREFIXES = ("error.", "skipped.")  # counters that turn the status to WARN when they grow


def report_dropped(node: Node, health: HealthMonitor, error: BaseException, what: str) -> None:
    """Count a dropped ``what`` (frame, cloud) by cause and log it at most once per period.

    The package's own errors (bad input, missing TF) are warnings with their message; any
    other exception is an error with its traceback, since it is a bug.
    """
    cause = type(error).__name__
    if not health.problem(cause, str(error)):
        return
    repeats = " [repeats are counted in /diagnostics]"
    # rclpy fixes the severity of each call site at its first call: one call per severity.
    if isinstance(error, PromptDepthError):
        node.get_logger().warning(f"{what} dropped ({cause}): {error}{repeats}")
    else:
        trace = "".join(traceback.format_exception(error))
        node.get_logger().error(f"{what} dropped ({cause}): {trace}{repeats}")


def report_skipped(node: Node, health: HealthMonitor, cause: str, reason: str) -> None:
    """Count a frame the fallback policy skipped (``skipped.<cause>``); log it once per period."""
    if health.problem(cause, reason, kind="skipped"):
        node.get_logger().warning(
            f"frame skipped ({cause}): {reason} [repeats are counted in /diagnostics]"
        )


class DiagnosticsPublisher:
    """Periodically publishes the node's counters, problems and stage timings.

    Level is WARN, naming each problem counter (``error.*``, ``skipped.*``) that grew since the
    previous report with its last message, else OK.
    """

    def __init__(self, node: Node, monitor: HealthMonitor, period_s: float) -> None:
        self._node = node
        self._monitor = monitor
        self._name = f"{node.get_name()}: pipeline"
        self._previous: dict[str, int] = {}
        self._publisher = node.create_publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, 10)
        self._timer = node.create_timer(period_s, self.publish)

    def publish(self) -> None:
        """Publish one DiagnosticArray now."""
        counters, messages, timings = self._monitor.snapshot()
        problems = {k: v for k, v in counters.items() if k.startswith(PROBLEM_PREFIXES)}
        grown = sorted(k for k, n in problems.items() if n > self._previous.get(k, 0))
        self._previous = problems
        status = DiagnosticStatus(
            name=self._name, hardware_id=self._node.get_fully_qualified_name()
        )
        if grown:
            status.level = DiagnosticStatus.WARN
            status.message = "; ".join(f"{key}: {messages.get(key, '')}" for key in grown)
        else:
            status.level = DiagnosticStatus.OK
            status.message = "ok"
        status.values = [KeyValue(key=k, value=str(v)) for k, v in sorted(counters.items())]
        status.values += [
            KeyValue(key=f"{k}_ms", value=f"{v:.2f}") for k, v in sorted(timings.items())
        ]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self._node.get_clock().now().to_msg()
        self._publisher.publish(array)

    def destroy(self) -> None:
        """Stop the timer and the publisher."""
        self._node.destroy_timer(self._timer)
        self._node.destroy_publisher(self._publisher)

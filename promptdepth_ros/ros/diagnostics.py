"""Publish a HealthMonitor as diagnostic_msgs/DiagnosticArray on /diagnostics; report drops."""

from __future__ import annotations

import traceback
from collections.abc import Callable

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node

from promptdepth_ros.errors import PromptDepthError
from promptdepth_ros.ros.health import PROBLEM_KINDS, HealthMonitor
from promptdepth_ros.sync.gaps import StampGaps

DIAGNOSTICS_TOPIC = "/diagnostics"
# Counters that turn the status to WARN when they grow.
PROBLEM_PREFIXES = tuple(f"{kind}." for kind in PROBLEM_KINDS)
NO_OUTPUT = "no_output"  # the watchdog's cause: stalled.no_output
LOSS_ADVICE = (
    "large messages over best-effort QoS lose data: subscribe reliably (input.reliable_qos: "
    "true) or give the publisher and this node the large-message transport profile "
    "(config/fastdds_large_data.xml, which grasp.launch.py sets)"
)


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


def report_lost(node: Node, health: HealthMonitor, topic: str, lost: int, gaps: StampGaps) -> None:
    """Count ``lost`` messages missing from ``topic``'s stamps (``lost.<topic>``) and log it
    once per period with the advice."""
    period_ms = (gaps.period_ns or 0.0) * 1e-6
    reason = (
        f"'{topic}': {gaps.missing} messages missing in the stamps ({gaps.received} received, "
        f"published every {period_ms:.0f} ms); {LOSS_ADVICE}"
    )
    if health.problem(topic, reason, kind="lost", n=lost):
        node.get_logger().warning(f"input lost {reason} [repeats are counted in /diagnostics]")


class DiagnosticsPublisher:
    """Periodically publishes the node's counters, problems and stage timings.

    Level is WARN, naming each problem counter (``error.*``, ``skipped.*``, ``lost.*``,
    ``incompatible_qos.*``, ``stalled.*``) that grew since the previous report with its last
    message, and each reason ``warnings()`` gives (e.g. an inactive node), else OK. With
    ``no_output_warn_s`` > 0 a watchdog counts ``stalled.no_output`` (logged once per period)
    while nothing was published for that long although inputs arrive.
    """

    def __init__(
        self,
        node: Node,
        monitor: HealthMonitor,
        period_s: float,
        no_output_warn_s: float = 0.0,
        warnings: Callable[[], list[str]] | None = None,
    ) -> None:
        self._node = node
        self._monitor = monitor
        self._no_output_warn_s = no_output_warn_s
        self._warnings = warnings
        self._name = f"{node.get_name()}: pipeline"
        self._previous: dict[str, int] = {}
        self._publisher = node.create_publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, 10)
        self._timer = node.create_timer(period_s, self.publish)

    def publish(self) -> None:
        """Publish one DiagnosticArray now."""
        silence = self._monitor.silence(self._no_output_warn_s) if self._no_output_warn_s else None
        if silence is not None and self._monitor.problem(NO_OUTPUT, silence, kind="stalled"):
            self._node.get_logger().warning(f"{silence} [repeats are counted in /diagnostics]")
        counters, messages, timings = self._monitor.snapshot()
        problems = {k: v for k, v in counters.items() if k.startswith(PROBLEM_PREFIXES)}
        grown = sorted(k for k, n in problems.items() if n > self._previous.get(k, 0))
        self._previous = problems
        status = DiagnosticStatus(
            name=self._name, hardware_id=self._node.get_fully_qualified_name()
        )
        reasons = (self._warnings() if self._warnings else []) + [
            f"{key}: {messages.get(key, '')}" for key in grown
        ]
        if reasons:
            status.level = DiagnosticStatus.WARN
            status.message = "; ".join(reasons)
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

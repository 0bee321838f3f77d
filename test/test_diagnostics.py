"""Drops are counted and logged through the real rclpy logger, whatever the severity order."""

from __future__ import annotations

import pytest
import rclpy
from rclpy.context import Context

from promptdepth_ros.errors import InputError
from promptdepth_ros.ros.diagnostics import report_dropped
from promptdepth_ros.ros.health import HealthMonitor


def _raised(error: Exception) -> Exception:
    try:
        raise error
    except Exception as caught:
        return caught


def test_a_bug_after_a_bad_input_is_logged_as_an_error_with_its_traceback(
    capfd: pytest.CaptureFixture[str],
) -> None:
    context = Context()
    rclpy.init(context=context)
    try:
        node = rclpy.create_node("drop_reporter", context=context)
        health = HealthMonitor()
        report_dropped(node, health, _raised(InputError("image is 0x0")), "frame")
        report_dropped(node, health, _raised(KeyError("a bug")), "frame")
        report_dropped(node, health, _raised(InputError("point_step too large")), "cloud")
        node.destroy_node()
    finally:
        rclpy.try_shutdown(context=context)
    lines = capfd.readouterr().err.splitlines()
    warnings = [line for line in lines if line.startswith("[WARN]")]
    errors = [line for line in lines if line.startswith("[ERROR]")]
    assert len(warnings) == 1 and "frame dropped (InputError): image is 0x0" in warnings[0]
    assert len(errors) == 1 and "frame dropped (KeyError): Traceback" in errors[0]
    assert "KeyError: 'a bug'" in "\n".join(lines)
    assert health.counters["error.InputError"] == 2 and health.counters["error.KeyError"] == 1


def test_problems_are_counted_by_kind_and_logged_once_per_period_each() -> None:
    health = HealthMonitor(throttle_s=5.0)
    assert health.problem("InputError", "bad", now=0.0)
    assert health.problem("prompt_empty", "no return", now=1.0, kind="skipped")
    assert not health.problem("InputError", "worse", now=4.9)
    assert not health.problem("prompt_empty", "still none", now=5.9, kind="skipped")
    assert health.problem("InputError", "again", now=5.0)
    counters, messages, _ = health.snapshot()
    assert counters == {"error.InputError": 3, "skipped.prompt_empty": 2}
    assert messages == {"error.InputError": "again", "skipped.prompt_empty": "still none"}

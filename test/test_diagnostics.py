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

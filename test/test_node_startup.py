"""A node started with a bad parameter says which one and exits non-zero, without a traceback;
prompt_depth_node that cannot configure says why and stays up."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest


@pytest.mark.parametrize(
    ("module", "argument", "expected"),
    [
        (
            "promptdepth_ros.ros.grasp_planner_node",
            "grasp.max_opening_m:=5.0",
            "grasp.max_opening_m",
        ),
        ("promptdepth_ros.ros.prompt_depth_node", "prompt.fallback:=bogus", "prompt.fallback"),
    ],
)
def test_bad_launch_parameter_is_named_and_the_process_exits_2(
    module: str, argument: str, expected: str
) -> None:
    run = subprocess.run(
        [sys.executable, "-m", module, "--ros-args", "-p", argument],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    output = run.stdout + run.stderr
    assert expected in output
    assert "Traceback" not in output


def _node_that_cannot_configure() -> subprocess.Popen[str]:
    """prompt_depth_node with max_range_m below min_range_m, output on its stdout pipe."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "promptdepth_ros.ros.prompt_depth_node",
            "--ros-args",
            "-p",
            "prompt.max_range_m:=0.05",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_inconsistent_parameters_fail_configure_and_the_node_stays_up_to_be_fixed() -> None:
    proc = _node_that_cannot_configure()
    try:
        time.sleep(8.0)
        assert proc.poll() is None, "a failed configure must leave the lifecycle node running"
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    assert "cannot configure" in output
    assert "max_range_m" in output


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGTERM])
def test_a_signal_as_the_node_starts_spinning_ends_it_cleanly(sig: signal.Signals) -> None:
    """The window right after a (failed) configure, where rclpy's own handler lost signals."""
    proc = _node_that_cannot_configure()
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "cannot configure" in line:
                break
        proc.send_signal(sig)
        output, _ = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "Traceback" not in "".join(lines) + output


def test_corrupt_safetensors_weights_fail_configure_with_the_cause_logged(tmp_path: Path) -> None:
    from promptdepth_ros.engines.promptda.model import promptda_config

    weights = tmp_path / "promptda"
    promptda_config("vits").save_pretrained(weights)
    (weights / "model.safetensors").write_bytes(np.random.default_rng(0).bytes(4096))
    log = tmp_path / "node.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "promptdepth_ros.ros.prompt_depth_node",
                "--ros-args",
                "-p",
                "engine.name:=promptda",
                "-p",
                "engine.backend:=torch",
                "-p",
                f"engine.weights:={weights}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120.0
        while "cannot configure" not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.2)
        time.sleep(1.0)
        assert proc.poll() is None, "a failed configure must leave the lifecycle node running"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    output = log.read_text()
    assert "cannot configure: cannot load the PromptDA model" in output
    assert "SafetensorError" in output

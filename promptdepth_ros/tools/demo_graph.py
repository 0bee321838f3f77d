"""The demo's node processes: start them, watch them come up (or fail), stop them."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from promptdepth_ros.errors import PromptDepthError
from promptdepth_ros.geometry.transforms import format_xyz_quat
from promptdepth_ros.ros.launch_graph import grasp_graph, ros_arguments
from promptdepth_ros.ros.scene_bag import T_CAMERA_LIDAR

STARTUP_TIMEOUT_S = 120.0
Overrides = dict[str, bool | int | float | str]


def node_overrides(
    args: argparse.Namespace, T_world_camera: np.ndarray, world_frame: str, onnx: Path | None
) -> tuple[Overrides, Overrides]:
    """Both nodes' parameters for the demo's bag: engine, input mode, frames, TF fallbacks."""
    prompt_overrides: Overrides = {
        "engine.name": args.engine,
        "engine.backend": args.backend,
        "engine.random_init": args.random_init,
        "engine.input_long_side": args.input_long_side,
        "input.reliable_qos": True,
        "tf.fallback_camera_from_lidar": format_xyz_quat(T_CAMERA_LIDAR),
    }
    if args.sensor == "realsense":
        prompt_overrides["input.mode"] = "depth"  # registered to the camera, as in the bag
    if onnx is not None:
        prompt_overrides["engine.onnx_path"] = str(onnx)
    grasp_overrides: Overrides = {
        "input.reliable_qos": True,
        "planning_frame": world_frame,
        "tf.fallback_planning_from_camera": format_xyz_quat(T_world_camera),
    }
    return prompt_overrides, grasp_overrides


def start_graph(
    args: argparse.Namespace,
    T_world_camera: np.ndarray,
    world_frame: str,
    log_dir: Path,
    onnx: Path | None,
) -> list[subprocess.Popen[bytes]]:
    """Start both nodes as processes, with the bag's extrinsics as TF fallbacks."""
    prompt_overrides, grasp_overrides = node_overrides(args, T_world_camera, world_frame, onnx)
    procs = []
    for node in grasp_graph(prompt_overrides=prompt_overrides, grasp_overrides=grasp_overrides):
        log = (log_dir / f"{node.executable}.log").open("wb")

        cmd = [sys.executable, "-m", node.module, *ros_arguments(node)]
        procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT))
    return procs


def startup_failure(procs: Sequence[subprocess.Popen[bytes]], log_dir: Path) -> str | None:
    """Why the nodes cannot come up (a node's ERROR/FATAL log line, or its exit); None while
    nothing went wrong."""
    for log in sorted(log_dir.glob("*.log")):
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
        for line in lines:
            if "[ERROR]" in line or "[FATAL]" in line:
                last = next(x for x in reversed(lines) if x)  # a traceback's last line
                return f"{log.stem}: {line}" + (f" ... {last}" if line.endswith(":") else "")
    for proc in procs:
        if proc.poll() is not None:
            return f"{proc.args[2]} exited with status {proc.returncode}"  # type: ignore[index]
    return None


def wait_for_graph(
    ready: Callable[[], bool],
    what: str,
    procs: Sequence[subprocess.Popen[bytes]],
    log_dir: Path,
    timeout_s: float = STARTUP_TIMEOUT_S,
) -> None:
    """Wait until ``ready()``; PromptDepthError with a node's reason as soon as one fails,
    or after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        reason = startup_failure(procs, log_dir)
        if reason is not None:
            raise PromptDepthError(f"{what}: {reason} (logs in {log_dir})")
        if time.monotonic() > deadline:
            raise PromptDepthError(f"{what}: not within {timeout_s:.0f} s (logs in {log_dir})")
        time.sleep(0.2)


def stop_graph(procs: list[subprocess.Popen[bytes]]) -> list[int]:
    """SIGINT every node, then wait; returns the exit codes."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    codes = []
    for proc in procs:
        try:
            codes.append(proc.wait(timeout=15))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes.append(proc.wait())
    return codes

"""README command 1's demo, shortened: real node processes, DDS replay, outputs on disk."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest


@pytest.mark.slow
def test_demo_replays_through_the_nodes_and_writes_its_outputs(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "promptdepth_ros.tools.demo",
            "--out",
            str(out),
            "--duration",
            "1.5",
            "--width",
            "320",
            "--height",
            "240",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "=== promptdepth_ros demo summary ===" in run.stdout
    report = json.loads((out / "summary.json").read_text())
    assert (report["frames_in"]["images"], report["frames_in"]["lidar_scans"]) == (45, 15)
    assert 0 < report["frames_out"]["depth"] <= 15
    assert report["frames_out"]["grasp_plans"] > 0
    assert 0 < report["grasps"]["plans_with_grasps"] <= report["grasps"]["plans"]
    assert report["grasps"]["plans"] == report["frames_out"]["grasp_plans"]
    assert report["grasps"]["newest"] > 0
    assert 0.0 < report["depth_error"]["absrel"] < 0.05
    assert report["node_exit_codes"] == [0, 0]
    grasps = json.loads((out / "grasps.json").read_text())
    assert len(grasps) == report["grasps"]["newest"]
    assert all(g["frame_id"] == "table" for g in grasps)
    for name in ("depth.png", "depth_ground_truth.png", "cloud.ply"):
        assert (out / name).stat().st_size > 1000
    assert (out / "output_bag" / "metadata.yaml").is_file()


def test_demo_never_deletes_a_directory_it_did_not_make(tmp_path: Path, capsys) -> None:
    from promptdepth_ros.tools import demo

    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "thesis.tex").write_text("years of work")
    assert demo.main(["--out", str(theirs)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: --out {theirs} exists and was not made by the demo; choose another directory "
        "(the demo deletes only directories it made)\n"
    )
    assert (theirs / "thesis.tex").read_text() == "years of work"

    empty = tmp_path / "empty"
    empty.mkdir()
    demo.prepare_out(empty)  # an empty directory is used
    (empty / "old_summary.json").write_text("{}")
    demo.prepare_out(empty)  # made by the demo: emptied for the next run
    assert sorted(p.name for p in empty.iterdir()) == [demo.MARKER, "logs"]


@pytest.mark.parametrize("sensor", ["lidar", "realsense"])
def test_random_onnx_model_fits_the_demo_sizes(tmp_path: Path, sensor: str) -> None:
    import argparse

    from engine_fixtures import generated_scene

    from promptdepth_ros.engines.registry import create_engine
    from promptdepth_ros.engines.spec import EngineSpec
    from promptdepth_ros.pipeline.depth import PipelineConfig
    from promptdepth_ros.prompt.conditioning import condition_prompt
    from promptdepth_ros.tools import demo

    args = argparse.Namespace(height=48, width=64, input_long_side=56, sensor=sensor)
    path = demo.export_random_onnx(args, tmp_path / "model.onnx")
    spec = EngineSpec(engine="promptda", backend="onnxruntime", onnx_path=path, input_long_side=56)
    engine = create_engine(spec)
    # A depth camera's prompt keeps the image's resolution; a LiDAR's is prompt_hw.
    prompt_hw = (48, 64) if sensor == "realsense" else PipelineConfig().prompt_hw
    rgb, raw = generated_scene(48, 64, prompt_hw)
    assert engine.infer(rgb, condition_prompt(raw), None).depth_m.shape == (48, 64)
    engine.close()


@pytest.mark.slow
def test_demo_stops_at_once_with_the_reason_a_node_cannot_configure(tmp_path: Path) -> None:
    """Before, the demo waited 120 s for subscriptions that never came."""
    start = time.monotonic()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "promptdepth_ros.tools.demo",
            "--out",
            str(tmp_path / "demo"),
            "--engine",
            "promptda",
            "--backend",
            "onnxruntime",  # no ONNX file and no --random-init: configure fails
            "--duration",
            "0.3",
            "--width",
            "64",
            "--height",
            "48",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 2, run.stdout[-2000:] + run.stderr[-2000:]
    assert time.monotonic() - start < 60.0
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert run.stderr.startswith("error: the nodes did not subscribe: prompt_depth_node: [ERROR]")
    assert "cannot configure: parameters 'engine.*': EngineSpec.onnx_path is required" in (
        run.stderr
    )


def test_scene_and_sensor_options_reach_the_nodes() -> None:
    from promptdepth_ros.tools import demo
    from promptdepth_ros.tools.demo_graph import node_overrides

    pose = np.eye(4)
    default = demo.parse_args([])
    assert (default.scene, default.sensor) == ("tabletop", "lidar")
    prompt, grasp = node_overrides(default, pose, "table", None)
    assert "input.mode" not in prompt  # the node's default: a LiDAR cloud
    assert grasp["planning_frame"] == "table"
    room = demo.parse_args(["--scene", "room", "--sensor", "realsense"])
    prompt, grasp = node_overrides(room, pose, "room", None)
    assert prompt["input.mode"] == "depth"
    assert grasp["planning_frame"] == "room"


@pytest.mark.slow
def test_demo_on_a_room_with_a_realsense_like_camera(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    argv = ["--out", str(out), "--duration", "0.6", "--width", "160", "--height", "120"]
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "promptdepth_ros.tools.demo",
            *argv,
            "--scene",
            "room",
            "--sensor",
            "realsense",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "6 depth images (10 Hz)" in run.stdout
    report = json.loads((out / "summary.json").read_text())
    assert report["frames_in"]["prompt_sensor"] == "realsense"
    assert 0 < report["frames_out"]["depth"] <= report["frames_in"]["lidar_scans"] == 6
    assert 0.0 < report["depth_error"]["absrel"] < 0.05
    assert report["node_exit_codes"] == [0, 0]

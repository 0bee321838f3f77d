"""README command 1's demo, shortened: real node processes, DDS replay, outputs on disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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

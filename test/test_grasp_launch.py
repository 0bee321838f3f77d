"""grasp.launch.py under launch_testing (test/launch/grasp_launch.py): topics and rates,
parameters, lifecycle and a clean SIGINT shutdown, with a generated bag replayed into it."""

from __future__ import annotations

import configparser
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from promptdepth_ros.ros.scene_bag import write_scene_bag
from promptdepth_ros.ros.share import PACKAGE
from promptdepth_ros.sim.scene import default_camera, generate_tabletop_scene

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_TEST = ROOT / "test" / "launch" / "grasp_launch.py"
USER_PARAMS = """\
/**:
  ros__parameters:
    input.reliable_qos: false
/**/prompt_depth_node:
  ros__parameters:
    prompt.fill_k: 3
    processing.queue_depth: 30
    tf.timeout_s: 0.5
/**/grasp_planner_node:
  ros__parameters:
    planning_frame: table
"""


def _ament_prefix(prefix: Path) -> Path:
    """An install prefix like colcon's for this source tree: the package in the ament index and
    a launcher per node in lib/<package> (as CMakeLists.txt makes from setup.cfg)."""
    index = prefix / "share" / "ament_index" / "resource_index" / "packages"
    index.mkdir(parents=True)
    (index / PACKAGE).write_text("")
    (prefix / "share" / PACKAGE).mkdir()
    lib = prefix / "lib" / PACKAGE
    lib.mkdir(parents=True)
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    template = (ROOT / "cmake" / "launcher.py.in").read_text()
    for line in parser["options.entry_points"]["console_scripts"].strip().splitlines():
        name, entry = (part.strip() for part in line.split("="))
        module, function = entry.split(":")
        text = template.replace("@ENTRY_MODULE@", module).replace("@ENTRY_FUNCTION@", function)
        launcher = lib / name
        launcher.write_text(text.replace("/usr/bin/env python3", sys.executable, 1))
        launcher.chmod(0o755)
    return prefix


@pytest.mark.skipif(
    importlib.util.find_spec("launch_testing") is None
    or importlib.util.find_spec("tf2_ros") is None,
    reason="launch_testing or tf2_ros not importable: source a ROS 2 install, or "
    "../shared/ros-extra (scripts/test.sh builds and sources it where it exists)",
)
def test_grasp_launch_under_launch_testing(tmp_path: Path) -> None:
    camera = default_camera(160, 120)
    scene = generate_tabletop_scene(np.random.default_rng(3), camera)
    bag = write_scene_bag(tmp_path / "bag", scene, duration_s=3.0, seed=3)
    params = tmp_path / "robot.yaml"
    params.write_text(USER_PARAMS)
    prefix = _ament_prefix(tmp_path / "install")
    env = dict(os.environ)
    env["AMENT_PREFIX_PATH"] = os.pathsep.join(
        [str(prefix), *filter(None, [os.environ.get("AMENT_PREFIX_PATH")])]
    )
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env |= {"PROMPTDEPTH_TEST_BAG": str(bag.path), "PROMPTDEPTH_TEST_PARAMS": str(params)}
    run = subprocess.run(
        [sys.executable, "-m", "launch_testing.launch_test", str(LAUNCH_TEST)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    assert "Ran 3 tests" in output and "Ran 1 test" in output, output[-3000:]

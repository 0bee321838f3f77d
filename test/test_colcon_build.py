"""`colcon build` of the package against the ROS 2 wheels builds messages, Python and launchers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)
PACKAGE_FILES = ("CMakeLists.txt", "package.xml", "setup.cfg", "setup.py", "README.md")
PACKAGE_DIRS = ("cmake", "msg", "srv", "promptdepth_ros", "launch", "config", "resource")


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("colcon") is None and not (VENV / "bin" / "colcon").exists(),
    reason="colcon is not installed",
)
def test_colcon_build_installs_messages_nodes_and_launch_files(tmp_path: Path) -> None:
    package = tmp_path / "src" / "promptdepth_ros"
    package.mkdir(parents=True)
    for name in PACKAGE_FILES:
        shutil.copy2(ROOT / name, package / name)
    for name in PACKAGE_DIRS:
        shutil.copytree(ROOT / name, package / name, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "AMENT_PREFIX_PATH": str(VENV), "CMAKE_PREFIX_PATH": str(VENV)}
    colcon = shutil.which("colcon") or str(VENV / "bin" / "colcon")
    build = subprocess.run(
        [
            colcon,
            "build",
            "--cmake-args",
            "-DBUILD_TESTING=OFF",
            f"-DPython3_EXECUTABLE={sys.executable}",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]

    prefix = tmp_path / "install" / "promptdepth_ros"
    site = (
        prefix
        / "lib"
        / f"python{sys.version_info.major}.{sys.version_info.minor}"
        / "site-packages"
    )
    launchers = prefix / "lib" / "promptdepth_ros"
    for exe in (
        "prompt_depth_node",
        "grasp_planner_node",
        "promptdepth-eval",
        "promptdepth-process-bag",
        "promptdepth-export-onnx",
        "promptdepth-build-engine",
    ):
        assert os.access(launchers / exe, os.X_OK), exe
    assert (prefix / "share" / "promptdepth_ros" / "launch" / "grasp.launch.py").is_file()
    assert (prefix / "share" / "promptdepth_ros" / "config" / "prompt_depth.yaml").is_file()
    assert (
        prefix / "share" / "ament_index" / "resource_index" / "packages" / "promptdepth_ros"
    ).is_file()

    # The installed package (sources + generated interfaces in one directory) imports on its own.
    probe = (
        "import promptdepth_ros, promptdepth_ros.msg as m, promptdepth_ros.srv as s;"
        "import promptdepth_ros.ros.prompt_depth_params;"
        "print(promptdepth_ros.__file__); print(type(m.GraspArray()).__name__);"
        "print(type(s.PlanGrasps.Response().grasps).__name__)"
    )
    env_run = {
        **env,
        "PYTHONPATH": str(site),
        "LD_LIBRARY_PATH": f"{prefix / 'lib'}:{os.environ.get('LD_LIBRARY_PATH', '')}",
    }
    run = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env_run,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    file_line, type_line, response_line = run.stdout.split()
    assert file_line.startswith(str(site))
    assert type_line == "GraspArray"
    assert response_line == "GraspArray"
    # A launcher, as `ros2 run promptdepth_ros promptdepth-export-onnx --help` would start it.
    help_run = subprocess.run(
        [sys.executable, str(launchers / "promptdepth-export-onnx"), "--help"],
        cwd=tmp_path,
        env=env_run,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert help_run.returncode == 0, help_run.stderr[-3000:]
    assert "onnx" in help_run.stdout.lower()

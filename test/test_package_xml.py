"""package.xml declares, under the keys rosdep resolves, exactly what the code imports."""

from __future__ import annotations

import ast
import configparser
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Python module -> rosdep key, where they differ.
ROSDEP_KEYS = {
    "tf2_ros": "tf2_ros_py",  # the key tf2_ros is the C++ library
    "numpy": "python3-numpy",
    "scipy": "python3-scipy",
    "yaml": "python3-yaml",
    "PIL": "python3-pil",
    "tqdm": "python3-tqdm",
}
# Installed with pip (README, On a ROS 2 machine): no rosdep key.
PIP_ONLY = {
    "open3d",
    "onnxruntime",
    "rosbags",
    "torch",
    "transformers",
    "onnx",
    "tensorrt",
    "ray",  # the `cluster` extra (process-bag --ray)
}
# Imported only where installed (importlib.util.find_spec guards it).
OPTIONAL = {"moveit_msgs"}
# Declared but never imported by name: needed at run time all the same.
RUNTIME_ONLY = {
    "rosidl_default_runtime",  # the generated msg/srv packages
    "lifecycle_msgs",  # rclpy.lifecycle's services
    "rviz2",  # started by grasp.launch.py
}


def _imported_modules() -> set[str]:
    """Top-level modules the package and the launch file import, by statement or by name
    (importlib.import_module / find_spec with a literal)."""
    modules: set[str] = set()
    sources = [*(ROOT / "promptdepth_ros").rglob("*.py"), *(ROOT / "launch").glob("*.py")]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("import_module", "find_spec")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                modules.add(node.args[0].value.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"promptdepth_ros"}


def _declared(*tags: str) -> set[str]:
    root = ET.parse(ROOT / "package.xml").getroot()
    return {element.text.strip() for tag in tags for element in root.iter(tag) if element.text}


def test_every_import_is_declared_under_its_rosdep_key_and_every_run_dependency_is_used() -> None:
    imported = _imported_modules()
    needed = {ROSDEP_KEYS.get(module, module) for module in imported - PIP_ONLY - OPTIONAL}
    run_time = _declared("depend", "exec_depend")
    assert needed - run_time == set(), "imported but not declared"
    assert run_time - needed - RUNTIME_ONLY == set(), "declared but never imported"
    assert "tf2_ros" not in run_time


def test_pip_only_imports_are_the_pip_requirements() -> None:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    lines = parser["options"]["install_requires"].split()
    lines += [
        line for extra in parser["options.extras_require"].values() for line in extra.split()
    ]
    distributions = {re.split(r"[<>=!~\[]", line)[0].lower() for line in lines if line}
    assert distributions >= PIP_ONLY
    assert _imported_modules() >= PIP_ONLY


def test_test_only_packages_are_test_dependencies() -> None:
    tests = _declared("test_depend")
    assert {"message_filters", "launch_testing", "launch_testing_ros"} <= tests
    assert "message_filters" not in _declared("depend", "exec_depend")

"""The RViz configuration of a launch: config/promptdepth.rviz with the launch's topics and
planning frame, and whether RViz can start at all."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from ament_index_python.packages import PackageNotFoundError, get_package_prefix

from promptdepth_ros.ros.parameter_files import node_parameters_in_file
from promptdepth_ros.ros.share import share_dir

RVIZ_TEMPLATE = "promptdepth.rviz"


def rviz_available() -> bool:
    """True when rviz2 can be started: on PATH or in the ament index (``ros2 run rviz2``)."""
    if shutil.which("rviz2"):
        return True
    try:
        get_package_prefix("rviz2")
    except PackageNotFoundError:
        return False
    return True


def resolve_topic(namespace: str, name: str) -> str:
    """The absolute name of topic ``name`` for a node in ``namespace`` (as ROS resolves it)."""
    if name.startswith("/"):
        return name
    return "/" + "/".join(part for part in (namespace.strip("/"), name.strip("/")) if part)


def rviz_config(topics: Mapping[str, str], fixed_frame: str) -> dict[str, Any]:
    """The template's configuration with each display's topic set by display name and the
    fixed frame set. Raises KeyError for a display name the template lacks."""
    config: dict[str, Any] = yaml.safe_load((share_dir("config") / RVIZ_TEMPLATE).read_text())
    manager = config["Visualization Manager"]
    displays = {display["Name"]: display for display in manager["Displays"]}
    for name, topic in topics.items():
        displays[name]["Topic"]["Value"] = topic
    manager["Global Options"]["Fixed Frame"] = fixed_frame
    return config


def parameter_from_files(
    files: Sequence[Path], namespace: str, node_name: str, parameter: str, default: Any
) -> Any:
    """The value a node gets for ``parameter`` from ROS parameter ``files`` (the last file
    that sets it wins; sections matched as rcl matches them), else ``default``."""
    value = default
    for path in files:
        document = yaml.safe_load(path.read_text()) or {}
        params = node_parameters_in_file(document, namespace, node_name) or {}
        if parameter in params:
            value = params[parameter]
    return value

"""The launch description: executables exist, parameter files exist, wiring is consistent."""

from __future__ import annotations

import ast
import configparser
import importlib.util
from pathlib import Path

import pytest
import yaml

from promptdepth_ros.errors import ConfigError
from promptdepth_ros.ros.launch_graph import (
    GRAPH_OUTPUTS,
    PARAMETER_ARGUMENTS,
    grasp_graph,
    parameter_argument_description,
    parameter_overrides,
    ros_arguments,
)
from promptdepth_ros.ros.rviz import parameter_from_files, resolve_topic, rviz_config
from promptdepth_ros.ros.share import share_dir

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILE = ROOT / "launch" / "grasp.launch.py"


def _console_scripts() -> dict[str, str]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    lines = parser["options.entry_points"]["console_scripts"].strip().splitlines()
    return dict(tuple(part.strip() for part in line.split("=")) for line in lines)


def test_graph_nodes_are_console_scripts_with_parameter_files() -> None:
    scripts = _console_scripts()
    for node in grasp_graph():
        assert scripts[node.executable] == f"{node.module}:main"
        assert (share_dir("config") / node.params_file).is_file()
        assert importlib.util.find_spec(node.module) is not None


def test_grasp_planner_listens_to_the_depth_nodes_cloud_in_its_namespace() -> None:
    prompt, grasp = grasp_graph(lidar_topic="/livox/lidar")
    assert ("points", "/livox/lidar") in prompt.remappings
    assert dict(grasp.remappings)["points"] == "prompt_depth_node/points"
    assert resolve_topic("arm1", dict(grasp.remappings)["points"]) == (
        "/arm1/prompt_depth_node/points"
    )
    assert resolve_topic("", "prompt_depth_node/points") == GRAPH_OUTPUTS["points"][0]
    assert resolve_topic("/arm1/", "/livox/lidar") == "/livox/lidar"


def test_ros_arguments_carry_params_file_remaps_and_overrides() -> None:
    prompt, _ = grasp_graph(
        prompt_overrides={"engine.name": "promptda", "input.reliable_qos": True}
    )
    args = ros_arguments(prompt)
    assert args[:3] == [
        "--ros-args",
        "--params-file",
        str(share_dir("config") / "prompt_depth.yaml"),
    ]
    assert "image:=/camera/image_raw" in args
    assert "engine.name:=promptda" in args and "input.reliable_qos:=true" in args


def test_launch_file_uses_the_shared_graph_and_declares_its_arguments() -> None:
    tree = ast.parse(LAUNCH_FILE.read_text())
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert {"grasp_graph", "generate_launch_description", "DeclareLaunchArgument"} <= names
    assert "fastdds_environment" in names, "the nodes must get the large-message DDS profile"
    assert "Node(" not in LAUNCH_FILE.read_text().split("def _rviz")[0], "no node outside _nodes"


def test_rviz_config_shows_the_given_topics_in_the_given_frame() -> None:
    config = rviz_config({"Camera image": "/arm1/cam/image", "Grasps": "/arm1/g/markers"}, "world")
    manager = config["Visualization Manager"]
    topics = {d["Name"]: d.get("Topic", {}).get("Value") for d in manager["Displays"]}
    assert topics["Camera image"] == "/arm1/cam/image" and topics["Grasps"] == "/arm1/g/markers"
    assert manager["Global Options"]["Fixed Frame"] == "world"
    with pytest.raises(KeyError):
        rviz_config({"No such display": "/x"}, "world")


def test_a_parameter_file_value_is_found_by_node_name_full_name_or_wildcard(
    tmp_path: Path,
) -> None:
    package = share_dir("config") / "grasp_planner.yaml"
    user = tmp_path / "robot.yaml"
    user.write_text("/arm1/grasp_planner_node:\n  ros__parameters:\n    planning_frame: table\n")
    default = parameter_from_files([package], "", "grasp_planner_node", "planning_frame", "x")
    assert default == "base_link"
    both = [package, user]
    assert parameter_from_files(both, "arm1", "grasp_planner_node", "planning_frame", "x") == (
        "table"
    )
    # The package file's '/**/grasp_planner_node:' applies in any namespace ...
    assert parameter_from_files(both, "arm2", "grasp_planner_node", "planning_frame", "x") == (
        "base_link"
    )
    # ... a bare 'grasp_planner_node:' names the node outside any namespace.
    user.write_text("grasp_planner_node:\n  ros__parameters:\n    planning_frame: table\n")
    assert parameter_from_files([user], "arm2", "grasp_planner_node", "planning_frame", "x") == "x"
    assert parameter_from_files([user], "", "grasp_planner_node", "planning_frame", "x") == "table"
    user.write_text("/**:\n  ros__parameters:\n    planning_frame: world\n")
    assert parameter_from_files(both, "", "grasp_planner_node", "planning_frame", "x") == "world"


@pytest.mark.skipif(
    importlib.util.find_spec("launch_ros") is None,
    reason="launch_ros not importable: source a ROS 2 install, or ../shared/ros-extra "
    "(scripts/test.sh builds and sources it where it exists)",
)
def test_launch_description_builds_both_nodes() -> None:
    from launch import LaunchContext

    spec = importlib.util.spec_from_file_location("grasp_launch", LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    context = LaunchContext()
    for action in description.entities:
        if type(action).__name__ == "DeclareLaunchArgument":
            action.visit(context)
    nodes = module._nodes(context)
    assert [n.node_executable for n in nodes] == ["prompt_depth_node", "grasp_planner_node"]


@pytest.mark.skipif(
    importlib.util.find_spec("launch_ros") is None,
    reason="launch_ros not importable: source a ROS 2 install, or ../shared/ros-extra",
)
def test_launch_refuses_a_missing_params_file_and_starts_rviz_only_where_installed(
    tmp_path: Path,
) -> None:
    from launch.actions import DeclareLaunchArgument

    from launch import LaunchContext

    spec = importlib.util.spec_from_file_location("grasp_launch", LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    user = tmp_path / "robot.yaml"
    user.write_text("/**:\n  ros__parameters:\n    planning_frame: table\n")
    context = LaunchContext()
    context.launch_configurations.update(
        {"namespace": "/arm1", "params_file": str(user), "use_rviz": "false", "backend": ""}
    )
    for action in module.generate_launch_description().entities:
        if isinstance(action, DeclareLaunchArgument):
            action.visit(context)
    assert [n.node_executable for n in module._nodes(context)] == [
        "prompt_depth_node",
        "grasp_planner_node",
    ]
    assert module.OTHER_ARGUMENTS["use_rviz"][0] == str(module.rviz_available()).lower()
    arguments = {"planning_frame": "", "image": "cam/image", "lidar": "/livox/lidar"}
    files = [share_dir("config") / "grasp_planner.yaml", user]
    rviz_file = Path(module._rviz_config_file(arguments, files, "arm1"))
    config = yaml.safe_load(rviz_file.read_text())
    rviz_file.unlink()
    manager = config["Visualization Manager"]
    topics = {d["Name"]: d.get("Topic", {}).get("Value") for d in manager["Displays"]}
    assert topics["Camera image"] == "/arm1/cam/image" and topics["LiDAR"] == "/livox/lidar"
    assert topics["Depth cloud"] == "/arm1/prompt_depth_node/points"
    assert topics["Grasps"] == "/arm1/grasp_planner_node/markers"
    assert manager["Global Options"]["Fixed Frame"] == "table"  # the params_file's
    if not module.rviz_available():
        context.launch_configurations["use_rviz"] = "true"
        with pytest.raises(ConfigError, match="rviz2 is not installed"):
            module._nodes(context)
        context.launch_configurations["use_rviz"] = "false"
    context.launch_configurations["params_file"] = str(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match=r"missing\.yaml is not a file"):
        module._nodes(context)


def test_parameter_arguments_set_only_what_is_given_with_the_parameter_type() -> None:
    empty = parameter_overrides({name: "" for name in PARAMETER_ARGUMENTS})
    assert empty == {"prompt_depth_node": {}, "grasp_planner_node": {}}
    given = parameter_overrides({"engine": "promptda", "reliable_qos": "True", "weights": ""})
    assert given["prompt_depth_node"] == {"engine.name": "promptda", "input.reliable_qos": True}
    assert given["grasp_planner_node"] == {"input.reliable_qos": True}
    with pytest.raises(ConfigError, match=r"engine\.name.*one of"):
        parameter_overrides({"engine": "midas"})
    with pytest.raises(ConfigError, match=r"input\.reliable_qos.*bool"):
        parameter_overrides({"reliable_qos": "yes"})


def test_parameter_argument_help_comes_from_the_declared_setting() -> None:
    text = parameter_argument_description("engine")
    assert "engine.name" in text and "Depth engine" in text and "'guided'" in text

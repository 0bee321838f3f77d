"""Start prompt_depth_node → grasp_planner_node (and RViz where it is installed).

    ros2 launch promptdepth_ros grasp.launch.py image:=/camera/color/image_raw \
        camera_info:=/camera/color/camera_info lidar:=/livox/lidar namespace:=arm1 \
        params_file:=/path/to/robot.yaml

Topic wiring and parameter files come from promptdepth_ros.ros.launch_graph, the same
description the demo uses. Each node reads the package's config/*.yaml, then `params_file`
(when given), then the parameter arguments (`engine`, `backend`, `input_mode`,
`planning_frame`, ...) that were given: an argument left empty sets nothing. Topic names are
relative, so `namespace` moves the graph and its default sensor topics. With Fast DDS the nodes
get config/fastdds_large_data.xml unless a profile file is exported. RViz (`use_rviz`, default
true only where rviz2 is installed) shows the launch's topics in the planning frame.
"""

import os
import tempfile
from pathlib import Path

import yaml
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from launch import LaunchDescription
from promptdepth_ros.errors import ConfigError
from promptdepth_ros.ros.grasp_planner_params import GRASP_PLANNER_PARAMS
from promptdepth_ros.ros.launch_graph import (
    GRAPH_OUTPUTS,
    PARAMETER_ARGUMENTS,
    SENSOR_TOPICS,
    fastdds_environment,
    grasp_graph,
    parameter_argument_description,
    parameter_overrides,
    shm_free_bytes,
)
from promptdepth_ros.ros.rviz import (
    parameter_from_files,
    resolve_topic,
    rviz_available,
    rviz_config,
)
from promptdepth_ros.ros.share import PACKAGE, share_dir

# Relative defaults: without a namespace they are SENSOR_TOPICS, with one they move with it.
SENSOR_ARGUMENTS = {
    "image": (SENSOR_TOPICS["image"].lstrip("/"), "RGB image topic"),
    "camera_info": (SENSOR_TOPICS["camera_info"].lstrip("/"), "CameraInfo of the RGB image"),
    "lidar": (SENSOR_TOPICS["points"].lstrip("/"), "LiDAR PointCloud2 topic (input_mode:=cloud)"),
    "depth": (SENSOR_TOPICS["depth"].lstrip("/"), "Depth image topic (input_mode:=depth)"),
    "depth_camera_info": (
        SENSOR_TOPICS["depth_camera_info"].lstrip("/"),
        "CameraInfo of the depth image (input_mode:=depth, depth_registered:=false)",
    ),
}
OTHER_ARGUMENTS = {
    "namespace": ("", "Namespace of both nodes (and of relative topic names)"),
    "params_file": ("", "A ROS parameter file for both nodes, read after the package's"),
    "use_sim_time": ("false", "true when replaying a bag with --clock"),
    "use_rviz": (
        str(rviz_available()).lower(),
        "Start RViz with the launch's topics (default: true where rviz2 is installed)",
    ),
}
# The RViz displays of config/promptdepth.rviz and the topic each shows.
RVIZ_DISPLAYS = {
    "Metric depth": GRAPH_OUTPUTS["depth"][0],
    "Depth cloud": GRAPH_OUTPUTS["points"][0],
    "Grasps": GRAPH_OUTPUTS["markers"][0],
    "Grasp poses": GRAPH_OUTPUTS["poses"][0],
}


def _rviz(value, parameter_files, namespace):
    """The RViz node, with the launch's configuration."""
    if not rviz_available():
        raise ConfigError("use_rviz:=true but rviz2 is not installed (pass use_rviz:=false)")
    path = _rviz_config_file(value, parameter_files, namespace)
    return Node(package="rviz2", executable="rviz2", namespace=namespace, arguments=["-d", path])


def _rviz_config_file(value, parameter_files, namespace):
    """A temporary RViz file showing the launch's topics in the planner's planning frame."""
    default_frame = next(s.default for s in GRASP_PLANNER_PARAMS if s.name == "planning_frame")
    frame = value["planning_frame"] or parameter_from_files(
        parameter_files, namespace, "grasp_planner_node", "planning_frame", default_frame
    )
    topics = {name: topic.lstrip("/") for name, topic in RVIZ_DISPLAYS.items()}
    topics |= {"Camera image": value["image"], "LiDAR": value["lidar"]}
    config = rviz_config(
        {name: resolve_topic(namespace, topic) for name, topic in topics.items()}, frame
    )
    with tempfile.NamedTemporaryFile(
        "w", prefix="promptdepth_", suffix=".rviz", delete=False
    ) as out:
        yaml.safe_dump(config, out, sort_keys=False)
    return out.name


def _nodes(context, *args, **kwargs):
    names = (*SENSOR_ARGUMENTS, *OTHER_ARGUMENTS, *PARAMETER_ARGUMENTS)
    value = {name: LaunchConfiguration(name).perform(context) for name in names}
    namespace = value["namespace"].strip("/")
    user_file = value["params_file"]
    if user_file and not Path(user_file).is_file():
        raise ConfigError(f"params_file:={user_file} is not a file")
    overrides = parameter_overrides(value)
    prompt, grasp = grasp_graph(
        image_topic=value["image"],
        camera_info_topic=value["camera_info"],
        lidar_topic=value["lidar"],
        depth_topic=value["depth"],
        depth_camera_info_topic=value["depth_camera_info"],
        prompt_overrides=overrides["prompt_depth_node"],
        grasp_overrides=overrides["grasp_planner_node"],
    )
    sim_time = value["use_sim_time"].lower() == "true"
    extra = [Path(user_file)] if user_file else []
    actions = []
    for node in (prompt, grasp):
        files = [share_dir("config") / node.params_file, *extra]
        actions.append(
            Node(
                package=PACKAGE,
                executable=node.executable,
                name=node.executable,
                namespace=namespace,
                output="screen",
                parameters=[*map(str, files), {**node.overrides, "use_sim_time": sim_time}],
                remappings=list(node.remappings),
                additional_env=fastdds_environment(os.environ, shm_free_bytes()),
            )
        )
    if value["use_rviz"].lower() == "true":
        files = [
            share_dir("config") / grasp.params_file,
            *([Path(user_file)] if user_file else []),
        ]
        actions.append(_rviz(value, files, namespace))
    return actions


def generate_launch_description():
    """The launch description: arguments, the two nodes, RViz."""
    return LaunchDescription(
        [
            *(
                DeclareLaunchArgument(name, default_value=default, description=description)
                for name, (default, description) in {
                    **SENSOR_ARGUMENTS,
                    **OTHER_ARGUMENTS,
                }.items()
            ),
            *(
                DeclareLaunchArgument(
                    name, default_value="", description=parameter_argument_description(name)
                )
                for name in PARAMETER_ARGUMENTS
            ),
            OpaqueFunction(function=_nodes),
        ]
    )

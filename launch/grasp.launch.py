"""Start prompt_depth_node → grasp_planner_node (and optionally RViz).

    ros2 launch promptdepth_ros grasp.launch.py image:=/camera/color/image_raw \
        camera_info:=/camera/color/camera_info lidar:=/livox/lidar planning_frame:=base_link

Topic wiring and parameter files come from promptdepth_ros.ros.launch_graph, the same
description the demo uses. Parameter arguments (`engine`, `backend`, `weights`, `input_mode`,
`planning_frame`, ...) set their parameter only when given; otherwise config/*.yaml decides.
With Fast DDS the nodes get config/fastdds_large_data.xml unless a profile file is exported.
"""

import os

from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from launch import LaunchDescription
from promptdepth_ros.ros.launch_graph import (
    PARAMETER_ARGUMENTS,
    SENSOR_TOPICS,
    fastdds_environment,
    grasp_graph,
    parameter_argument_description,
    parameter_overrides,
    shm_free_bytes,
)
from promptdepth_ros.ros.share import PACKAGE, share_dir

SENSOR_ARGUMENTS = {
    "image": (SENSOR_TOPICS["image"], "RGB image topic"),
    "camera_info": (SENSOR_TOPICS["camera_info"], "CameraInfo of the RGB image"),
    "lidar": (SENSOR_TOPICS["points"], "LiDAR PointCloud2 topic (input_mode:=cloud)"),
    "depth": (SENSOR_TOPICS["depth"], "Depth image topic (input_mode:=depth)"),
    "use_sim_time": ("false", "true when replaying a bag with --clock"),
    "rviz": ("true", "start RViz with config/promptdepth.rviz"),
}


def _nodes(context, *args, **kwargs):
    value = {
        name: LaunchConfiguration(name).perform(context)
        for name in (*SENSOR_ARGUMENTS, *PARAMETER_ARGUMENTS)
    }
    sim_time = value["use_sim_time"].lower() == "true"
    overrides = parameter_overrides(value)
    prompt, grasp = grasp_graph(
        image_topic=value["image"],
        camera_info_topic=value["camera_info"],
        lidar_topic=value["lidar"],
        depth_topic=value["depth"],
        prompt_overrides=overrides["prompt_depth_node"],
        grasp_overrides=overrides["grasp_planner_node"],
    )
    return [
        Node(
            package=PACKAGE,
            executable=node.executable,
            name=node.executable,
            output="screen",
            parameters=[
                str(share_dir("config") / node.params_file),
                {**node.overrides, "use_sim_time": sim_time},
            ],
            remappings=list(node.remappings),
            additional_env=fastdds_environment(os.environ, shm_free_bytes()),
        )
        for node in (prompt, grasp)
    ]


def generate_launch_description():
    """The launch description: arguments, the two nodes, RViz."""
    return LaunchDescription(
        [
            *(
                DeclareLaunchArgument(name, default_value=default, description=description)
                for name, (default, description) in SENSOR_ARGUMENTS.items()
            ),
            *(
                DeclareLaunchArgument(
                    name, default_value="", description=parameter_argument_description(name)
                )
                for name in PARAMETER_ARGUMENTS
            ),
            OpaqueFunction(function=_nodes),
            Node(
                package="rviz2",
                executable="rviz2",
                arguments=["-d", str(share_dir("config") / "promptdepth.rviz")],
                condition=IfCondition(LaunchConfiguration("rviz")),
            ),
        ]
    )

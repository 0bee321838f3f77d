"""Start prompt_depth_node → grasp_planner_node (and optionally RViz).

    ros2 launch promptdepth_ros grasp.launch.py image:=/camera/color/image_raw \
        camera_info:=/camera/color/camera_info lidar:=/livox/lidar planning_frame:=base_link

Topic wiring and parameter files come from promptdepth_ros.ros.launch_graph, the same
description the demo uses; `engine`/`backend`/`weights` override config/prompt_depth.yaml.
With Fast DDS the nodes get config/fastdds_large_data.xml unless a profile file is exported.
"""

import os

from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from launch import LaunchDescription
from promptdepth_ros.ros.launch_graph import (
    fastdds_environment,
    grasp_graph,
    shm_free_bytes,
)
from promptdepth_ros.ros.share import PACKAGE, share_dir

ARGUMENTS = {
    "image": ("/camera/image_raw", "RGB image topic"),
    "camera_info": ("/camera/camera_info", "CameraInfo of the RGB image"),
    "lidar": ("/lidar/points", "LiDAR PointCloud2 topic (input_mode:=cloud)"),
    "depth": ("/lidar/depth", "Depth image topic (input_mode:=depth)"),
    "input_mode": ("cloud", "cloud | depth | none"),
    "engine": ("guided", "guided | promptda | depth_pro"),
    "backend": ("auto", "auto | numpy | torch | onnxruntime | tensorrt"),
    "weights": ("", "HF model directory or PromptDA model.ckpt"),
    "onnx_path": ("", "ONNX model (onnxruntime backend)"),
    "engine_path": ("", "TensorRT plan (tensorrt backend)"),
    "planning_frame": ("base_link", "z-up frame the grasps are planned and published in"),
    "reliable_qos": ("false", "true to subscribe RELIABLE (e.g. bag replay)"),
    "use_sim_time": ("false", "true when replaying a bag with --clock"),
    "rviz": ("true", "start RViz with config/promptdepth.rviz"),
}


def _nodes(context, *args, **kwargs):
    value = {name: LaunchConfiguration(name).perform(context) for name in ARGUMENTS}
    reliable = value["reliable_qos"].lower() == "true"
    sim_time = value["use_sim_time"].lower() == "true"
    prompt, grasp = grasp_graph(
        image_topic=value["image"],
        camera_info_topic=value["camera_info"],
        lidar_topic=value["lidar"],
        depth_topic=value["depth"],
        prompt_overrides={
            "input.mode": value["input_mode"],
            "engine.name": value["engine"],
            "engine.backend": value["backend"],
            "engine.weights": value["weights"],
            "engine.onnx_path": value["onnx_path"],
            "engine.engine_path": value["engine_path"],
            "input.reliable_qos": reliable,
        },
        grasp_overrides={
            "planning_frame": value["planning_frame"],
            "input.reliable_qos": reliable,
        },
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
                for name, (default, description) in ARGUMENTS.items()
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

"""The node graph of grasp.launch.py and its outputs, described once for launch and tools."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field

from promptdepth_ros.errors import ConfigError
from promptdepth_ros.ros.grasp_planner_params import GRASP_PLANNER_PARAMS
from promptdepth_ros.ros.prompt_depth_params import PROMPT_DEPTH_PARAMS
from promptdepth_ros.ros.share import share_dir
from promptdepth_ros.settings import ParamSpec, ParamValue

FASTDDS_PROFILE = "fastdds_large_data.xml"
# Fast DDS 3 (Kilted and newer) reads the first, Fast DDS 2 (Humble, Jazzy) the second; Kilted
# warns that the second is deprecated, so only the one of the running distribution is set.
FASTDDS_PROFILE_VARIABLES = ("FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE")
FAST_DDS_2_DISTROS = frozenset({"humble", "iron", "jazzy"})
# Room for the 64 MiB segments of a few processes (camera driver, both nodes, RViz, bag).
MIN_SHM_FREE_BYTES = 512 * 1024 * 1024
# Default sensor topics by the prompt node's input name: what the graph is wired to unless
# told otherwise, what the generated scene bags hold and what the offline bag tool reads.
SENSOR_TOPICS = {
    "image": "/camera/image_raw",
    "camera_info": "/camera/camera_info",
    "points": "/lidar/points",
    "depth": "/lidar/depth",
    "depth_camera_info": "/lidar/depth_camera_info",
}
# The graph's depth, cloud and grasp outputs by short name: (topic, message type). The nodes
# also publish ~/confidence (engines that have one) and /diagnostics.
GRAPH_OUTPUTS: dict[str, tuple[str, str]] = {
    "depth": ("/prompt_depth_node/depth", "sensor_msgs/msg/Image"),
    "info": ("/prompt_depth_node/camera_info", "sensor_msgs/msg/CameraInfo"),
    "points": ("/prompt_depth_node/points", "sensor_msgs/msg/PointCloud2"),
    "grasps": ("/grasp_planner_node/grasps", "promptdepth_ros/msg/GraspArray"),
    "poses": ("/grasp_planner_node/grasp_poses", "geometry_msgs/msg/PoseArray"),
    "markers": ("/grasp_planner_node/markers", "visualization_msgs/msg/MarkerArray"),
}


NODE_PARAMS: dict[str, tuple[ParamSpec, ...]] = {
    "prompt_depth_node": PROMPT_DEPTH_PARAMS,
    "grasp_planner_node": GRASP_PLANNER_PARAMS,
}
# Launch arguments that set node parameters: argument -> the parameters it sets. An argument
# left empty (its default) sets nothing, so the parameter files keep each setting's one default.
PARAMETER_ARGUMENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "input_mode": (("prompt_depth_node", "input.mode"),),
    "depth_registered": (("prompt_depth_node", "input.depth_registered"),),
    "sync_policy": (("prompt_depth_node", "sync.policy"),),
    "engine": (("prompt_depth_node", "engine.name"),),
    "backend": (("prompt_depth_node", "engine.backend"),),
    "weights": (("prompt_depth_node", "engine.weights"),),
    "onnx_path": (("prompt_depth_node", "engine.onnx_path"),),
    "engine_path": (("prompt_depth_node", "engine.engine_path"),),
    "precision": (("prompt_depth_node", "engine.precision"),),
    "planning_frame": (("grasp_planner_node", "planning_frame"),),
    "grasp_mode": (("grasp_planner_node", "mode"),),
    "reliable_qos": (
        ("prompt_depth_node", "input.reliable_qos"),
        ("grasp_planner_node", "input.reliable_qos"),
    ),
}


def _spec(node_name: str, parameter: str) -> ParamSpec:
    return next(s for s in NODE_PARAMS[node_name] if s.name == parameter)


def parameter_argument_description(argument: str) -> str:
    """Launch-argument help: the parameter(s) it sets, their description and default."""
    node_name, parameter = PARAMETER_ARGUMENTS[argument][0]
    spec = _spec(node_name, parameter)
    allowed = f" ({spec.range_text().replace('`', '')})" if spec.range_text() else ""
    names = ", ".join(p for _, p in PARAMETER_ARGUMENTS[argument])
    return (
        f"sets {names}: {spec.description}{allowed}; empty = the parameter file's value "
        f"(default {spec.default!r})"
    )


def _typed(spec: ParamSpec, text: str) -> ParamValue:
    """A launch argument's text as the parameter's type, validated. Raises ConfigError."""
    kind = type(spec.default)
    value: ParamValue
    if kind is bool and text.lower() in ("true", "false"):
        value = text.lower() == "true"
    elif kind is bool:
        raise ConfigError(f"parameter '{spec.name}' must be bool, got {text!r}")
    else:
        try:
            value = kind(text)
        except ValueError:
            raise ConfigError(
                f"parameter '{spec.name}' must be {kind.__name__}, got {text!r}"
            ) from None
    return spec.validate(value)


def parameter_overrides(arguments: Mapping[str, str]) -> dict[str, dict[str, ParamValue]]:
    """Per node, the parameters that the given (non-empty) launch arguments set.

    Raises ConfigError naming the parameter for a value of the wrong type or range.
    """
    overrides: dict[str, dict[str, ParamValue]] = {name: {} for name in NODE_PARAMS}
    for argument, text in arguments.items():
        if argument not in PARAMETER_ARGUMENTS or not text:
            continue
        for node_name, parameter in PARAMETER_ARGUMENTS[argument]:
            overrides[node_name][parameter] = _typed(_spec(node_name, parameter), text)
    return overrides


@dataclass(frozen=True)
class GraphNode:
    """One node: executable (console script), module, parameter file, remappings, overrides."""

    executable: str
    module: str
    params_file: str
    remappings: tuple[tuple[str, str], ...]
    overrides: dict[str, bool | int | float | str] = field(default_factory=dict)


def grasp_graph(
    image_topic: str = SENSOR_TOPICS["image"],
    camera_info_topic: str = SENSOR_TOPICS["camera_info"],
    lidar_topic: str = SENSOR_TOPICS["points"],
    depth_topic: str = SENSOR_TOPICS["depth"],
    depth_camera_info_topic: str = SENSOR_TOPICS["depth_camera_info"],
    prompt_overrides: dict[str, bool | int | float | str] | None = None,
    grasp_overrides: dict[str, bool | int | float | str] | None = None,
) -> tuple[GraphNode, GraphNode]:
    """prompt_depth_node → grasp_planner_node, wired to the given sensor topics; the planner's
    input is relative, so both nodes in one namespace find each other."""
    prompt = GraphNode(
        executable="prompt_depth_node",
        module="promptdepth_ros.ros.prompt_depth_node",
        params_file="prompt_depth.yaml",
        remappings=(
            ("image", image_topic),
            ("camera_info", camera_info_topic),
            ("points", lidar_topic),
            ("depth", depth_topic),
            ("depth_camera_info", depth_camera_info_topic),
        ),
        overrides=dict(prompt_overrides or {}),
    )
    grasp = GraphNode(
        executable="grasp_planner_node",
        module="promptdepth_ros.ros.grasp_planner_node",
        params_file="grasp_planner.yaml",
        remappings=(("points", GRAPH_OUTPUTS["points"][0].lstrip("/")),),
        overrides=dict(grasp_overrides or {}),
    )
    return prompt, grasp


def ros_arguments(node: GraphNode, name: str | None = None) -> list[str]:
    """Command-line ``--ros-args`` that start ``node`` like the launch file does."""
    args = ["--ros-args", "--params-file", str(share_dir("config") / node.params_file)]
    if name is not None:
        args += ["-r", f"__node:={name}"]
    for source, target in node.remappings:
        args += ["-r", f"{source}:={target}"]
    for key, value in node.overrides.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        args += ["-p", f"{key}:={text}"]
    return args


def fastdds_environment(environ: Mapping[str, str], shm_free_bytes: int) -> dict[str, str]:
    """Variables that give Fast DDS the package's large-message profile (config/).

    Empty when another RMW is selected, the user already set a Fast DDS profile file, or
    /dev/shm has too little room for the segments (e.g. Docker's 64 MiB default).
    """
    rmw = environ.get("RMW_IMPLEMENTATION", "")
    if (
        (rmw and not rmw.startswith("rmw_fastrtps"))
        or any(environ.get(name) for name in FASTDDS_PROFILE_VARIABLES)
        or shm_free_bytes < MIN_SHM_FREE_BYTES
    ):
        return {}
    fast_dds_2 = environ.get("ROS_DISTRO", "") in FAST_DDS_2_DISTROS
    return {FASTDDS_PROFILE_VARIABLES[fast_dds_2]: str(share_dir("config") / FASTDDS_PROFILE)}


def shm_free_bytes(path: str = "/dev/shm") -> int:
    """Free bytes of the shared-memory file system (0 where there is none)."""
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return 0

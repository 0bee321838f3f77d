"""Write a moving eye-in-hand camera and a LiDAR fixed to the robot base as a rosbag2.

Frames: ``base_link`` -> ``tool0`` on ``/tf`` (the arm, ``tf_hz``), ``tool0`` -> camera optical
frame and ``base_link`` -> ``lidar_link`` on ``/tf_static``. Topics as in
:mod:`promptdepth_ros.ros.scene_bag`; the scene is static and ``base_link`` is its world frame.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from std_msgs.msg import Header

from promptdepth_ros.errors import ConfigError
from promptdepth_ros.geometry.transforms import invert_transform, make_transform
from promptdepth_ros.ros.bag import BagWriter, tf_static_cdr
from promptdepth_ros.ros.convert.camera_info import camera_info_msg_from_model
from promptdepth_ros.ros.convert.image import rgb_to_image_msg
from promptdepth_ros.ros.convert.pointcloud import create_xyz_cloud
from promptdepth_ros.ros.convert.stamps import time_msg
from promptdepth_ros.ros.scene_bag import (
    CLOUD_TOPIC,
    IMAGE_TOPIC,
    INFO_TOPIC,
    LIDAR_FRAME,
    START_NS,
    T_CAMERA_LIDAR,
    TF_STATIC_TOPIC,
    free_running_stamps,
)
from promptdepth_ros.sim.arm import ArmStroke
from promptdepth_ros.sim.lidar import simulate_lidar_points
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import TabletopScene, default_camera, look_at

BASE_FRAME = "base_link"
TOOL_FRAME = "tool0"
TF_TOPIC = "/tf"
# A camera driver delivers an image tens of ms after its stamp; the arm's /tf comes at once.
# So when a set is paired, /tf already covers the image stamp (as with tf2's wait).
SENSOR_LATENCY_NS = 30_000_000
TF_LATENCY_NS = 1_000_000
TF_MARGIN_NS = 200_000_000  # /tf starts this much before the first stamp, ends after the last
# The camera 6 cm in front of the flange, 3 cm off its axis, looking along it.
T_TOOL_CAMERA = np.array(
    [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.03], [0.0, 0.0, 1.0, 0.06], [0.0, 0.0, 0.0, 1.0]]
)
# The LiDAR's own axes (x forward, y left, z up) in an optical frame looking the same way.
R_VIEW_LIDAR = make_transform(T_CAMERA_LIDAR[:3, :3], np.zeros(3))


@dataclass(frozen=True)
class EyeInHandBag:
    """What was written: stamps, frame names and the true depth of every image."""

    path: Path
    camera_frame: str
    image_stamps_ns: tuple[int, ...]
    prompt_stamps_ns: tuple[int, ...]
    truth_depth_m: dict[int, NDArray[np.float32]]  # image stamp -> (H, W) metres, NaN = none
    T_base_lidar: NDArray[np.float64]


def default_stroke(scene: TabletopScene, speed_mps: float = 0.5) -> ArmStroke:
    """The camera approaching the scene along its optical axis from its pose in ``scene``."""
    axis = scene.T_world_camera[:3, 2]
    return ArmStroke(scene.T_world_camera, tuple(float(a) for a in axis), speed_mps, 0.4)


def lidar_pose(scene: TabletopScene) -> NDArray[np.float64]:
    """T_base_lidar: 25 cm beside and 10 cm above the camera's start, looking at the origin."""
    eye = scene.T_world_camera[:3, 3] + np.array([0.25, 0.0, 0.1])
    return look_at(eye, np.zeros(3)) @ R_VIEW_LIDAR


def write_eye_in_hand_bag(
    path: Path,
    scene: TabletopScene,
    stroke: ArmStroke | None = None,
    duration_s: float = 1.0,
    camera_hz: float = 30.0,
    lidar_hz: float = 10.0,
    tf_hz: float = 100.0,
    seed: int = 0,
    jitter_s: float = 0.002,
    lidar_noise_m: float = 0.0,
    lidar_offset_s: float = 0.0,
    lidar_drift_ppm: float = 0.0,
    drop_rate: float = 0.0,
) -> EyeInHandBag:
    """Write ``duration_s`` of a camera on ``stroke`` (default :func:`default_stroke`) and a
    LiDAR fixed to ``base_link`` (:func:`lidar_pose`) seeing the static ``scene``.

    Each image is rendered at the camera's pose at its stamp; each scan samples the scene from
    the LiDAR (range noise ``lidar_noise_m``). Clocks as in ``write_scene_bag``. Raises
    ConfigError for non-positive rates or duration.
    """
    if min(duration_s, camera_hz, lidar_hz, tf_hz) <= 0:
        raise ConfigError(
            f"duration and rates must be > 0, got {duration_s} s, {camera_hz}, {lidar_hz}, "
            f"{tf_hz} Hz"
        )
    stroke = stroke or default_stroke(scene)
    rng = np.random.default_rng(seed)
    camera = scene.camera
    image_stamps = free_running_stamps(camera_hz, duration_s, 0.0, rng, drop_rate=drop_rate)
    prompt_stamps = free_running_stamps(
        lidar_hz, duration_s, jitter_s, rng, lidar_offset_s, lidar_drift_ppm, drop_rate
    )
    T_base_lidar = lidar_pose(scene)
    lidar_view = default_camera(256, 192)
    T_base_view = T_base_lidar @ invert_transform(R_VIEW_LIDAR)
    view_depth = render(replace(scene, camera=lidar_view, T_world_camera=T_base_view)).depth_m
    T_lidar_view = invert_transform(R_VIEW_LIDAR)
    T_camera_tool = invert_transform(T_TOOL_CAMERA)
    last_ns = int(max(image_stamps[-1], prompt_stamps[-1]))
    tf_stamps = np.arange(START_NS - TF_MARGIN_NS, last_ns + TF_MARGIN_NS, round(1e9 / tf_hz))
    truth: dict[int, NDArray[np.float32]] = {}
    with BagWriter(path) as bag:
        bag.add_topic(TF_STATIC_TOPIC, "tf2_msgs/msg/TFMessage", latched=True)
        bag.add_topic(TF_TOPIC, "tf2_msgs/msg/TFMessage")
        bag.add_topic(IMAGE_TOPIC, "sensor_msgs/msg/Image")
        bag.add_topic(INFO_TOPIC, "sensor_msgs/msg/CameraInfo")
        bag.add_topic(CLOUD_TOPIC, "sensor_msgs/msg/PointCloud2")
        edges = [
            (BASE_FRAME, LIDAR_FRAME, T_base_lidar),
            (TOOL_FRAME, camera.frame_id, T_TOOL_CAMERA),
        ]
        bag.write_raw(TF_STATIC_TOPIC, START_NS - TF_MARGIN_NS, tf_static_cdr(edges, START_NS))
        events = [(int(s) + TF_LATENCY_NS, int(s), "tf") for s in tf_stamps]
        events += [(int(s) + SENSOR_LATENCY_NS, int(s), "image") for s in image_stamps]
        events += [(int(s) + SENSOR_LATENCY_NS, int(s), "prompt") for s in prompt_stamps]
        for receive_ns, stamp_ns, kind in sorted(events):
            t_s = (stamp_ns - START_NS) * 1e-9
            if kind == "tf":
                T_base_tool = stroke.T_base_camera(t_s) @ T_camera_tool
                edge = [(BASE_FRAME, TOOL_FRAME, T_base_tool)]
                bag.write_raw(TF_TOPIC, receive_ns, tf_static_cdr(edge, stamp_ns))
            elif kind == "image":
                frame = render(replace(scene, T_world_camera=stroke.T_base_camera(t_s)))
                truth[stamp_ns] = frame.depth_m
                header = Header(stamp=time_msg(stamp_ns), frame_id=camera.frame_id)
                bag.write(IMAGE_TOPIC, receive_ns, rgb_to_image_msg(frame.rgb, header))
                bag.write(INFO_TOPIC, receive_ns, camera_info_msg_from_model(camera, header))
            else:
                points = simulate_lidar_points(
                    view_depth, lidar_view, T_lidar_view, rng, noise_std_m=lidar_noise_m
                )
                header = Header(stamp=time_msg(stamp_ns), frame_id=LIDAR_FRAME)
                bag.write(CLOUD_TOPIC, receive_ns, create_xyz_cloud(header, points))
    return EyeInHandBag(
        path=path,
        camera_frame=camera.frame_id,
        image_stamps_ns=tuple(int(s) for s in image_stamps),
        prompt_stamps_ns=tuple(int(s) for s in prompt_stamps),
        truth_depth_m=truth,
        T_base_lidar=T_base_lidar,
    )

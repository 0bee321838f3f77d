"""Write a generated scene as a rosbag2: camera at one rate, prompt sensor at another, /tf_static.

Topics: ``/camera/image_raw`` (rgb8), ``/camera/camera_info``, and the prompt: ``/lidar/points``
(PointCloud2 in ``lidar_link``), or ``/lidar/depth`` (16UC1 mm registered to the camera) from
an iPhone-style LiDAR depth map or, with ``realsense``, from a stereo depth camera (noise ∝ z²,
holes at occlusions, edges and thin structures) with its CameraInfo on
``/lidar/depth_camera_info`` (as a RealSense publishes ``aligned_depth_to_color``, or, not
registered, its own wider view from ``camera_depth_optical_frame`` 15 mm aside); and
``/tf_static`` (world → camera optical frame → lidar_link). The world frame is ``table`` for a
tabletop scene and ``room`` for a room-scale one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import NDArray
from std_msgs.msg import Header

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.errors import ConfigError
from promptdepth_ros.geometry.transforms import invert_transform
from promptdepth_ros.ros.bag import BagWriter, tf_static_cdr
from promptdepth_ros.ros.convert.camera_info import camera_info_msg_from_model
from promptdepth_ros.ros.convert.image import depth_to_mm_image_msg, rgb_to_image_msg
from promptdepth_ros.ros.convert.pointcloud import create_xyz_cloud
from promptdepth_ros.ros.convert.stamps import time_msg
from promptdepth_ros.ros.launch_graph import SENSOR_TOPICS
from promptdepth_ros.sim.depth_camera import simulate_stereo_depth
from promptdepth_ros.sim.lidar import simulate_lidar_depth, simulate_lidar_points
from promptdepth_ros.sim.render import RenderedFrame, render
from promptdepth_ros.sim.room import RoomScene
from promptdepth_ros.sim.scene import TabletopScene

PromptMode = Literal["cloud", "depth", "realsense"]
PROMPT_MODES: tuple[PromptMode, ...] = get_args(PromptMode)
WORLD_FRAME = "table"
ROOM_FRAME = "room"
LIDAR_FRAME = "lidar_link"
IMAGE_TOPIC = SENSOR_TOPICS["image"]
INFO_TOPIC = SENSOR_TOPICS["camera_info"]
CLOUD_TOPIC = SENSOR_TOPICS["points"]
DEPTH_TOPIC = SENSOR_TOPICS["depth"]
DEPTH_INFO_TOPIC = SENSOR_TOPICS["depth_camera_info"]
TF_STATIC_TOPIC = "/tf_static"
START_NS = 1_700_000_000 * 10**9
TRANSPORT_LATENCY_NS = 5_000_000  # bag (receive) time = header stamp + this

DEPTH_FRAME = "camera_depth_optical_frame"
DEPTH_HFOV_DEG = 87.0  # a D435's depth field of view (its colour camera's is 69 degrees)
# The depth camera's origin (its left imager) 15 mm beside the colour camera, as on a D435.
T_CAMERA_DEPTH = np.array(
    [[1.0, 0.0, 0.0, -0.015], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)

# LiDAR 5 cm above the camera, in its own convention (x forward, y left, z up).
T_CAMERA_LIDAR = np.array(
    [[0.0, -1.0, 0.0, 0.0], [0.0, 0.0, -1.0, -0.05], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)


@dataclass(frozen=True)
class SceneBag:
    """What was written: the ground truth frame, the frames' names and message counts."""

    path: Path
    truth: RenderedFrame
    camera_frame: str
    world_frame: str
    image_stamps_ns: tuple[int, ...]
    prompt_stamps_ns: tuple[int, ...]


def _header(stamp_ns: int, frame_id: str) -> Header:
    return Header(stamp=time_msg(stamp_ns), frame_id=frame_id)


def _camera_info(camera: CameraModel, raw_camera: CameraModel | None, header: Header) -> Any:
    """CameraInfo of ``camera``; of a rectified image (P = ``camera``) when ``raw_camera``."""
    msg = camera_info_msg_from_model(camera, header)
    if raw_camera is not None:
        msg.d = [0.0] * 5
        msg.k = raw_camera.K.reshape(-1).tolist()
    return msg


def depth_camera_view(
    scene: TabletopScene | RoomScene,
) -> tuple[CameraModel, NDArray[np.float32]]:
    """An unregistered depth camera beside the scene's camera and its GT depth (H, W): at
    ``T_CAMERA_DEPTH``, pinhole, ``DEPTH_HFOV_DEG`` wide, at the scene camera's size."""
    colour = scene.camera
    focal = 0.5 * colour.width / np.tan(np.deg2rad(0.5 * DEPTH_HFOV_DEG))
    camera = CameraModel(
        colour.width,
        colour.height,
        focal,
        focal,
        0.5 * colour.width - 0.5,
        0.5 * colour.height - 0.5,
        frame_id=DEPTH_FRAME,
    )
    pose = scene.T_world_camera @ T_CAMERA_DEPTH
    return camera, render(replace(scene, camera=camera, T_world_camera=pose)).depth_m


def free_running_stamps(
    rate_hz: float,
    duration_s: float,
    jitter_s: float,
    rng: np.random.Generator,
    offset_s: float = 0.0,
    drift_ppm: float = 0.0,
    drop_rate: float = 0.0,
) -> NDArray[np.int64]:
    """Stamps of a free-running clock: ``offset_s`` phase, ``drift_ppm`` rate error, jitter,
    and a share ``drop_rate`` of messages dropped."""
    n = max(1, round(duration_s * rate_hz))
    t = offset_s + np.arange(n) / rate_hz * (1.0 + drift_ppm * 1e-6)
    t += rng.uniform(-jitter_s, jitter_s, n)
    kept = np.ones(n, bool) if drop_rate <= 0.0 else rng.uniform(size=n) >= drop_rate
    kept[0] = True  # every stream has at least one message
    return START_NS + np.round(np.clip(t[kept], 0.0, None) * 1e9).astype(np.int64)


def write_scene_bag(
    path: Path,
    scene: TabletopScene | RoomScene,
    duration_s: float = 3.0,
    camera_hz: float = 30.0,
    lidar_hz: float = 10.0,
    lidar_mode: PromptMode = "cloud",
    seed: int = 0,
    jitter_s: float = 0.002,
    lidar_noise_m: float = 0.01,
    lidar_relative_noise: float = 0.01,
    lidar_offset_s: float = 0.0,
    lidar_drift_ppm: float = 0.0,
    drop_rate: float = 0.0,
    raw_camera: CameraModel | None = None,
    depth_registered: bool = True,
) -> SceneBag:
    """Render ``scene`` once and write ``duration_s`` of camera + LiDAR messages to ``path``.

    The LiDAR scans are independent noisy samples of the same static scene; stamps jitter by
    up to ``jitter_s``; ``lidar_noise_m`` is the range noise (std) of the LiDAR returns, plus
    ``lidar_relative_noise`` times the depth for depth images; ``realsense`` replaces the LiDAR
    by a stereo depth camera at ``lidar_hz`` (its own noise model), registered to the camera or,
    without ``depth_registered``, in its own frame (:func:`depth_camera_view`, in /tf_static).
    The LiDAR clock runs free of the camera's: ``lidar_offset_s`` phase and ``lidar_drift_ppm``
    rate error; ``drop_rate`` of the images and of the scans are lost. The scene's camera may be
    distorted (fisheye, wide-angle: its CameraInfo carries D). With ``raw_camera`` the images
    are rectified: the CameraInfo has zero D, the raw calibration's K and the scene's camera in
    P (as for ``image_rect``).
    Raises ConfigError for non-positive rates or duration or an unknown ``lidar_mode``.
    """
    if lidar_mode not in PROMPT_MODES:
        raise ConfigError(f"unknown prompt mode '{lidar_mode}'; expected one of {PROMPT_MODES}")
    if duration_s <= 0 or camera_hz <= 0 or lidar_hz <= 0:
        raise ConfigError(
            f"duration and rates must be > 0, got {duration_s} s, {camera_hz} Hz, {lidar_hz} Hz"
        )
    rng = np.random.default_rng(seed)
    truth = render(scene)
    camera = scene.camera
    image_stamps = free_running_stamps(camera_hz, duration_s, 0.0, rng, drop_rate=drop_rate)
    prompt_stamps = free_running_stamps(
        lidar_hz, duration_s, jitter_s, rng, lidar_offset_s, lidar_drift_ppm, drop_rate
    )
    T_lidar_camera = invert_transform(T_CAMERA_LIDAR)
    world_frame = ROOM_FRAME if isinstance(scene, RoomScene) else WORLD_FRAME
    stereo_camera, stereo_gt = (
        (camera, truth.depth_m) if depth_registered else depth_camera_view(scene)
    )
    with BagWriter(path) as bag:
        bag.add_topic(TF_STATIC_TOPIC, "tf2_msgs/msg/TFMessage", latched=True)
        bag.add_topic(IMAGE_TOPIC, "sensor_msgs/msg/Image")
        bag.add_topic(INFO_TOPIC, "sensor_msgs/msg/CameraInfo")
        prompt_topic = CLOUD_TOPIC if lidar_mode == "cloud" else DEPTH_TOPIC
        prompt_type = (
            "sensor_msgs/msg/PointCloud2" if lidar_mode == "cloud" else "sensor_msgs/msg/Image"
        )
        bag.add_topic(prompt_topic, prompt_type)
        if lidar_mode == "realsense":
            bag.add_topic(DEPTH_INFO_TOPIC, "sensor_msgs/msg/CameraInfo")
        edges = [(world_frame, camera.frame_id, scene.T_world_camera)]
        if lidar_mode == "cloud":
            edges.append((camera.frame_id, LIDAR_FRAME, T_CAMERA_LIDAR))
        if lidar_mode == "realsense" and not depth_registered:
            edges.append((camera.frame_id, DEPTH_FRAME, T_CAMERA_DEPTH))
        bag.write_raw(TF_STATIC_TOPIC, START_NS, tf_static_cdr(edges, START_NS))
        events = [(int(s), "image") for s in image_stamps]
        events += [(int(s), "prompt") for s in prompt_stamps]
        for stamp_ns, kind in sorted(events):
            receive_ns = stamp_ns + TRANSPORT_LATENCY_NS
            if kind == "image":
                header = _header(stamp_ns, camera.frame_id)
                bag.write(IMAGE_TOPIC, receive_ns, rgb_to_image_msg(truth.rgb, header))
                bag.write(INFO_TOPIC, receive_ns, _camera_info(camera, raw_camera, header))
            elif lidar_mode == "cloud":
                points = simulate_lidar_points(
                    truth.depth_m, camera, T_lidar_camera, rng, noise_std_m=lidar_noise_m
                )
                header = _header(stamp_ns, LIDAR_FRAME)
                bag.write(CLOUD_TOPIC, receive_ns, create_xyz_cloud(header, points))
            elif lidar_mode == "realsense":
                header = _header(stamp_ns, stereo_camera.frame_id)
                depth = simulate_stereo_depth(stereo_gt, stereo_camera, rng)
                bag.write(DEPTH_TOPIC, receive_ns, depth_to_mm_image_msg(depth, header))
                raw = raw_camera if depth_registered else None
                bag.write(DEPTH_INFO_TOPIC, receive_ns, _camera_info(stereo_camera, raw, header))
            else:
                depth = simulate_lidar_depth(
                    truth.depth_m,
                    rng,
                    noise_std_m=lidar_noise_m,
                    relative_noise=lidar_relative_noise,
                )
                header = _header(stamp_ns, camera.frame_id)
                bag.write(DEPTH_TOPIC, receive_ns, depth_to_mm_image_msg(depth, header))
    return SceneBag(
        path=path,
        truth=truth,
        camera_frame=camera.frame_id,
        world_frame=world_frame,
        image_stamps_ns=tuple(int(s) for s in image_stamps),
        prompt_stamps_ns=tuple(int(s) for s in prompt_stamps),
    )

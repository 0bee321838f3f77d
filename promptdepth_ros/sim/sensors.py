"""Simulated prompt sensors: what each kind of depth sensor would hand the pipeline for a view.

``iphone``: an 85x64 low-res depth map registered to the camera (iPhone-style LiDAR, PromptDA's
synthetic recipe in :mod:`promptdepth_ros.sim.lidar`); ``lidar32``: a 32-ring spinning LiDAR
scan (1024 points per turn, so about 170 across a 60 degree camera) in its own frame
(:func:`promptdepth_ros.sim.lidar.simulate_lidar_points`); ``realsense``: a stereo depth image
registered to the camera at the camera's resolution (:mod:`promptdepth_ros.sim.depth_camera`).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.errors import ConfigError
from promptdepth_ros.geometry.transforms import invert_transform
from promptdepth_ros.prompt.sources import DepthImagePrompt, LidarPrompt, PromptSource
from promptdepth_ros.sim.depth_camera import simulate_stereo_depth
from promptdepth_ros.sim.lidar import simulate_lidar_depth, simulate_lidar_points

PromptSensor = Literal["iphone", "lidar32", "realsense"]
PROMPT_SENSORS: tuple[PromptSensor, ...] = get_args(PromptSensor)
IPHONE_HW = (64, 85)
LIDAR_RINGS = 32
LIDAR_POINTS_PER_TURN = 1024  # an Ouster OS1-32 / Velodyne-class 32-beam LiDAR in 1024 mode

# LiDAR frame (x forward, y left, z up) of a LiDAR mounted 8 cm above the camera.
T_CAMERA_LIDAR = np.array(
    [
        [0.0, -1.0, 0.0, 0.0],
        [0.0, 0.0, -1.0, -0.08],
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ]
)


def simulate_prompt(
    sensor: PromptSensor,
    depth_m: NDArray[np.floating],
    camera: CameraModel,
    rng: np.random.Generator,
) -> PromptSource:
    """The prompt ``sensor`` gives for a view whose GT depth (H, W, metres, NaN = none) is known.

    Raises ConfigError for an unknown sensor.
    """
    if sensor == "iphone":
        return DepthImagePrompt(simulate_lidar_depth(depth_m, rng, out_hw=IPHONE_HW))
    if sensor == "lidar32":
        T_lidar_camera = invert_transform(T_CAMERA_LIDAR)
        fov = 2.0 * np.arctan2(0.5 * camera.width, camera.fx)
        in_view = max(2, round(LIDAR_POINTS_PER_TURN * fov / (2.0 * np.pi)))
        points = simulate_lidar_points(
            depth_m, camera, T_lidar_camera, rng, n_rings=LIDAR_RINGS, points_per_ring=in_view
        )
        return LidarPrompt(points, T_CAMERA_LIDAR.copy())
    if sensor == "realsense":
        return DepthImagePrompt(simulate_stereo_depth(depth_m, camera, rng))
    raise ConfigError(f"unknown prompt sensor '{sensor}'; expected one of {PROMPT_SENSORS}")

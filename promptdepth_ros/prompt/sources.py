"""Prompt sources: a LiDAR cloud or a depth image, turned into a raw prompt for the RGB camera."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.errors import InputError
from promptdepth_ros.prompt.projection import project_cloud_to_depth
from promptdepth_ros.prompt.registration import register_depth_to_camera, resample_depth


@dataclass(frozen=True)
class LidarPrompt:
    """A LiDAR scan: points (N, 3) float in the LiDAR frame (NaN = no return; a strided view
    is fine), and T_camera_lidar (4x4)."""

    points: NDArray[np.floating]
    T_camera_lidar: NDArray[np.float64]


@dataclass(frozen=True)
class DepthImagePrompt:
    """A depth image (h, w) float32 metres, NaN = no return.

    ``camera`` and ``T_rgb_depth`` describe a depth camera of its own; when both are None
    the depth image is already registered to the RGB camera (same field of view).
    """

    depth_m: NDArray[np.float32]
    camera: CameraModel | None = None
    T_rgb_depth: NDArray[np.float64] | None = None


PromptSource = LidarPrompt | DepthImagePrompt


def prompt_resolution(
    source: PromptSource, configured_hw: tuple[int, int], depth_native: bool
) -> tuple[int, int]:
    """(h, w) of the prompt built from ``source``: a depth image's own size when
    ``depth_native``, else ``configured_hw`` (always for a LiDAR cloud)."""
    if depth_native and isinstance(source, DepthImagePrompt):
        height, width = np.shape(source.depth_m)[:2]
        return int(height), int(width)
    return configured_hw


def build_raw_prompt(
    source: PromptSource, rgb_camera: CameraModel, prompt_hw: tuple[int, int]
) -> NDArray[np.float32]:
    """Raw prompt (h, w) float32 metres (NaN = no return) in the RGB camera at ``prompt_hw``.

    Raises InputError when a depth camera is given without its extrinsic (or the reverse).
    """
    if isinstance(source, LidarPrompt):
        return project_cloud_to_depth(source.points, source.T_camera_lidar, rgb_camera, prompt_hw)
    if (source.camera is None) != (source.T_rgb_depth is None):
        raise InputError(
            "a depth image with its own camera needs both its CameraInfo and the extrinsic "
            "T_rgb_depth; give both, or neither for a depth image registered to the RGB camera"
        )
    if source.camera is not None and source.T_rgb_depth is not None:
        return register_depth_to_camera(
            source.depth_m, source.camera, rgb_camera, source.T_rgb_depth, prompt_hw
        )
    return resample_depth(source.depth_m, prompt_hw)

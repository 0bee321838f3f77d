"""Bring a depth image into the RGB camera (registration) and change its resolution safely."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.camera.projection import depth_to_points
from promptdepth_ros.errors import InputError
from promptdepth_ros.geometry.transforms import transform_points
from promptdepth_ros.prompt.pooling import min_pool_axis
from promptdepth_ros.prompt.projection import project_points_to_depth


def register_depth_to_camera(
    depth_m: NDArray[np.floating],
    depth_camera: CameraModel,
    rgb_camera: CameraModel,
    T_rgb_depth: NDArray[np.floating],
    out_hw: tuple[int, int],
) -> NDArray[np.float32]:
    """Reproject an (h, w) depth image (metres, NaN = none) into the RGB camera at ``out_hw``.

    Depth pixels are back-projected with ``depth_camera`` (scaled to the depth image size when
    it differs), moved by ``T_rgb_depth`` and z-buffered with :func:`project_points_to_depth`.
    Returns (out_h, out_w) float32 metres along the RGB optical axis, NaN = no return.
    """
    depth = np.asarray(depth_m)
    if depth.ndim != 2:
        raise InputError(f"depth must be 2-D (h, w), got shape {depth.shape}")
    camera = depth_camera
    if depth.shape != (camera.height, camera.width):
        camera = camera.scaled(depth.shape[1], depth.shape[0])
    valid = np.isfinite(depth) & (depth > 0)
    points = depth_to_points(depth, camera)[valid]
    points_rgb = transform_points(T_rgb_depth, points)
    return project_points_to_depth(points_rgb, rgb_camera, out_hw)


def _resample_axis(values: NDArray[np.float32], size: int, axis: int) -> NDArray[np.float32]:
    """Min-pool (shrink) or nearest-neighbour (grow) one axis to ``size``; +inf = no data."""
    current = values.shape[axis]
    if size == current:
        return values
    if size < current:
        return min_pool_axis(values, size, axis)
    # Exact floor((i + 0.5) * n / size): resize_nearest goes through float pixel centres and
    # rounds some exact ties the other way, so it would move a few rows or columns.
    nearest = ((np.arange(size) + 0.5) * current / size).astype(np.intp)
    return np.take(values, np.minimum(nearest, current - 1), axis=axis)


def resample_depth(depth_m: NDArray[np.floating], out_hw: tuple[int, int]) -> NDArray[np.float32]:
    """Resize an (h, w) depth image to ``out_hw`` without mixing depths across edges.

    Shrinking keeps the nearest valid return of each source block (min-pooling, like the
    z-buffer); growing copies the nearest source pixel. No value is ever interpolated between
    foreground and background. NaN (or <= 0) = no return, in and out.
    """
    depth = np.asarray(depth_m, dtype=np.float32)
    height, width = int(out_hw[0]), int(out_hw[1])
    if depth.ndim != 2 or height <= 0 or width <= 0:
        raise InputError(f"need a 2-D depth and a positive out_hw, got {depth.shape} -> {out_hw}")
    with np.errstate(invalid="ignore"):
        work = np.where(np.isfinite(depth) & (depth > 0), depth, np.float32(np.inf))
    work = _resample_axis(_resample_axis(work, height, 0), width, 1)
    return np.where(np.isinf(work), np.float32(np.nan), work).astype(np.float32)

"""Unprojection: the ray through every pixel, and a depth image back to 3-D points."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.distortion import undistort_normalized
from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.errors import InputError


@lru_cache(maxsize=8)
def pixel_rays(camera: CameraModel) -> NDArray[np.float32]:
    """(2, H, W) float32 read-only undistorted (x/z, y/z) of the ray through every pixel centre.

    Cached per camera model, so per-frame back-projection is one multiply per axis.
    """
    cols = (np.arange(camera.width, dtype=np.float64) - camera.cx) / camera.fx
    rows = (np.arange(camera.height, dtype=np.float64) - camera.cy) / camera.fy
    xd, yd = np.meshgrid(cols, rows)
    rays = np.stack(undistort_normalized(xd, yd, camera)).astype(np.float32)
    rays.setflags(write=False)
    return rays


@lru_cache(maxsize=8)
def _pinhole_rays(camera: CameraModel) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """x/z (1, W) and y/z (H, 1) float32 of an undistorted camera: :func:`pixel_rays` without
    repeating them over every row and column (the same values)."""
    cols = (np.arange(camera.width, dtype=np.float64) - camera.cx) / camera.fx
    rows = (np.arange(camera.height, dtype=np.float64) - camera.cy) / camera.fy
    return cols.astype(np.float32)[None, :], rows.astype(np.float32)[:, None]


def depth_to_points(
    depth_m: NDArray[np.floating],
    camera: CameraModel,
    out: NDArray[np.float32] | None = None,
    first_row: int | None = None,
) -> NDArray[np.float32]:
    """(H, W) depth in metres -> (H, W, 3) float32 optical-frame points, NaN where depth is NaN.

    ``out``: optional (H, W, 3) float32 array (a strided view is fine) to write the points into.
    ``first_row``: the depth is a band of H of the camera's rows starting at this one (None:
    the whole image). Raises InputError when the depth does not fit the camera or ``out`` does
    not fit the depth.
    """
    depth = np.asarray(depth_m)
    start = 0 if first_row is None else first_row
    height = camera.height if first_row is None else depth.shape[0]
    if depth.shape != (height, camera.width) or not 0 <= start <= camera.height - height:
        raise InputError(
            f"depth is {depth.shape} (from row {start}) but the camera model is "
            f"{camera.height}x{camera.width}; scale the camera with CameraModel.scaled to the "
            "depth resolution"
        )
    if out is None:
        out = np.empty((*depth.shape, 3), dtype=np.float32)
    elif out.shape != (*depth.shape, 3) or out.dtype != np.float32:
        raise InputError(f"out must be {(*depth.shape, 3)} float32, got {out.shape} {out.dtype}")
    if camera.is_distorted:
        ray_x, ray_y = pixel_rays(camera)[:, start : start + height]
    else:  # x/z depends on the column only, y/z on the row: no (H, W) ray image to read
        ray_x, ray_y = _pinhole_rays(camera)
        ray_y = ray_y[start : start + height]
    np.multiply(ray_x, depth, out=out[..., 0], casting="same_kind")
    np.multiply(ray_y, depth, out=out[..., 1], casting="same_kind")
    out[..., 2] = depth
    return out

"""Projection of 3-D points into a sparse depth image (the prompt): a z-buffer."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.distortion import distort_normalized, in_calibrated_field
from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.errors import InputError


def project_points_to_depth(
    points_cam: NDArray[np.floating],
    camera: CameraModel,
    out_hw: tuple[int, int],
    min_depth_m: float = 1e-3,
) -> NDArray[np.float32]:
    """Z-buffer (N, 3) optical-frame points (metres) into an (h, w) float32 depth image.

    The intrinsics are scaled to ``out_hw`` with ``CameraModel.scaled``; a point lands in the
    pixel whose centre is nearest to its distorted projection. Points with z <= ``min_depth_m``,
    non-finite or off-image are dropped; the nearest z wins per pixel; NaN = no return.
    Raises InputError on a bad shape.
    """
    pts = np.asarray(points_cam)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise InputError(f"points_cam must be (N, 3), got shape {pts.shape}")
    height, width = int(out_hw[0]), int(out_hw[1])
    if height <= 0 or width <= 0:
        raise InputError(f"out_hw must be positive, got {out_hw}")
    cam = camera.scaled(width, height)
    x, y, z = pts[:, 0], pts[:, 1], pts[:, 2]
    # Every point is projected and the invalid ones are masked afterwards: cheaper than
    # compacting the strided coordinate columns first. NaN fails every comparison below.
    with np.errstate(all="ignore"):
        z64 = z.astype(np.float64)
        xn, yn = x / z64, y / z64
        xd, yd = distort_normalized(xn, yn, cam)
        # Shift by half a pixel so that truncation picks the pixel whose centre is nearest.
        col = cam.fx * xd + (cam.cx + 0.5)
        row = cam.fy * yd + (cam.cy + 0.5)
        inside = (z > min_depth_m) & (z < np.inf) & (col >= 0) & (col < width)
        inside &= in_calibrated_field(xn, yn, cam)
        inside &= (row >= 0) & (row < height)
    flat = row[inside].astype(np.intp) * width + col[inside].astype(np.intp)
    depth = np.full(height * width, np.inf, dtype=np.float32)
    np.minimum.at(depth, flat, z[inside].astype(np.float32, copy=False))
    depth[np.isinf(depth)] = np.nan
    return depth.reshape(height, width)

"""Projection of 3-D points into a sparse depth image (the prompt): a z-buffer."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.distortion import distort_normalized, in_calibrated_field
from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.errors import InputError
from promptdepth_ros.geometry.transforms import transform_points


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
    # The float64 temporaries are reused in place: each new one costs its page faults.
    with np.errstate(all="ignore"):
        z64 = z.astype(np.float64)
        xn, yn = np.divide(x, z64), np.divide(y, z64)
        inside = z > min_depth_m
        inside &= z < np.inf
        if cam.is_distorted:
            inside &= in_calibrated_field(xn, yn, cam)
        col, row = distort_normalized(xn, yn, cam)  # the same arrays when undistorted
        # Shift by half a pixel so that truncation picks the pixel whose centre is nearest.
        col *= cam.fx
        col += cam.cx + 0.5
        row *= cam.fy
        row += cam.cy + 0.5
        inside &= col >= 0
        inside &= col < width
        inside &= row >= 0
        inside &= row < height
    kept = np.flatnonzero(inside)
    flat = row[kept].astype(np.intp)
    flat *= width
    flat += col[kept].astype(np.intp)
    depth = np.full(height * width, np.inf, dtype=np.float32)
    np.minimum.at(depth, flat, z[kept].astype(np.float32, copy=False))
    depth[np.isinf(depth)] = np.nan
    return depth.reshape(height, width)


def _camera_axis(
    pts: NDArray[np.float32], row: NDArray[np.float64], scratch: NDArray[np.float32]
) -> NDArray[np.float32]:
    """One camera coordinate of every point: ``row`` (4,) of T, in transform_points' float32
    arithmetic (the same value to the bit, so a cull on it never disagrees with the exact test)."""
    axis = np.multiply(pts[:, 0], np.float32(row[0]))
    np.multiply(pts[:, 1], np.float32(row[1]), out=scratch)
    axis += scratch
    np.multiply(pts[:, 2], np.float32(row[2]), out=scratch)
    axis += scratch
    axis += np.float32(row[3])
    return axis


def project_cloud_to_depth(
    points: NDArray[np.floating],
    T_camera_points: NDArray[np.floating],
    camera: CameraModel,
    out_hw: tuple[int, int],
    min_depth_m: float = 1e-3,
) -> NDArray[np.float32]:
    """Z-buffer (N, 3) points (any frame; a strided view and NaN points are fine) moved into
    the camera by ``T_camera_points`` (4, 4) into an (h, w) float32 depth image.

    The same image as ``project_points_to_depth(transform_points(T, points), ...)``, but only
    the points in front of the camera (half of a 360-degree scan) are transformed and
    projected. (Culling to the horizontal field of view as well costs more passes over the
    whole scan than it saves.) Raises InputError on a bad shape.
    """
    pts = np.asarray(points)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise InputError(f"points must be (N, 3), got shape {pts.shape}")
    pts = pts.astype(np.float32, copy=False)
    T = np.asarray(T_camera_points, dtype=np.float64)
    z = _camera_axis(pts, T[2], np.empty(len(pts), np.float32))
    with np.errstate(invalid="ignore"):
        ahead = np.flatnonzero(z > min_depth_m)
    return project_points_to_depth(transform_points(T, pts[ahead]), camera, out_hw, min_depth_m)

"""Projection of 3-D points into a sparse depth image (the prompt), with lens distortion.

The distortion follows OpenCV's ``projectPoints`` / ``undistortPoints`` for the CameraInfo models
``plumb_bob`` (k1, k2, p1, p2, k3) and ``rational_polynomial`` (k1, k2, p1, p2, k3, k4, k5, k6).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera import CameraModel
from promptdepth_ros.errors import InputError

_UNDISTORT_ITERATIONS = 20


def _coefficients(camera: CameraModel) -> NDArray[np.float64]:
    """The eight OpenCV coefficients (k1, k2, p1, p2, k3, k4, k5, k6), zero-padded."""
    coeffs = np.zeros(8)
    given = np.asarray(camera.distortion[:8], dtype=np.float64)
    coeffs[: given.size] = given
    return coeffs


def distort_normalized(
    x: NDArray[np.float64], y: NDArray[np.float64], camera: CameraModel
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Apply the camera's lens distortion to normalised coordinates (x = X/Z, y = Y/Z)."""
    if not camera.is_distorted:
        return x, y
    k1, k2, p1, p2, k3, k4, k5, k6 = _coefficients(camera)
    r2 = x * x + y * y
    radial = (1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))) / (1.0 + r2 * (k4 + r2 * (k5 + r2 * k6)))
    xy2 = 2.0 * x * y
    xd = x * radial + p1 * xy2 + p2 * (r2 + 2.0 * x * x)
    yd = y * radial + p1 * (r2 + 2.0 * y * y) + p2 * xy2
    return xd, yd


def undistort_normalized(
    xd: NDArray[np.float64], yd: NDArray[np.float64], camera: CameraModel
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Invert :func:`distort_normalized` by OpenCV's fixed-point iteration (20 iterations)."""
    if not camera.is_distorted:
        return xd, yd
    k1, k2, p1, p2, k3, k4, k5, k6 = _coefficients(camera)
    x, y = xd.copy(), yd.copy()
    for _ in range(_UNDISTORT_ITERATIONS):
        r2 = x * x + y * y
        inverse_radial = (1.0 + r2 * (k4 + r2 * (k5 + r2 * k6))) / (
            1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
        )
        xy2 = 2.0 * x * y
        x = (xd - p1 * xy2 - p2 * (r2 + 2.0 * x * x)) * inverse_radial
        y = (yd - p1 * (r2 + 2.0 * y * y) - p2 * xy2) * inverse_radial
    return x, y


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
        xd, yd = distort_normalized(x / z64, y / z64, cam)
        # Shift by half a pixel so that truncation picks the pixel whose centre is nearest.
        col = cam.fx * xd + (cam.cx + 0.5)
        row = cam.fy * yd + (cam.cy + 0.5)
        inside = (z > min_depth_m) & (z < np.inf) & (col >= 0) & (col < width)
        inside &= (row >= 0) & (row < height)
    flat = row[inside].astype(np.intp) * width + col[inside].astype(np.intp)
    depth = np.full(height * width, np.inf, dtype=np.float32)
    np.minimum.at(depth, flat, z[inside].astype(np.float32, copy=False))
    depth[np.isinf(depth)] = np.nan
    return depth.reshape(height, width)

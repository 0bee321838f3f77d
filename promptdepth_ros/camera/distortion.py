"""Lens distortion of normalised coordinates, as OpenCV's ``projectPoints`` / ``undistortPoints``.

CameraInfo models ``plumb_bob`` (k1, k2, p1, p2, k3) and ``rational_polynomial``
(k1, k2, p1, p2, k3, k4, k5, k6).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.model import CameraModel

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

"""Lens distortion of normalised coordinates, as OpenCV's ``projectPoints`` / ``undistortPoints``.

CameraInfo models ``plumb_bob`` (k1, k2, p1, p2, k3) and ``rational_polynomial``
(k1, k2, p1, p2, k3, k4, k5, k6) follow ``cv::projectPoints``; ``equidistant`` (k1, k2, k3, k4)
follows ``cv::fisheye::projectPoints``. Unlike OpenCV, a point beyond the radius where the
calibration's distortion stops growing with the angle (:func:`max_undistorted_radius`) is not
folded back into the image: callers drop it (:func:`in_calibrated_field`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.model import CameraModel

_TABLE_SIZE = 20001
_RADIUS_NEWTON_STEPS = 3
_NEWTON_STEPS = 6
_DAMPED_STEPS = 40
_DAMPING = (1.0, 0.5, 0.25, 0.1)
# Undistorted radii (tan of the angle off the axis) searched for the calibrated field: up to 89°.
_RADIUS_GRID = np.tan(np.linspace(0.0, np.deg2rad(89.0), 8901))[1:]


def _coefficients(camera: CameraModel) -> NDArray[np.float64]:
    """The eight OpenCV coefficients (k1, k2, p1, p2, k3, k4, k5, k6), zero-padded."""
    coeffs = np.zeros(8)
    given = np.asarray(camera.distortion[:8], dtype=np.float64)
    coeffs[: given.size] = given
    return coeffs


def _fisheye_theta_d(theta: NDArray[np.float64], k: NDArray[np.float64]) -> NDArray[np.float64]:
    """OpenCV fisheye: theta * (1 + k1 theta^2 + k2 theta^4 + k3 theta^6 + k4 theta^8)."""
    t2 = theta * theta
    return theta * (1.0 + t2 * (k[0] + t2 * (k[1] + t2 * (k[2] + t2 * k[3]))))


def _radial_distorted_radius(
    model: str, coefficients: NDArray[np.float64], r: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Distorted radius of undistorted radius ``r`` (tangential terms left out)."""
    if model == "equidistant":
        return _fisheye_theta_d(np.arctan(r), coefficients[:4])
    k1, k2, _, _, k3, k4, k5, k6 = coefficients
    r2 = r * r
    numerator = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
    denominator = 1.0 + r2 * (k4 + r2 * (k5 + r2 * k6))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0.0, r * numerator / denominator, np.nan)


def max_undistorted_radius(camera: CameraModel) -> float:
    """Largest undistorted radius (x/z, y/z) up to which the distorted radius keeps growing.

    Beyond it the calibration folds points back towards the centre (a wide-angle plumb_bob
    fitted to the image area, the rational denominator turning negative), so their projection
    is meaningless. ``inf`` for an undistorted camera.
    """
    if not camera.is_distorted:
        return float("inf")
    return _max_radius(camera.distortion_model, camera.distortion)


@lru_cache(maxsize=64)
def _max_radius(model: str, distortion: tuple[float, ...]) -> float:
    """:func:`max_undistorted_radius` of one distortion model and its coefficients."""
    coefficients = np.zeros(8)
    coefficients[: min(len(distortion), 8)] = distortion[:8]
    distorted = _radial_distorted_radius(model, coefficients, _RADIUS_GRID)
    growing = np.diff(distorted, prepend=0.0) > 0.0
    stop = np.flatnonzero(~growing)
    if stop.size == 0:
        return float(_RADIUS_GRID[-1])
    return float(_RADIUS_GRID[stop[0] - 1]) if stop[0] > 0 else 0.0


def in_calibrated_field(
    x: NDArray[np.float64], y: NDArray[np.float64], camera: CameraModel
) -> NDArray[np.bool_]:
    """True where normalised (x, y) lie within :func:`max_undistorted_radius` (NaN: False)."""
    limit = max_undistorted_radius(camera)
    with np.errstate(invalid="ignore"):
        return np.asarray(x * x + y * y <= limit * limit)


def distort_normalized(
    x: NDArray[np.float64], y: NDArray[np.float64], camera: CameraModel
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Apply the camera's lens distortion to normalised coordinates (x = X/Z, y = Y/Z)."""
    if not camera.is_distorted:
        return x, y
    if camera.distortion_model == "equidistant":
        r = np.hypot(x, y)
        theta_d = _fisheye_theta_d(np.arctan(r), _coefficients(camera)[:4])
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(r > 1e-8, theta_d / r, 1.0)
        return x * scale, y * scale
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
    """Invert :func:`distort_normalized`; NaN where (xd, yd) lie beyond the calibrated field.

    The radius is found on the monotonic part of the radial distortion (this converges where
    OpenCV's fixed-point iteration diverges, on wide-angle lenses), then the tangential terms
    by Newton steps; points that do not reproject within 1e-9 are NaN.
    """
    if not camera.is_distorted:
        return xd, yd
    rho = np.hypot(xd, yd)
    r = _invert_radius(camera, rho)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(rho > 1e-12, r / rho, 1.0)
    x, y = xd * scale, yd * scale
    if camera.distortion_model == "equidistant":
        return x, y
    coefficients = _coefficients(camera)
    for _ in range(_NEWTON_STEPS):
        x, y = _newton_step(x, y, xd, yd, coefficients, 1.0)
    bad = _unsolved(x, y, xd, yd, camera)
    if bad.any():  # near the field's edge the Jacobian is nearly singular: damped steps
        xb, yb, xdb, ydb = x[bad], y[bad], xd[bad], yd[bad]
        xb, yb = xdb * scale[bad], ydb * scale[bad]
        for _ in range(_DAMPED_STEPS):
            tries = [_newton_step(xb, yb, xdb, ydb, coefficients, a) for a in _DAMPING]
            errors = np.stack([_residual(tx, ty, xdb, ydb, camera) for tx, ty in tries])
            best = np.nanargmin(np.where(np.isfinite(errors), errors, np.inf), axis=0)
            xb = np.choose(best, [tx for tx, _ in tries])
            yb = np.choose(best, [ty for _, ty in tries])
        x, y = x.copy(), y.copy()
        x[bad], y[bad] = xb, yb
        bad = _unsolved(x, y, xd, yd, camera)
    return np.where(bad, np.nan, x), np.where(bad, np.nan, y)


def _residual(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    xd: NDArray[np.float64],
    yd: NDArray[np.float64],
    camera: CameraModel,
) -> NDArray[np.float64]:
    """Distance between distort(x, y) and the target (xd, yd)."""
    fx, fy = distort_normalized(x, y, camera)
    return np.asarray(np.hypot(fx - xd, fy - yd))


def _unsolved(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    xd: NDArray[np.float64],
    yd: NDArray[np.float64],
    camera: CameraModel,
) -> NDArray[np.bool_]:
    """True where (x, y) does not reproject within 1e-9 or lies beyond the calibrated field."""
    with np.errstate(invalid="ignore"):
        close = _residual(x, y, xd, yd, camera) <= 1e-9 * np.maximum(1.0, np.hypot(xd, yd))
        return np.asarray(~(close & in_calibrated_field(x, y, camera)))


def _invert_radius(camera: CameraModel, rho: NDArray[np.float64]) -> NDArray[np.float64]:
    """Undistorted radius whose radial distortion is ``rho``, up to the field's edge (where
    tangential terms push ``rho`` past the radial maximum, the edge itself).

    Interpolates a table of the monotonic radial curve, then refines with 1-D Newton steps.
    """
    model, coefficients = camera.distortion_model, _coefficients(camera)
    edge = max_undistorted_radius(camera)
    table_r = np.tan(np.linspace(0.0, np.arctan(edge), _TABLE_SIZE))
    table_rho = _radial_distorted_radius(model, coefficients, table_r)
    r = np.interp(rho, table_rho, table_r)
    for _ in range(_RADIUS_NEWTON_STEPS):
        h = 1e-7 * (1.0 + r)
        slope = (
            _radial_distorted_radius(model, coefficients, r + h)
            - _radial_distorted_radius(model, coefficients, r - h)
        ) / (2.0 * h)
        error = _radial_distorted_radius(model, coefficients, r) - rho
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.clip(np.where(slope > 0.0, r - error / slope, r), 0.0, edge)
    return r


def _newton_step(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    xd: NDArray[np.float64],
    yd: NDArray[np.float64],
    coefficients: NDArray[np.float64],
    step: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A Newton step (times ``step``) of plumb_bob/rational distortion(x, y) = (xd, yd)."""
    k1, k2, p1, p2, k3, k4, k5, k6 = coefficients
    r2 = x * x + y * y
    num, dnum = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3)), k1 + r2 * (2.0 * k2 + 3.0 * r2 * k3)
    den, dden = 1.0 + r2 * (k4 + r2 * (k5 + r2 * k6)), k4 + r2 * (2.0 * k5 + 3.0 * r2 * k6)
    radial = num / den
    dradial = (dnum * den - num * dden) / (den * den)  # d radial / d r2
    ex = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x) - xd
    ey = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y - yd
    jxx = radial + 2.0 * x * x * dradial + 2.0 * p1 * y + 6.0 * p2 * x
    jxy = 2.0 * x * y * dradial + 2.0 * p1 * x + 2.0 * p2 * y  # the Jacobian is symmetric
    jyy = radial + 2.0 * y * y * dradial + 6.0 * p1 * y + 2.0 * p2 * x
    det = jxx * jyy - jxy * jxy
    with np.errstate(divide="ignore", invalid="ignore"):
        return x - step * (jyy * ex - jxy * ey) / det, y - step * (jxx * ey - jxy * ex) / det

"""Support plane of a tabletop cloud: RANSAC, least-squares refinement and the measured noise.

The height band that separates the table from the objects is not fixed: it is a multiple of
the noise measured on the fitted plane (a robust standard deviation of the inliers' heights),
so objects a few millimetres tall survive on clean depth and noisy depth does not lift
patches of table into objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import open3d as o3d
from numpy.typing import NDArray

_MAX_PLANE_TILT_RAD = np.deg2rad(30.0)
_RANSAC_ITERATIONS = 300
_REFINE_ITERATIONS = 3
_MAD_TO_SIGMA = 1.4826  # median absolute deviation -> standard deviation of a normal law
_REFIT_SIGMAS = 2.5  # points this close (in noise sigmas) refine the plane
_NOISE_WINDOW = 2.0  # RANSAC bands around the plane that the first noise estimate looks at


@dataclass(frozen=True)
class SupportPlane:
    """A fitted support plane.

    model: (4,) float64 ``(a, b, c, d)``, unit normal pointing up; height = p . n + d, metres.
    noise_m: robust standard deviation of the inliers' heights, metres.
    """

    model: NDArray[np.float64]
    noise_m: float

    def height(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """Signed height (N,) of points (N, 3) above the plane, metres."""
        return points @ self.model[:3] + self.model[3]


def _plane_through(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Least-squares plane (4,) of points (K, 3), normal pointing up (+z)."""
    centre = points.mean(axis=0)
    normal = np.linalg.svd(points - centre, full_matrices=False)[2][2]
    normal = normal if normal[2] >= 0.0 else -normal
    return np.array([*normal, -normal @ centre])


def _robust_sigma(residuals: NDArray[np.float64]) -> float:
    """Median-absolute-deviation estimate of the standard deviation of ``residuals`` (K,)."""
    return float(_MAD_TO_SIGMA * np.median(np.abs(residuals - np.median(residuals))))


def fit_support_plane(
    points: NDArray[np.float64], ransac_distance_m: float, floor_m: float, seed: int
) -> SupportPlane | None:
    """Dominant near-horizontal plane of points (N, 3) and its noise.

    RANSAC with ``ransac_distance_m`` finds the plane; least squares on the points within
    ``_REFIT_SIGMAS`` noise sigmas (at least ``floor_m``) refines it while the noise is
    re-measured. None when there are fewer than 3 points or the plane tilts over 30 degrees.
    """
    if len(points) < 3:
        return None
    o3d.utility.random.seed(seed)
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    _, inliers = cloud.segment_plane(ransac_distance_m, 3, _RANSAC_ITERATIONS)
    model = _plane_through(points[np.asarray(inliers, np.int64)])
    height = points @ model[:3] + model[3]
    near = np.abs(height) <= _NOISE_WINDOW * ransac_distance_m
    sigma = _robust_sigma(height[near])
    for _ in range(_REFINE_ITERATIONS):
        band = np.abs(height) <= max(_REFIT_SIGMAS * sigma, floor_m)
        if band.sum() < 3:
            break
        model = _plane_through(points[band])
        height = points @ model[:3] + model[3]
        sigma = _robust_sigma(height[band])
    if np.arccos(np.clip(model[2], -1.0, 1.0)) > _MAX_PLANE_TILT_RAD:
        return None
    return SupportPlane(model, sigma)

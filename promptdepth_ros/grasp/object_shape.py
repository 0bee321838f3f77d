"""Shape of one object cluster: its symmetry centre, its box axes and a guess of its hidden
back (the seen points turned about the vertical axis through the centre).

Points and normals are in the planning frame (z-up), metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

_CENTRE_ITERATIONS = 4
_CENTRE_SCALE_M = 0.01  # normal lines this far from the centre count half
_BOXY_RESULTANT = 0.5  # wall azimuths this aligned (mod 90 degrees) come from box faces
_RESTING_M = 0.015  # an object whose lowest point is this close to the plane rests on it


def symmetry_centre(
    points: NDArray[np.float64], normals: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Point (3,) closest in robust least squares to all normal lines (centre of a sphere, a
    point on a cylinder axis, the middle of a box); the centroid when the normals are degenerate.

    Lines passing far from the current estimate (normals blended across an edge) are weighted
    down over a few Cauchy-reweighted iterations.
    """
    proj = np.eye(3)[None] - normals[:, :, None] * normals[:, None, :]  # (K, 3, 3)
    weights = np.ones(len(points))
    centre = points.mean(axis=0)
    for _ in range(_CENTRE_ITERATIONS):
        a = np.einsum("k,kij->ij", weights, proj)
        if np.linalg.cond(a) > 1e6:
            return points.mean(axis=0) if _ == 0 else centre
        centre = np.linalg.solve(a, np.einsum("k,kij,kj->i", weights, proj, points))
        offset = np.einsum("kij,kj->ki", proj, centre - points)  # centre to each line
        weights = 1.0 / (1.0 + np.einsum("ki,ki->k", offset, offset) / _CENTRE_SCALE_M**2)
    return centre


@dataclass(frozen=True)
class MirroredBack:
    """Guess of an object's hidden back: its seen points turned 180 degrees about the vertical
    axis through its symmetry centre (objects resting on a table are mostly symmetric so; shape
    completion by symmetry as in Bohg et al., ICRA 2011).

    centre_m: (3,) float64 symmetry centre, metres.
    points: (K, 3) float64 turned points, metres. normals: (K, 3) float64 turned unit normals.
    """

    centre_m: NDArray[np.float64]
    points: NDArray[np.float64]
    normals: NDArray[np.float64]


def plane_axes(up: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two unit vectors (3,) spanning the plane perpendicular to ``up``."""
    e1 = np.cross(up, [1.0, 0.0, 0.0] if abs(up[0]) < 0.9 else [0.0, 1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(up, e1)


def wall_azimuth(
    normals: NDArray[np.float64], up: NDArray[np.float64]
) -> tuple[float, bool] | None:
    """Azimuth (rad, from :func:`plane_axes` e1) of the walls' normals modulo 90 degrees, and
    whether they are box walls (aligned mod 90 degrees); None with under 3 wall normals."""
    walls = np.abs(normals @ up) < 0.5
    if walls.sum() < 3:
        return None
    e1, e2 = plane_axes(up)
    azimuth = np.arctan2(normals[walls] @ e2, normals[walls] @ e1)
    resultant = np.exp(4j * azimuth).mean()  # box walls repeat every 90 degrees
    return float(np.angle(resultant) / 4.0), bool(abs(resultant) >= _BOXY_RESULTANT)


def _box_centre(
    points: NDArray[np.float64], azimuth: float, up: NDArray[np.float64], centre: NDArray
) -> NDArray[np.float64]:
    """``centre`` moved horizontally to the middle of the points' extents along box axes at
    ``azimuth`` (a box seen from above shows its whole top face)."""
    e1, e2 = plane_axes(up)
    out = centre.copy()
    for angle in (azimuth, azimuth + 0.5 * np.pi):
        axis = np.cos(angle) * e1 + np.sin(angle) * e2
        along = points @ axis
        out += (0.5 * (along.min() + along.max()) - out @ axis) * axis
    return out


def mirrored_back(
    points: NDArray[np.float64],
    normals: NDArray[np.float64],
    up: NDArray[np.float64],
    plane_model: NDArray[np.float64] | None = None,
) -> MirroredBack:
    """Mirror one object's points and normals (K, 3) about its vertical symmetry axis (``up``).

    A symmetry centre outside the object's height range (normals blended over a thin part)
    is not trusted: the centroid is used instead. A box (walls aligned mod 90 degrees) is
    centred between the extents of its points along its axes. An object resting on the plane
    (lowest point within ``_RESTING_M``) has its centre at half its height.
    """
    centre = symmetry_centre(points, normals)
    heights = points @ up
    if not heights.min() <= centre @ up <= heights.max():
        centre = points.mean(axis=0)
    walls = wall_azimuth(normals, up)
    if walls is not None and walls[1]:
        centre = _box_centre(points, walls[0], up, centre)
    if plane_model is not None:
        above = heights + plane_model[3]
        if above.min() <= _RESTING_M:
            centre = centre + (0.5 * above.max() - (centre @ up + plane_model[3])) * up
    offset = points - centre
    along = (offset @ up)[:, None] * up
    turned_normals = 2.0 * (normals @ up)[:, None] * up - normals
    return MirroredBack(centre, centre + 2.0 * along - offset, turned_normals)

"""Contact measurement and scores of grasp candidates.

Contacts: the object's own points inside the closing region (pad depth ``x in [c - finger_depth,
c]``, ``|z| <= finger_width / 2``, any ``y`` up to the opening) are what the fingers squeeze;
the extreme points along +Y and -Y are the contacts, their distance is the contact width.

A side is *observed* when points near its extreme have side-facing normals (not facing the
approaching gripper); its contact normal is their mean. Otherwise the extreme is the rim of a
surface that faces the gripper (a top face seen from above) and the wall below it is hidden:
the side is *completed* by extruding the rim along the approach (prismatic assumption) and its
normal is the silhouette normal in the Y-Z plane, from the extremes of the two pad halves.

Score terms, each in [0, 1] (``theta_s`` = angle between the closing line and side s normal,
``phi = atan(mu)`` the friction-cone half-angle):

* antipodal = (1 - max_s(theta_s) / phi) * 0.85 ** (number of completed sides); a grasp with
  ``max_s(theta_s) >= phi`` slips and is rejected;
* support = min(1, points in the closing region / (finger_depth * finger_width / voxel**2));
* centre = 1 - min(1, |grasp centre - object centre| / object radius), with the object centre
  the symmetry centre of :func:`promptdepth_ros.grasp.candidates.symmetry_centre` (the
  centroid of a partial view is biased towards the camera);
* approach = 1 - angle(approach, preferred approach) / pi.

Total score = sum(w_i * term_i) / sum(w_i), in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from promptdepth_ros.grasp.collision import gather_neighbours
from promptdepth_ros.grasp.types import GraspPlannerConfig

COMPLETION_FACTOR = 0.85
_FACING_APPROACH = -np.cos(np.deg2rad(45.0))  # local normal x below this faces the gripper
_WIDER_THAN_OPENING_M = 0.02  # look this far past the opening so too-wide objects show up
_SHORT_SIDE_VOXELS = 1.5
_MIN_SLOPE_BASE_M = 0.004


@dataclass(frozen=True)
class ContactMeasurement:
    """Contacts of M candidates.

    centres: (M, 3) float64 grasp origins moved along X to the height of the contacts, metres.
    depth_shift_m: (M,) float64 that move along X (the contact depth shrinks by it), metres.
    width_m: (M,) float64 contact distance (without margin), metres.
    angles_rad: (M, 2) float64 angle between the closing line and the [+Y, -Y] contact normals.
    completed: (M, 2) bool, side completed from the silhouette (not seen directly).
    support: (M,) int64 object points in the closing region.
    found: (M,) bool, object points were found on both sides of the closing region.
    """

    centres: NDArray[np.float64]
    depth_shift_m: NDArray[np.float64]
    width_m: NDArray[np.float64]
    angles_rad: NDArray[np.float64]
    completed: NDArray[np.bool_]
    support: NDArray[np.int64]
    found: NDArray[np.bool_]


def _group_extreme(
    groups: NDArray[np.int64], values: NDArray[np.float64], n_groups: int
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Index of the largest value in each group (n_groups,) and whether the group is non-empty."""
    order = np.lexsort((values, groups))
    last = np.searchsorted(groups[order], np.arange(n_groups), side="right") - 1
    present = np.bincount(groups, minlength=n_groups) > 0
    return order[np.maximum(last, 0)], present


def measure_contacts(
    centres: NDArray[np.float64],
    rotations: NDArray[np.float64],
    contact_depth_m: NDArray[np.float64],
    points: NDArray[np.float64],
    normals: NDArray[np.float64],
    tree: cKDTree,
    config: GraspPlannerConfig,
) -> ContactMeasurement:
    """Contacts of candidates (M, 3) / (M, 3, 3) on one object's points and normals (K, 3)."""
    g = config.gripper
    m = len(centres)
    reach = 0.5 * g.max_opening_m + _WIDER_THAN_OPENING_M
    radius = np.sqrt(g.finger_depth_m**2 + reach**2 + (0.5 * g.finger_width_m) ** 2)
    rows, idx = gather_neighbours(tree, centres, np.full(m, radius))
    local = np.einsum("nji,nj->ni", rotations[rows], points[idx] - centres[rows])
    tip = contact_depth_m[rows]
    keep = (
        (local[:, 0] <= tip)
        & (local[:, 0] >= tip - g.finger_depth_m)
        & (np.abs(local[:, 2]) <= 0.5 * g.finger_width_m)
        & (np.abs(local[:, 1]) <= reach)
    )
    rows, idx, local = rows[keep], idx[keep], local[keep]
    if len(rows) == 0:
        zeros = np.zeros(m)
        return ContactMeasurement(
            centres,
            zeros,
            zeros,
            np.full((m, 2), np.pi / 2),
            np.zeros((m, 2), bool),
            np.zeros(m, np.int64),
            np.zeros(m, bool),
        )
    local_n = np.einsum("nji,nj->ni", rotations[rows], normals[idx])
    support = np.bincount(rows, minlength=m)
    band = 0.5 * config.voxel_size_m
    reaches = np.zeros((m, 2))
    contact_x = np.zeros((m, 2))
    observed_angle = np.full((m, 2), np.pi / 2)
    rim = np.zeros((m, 2), bool)
    present = np.zeros((m, 2), bool)
    for side, sign in enumerate((1.0, -1.0)):
        y = sign * local[:, 1]
        top, present[:, side] = _group_extreme(rows, y, m)
        reaches[:, side] = np.where(present[:, side], y[top], -np.inf)
        contact_x[:, side] = local[top, 0]
        near = y >= reaches[rows, side] - band
        wall = near & (local_n[:, 0] > _FACING_APPROACH)
        sums = np.stack([np.bincount(rows[wall], sign * local_n[wall, k], m) for k in range(3)], 1)
        norm = np.linalg.norm(sums, axis=1)
        rim[:, side] = norm <= 1e-9
        cos_wall = sums[:, 1] / np.maximum(norm, 1e-12)
        silhouette = _silhouette_angle(rows, y, local[:, 2], m)
        observed_angle[:, side] = np.where(
            rim[:, side], silhouette, np.arccos(np.clip(cos_wall, -1.0, 1.0))
        )
    half = reaches.max(axis=1)
    # a side reaching clearly less far than the other is occluded: mirror the far side
    short = reaches < half[:, None] - _SHORT_SIDE_VOXELS * config.voxel_size_m
    angles = np.where(short, observed_angle[:, ::-1], observed_angle)
    shift = np.where(short, contact_x[:, ::-1], contact_x).mean(axis=1)
    return ContactMeasurement(
        centres=centres + shift[:, None] * rotations[:, :, 0],
        depth_shift_m=shift,
        width_m=2.0 * np.maximum(half, 0.0),
        angles_rad=angles,
        completed=short | rim,
        support=support,
        found=(support > 0) & (half > 0.0) & (half < reach),
    )


def _silhouette_angle(
    rows: NDArray[np.int64], y: NDArray[np.float64], z: NDArray[np.float64], m: int
) -> NDArray[np.float64]:
    """Tilt (m,) of the outline between the extremes of the two pad halves (z < 0, z >= 0)."""
    halves = 2 * rows + (z >= 0.0)
    top, present = _group_extreme(halves, y, 2 * m)
    ys, zs = y[top].reshape(m, 2), z[top].reshape(m, 2)
    both = present.reshape(m, 2).all(axis=1)
    dz = np.abs(zs[:, 1] - zs[:, 0])
    tilt = np.arctan2(np.abs(ys[:, 1] - ys[:, 0]), np.maximum(dz, 1e-12))
    # extremes of both halves at the same z: the outline peaks there, perpendicular to Y
    return np.where(both, np.where(dz >= _MIN_SLOPE_BASE_M, tilt, 0.0), np.pi / 2)


def score_terms(
    measured: ContactMeasurement,
    rotations: NDArray[np.float64],
    centroid_m: NDArray[np.float64],
    radius_m: float,
    config: GraspPlannerConfig,
) -> NDArray[np.float64]:
    """Score terms (M, 4) [antipodal, support, centroid, approach]; antipodal 0 = outside cone."""
    g = config.gripper
    worst = measured.angles_rad.max(axis=1)
    antipodal = np.clip(1.0 - worst / config.friction_angle_rad, 0.0, 1.0)
    antipodal *= COMPLETION_FACTOR ** measured.completed.sum(axis=1)
    expected = g.finger_depth_m * g.finger_width_m / config.voxel_size_m**2
    support = np.minimum(1.0, measured.support / expected)
    offset = np.linalg.norm(measured.centres - centroid_m, axis=1)
    centroid = 1.0 - np.minimum(1.0, offset / max(radius_m, 1e-9))
    preferred = np.asarray(config.preferred_approach, np.float64)
    cos_approach = np.clip(rotations[:, :, 0] @ preferred, -1.0, 1.0)
    approach = 1.0 - np.arccos(cos_approach) / np.pi
    return np.stack([antipodal, support, centroid, approach], axis=1)


def total_score(terms: NDArray[np.float64], config: GraspPlannerConfig) -> NDArray[np.float64]:
    """Weighted mean (M,) of the score terms (M, 4), in [0, 1]."""
    w = config.weights
    weights = np.array([w.antipodal, w.support, w.centroid, w.approach])
    return terms @ weights / weights.sum()

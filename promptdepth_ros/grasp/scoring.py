"""Contact measurement and scores of grasp candidates.

Width: the object's own points inside the closing region (pad depth ``x in [c - finger_depth,
c]``, ``|z| <= finger_width / 2``, any ``y`` up to the opening) are what the fingers squeeze;
their extremes along +Y and -Y set the opening.

Contacts lie on the closing line itself (grasp-frame ``x = z = 0``), where a real finger first
touches and where the friction cone matters. The points in a thin tube around the line that
reach furthest along +Y (-Y) form that side's contact patch; the side's angle is that of the
patch's mean normal, or of the mean normal of the worst half of the patch (split along X or
along Z) when that is larger, so a line next to an edge or corner (where the true normal
flips) or on a strongly curved surface counts as risky. A side that reaches clearly less far
than the other on the line is hidden and mirrors the other side's angle. When neither side
shows on the line (walls edge-on to the camera or hidden under a top face) both angles come
from the outline of the pads' points (prismatic assumption). Mirrored and outline sides count
as *completed*.

Score terms, each in [0, 1] (``theta_s`` = angle between the closing line and side s normal,
``phi = atan(mu)`` the friction-cone half-angle):

* antipodal = (1 - max_s(theta_s) / phi) * 0.85 ** (number of completed sides); a grasp with
  ``max_s(theta_s) >= phi`` slips and is rejected;
* support = min(1, points in the closing region / (finger_depth * finger_width / voxel**2));
* symmetry = 1 - min(1, |grasp centre - object centre| / object radius), with the object centre
  the symmetry centre of :func:`promptdepth_ros.grasp.scene_processing.symmetry_centre` (the
  centroid of a partial view is biased towards the camera);
* approach = 1 - angle(approach, preferred approach) / pi.

Total score = sum(w_i * term_i) / sum(w_i), in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.grasp.collision import in_grasp_frames
from promptdepth_ros.grasp.types import GraspPlannerConfig, GripperModel

COMPLETION_FACTOR = 0.85
_WIDER_THAN_OPENING_M = 0.02  # look this far past the opening so too-wide objects show up
_TUBE_VOXELS = 1.5  # half-size of the square tube around the closing line
_PATCH_VOXELS = 1.0  # tube points this close to a side's extreme form its contact patch
_SHORT_SIDE_VOXELS = 1.5
_MIN_SLOPE_BASE_M = 0.004
_CHUNK = 128  # candidates per vectorised block


@dataclass(frozen=True)
class ContactMeasurement:
    """Contacts of M candidates on the closing line (grasp-frame x = z = 0).

    width_m: (M,) float64 extent of the object in the finger pads, both sides (no margin), m.
    angles_rad: (M, 2) float64 angle between the closing line and the [+Y, -Y] contact normals
        (mean normal of the contact patch, or of its worst half).
    completed: (M, 2) bool, side not seen on the line: mirrored from the other side, or both
        from the pads' outline when neither is seen.
    support: (M,) int64 object points in the closing region.
    found: (M,) bool, the line meets the object and the pads hold it within the opening.
    """

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


def _group_max(
    groups: NDArray[np.int64], values: NDArray[np.float64], n_groups: int, empty: float
) -> NDArray[np.float64]:
    """Largest value (n_groups,) per group, ``empty`` for empty groups."""
    out = np.full(n_groups, empty)
    np.maximum.at(out, groups, values)
    return out


def _closing_region(
    centres: NDArray[np.float64],
    rotations: NDArray[np.float64],
    contact_depth_m: NDArray[np.float64],
    points: NDArray[np.float64],
    reach_m: float,
    tube_half_m: float,
    gripper: GripperModel,
) -> tuple[
    NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]
]:
    """(candidate, point) pairs in the pads or the line's tube: rows (P,), point indices (P,),
    grasp-frame coordinates (P, 3) and the pad and tube masks (P,)."""
    rows, idx, local, pad, tube = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [], [], []
    for start in range(0, len(centres), _CHUNK):
        sl = slice(start, start + _CHUNK)
        frames = in_grasp_frames(points, centres[sl], rotations[sl])  # (K, m, 3)
        x, y, z = frames[..., 0], np.abs(frames[..., 1]), np.abs(frames[..., 2])
        tip = contact_depth_m[sl]
        in_pad = (x <= tip) & (x >= tip - gripper.finger_depth_m)
        in_pad &= z <= 0.5 * gripper.finger_width_m
        in_tube = (np.abs(x) <= tube_half_m) & (z <= tube_half_m)
        k, r = np.nonzero((y <= reach_m) & (in_pad | in_tube))
        rows.append(r + start)
        idx.append(k)
        local.append(frames[k, r])
        pad.append(in_pad[k, r])
        tube.append(in_tube[k, r])
    return (
        np.concatenate(rows),
        np.concatenate(idx),
        np.concatenate([np.zeros((0, 3)), *local]),
        np.concatenate([np.zeros(0, bool), *pad]),
        np.concatenate([np.zeros(0, bool), *tube]),
    )


def measure_contacts(
    centres: NDArray[np.float64],
    rotations: NDArray[np.float64],
    contact_depth_m: NDArray[np.float64],
    points: NDArray[np.float64],
    normals: NDArray[np.float64],
    config: GraspPlannerConfig,
) -> ContactMeasurement:
    """Contacts of candidates (M, 3) / (M, 3, 3) on one object's points and normals (K, 3)."""
    g = config.gripper
    m = len(centres)
    reach = 0.5 * g.max_opening_m + _WIDER_THAN_OPENING_M
    tube_half = _TUBE_VOXELS * config.voxel_size_m
    rows, idx, local, pad, tube = _closing_region(
        centres, rotations, contact_depth_m, points, reach, tube_half, g
    )
    support = np.bincount(rows[pad], minlength=m)
    t_rows, t_local = rows[tube], local[tube]
    t_y = t_local[:, 1]
    t_normals = np.einsum("nji,nj->ni", rotations[t_rows], normals[idx[tube]])
    pad_reach = np.zeros((m, 2))
    line_reach = np.full((m, 2), -np.inf)
    angles = np.full((m, 2), np.pi / 2)
    for side, sign in enumerate((1.0, -1.0)):
        pad_reach[:, side] = _group_max(rows[pad], sign * local[pad, 1], m, -np.inf)
        y = sign * t_y
        line_reach[:, side] = _group_max(t_rows, y, m, -np.inf)
        patch = y >= line_reach[t_rows, side] - _PATCH_VOXELS * config.voxel_size_m
        p_rows, p_normals, p_local = t_rows[patch], sign * t_normals[patch], t_local[patch]
        angles[:, side] = _mean_normal_angle(p_rows, p_normals, m, np.pi / 2)
        # robust to a few millimetres of pose error: the worst half of the patch counts too
        for axis in (0, 2):
            for half in (p_local[:, axis] < 0.0, p_local[:, axis] >= 0.0):
                part = _mean_normal_angle(p_rows[half], p_normals[half], m, 0.0)
                angles[:, side] = np.maximum(angles[:, side], part)
    pad_half = np.maximum(pad_reach.max(axis=1), 0.0)
    seen = np.isfinite(line_reach)
    far = line_reach.max(axis=1)
    # a side reaching clearly less far than the other on the line is occluded: mirror it
    short = line_reach < far[:, None] - _SHORT_SIDE_VOXELS * config.voxel_size_m
    angles = np.where(short, angles[:, ::-1], angles)
    # nothing on the line (walls edge-on or hidden): extrude the pads' outline (prismatic)
    unseen = ~seen.any(axis=1)
    outline = np.stack(
        [_silhouette_angle(rows[pad], sign * local[pad, 1], local[pad, 2], m) for sign in (1, -1)],
        axis=1,
    )
    angles = np.where(unseen[:, None], outline, angles)
    spans_line = np.where(unseen, pad_reach.min(axis=1) > 0.0, far > 0.0)
    return ContactMeasurement(
        width_m=2.0 * np.maximum(pad_half, far),
        angles_rad=angles,
        completed=short | unseen[:, None],
        support=support,
        found=(support > 0) & spans_line & (np.maximum(pad_half, far) < reach),
    )


def _mean_normal_angle(
    rows: NDArray[np.int64], normals: NDArray[np.float64], m: int, empty: float
) -> NDArray[np.float64]:
    """Angle (m,) between +Y and the mean of each row's grasp-frame normals; ``empty`` if none."""
    sums = np.stack([np.bincount(rows, normals[:, k], m) for k in range(3)], axis=1)
    norm = np.linalg.norm(sums, axis=1)
    cos_mean = sums[:, 1] / np.maximum(norm, 1e-12)
    return np.where(norm > 1e-9, np.arccos(np.clip(cos_mean, -1.0, 1.0)), empty)


def _silhouette_angle(
    rows: NDArray[np.int64], y: NDArray[np.float64], z: NDArray[np.float64], m: int
) -> NDArray[np.float64]:
    """Tilt (m,) of the outline between the extremes of the two pad halves (z < 0, z >= 0)."""
    if len(rows) == 0:
        return np.full(m, np.pi / 2)
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
    centres: NDArray[np.float64],
    rotations: NDArray[np.float64],
    symmetry_centre_m: NDArray[np.float64],
    radius_m: float,
    config: GraspPlannerConfig,
) -> NDArray[np.float64]:
    """Score terms (M, 4) [antipodal, support, symmetry, approach]; antipodal 0 = outside cone."""
    g = config.gripper
    worst = measured.angles_rad.max(axis=1)
    antipodal = np.clip(1.0 - worst / config.friction_angle_rad, 0.0, 1.0)
    antipodal *= COMPLETION_FACTOR ** measured.completed.sum(axis=1)
    expected = g.finger_depth_m * g.finger_width_m / config.voxel_size_m**2
    support = np.minimum(1.0, measured.support / expected)
    offset = np.linalg.norm(centres - symmetry_centre_m, axis=1)
    symmetry = 1.0 - np.minimum(1.0, offset / max(radius_m, 1e-9))
    preferred = np.asarray(config.preferred_approach, np.float64)
    cos_approach = np.clip(rotations[:, :, 0] @ preferred, -1.0, 1.0)
    approach = 1.0 - np.arccos(cos_approach) / np.pi
    return np.stack([antipodal, support, symmetry, approach], axis=1)


def total_score(terms: NDArray[np.float64], config: GraspPlannerConfig) -> NDArray[np.float64]:
    """Weighted mean (M,) of the score terms (M, 4), in [0, 1]."""
    w = config.weights
    weights = np.array([w.antipodal, w.support, w.symmetry, w.approach])
    return terms @ weights / weights.sum()

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
shows on the line (walls edge-on to the camera or hidden under a top face), or the object is
under three voxels deep in the pads along the approach (normals blend its faces), both angles
come from the outline of the pads' points (prismatic assumption). Mirrored and outline sides count
as *completed*.

Score terms, each in [0, 1] (``theta_s`` = angle between the closing line and side s normal,
``phi = atan(mu)`` the friction-cone half-angle):

* antipodal = (1 - max_s(theta_s) / phi) * 0.85 ** (number of completed sides); a grasp with
  ``max_s(theta_s) >= phi`` slips and is rejected;
* support = min(1, points in the closing region / (finger_depth * finger_width / voxel**2));
* symmetry = 1 - min(1, |grasp centre - object centre| / object radius), with the object centre
  the symmetry centre of :func:`promptdepth_ros.grasp.object_shape.symmetry_centre` (the
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
_TUBE_VOXELS = 1.0  # half-size of the square tube around the closing line
_PATCH_VOXELS = 1.0  # tube points this close to a side's extreme form its contact patch
_SHORT_SIDE_VOXELS = 1.5
_OUTLINE_BIN_VOXELS = 0.75  # half-width of the outline bins
_CHUNK = 128  # candidates per vectorised block
_THIN_VOXELS = 3.0  # objects shallower than this in the pads along X: normals blend faces


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
        frames = in_grasp_frames(points, centres[sl], rotations[sl])  # (m, 3, K)
        x, y, z = frames[:, 0], np.abs(frames[:, 1]), np.abs(frames[:, 2])
        tip = contact_depth_m[sl, None]
        in_pad = (x <= tip) & (x >= tip - gripper.finger_depth_m)
        in_pad &= z <= 0.5 * gripper.finger_width_m
        in_tube = (np.abs(x) <= tube_half_m) & (z <= tube_half_m)
        r, k = np.nonzero((y <= reach_m) & (in_pad | in_tube))  # row by row: sums as before
        rows.append(r + start)
        idx.append(k)
        local.append(frames[r, :, k])
        pad.append(in_pad[r, k])
        tube.append(in_tube[r, k])
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
    t_normals = np.einsum("nji,nj->ni", rotations[t_rows], normals[idx[tube]])
    t_y = t_local[:, 1]
    pad_reach = np.zeros((m, 2))
    line_reach = np.full((m, 2), -np.inf)
    angles = np.full((m, 2), np.pi / 2)
    for side, sign in enumerate((1.0, -1.0)):
        pad_reach[:, side] = _group_max(rows[pad], sign * local[pad, 1], m, -np.inf)
        y = sign * t_y
        line_reach[:, side] = _group_max(t_rows, y, m, -np.inf)
        patch = y >= line_reach[t_rows, side] - _PATCH_VOXELS * config.voxel_size_m
        p_rows, p_normals, p_local = t_rows[patch], sign * t_normals[patch], t_local[patch]
        angles[:, side] = _worst_patch_angle(p_rows, p_normals, p_local, m)
    pad_half = np.maximum(pad_reach.max(axis=1), 0.0)
    seen = np.isfinite(line_reach)
    far = line_reach.max(axis=1)
    # a side reaching clearly less far than the other on the line is occluded: mirror it
    short = line_reach < far[:, None] - _SHORT_SIDE_VOXELS * config.voxel_size_m
    angles = np.where(short, angles[:, ::-1], angles)
    # nothing on the line (walls edge-on or hidden), or an object so shallow in the pads that
    # its normals blend its faces (bars, low objects): extrude the pads' outline (prismatic)
    depth_in_pads = _group_max(rows[pad], local[pad, 0], m, -np.inf) + _group_max(
        rows[pad], -local[pad, 0], m, -np.inf
    )
    unseen = ~seen.any(axis=1) | (depth_in_pads < _THIN_VOXELS * config.voxel_size_m)
    outline = np.stack(
        [
            _silhouette_angle(
                rows[pad],
                sign * local[pad, 1],
                local[pad, 2],
                m,
                0.5 * g.finger_width_m - _OUTLINE_BIN_VOXELS * config.voxel_size_m,
                _OUTLINE_BIN_VOXELS * config.voxel_size_m,
            )
            for sign in (1, -1)
        ],
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


def _worst_patch_angle(
    rows: NDArray[np.int64], normals: NDArray[np.float64], local: NDArray[np.float64], m: int
) -> NDArray[np.float64]:
    """Angle (m,) between +Y and the mean grasp-frame normal of each row's patch, or of its worst
    half (split at x = 0 and at z = 0: robust to a few millimetres of pose error); pi/2 for an
    empty patch. One bincount per axis over the whole patch and its four halves."""
    keys = np.concatenate(
        [5 * rows, 5 * rows + 1 + (local[:, 0] >= 0.0), 5 * rows + 3 + (local[:, 2] >= 0.0)]
    )
    weights = np.concatenate([normals] * 3)
    sums = np.stack([np.bincount(keys, weights[:, k], 5 * m) for k in range(3)], axis=1)
    sums = sums.reshape(m, 5, 3)
    norm = np.linalg.norm(sums, axis=2)
    cos_mean = sums[..., 1] / np.maximum(norm, 1e-12)
    angles = np.where(norm > 1e-9, np.arccos(np.clip(cos_mean, -1.0, 1.0)), 0.0)
    angles[:, 0] = np.where(norm[:, 0] > 1e-9, angles[:, 0], np.pi / 2)
    return angles.max(axis=1)


def _silhouette_angle(
    rows: NDArray[np.int64],
    y: NDArray[np.float64],
    z: NDArray[np.float64],
    m: int,
    offset_m: float,
    bin_half_m: float,
) -> NDArray[np.float64]:
    """Tilt (m,) of the pads' outline at the closing line: the steeper of its slopes from the
    line (z = 0) to ``z = -offset_m`` and ``z = +offset_m`` (outline extremes of bins
    ``bin_half_m`` wide); pi/2 when the line's bin is empty. A round outline is nearly flat
    there, a corner is steep on both sides."""
    out = np.full(m, np.pi / 2)
    if len(rows) == 0:
        return out
    extremes = []
    for centre in (0.0, -offset_m, offset_m):
        near = np.abs(z - centre) <= bin_half_m
        extremes.append(_group_max(rows[near], y[near], m, -np.inf))
    line, sides = extremes[0], np.stack(extremes[1:], axis=1)
    present = np.isfinite(sides) & np.isfinite(line)[:, None]
    drop = np.abs(line[:, None] - np.where(present, sides, 0.0))
    slope = np.where(present, drop, -1.0).max(axis=1) / offset_m
    return np.where(slope >= 0.0, np.arctan(np.maximum(slope, 0.0)), out)


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

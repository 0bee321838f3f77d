"""Grasp pose candidates on one object cluster: antipodal pairs and top-down extent grasps.

Poses follow the grasp frame of :mod:`promptdepth_ros.grasp.types` (X approach, Y closing).
Widths and final centres come later from the contact measurement in
:mod:`promptdepth_ros.grasp.scoring`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.grasp.collision import blocked_matmul
from promptdepth_ros.grasp.object_shape import plane_axes, wall_azimuth
from promptdepth_ros.grasp.types import GraspPlannerConfig

APPROACH_ANGLES_RAD = np.deg2rad([0.0, 30.0, -30.0, 60.0, -60.0, 90.0, -90.0])
TILT_ANGLES_RAD = np.deg2rad([0.0, 30.0, -30.0, 60.0, -60.0])  # top-down, tilted about Y
_LINE_RADIUS_VOXELS = 1.5  # how far an opposite point may lie from the closing line
_SEED_CHUNK = 64
_HEIGHT_FRACTIONS = (0.35, 0.5, 0.7)
MIN_CONTACT_DEPTH_M = 0.001  # fingertips reach at least this far past the closing line
_REACH_SLACK_M = 0.001
_EXTRA_AXES_RAD = np.deg2rad([30.0, 60.0, 120.0, 150.0])  # around the footprint's major axis


def _unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def frames_around_closing(
    closing: NDArray[np.float64], preferred: NDArray[np.float64], angles_rad: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Rotations (P * A, 3, 3) for closing axes (P, 3), approach turned by ``angles_rad`` (A,).

    Angle 0 is the preferred approach projected perpendicular to the closing axis.
    """
    y = _unit(np.asarray(closing, np.float64))
    x0 = preferred - (y @ preferred)[:, None] * y
    degenerate = np.linalg.norm(x0, axis=1) < 1e-3
    fallback = np.cross(y, np.where(np.abs(y[:, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]]))
    x0 = _unit(np.where(degenerate[:, None], fallback, x0))
    side = np.cross(y, x0)
    c, s = np.cos(angles_rad)[None, :, None], np.sin(angles_rad)[None, :, None]
    x = c * x0[:, None] + s * side[:, None]
    yy = np.broadcast_to(y[:, None], x.shape)
    return np.stack([x, yy, np.cross(x, yy)], axis=-1).reshape(-1, 3, 3)


def antipodal_pairs(
    points: NDArray[np.float64],
    normals: NDArray[np.float64],
    n_seen: int,
    config: GraspPlannerConfig,
    n_seeds: int,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Midpoints (P, 3) and closing axes (P, 3) of point pairs with opposing normals.

    Seeds are drawn from the first ``n_seen`` rows (seen points), partners from all rows (seen
    and guessed). For each seed p with normal n, the partner is the point within
    ``max_opening`` along -n, close to that line, whose normal opposes n best (within twice
    the friction angle).
    """
    seeds = rng.choice(n_seen, size=min(n_seeds, n_seen), replace=False)
    line_radius = _LINE_RADIUS_VOXELS * config.voxel_size_m
    limit = -np.cos(2.0 * config.friction_angle_rad)
    centres, axes = [], []
    for start in range(0, len(seeds), _SEED_CHUNK):
        s = seeds[start : start + _SEED_CHUNK]
        opposing = blocked_matmul(normals[s], normals.T)  # (S, K)
        # opposing normals first: most pairs fail that, the geometry is for the rest only
        row, k = np.nonzero(opposing <= limit)
        inward = -normals[s[row]]
        delta = points[k] - points[s[row]]
        along = np.einsum("nj,nj->n", delta, inward)  # the same sums as the dense einsum
        off = delta - along[:, None] * inward
        off_line = np.sqrt(off[:, 0] * off[:, 0] + off[:, 1] * off[:, 1] + off[:, 2] * off[:, 2])
        ok = (
            (along > 2.0 * config.voxel_size_m)
            & (along <= config.gripper.max_opening_m)
            & (off_line <= line_radius)
        )
        masked = np.full(opposing.shape, np.inf)
        masked[row[ok], k[ok]] = opposing[row[ok], k[ok]]
        best = np.argmin(masked, axis=1)
        has = np.isfinite(masked[np.arange(len(s)), best])
        partner = points[best[has]]
        centres.append(0.5 * (points[s[has]] + partner))
        axes.append(_unit(partner - points[s[has]]))
    if not centres:
        return np.zeros((0, 3)), np.zeros((0, 3))
    return np.concatenate(centres), np.concatenate(axes)


def horizontal_axes(
    points: NDArray[np.float64],
    normals: NDArray[np.float64],
    up: NDArray[np.float64],
    camera_position_m: NDArray[np.float64] | None,
) -> NDArray[np.float64]:
    """Candidate closing directions (D, 3) perpendicular to ``up``.

    The principal axes of the footprint, the dominant wall normal and its perpendicular (box
    faces), with a camera the direction across the line of sight (both silhouettes seen), and
    for round objects (walls not aligned mod 90 degrees) more every 30 degrees.
    """
    e1, e2 = plane_axes(up)
    flat = np.stack([points @ e1, points @ e2], axis=1)
    flat -= flat.mean(axis=0)
    eigvecs = np.linalg.eigh(flat.T @ flat)[1]
    angles = [np.arctan2(eigvecs[1, i], eigvecs[0, i]) for i in range(2)]
    walls = wall_azimuth(normals, up)
    boxy = False
    if walls is not None:
        angles += [walls[0], walls[0] + np.pi / 2]
        boxy = walls[1]
    if camera_position_m is not None:
        sight = points.mean(axis=0) - np.asarray(camera_position_m)
        angles.append(np.arctan2(sight @ e2, sight @ e1) + np.pi / 2)
    theta = np.asarray(angles) if boxy else np.concatenate([angles, angles[0] + _EXTRA_AXES_RAD])
    return np.cos(theta)[:, None] * e1 + np.sin(theta)[:, None] * e2


def palm_margin_m(config: GraspPlannerConfig) -> float:
    """Distance the palm keeps from the object's top, metres (collision margin plus a fifth of
    a voxel for the voxel centroids lying under a curved surface)."""
    return config.collision_margin_m + 0.2 * config.voxel_size_m


def _centred_feet(
    points: NDArray[np.float64],
    foot: NDArray[np.float64],
    closing: NDArray[np.float64],
    up: NDArray[np.float64],
    config: GraspPlannerConfig,
) -> NDArray[np.float64]:
    """Feet (D, 3): ``foot`` moved, for each closing axis (D, 3), to the middle of the object's
    extent between the pads, then across to the middle of the chord under the closing line, so
    the fingers straddle the object and close through its middle even when the centre
    estimate is off (thin bars, low discs)."""
    feet = np.broadcast_to(foot, closing.shape).copy()
    across = np.cross(up, closing)
    half = 0.5 * config.gripper.finger_width_m
    for move, slab in ((closing, across), (across, closing), (closing, across)):
        rel = points[:, None, :] - feet[None]  # (K, D, 3)
        along = np.einsum("kdj,dj->kd", rel, move)
        inside = np.abs(np.einsum("kdj,dj->kd", rel, slab)) <= half
        lo = np.where(inside, along, np.inf).min(axis=0)
        hi = np.where(inside, along, -np.inf).max(axis=0)
        seen = np.isfinite(lo)  # no point between the pads: the foot stays
        feet[seen] += (0.5 * (lo[seen] + hi[seen]))[:, None] * move[seen]
    return feet


def top_down_poses(
    points: NDArray[np.float64],
    normals: NDArray[np.float64],
    centre_m: NDArray[np.float64],
    plane_model: NDArray[np.float64] | None,
    config: GraspPlannerConfig,
    camera_position_m: NDArray[np.float64] | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Centres (T, 3) and rotations (T, 3, 3) closing horizontally through the object's axis.

    Centres sit on the vertical line through ``centre_m`` (the object's symmetry centre), moved
    along the closing axis to the middle of the object between the pads, at
    several heights between the support plane and the top of the object, down to as deep as
    the pads reach (the equator of round objects). Approaches point down (-up) and tilt about
    the closing axis by :data:`TILT_ANGLES_RAD`, which keeps the palm clear of neighbours.
    """
    if plane_model is None:
        up = np.array([0.0, 0.0, 1.0])
        base = -float((points @ up).min())
    else:
        up, base = plane_model[:3], float(plane_model[3])
    top = float((points @ up).max()) + base  # height of the object above the plane
    closing = horizontal_axes(points, normals, up, camera_position_m)
    foot = _centred_feet(points, centre_m - (centre_m @ up) * up, closing, up, config)
    levels = [f * top for f in _HEIGHT_FRACTIONS]
    fingers, voxel = config.gripper.finger_depth_m, config.voxel_size_m
    # the deepest line the palm allows over the top: big spheres close just above the equator
    deepest = fingers - MIN_CONTACT_DEPTH_M - palm_margin_m(config) - _REACH_SLACK_M
    levels += [top - 0.5 * fingers, top - deepest, top - 0.5 * (fingers + deepest)]
    # the lowest line whose fingertips stay above the table: objects a few millimetres tall
    levels.append(config.table_clearance_m + MIN_CONTACT_DEPTH_M + _REACH_SLACK_M)
    levels.append(centre_m @ up + base)
    # levels within half a voxel of a kept one measure the same contacts (the special levels
    # come first and are kept)
    kept: list[float] = []
    for h in levels[3:] + levels[:3]:
        if 0.0 < h < top and all(abs(h - k) >= 0.5 * voxel for k in kept):
            kept.append(h)
    levels = kept
    if not levels:
        return np.zeros((0, 3)), np.zeros((0, 3, 3))
    centres = np.concatenate([foot + (h - base) * up for h in levels])
    rot = frames_around_closing(np.tile(closing, (len(levels), 1)), -up, TILT_ANGLES_RAD)
    return np.repeat(centres, len(TILT_ANGLES_RAD), axis=0), rot

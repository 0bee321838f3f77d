"""Gripper collision model: oriented boxes tested against a scene cloud and the support plane.

Boxes, in the grasp frame of :mod:`promptdepth_ros.grasp.types` for a grasp of opening ``w``
and contact depth ``c`` (fingertips at ``x = c``), with ``s = approach_distance_m`` when the
approach path is included (the boxes are swept back along -X from the pre-grasp pose), else 0:

* finger +Y: ``x in [c - finger_depth - s, c]``, ``y in [w/2, w/2 + thickness]``,
  ``|z| <= finger_width / 2``; finger -Y mirrored;
* palm: ``x in [c - finger_depth - palm_depth - s, c - finger_depth]``,
  ``|y| <= palm_width / 2``, ``|z| <= palm_height / 2``.

* closing gap (:func:`closing_gap_boxes`): ``x in [c - finger_depth, c]``, ``|y| <= w/2``,
  ``|z| <= finger_width / 2``, not swept (the palm's sweep covers it).

The closing gap may hold the target's points (and the solid under and behind them), nothing
else; the other boxes may hold no point at all.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.grasp.types import GripperModel

N_BOXES = 3  # finger +Y, finger -Y, palm
_CHUNK = 128  # grasp poses per vectorised block
_ONE_THREAD_PRODUCT = 200_000  # multiply-adds; OpenBLAS threads products over 262144


def gripper_boxes(
    gripper: GripperModel,
    width_m: NDArray[np.float64],
    contact_depth_m: NDArray[np.float64],
    include_approach: bool = True,
) -> NDArray[np.float64]:
    """Grasp-frame boxes (M, 3, 2, 3): [finger +Y, finger -Y, palm] x [lo, hi] corners."""
    w = np.asarray(width_m, np.float64).reshape(-1)
    tip = np.broadcast_to(np.asarray(contact_depth_m, np.float64), w.shape)
    sweep = gripper.approach_distance_m if include_approach else 0.0
    back = tip - gripper.finger_depth_m
    boxes = np.empty((len(w), N_BOXES, 2, 3))
    half_fw, half_pw, half_ph = (
        0.5 * gripper.finger_width_m,
        0.5 * gripper.palm_span_m,
        0.5 * gripper.palm_height_m,
    )
    boxes[:, 0, 0] = np.stack([back - sweep, 0.5 * w, np.full_like(w, -half_fw)], 1)
    boxes[:, 0, 1] = np.stack(
        [tip, 0.5 * w + gripper.finger_thickness_m, np.full_like(w, half_fw)], 1
    )
    boxes[:, 1] = boxes[:, 0]
    boxes[:, 1, :, 1] = -boxes[:, 0, ::-1, 1]  # mirror the +Y finger: y in [-w/2 - t, -w/2]
    boxes[:, 2, 0] = np.stack(
        [
            back - gripper.palm_depth_m - sweep,
            np.full_like(w, -half_pw),
            np.full_like(w, -half_ph),
        ],
        1,
    )
    boxes[:, 2, 1] = np.stack([back, np.full_like(w, half_pw), np.full_like(w, half_ph)], 1)
    return boxes


def inflate_boxes(boxes: NDArray[np.float64], margin_m: float) -> NDArray[np.float64]:
    """Grasp-frame boxes (M, 3, 2, 3) grown by ``margin_m`` on every face except the fingers'
    inner faces (the closing gap holds the object)."""
    out = boxes.copy()
    out[:, :, 0] -= margin_m
    out[:, :, 1] += margin_m
    out[:, 0, 0, 1] = boxes[:, 0, 0, 1]
    out[:, 1, 1, 1] = boxes[:, 1, 1, 1]
    return out


def box_corners(
    centres: NDArray[np.float64], rotations: NDArray[np.float64], boxes: NDArray[np.float64]
) -> NDArray[np.float64]:
    """World corners (M, B, 8, 3) of grasp-frame boxes (M, B, 2, 3) at poses (M, 3) / (M, 3, 3)."""
    pick = np.array(np.meshgrid([0, 1], [0, 1], [0, 1], indexing="ij")).reshape(3, 8).T
    local = boxes[:, :, pick, [0, 1, 2]]  # (M, B, 8, 3)
    return np.einsum("mij,mbkj->mbki", rotations, local) + centres[:, None, None, :]


def below_plane(
    centres: NDArray[np.float64],
    rotations: NDArray[np.float64],
    boxes: NDArray[np.float64],
    plane_model: NDArray[np.float64] | None,
    clearance_m: float,
) -> NDArray[np.bool_]:
    """(M,) True where a box corner is closer than ``clearance_m`` to (or under) the plane."""
    if plane_model is None:
        return np.zeros(len(centres), bool)
    heights = box_corners(centres, rotations, boxes) @ plane_model[:3] + plane_model[3]
    return heights.reshape(len(centres), -1).min(axis=1) < clearance_m


def contact_depth_for_clearance(
    centres: NDArray[np.float64],
    rotations: NDArray[np.float64],
    width_m: NDArray[np.float64],
    plane_model: NDArray[np.float64] | None,
    gripper: GripperModel,
    clearance_m: float,
) -> NDArray[np.float64]:
    """Contact depth (M,) <= finger_depth / 2 keeping the fingertips ``clearance_m`` above plane.

    Values below zero mean that no contact depth keeps the fingers off the plane.
    """
    nominal = np.full(len(centres), 0.5 * gripper.finger_depth_m)
    if plane_model is None:
        return nominal
    normal = plane_model[:3]
    height = centres @ normal + plane_model[3]
    down = -(rotations[:, :, 0] @ normal)  # > 0 when the approach points at the plane
    spread = 0.5 * gripper.finger_width_m * np.abs(rotations[:, :, 2] @ normal) + np.abs(
        rotations[:, :, 1] @ normal
    ) * (0.5 * width_m + gripper.finger_thickness_m)
    slack = height - spread - clearance_m
    limited = np.where(down > 1e-6, slack / np.maximum(down, 1e-6), np.inf)
    return np.minimum(nominal, limited)


def blocked_matmul(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """``a @ b`` for (R, k) x (k, N), in row blocks small enough for OpenBLAS to run each on
    one thread: with small k the product is memory-bound, and threads that wait for busy
    cores cost ten times what they save. The same values as one call."""
    out = np.empty((len(a), b.shape[1]))
    rows = max(1, _ONE_THREAD_PRODUCT // max(1, b.shape[0] * b.shape[1]))
    for start in range(0, len(a), rows):
        np.matmul(a[start : start + rows], b, out=out[start : start + rows])
    return out


def in_grasp_frames(
    points: NDArray[np.float64], centres: NDArray[np.float64], rotations: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Points (K, 3) in the frames of grasp poses (m, 3) / (m, 3, 3): (m, 3, K); each pose's
    x, y and z are contiguous rows."""
    axes = rotations.transpose(0, 2, 1).reshape(-1, 3)
    offsets = np.einsum("mji,mj->mi", rotations, centres).reshape(-1, 1)
    frames = blocked_matmul(axes, points.T)
    frames -= offsets  # in place: a fresh array this large costs more than the product
    return frames.reshape(len(centres), 3, len(points))


def local_coordinates(
    points: NDArray[np.float64], centres: NDArray[np.float64], rotations: NDArray[np.float64]
) -> list[NDArray[np.float64]]:
    """Grasp-frame [x, y, z] coordinates, each (m, K), of points (K, 3) for poses (m, 3) /
    (m, 3, 3): ``R^T (p - c)``, one coordinate plane at a time (fast and contiguous)."""
    delta = [points[None, :, j] - centres[:, j, None] for j in range(3)]
    return [
        delta[0] * rotations[:, 0, i, None]
        + delta[1] * rotations[:, 1, i, None]
        + delta[2] * rotations[:, 2, i, None]
        for i in range(3)
    ]


def contact_depth_below_object(
    centres: NDArray[np.float64],
    rotations: NDArray[np.float64],
    points: NDArray[np.float64],
    gripper: GripperModel,
    margin_m: float,
) -> NDArray[np.float64]:
    """Largest contact depth (M,) that keeps the palm ``margin_m`` behind the object ``points``.

    The palm front face sits at ``x = c - finger_depth``; every object point (K, 3) inside the
    palm's Y-Z footprint must lie in front of it.
    """
    out = np.empty(len(centres))
    for start in range(0, len(centres), _CHUNK):
        sl = slice(start, start + _CHUNK)
        local = in_grasp_frames(points, centres[sl], rotations[sl])
        side = np.abs(local[:, 1:], out=local[:, 1:])  # in place: y and z are only compared
        footprint = side[:, 0] <= 0.5 * gripper.palm_span_m
        footprint &= side[:, 1] <= 0.5 * gripper.palm_height_m
        behind = np.min(local[:, 0], axis=1, initial=np.inf, where=footprint)
        out[sl] = gripper.finger_depth_m + behind - margin_m
    return out


def columns_below(
    points: NDArray[np.float64], plane_model: NDArray[np.float64] | None, step_m: float
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Points (P, 3) filling the space under object ``points`` (K, 3) down to the plane, and
    the row (P,) of ``points`` each one lies under.

    A camera above the table sees tops and front faces; what lies under a seen surface is
    treated as solid (a 2.5-D height map), so fingers do not slide under hidden object parts.
    Copies are merged on a ``step_m`` grid; only the shell of the filled cells is returned.
    Empty without a plane.
    """
    if plane_model is None or len(points) == 0:
        return np.zeros((0, 3)), np.zeros(0, np.int64)
    up = plane_model[:3]
    heights = points @ up + plane_model[3]
    counts = np.maximum(np.floor(heights / step_m).astype(np.int64), 0)
    rows = np.repeat(np.arange(len(points)), counts)
    if len(rows) == 0:  # everything lower than one step
        return np.zeros((0, 3)), np.zeros(0, np.int64)
    starts = np.cumsum(counts) - counts
    drop = (np.arange(len(rows)) - starts[rows] + 1) * step_m
    filled = points[rows] - drop[:, None] * up
    cells = np.round(filled / step_m).astype(np.int64)
    low = cells.min(axis=0) - 1  # a free border: neighbour keys never wrap around
    span = cells.max(axis=0) - low + 2
    keys, first = np.unique(np.ravel_multi_index((cells - low).T, span), return_index=True)
    # keep the shell only: a swept gripper box that enters a column crosses its shell
    strides = np.array([span[1] * span[2], span[2], 1])
    steps = np.concatenate([strides[:2], -strides[:2], strides[2:]])
    neighbours = keys[:, None] + steps[None, :]
    found = np.searchsorted(keys, neighbours).clip(max=len(keys) - 1)
    inner = (keys[found] == neighbours).all(axis=1)
    shell = first[~inner]
    return filled[shell], rows[shell]  # real positions: snapped ones stick out of thin objects


def closing_gap_boxes(
    gripper: GripperModel, width_m: NDArray[np.float64], contact_depth_m: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Grasp-frame boxes (M, 2, 3) of the closing volume between the finger pads: ``x in
    [c - finger_depth, c]``, ``|y| <= w/2``, ``|z| <= finger_width / 2``."""
    w = np.asarray(width_m, np.float64).reshape(-1)
    tip = np.broadcast_to(np.asarray(contact_depth_m, np.float64), w.shape)
    half_fw = np.full_like(w, 0.5 * gripper.finger_width_m)
    lo = np.stack([tip - gripper.finger_depth_m, -0.5 * w, -half_fw], 1)
    return np.stack([lo, np.stack([tip, 0.5 * w, half_fw], 1)], axis=1)


def points_in_boxes(
    centres: NDArray[np.float64],
    rotations: NDArray[np.float64],
    boxes: NDArray[np.float64],
    points: NDArray[np.float64],
    gap: tuple[NDArray[np.float64], NDArray[np.int64], int] | None = None,
) -> NDArray[np.int64]:
    """Number (M,) of ``points`` (N, 3) inside any box (M, B, 2, 3) of each grasp pose.

    ``gap`` = (closing-gap boxes (M, 2, 3), owner (N,) of each point, target owner): points in
    the gap count too unless they belong to the target.
    """
    if len(points) == 0 or len(centres) == 0:
        return np.zeros(len(centres), np.int64)
    if gap is not None:
        boxes = np.concatenate([boxes, gap[0][:, None]], axis=1)
    lo, hi = boxes[:, :, 0].min(axis=1), boxes[:, :, 1].max(axis=1)
    # only the points in the world bounding box of every pose's boxes can be inside one
    corners = box_corners(centres, rotations, np.stack([lo, hi], axis=1)[:, None])
    near = (points >= corners.min(axis=(0, 1, 2))) & (points <= corners.max(axis=(0, 1, 2)))
    idx = np.flatnonzero(near[:, 0] & near[:, 1] & near[:, 2])
    counts = np.zeros(len(centres), np.int64)
    for start in range(0, len(centres), _CHUNK):
        sl = slice(start, start + _CHUNK)
        local = local_coordinates(points[idx], centres[sl], rotations[sl])
        # most points lie outside the pose's own bounding box: drop them first
        near_pose = np.ones(local[0].shape, bool)
        for axis, values in enumerate(local):
            near_pose &= values >= lo[sl, axis, None]
            near_pose &= values <= hi[sl, axis, None]
        rows, k = np.nonzero(near_pose)
        inner = [values[rows, k] for values in local]
        rows = rows + start
        # box by box and axis by axis: reductions over tiny axes are slow in numpy
        inside = np.zeros(len(rows), bool)
        for box in range(boxes.shape[1]):
            in_box = np.ones(len(rows), bool)
            for axis, values in enumerate(inner):
                in_box &= values >= boxes[rows, box, 0, axis]
                in_box &= values <= boxes[rows, box, 1, axis]
            if gap is not None and box == boxes.shape[1] - 1:
                in_box &= gap[1][idx[k]] != gap[2]
            inside |= in_box
        counts += np.bincount(rows[inside], minlength=len(centres))
    return counts

"""Whether a parallel-jaw grasp holds, checked on the exact primitives of a synthetic scene.

Written apart from the planner's collision and scoring code, so the evaluation does not share
its mistakes. Grasp frame (:mod:`promptdepth_ros.grasp.types`): X approach, Y closing, Z = X x Y,
origin midway between the contacts on the closing line, fingertips at x = c (contact depth).
The gripper, in that frame, for an opening w:

* fingers: x in [c - finger_depth, c], |y| in [w/2, w/2 + thickness], |z| <= finger_width/2;
* palm: x in [c - finger_depth - palm_depth, c - finger_depth], |y| <= palm span/2,
  |z| <= palm_height/2 (palm span = palm_width, or the opening plus both fingers when 0);
* closing gap: x in [c - finger_depth, c], |y| < w/2, |z| <= finger_width/2 (where the pads
  travel when they close);
* swept approach: fingers and palm stretched back along -X by the pre-grasp distance.

A grasp holds when, in this order (the first failure is the verdict): the opening is at most
the gripper's; the contacts lie on the pads (0 <= c <= finger_depth); the closing line between
the pads meets the target and the target does not reach the pads' starting faces; both
contacts' analytic outward normals lie inside the friction cone of :data:`FRICTION_COEFFICIENT`
about the closing line; no other object enters the closing gap; fingers and palm at the
grasp pose, then swept along the approach, touch no object, target included, and not the table.

Box-versus-primitive tests are exact up to :data:`PENETRATION_TOLERANCE_M`: a box is split until
each cell is proven clear (signed distance at its centre above its half-diagonal) or proven
inside (negative distance at its centre, deeper than the tolerance).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.grasp.types import Grasp, GripperModel
from promptdepth_ros.sim.scene import TABLE_ID, Primitive

FRICTION_COEFFICIENT = 0.4  # fixed: the evaluation's own, never the planner's setting
PENETRATION_TOLERANCE_M = 1e-4  # overlaps shallower than this (at most twice it) count as touching
LINE_STEP_M = 2e-4
_BISECTIONS = 40
_MAX_CELLS = 2_000_000


class Verdict(Enum):
    """Outcome of :func:`check_grasp`; the first failed condition wins."""

    SUCCESS = "success"
    TOO_WIDE = "too_wide"  # opening above the gripper's, or the target reaches the pads
    OFF_PAD = "off_pad"  # the closing line runs outside the finger pads
    NO_CONTACT = "no_contact"  # the closing line misses the target
    OUTSIDE_CONE = "outside_cone"
    GAP_OCCUPIED = "gap_occupied"  # something besides the target between the pads
    COLLISION = "collision"  # fingers or palm in an object or the table at the grasp
    APPROACH_COLLISION = "approach_collision"  # ... on the way from the pre-grasp pose


@dataclass(frozen=True)
class GraspCheck:
    """Result of one check: the verdict, the chord of the target between the contacts (m) and
    the larger angle between a contact normal and the closing line (rad; pi when unmeasured)."""

    verdict: Verdict
    true_width_m: float
    max_angle_rad: float

    @property
    def success(self) -> bool:
        """True when every condition holds."""
        return self.verdict is Verdict.SUCCESS


def gripper_parts(
    gripper: GripperModel, width_m: float, contact_depth_m: float, sweep_m: float = 0.0
) -> dict[str, NDArray[np.float64]]:
    """Grasp-frame boxes (2, 3) [lo, hi] of 'finger_pos', 'finger_neg', 'palm' and 'gap';
    fingers and palm stretched back by ``sweep_m`` along -X."""
    tip, back = contact_depth_m, contact_depth_m - gripper.finger_depth_m
    half_w, half_fw = 0.5 * width_m, 0.5 * gripper.finger_width_m
    span = gripper.palm_width_m or gripper.max_opening_m + 2.0 * gripper.finger_thickness_m
    outer = half_w + gripper.finger_thickness_m
    palm_back = back - gripper.palm_depth_m - sweep_m
    return {
        "finger_pos": np.array([[back - sweep_m, half_w, -half_fw], [tip, outer, half_fw]]),
        "finger_neg": np.array([[back - sweep_m, -outer, -half_fw], [tip, -half_w, half_fw]]),
        "palm": np.array(
            [
                [palm_back, -0.5 * span, -0.5 * gripper.palm_height_m],
                [back, 0.5 * span, 0.5 * gripper.palm_height_m],
            ]
        ),
        "gap": np.array([[back, -half_w, -half_fw], [tip, half_w, half_fw]]),
    }


def box_penetrates(
    box: NDArray[np.float64],
    rotation: NDArray[np.float64],
    origin: NDArray[np.float64],
    solid: Primitive,
    tolerance_m: float = PENETRATION_TOLERANCE_M,
) -> bool:
    """True when the box (2, 3) [lo, hi] of the frame (rotation (3, 3), origin (3,)) reaches
    deeper than ``tolerance_m`` into ``solid``; False when it stays within twice that."""
    centres = (0.5 * (box[0] + box[1]))[None]
    halves = (0.5 * (box[1] - box[0]))[None]
    while len(centres):
        distance = solid.signed_distance(origin + centres @ rotation.T)
        if (distance < -tolerance_m).any():
            return True
        radius = np.linalg.norm(halves, axis=1)
        open_ = (distance - radius < -tolerance_m) & (radius > tolerance_m)
        centres, halves = centres[open_], halves[open_]
        if len(centres) > _MAX_CELLS:
            return True  # never seen in practice: fail safe rather than flatter
        axis = np.argmax(halves, axis=1)
        rows = np.arange(len(centres))
        halves = halves.copy()
        halves[rows, axis] *= 0.5
        step = np.zeros_like(centres)
        step[rows, axis] = halves[rows, axis]
        centres, halves = np.vstack([centres - step, centres + step]), np.vstack([halves, halves])
    return False


def _first_inside(
    solid: Primitive, start: NDArray[np.float64], direction: NDArray[np.float64], length: float
) -> float | None:
    """Distance along ``direction`` from ``start`` to the first surface point of ``solid``
    within ``length`` (sampled at LINE_STEP_M, then bisected); None when the line misses it."""
    steps = np.arange(0.0, length + LINE_STEP_M, LINE_STEP_M)
    inside = np.flatnonzero(solid.signed_distance(start + steps[:, None] * direction) <= 0.0)
    if not len(inside):
        return None
    if inside[0] == 0:
        return 0.0
    lo, hi = steps[inside[0] - 1], steps[inside[0]]
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if solid.signed_distance((start + mid * direction)[None])[0] <= 0.0:
            hi = mid
        else:
            lo = mid
    return float(hi)


def check_grasp(
    grasp: Grasp,
    target: Primitive,
    solids: tuple[Primitive, ...],
    gripper: GripperModel,
) -> GraspCheck:
    """Check ``grasp`` (world frame) on ``target`` among ``solids`` (every object and the
    table; ``target`` may be among them)."""
    rot, origin = grasp.rotation, grasp.position_m
    closing = rot[:, 1]
    width, depth = grasp.width_m, grasp.contact_depth_m
    if width > gripper.max_opening_m + 1e-9:
        return GraspCheck(Verdict.TOO_WIDE, 0.0, np.pi)
    if not 0.0 <= depth <= gripper.finger_depth_m:
        return GraspCheck(Verdict.OFF_PAD, 0.0, np.pi)
    pad_pos, pad_neg = origin + 0.5 * width * closing, origin - 0.5 * width * closing
    to_pos = _first_inside(target, pad_pos, -closing, width)
    to_neg = _first_inside(target, pad_neg, closing, width)
    if to_pos is None or to_neg is None:
        return GraspCheck(Verdict.NO_CONTACT, 0.0, np.pi)
    if to_pos == 0.0 or to_neg == 0.0:
        return GraspCheck(Verdict.TOO_WIDE, width, np.pi)
    contacts = np.stack([pad_pos - to_pos * closing, pad_neg + to_neg * closing])
    chord = float(width - to_pos - to_neg)
    normals = target.surface_normals(contacts)
    cosines = np.array([normals[0] @ closing, -(normals[1] @ closing)])
    angle = float(np.arccos(np.clip(cosines, -1.0, 1.0)).max())
    if angle > np.arctan(FRICTION_COEFFICIENT):
        return GraspCheck(Verdict.OUTSIDE_CONE, chord, angle)
    others = [s for s in solids if s is not target]
    parts = gripper_parts(gripper, width, depth)
    # the table reaches the gap only where the fingers are in it: a collision, checked below
    objects = [s for s in others if s.object_id != TABLE_ID]
    if any(box_penetrates(parts["gap"], rot, origin, s) for s in objects):
        return GraspCheck(Verdict.GAP_OCCUPIED, chord, angle)
    hand = ("finger_pos", "finger_neg", "palm")
    everything = (target, *others)
    if any(box_penetrates(parts[p], rot, origin, s) for p in hand for s in everything):
        return GraspCheck(Verdict.COLLISION, chord, angle)
    swept = gripper_parts(gripper, width, depth, grasp.pre_grasp_distance_m)
    if any(box_penetrates(swept[p], rot, origin, s) for p in hand for s in everything):
        return GraspCheck(Verdict.APPROACH_COLLISION, chord, angle)
    return GraspCheck(Verdict.SUCCESS, chord, angle)

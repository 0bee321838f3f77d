"""Geometric evaluation of planned grasps against the true primitives of a synthetic scene.

A grasp succeeds on its target object (the true object nearest to the grasp centre) when:

1. contacts: the closing line through the grasp centre enters the object within the finger
   opening and no other object lies between the fingers on that line;
2. fit: the true width along the closing line is below the opening (``width_m``, which is at
   most the gripper's maximum opening) - the fingers start outside the object;
3. friction: the closing line lies inside the friction cone (half-angle atan(mu)) of the true
   outward normals at both contacts (normals from the gradient of the exact signed distance);
4. collision: points sampled through the finger and palm boxes (approach path included) have a
   positive signed distance to every object and to the table.

Contacts lie on the closing line at x = z = 0 of the grasp frame, inside both finger pads by
construction (the pads span x in [c - finger_depth, c] with 0 < c <= finger_depth).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.projection import depth_to_points
from promptdepth_ros.grasp.collision import gripper_boxes
from promptdepth_ros.grasp.planner import GraspPlan, plan_grasps
from promptdepth_ros.grasp.types import Grasp, GraspPlannerConfig, GripperModel
from promptdepth_ros.sim.scene import Primitive, TabletopScene

LINE_STEP_M = 0.0005
BOX_SAMPLE_STEP_M = 0.004
_NORMAL_EPS_M = 1e-5


class Verdict(Enum):
    """Outcome of :func:`check_grasp`; the first failed condition wins."""

    SUCCESS = "success"
    NO_CONTACT = "no_contact"
    SEVERAL_OBJECTS = "several_objects"
    TOO_WIDE = "too_wide"
    OUTSIDE_CONE = "outside_cone"
    COLLISION = "collision"


@dataclass(frozen=True)
class GraspCheck:
    """Result of checking one grasp; ``object_id`` is the true target, -1 when none."""

    verdict: Verdict
    object_id: int
    true_width_m: float
    max_angle_rad: float

    @property
    def success(self) -> bool:
        """True when every condition holds."""
        return self.verdict is Verdict.SUCCESS


def true_normals(prim: Primitive, points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unit outward normals (N, 3): central-difference gradient of the exact signed distance."""
    grad = np.empty_like(points)
    for axis in range(3):
        step = np.zeros(3)
        step[axis] = _NORMAL_EPS_M
        grad[:, axis] = prim.signed_distance(points + step) - prim.signed_distance(points - step)
    return grad / np.maximum(np.linalg.norm(grad, axis=1, keepdims=True), 1e-12)


def box_samples(boxes: NDArray[np.float64], step_m: float) -> NDArray[np.float64]:
    """Grid points (P, 3) through boxes (B, 2, 3) with spacing <= ``step_m``, faces included."""
    out = []
    for lo, hi in boxes:
        counts = np.maximum(2, np.ceil((hi - lo) / step_m).astype(int) + 1)
        axes = [np.linspace(lo[k], hi[k], counts[k]) for k in range(3)]
        out.append(np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3))
    return np.concatenate(out)


def _target(grasp: Grasp, objects: tuple[Primitive, ...]) -> int:
    distances = [float(p.signed_distance(grasp.position_m[None])[0]) for p in objects]
    return int(np.argmin(distances))


def check_grasp(
    grasp: Grasp, scene: TabletopScene, gripper: GripperModel, friction_coefficient: float
) -> GraspCheck:
    """Check one grasp (world frame of ``scene``) against the true geometry."""
    if not scene.objects:
        return GraspCheck(Verdict.NO_CONTACT, -1, 0.0, np.pi)
    index = _target(grasp, scene.objects)
    target = scene.objects[index]
    half = 0.5 * grasp.width_m
    offsets = np.arange(-half, half + LINE_STEP_M, LINE_STEP_M)
    line = grasp.position_m + offsets[:, None] * grasp.closing
    inside = target.signed_distance(line) < 0.0
    if not inside.any():
        return GraspCheck(Verdict.NO_CONTACT, target.object_id, 0.0, np.pi)
    others = [p for i, p in enumerate(scene.objects) if i != index]
    if any((p.signed_distance(line) < 0.0).any() for p in others):
        return GraspCheck(Verdict.SEVERAL_OBJECTS, target.object_id, 0.0, np.pi)
    hit = np.flatnonzero(inside)
    width = float(offsets[hit[-1]] - offsets[hit[0]])
    if inside[0] or inside[-1] or grasp.width_m > gripper.max_opening_m + 1e-9:
        return GraspCheck(Verdict.TOO_WIDE, target.object_id, width, np.pi)
    contacts = line[[hit[-1], hit[0]]]
    normals = true_normals(target, contacts)
    cosines = np.array([normals[0] @ grasp.closing, -(normals[1] @ grasp.closing)])
    max_angle = float(np.arccos(np.clip(cosines, -1.0, 1.0)).max())
    if max_angle > np.arctan(friction_coefficient):
        return GraspCheck(Verdict.OUTSIDE_CONE, target.object_id, width, max_angle)
    boxes = gripper_boxes(gripper, np.array([grasp.width_m]), np.array([grasp.contact_depth_m]))
    samples = grasp.position_m + box_samples(boxes[0], BOX_SAMPLE_STEP_M) @ grasp.rotation.T
    solids = (scene.table, *scene.objects)
    if any((p.signed_distance(samples) <= 0.0).any() for p in solids):
        return GraspCheck(Verdict.COLLISION, target.object_id, width, max_angle)
    return GraspCheck(Verdict.SUCCESS, target.object_id, width, max_angle)


@dataclass(frozen=True)
class ObjectOutcome:
    """Checks of the (up to) five best grasps whose target is one true object, best first."""

    object_id: int
    checks: tuple[GraspCheck, ...]


def evaluate_grasps(
    grasps: list[Grasp] | tuple[Grasp, ...],
    scene: TabletopScene,
    gripper: GripperModel,
    friction_coefficient: float,
    top_k: int = 5,
) -> list[ObjectOutcome]:
    """Assign grasps to their true target object and check each object's ``top_k`` best."""
    ranked = sorted(grasps, key=lambda g: -g.score)
    by_object: dict[int, list[GraspCheck]] = {p.object_id: [] for p in scene.objects}
    for grasp in ranked:
        target = scene.objects[_target(grasp, scene.objects)].object_id
        if len(by_object[target]) < top_k:
            by_object[target].append(check_grasp(grasp, scene, gripper, friction_coefficient))
    return [ObjectOutcome(oid, tuple(checks)) for oid, checks in by_object.items()]


def summarize(outcomes: list[ObjectOutcome]) -> dict[str, float]:
    """top1: share of objects whose best grasp succeeds (no grasp = failure); top5: share of
    the checked top-5 grasps that succeed; coverage: share of objects with any grasp."""
    n = len(outcomes)
    checked = [c for o in outcomes for c in o.checks]
    top1 = sum(1 for o in outcomes if o.checks and o.checks[0].success)
    return {
        "top1": top1 / n if n else 0.0,
        "top5": sum(c.success for c in checked) / len(checked) if checked else 0.0,
        "coverage": sum(1 for o in outcomes if o.checks) / n if n else 0.0,
        "objects": float(n),
    }


def cloud_in_world(depth_m: NDArray[np.float32], scene: TabletopScene) -> NDArray[np.float32]:
    """Back-project a depth image (H, W) metres of ``scene.camera`` to world points (H*W, 3)."""
    points = depth_to_points(depth_m, scene.camera).reshape(-1, 3)
    rot, t = scene.T_world_camera[:3, :3], scene.T_world_camera[:3, 3]
    return (points @ rot.T.astype(np.float32) + t.astype(np.float32)).astype(np.float32)


def evaluate_scene(
    scene: TabletopScene,
    depth_m: NDArray[np.float32],
    config: GraspPlannerConfig,
    friction_coefficient: float,
    seed: int = 0,
) -> tuple[list[ObjectOutcome], GraspPlan]:
    """Plan on the world cloud of ``depth_m`` and check the grasps against the true scene."""
    plan = plan_grasps(
        cloud_in_world(depth_m, scene),
        config,
        camera_position_m=scene.T_world_camera[:3, 3],
        rng=np.random.default_rng(seed),
    )
    grasps = [g for grasps in plan.per_object.values() for g in grasps]
    return evaluate_grasps(grasps, scene, config.gripper, friction_coefficient), plan

"""Grasp evaluation on synthetic scenes: plan on a depth image, check grasps on the true shapes.

Each grasp goes to its target, the true object nearest its centre (signed distance); a grasp
more than half the gripper's opening from every object is spurious. Each object's five best
grasps (by planner score) are checked with :func:`promptdepth_ros.eval.grasp_check.check_grasp`.
top-1: share of objects whose best grasp holds; top-5: share whose five best hold at least once;
an object without a grasp counts as a failure in both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.projection import depth_to_points
from promptdepth_ros.eval.grasp_check import GraspCheck, check_grasp
from promptdepth_ros.grasp.planner import GraspPlan, plan_grasps_in_frame
from promptdepth_ros.grasp.types import Grasp, GraspPlannerConfig, GripperModel
from promptdepth_ros.sim.grasp_scenes import Situation
from promptdepth_ros.sim.scene import Primitive, TabletopScene

TOP_K = 5
NO_GRASP = "no_grasp"


@dataclass(frozen=True)
class ObjectOutcome:
    """Checks of the (up to) five best grasps on one true object, best first."""

    object_id: int
    situation: Situation | None
    checks: tuple[GraspCheck, ...]

    @property
    def top1(self) -> bool:
        """The best grasp holds."""
        return bool(self.checks) and self.checks[0].success

    @property
    def top5(self) -> bool:
        """One of the five best grasps holds."""
        return any(check.success for check in self.checks[:TOP_K])


@dataclass(frozen=True)
class SceneOutcome:
    """Per-object outcomes of one scene and how many grasps had no object near them."""

    objects: tuple[ObjectOutcome, ...]
    spurious_grasps: int


def target_of(grasp: Grasp, objects: Sequence[Primitive], gripper: GripperModel) -> int | None:
    """Index into ``objects`` of the grasp's target; None when the grasp is spurious."""
    if not objects:
        return None
    centre = grasp.position_m[None]
    distances = np.array([float(p.signed_distance(centre)[0]) for p in objects])
    best = int(np.argmin(distances))
    return best if distances[best] <= 0.5 * gripper.max_opening_m else None


def evaluate_grasps(
    grasps: Sequence[Grasp],
    scene: TabletopScene,
    gripper: GripperModel,
    situations: Mapping[int, Situation] | None = None,
) -> SceneOutcome:
    """Check each target object's best grasps; ``situations`` names the targets (object id ->
    situation; None = every object, without a situation). Other objects are obstacles."""
    targets = (
        {p.object_id: None for p in scene.objects} if situations is None else dict(situations)
    )
    solids = (scene.table, *scene.objects)
    checks: dict[int, list[GraspCheck]] = {oid: [] for oid in targets}
    spurious = 0
    for grasp in sorted(grasps, key=lambda g: -g.score):
        index = target_of(grasp, scene.objects, gripper)
        if index is None:
            spurious += 1
            continue
        target = scene.objects[index]
        found = checks.get(target.object_id)
        if found is not None and len(found) < TOP_K:
            found.append(check_grasp(grasp, target, solids, gripper))
    outcomes = tuple(
        ObjectOutcome(oid, situation, tuple(checks[oid])) for oid, situation in targets.items()
    )
    return SceneOutcome(outcomes, spurious)


def plan_on_depth(
    depth_m: NDArray[np.float32], scene: TabletopScene, config: GraspPlannerConfig
) -> GraspPlan:
    """Plan in the world frame on the camera cloud of ``depth_m`` (H, W) metres, as the
    planner node does with the depth node's points."""
    points = depth_to_points(depth_m, scene.camera)
    return plan_grasps_in_frame(points, scene.T_world_camera, config)


def evaluate_scene(
    scene: TabletopScene,
    depth_m: NDArray[np.float32] | None,
    config: GraspPlannerConfig,
    situations: Mapping[int, Situation] | None = None,
) -> tuple[SceneOutcome, GraspPlan | None]:
    """Plan on ``depth_m`` (None: the depth source gave none, so no grasp) and check."""
    if depth_m is None or not np.isfinite(depth_m).any():
        return evaluate_grasps((), scene, config.gripper, situations), None
    plan = plan_on_depth(depth_m, scene, config)
    grasps = [g for object_grasps in plan.per_object.values() for g in object_grasps]
    return evaluate_grasps(grasps, scene, config.gripper, situations), plan


def _rates(outcomes: Sequence[ObjectOutcome]) -> dict[str, Any]:
    n = len(outcomes)
    return {
        "top1": sum(o.top1 for o in outcomes) / n if n else 0.0,
        "top5": sum(o.top5 for o in outcomes) / n if n else 0.0,
        "objects": n,
    }


def summarize(outcomes: Sequence[ObjectOutcome]) -> dict[str, Any]:
    """top1, top5, objects, coverage (share with a grasp), precision (share of checked grasps
    that hold), the best grasps' verdicts (with 'no_grasp') and the rates per situation."""
    checked = [c for o in outcomes for c in o.checks]
    verdicts = Counter(o.checks[0].verdict.value if o.checks else NO_GRASP for o in outcomes)
    situations = [s for s in Situation if any(o.situation is s for o in outcomes)]
    return {
        **_rates(outcomes),
        "coverage": sum(bool(o.checks) for o in outcomes) / len(outcomes) if outcomes else 0.0,
        "precision": sum(c.success for c in checked) / len(checked) if checked else 0.0,
        "top1_verdicts": dict(sorted(verdicts.items())),
        "situations": {
            s.value: _rates([o for o in outcomes if o.situation is s]) for s in situations
        },
    }

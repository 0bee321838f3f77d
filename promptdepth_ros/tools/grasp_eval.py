"""promptdepth-grasp-eval: grasp success per situation on held-out tabletop scenes.

Each scene (:mod:`promptdepth_ros.sim.grasp_scenes`) is rendered; a depth source gives a depth
image (ground truth, or a simulated sensor through the depth pipeline and the guided engine);
the planner plans on its cloud; each object's five best grasps are checked on the true shapes
(:mod:`promptdepth_ros.eval.grasp_check`). Scenes come from two disjoint seed sets: ``tune``
for developing the planner, ``heldout`` (the default) for the figures; tune on ``tune`` only.
``--json`` prints one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from promptdepth_ros.errors import PromptDepthError
from promptdepth_ros.eval.grasp_depth import (
    DEFAULT_SOURCES,
    SOURCE_NAMES,
    DepthSource,
    depth_source,
)
from promptdepth_ros.eval.grasp_eval import ObjectOutcome, evaluate_scene, summarize
from promptdepth_ros.grasp.types import GraspPlannerConfig
from promptdepth_ros.sim.grasp_scenes import (
    OBJECTS_PER_SCENE,
    WORKSPACE_HALF_M,
    GraspScene,
    generate_grasp_scene,
)
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import default_camera

# scene i of a set is drawn from np.random.default_rng([SEED_SETS[set], i]): disjoint streams
SEED_SETS = {"tune": 1, "heldout": 2}
DEFAULT_SCENES = 20
_WORKSPACE_MARGIN_M = (0.1, 0.13)


def planner_workspace(
    half_m: tuple[float, float],
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Planner workspace corners (min, max) around a scene area of half extents ``half_m``."""
    hx, hy = half_m[0] + _WORKSPACE_MARGIN_M[0], half_m[1] + _WORKSPACE_MARGIN_M[1]
    return (-hx, -hy, -0.05), (hx, hy, 0.5)


WORKSPACE_MIN_M, WORKSPACE_MAX_M = planner_workspace(WORKSPACE_HALF_M)


def _size(text: str) -> tuple[int, int]:
    width, height = (int(v) for v in text.lower().split("x"))
    return width, height


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="promptdepth-grasp-eval", description=__doc__)
    parser.add_argument(
        "--seeds",
        choices=sorted(SEED_SETS),
        default="heldout",
        help="scene set: heldout (the figures; default) or tune (for development)",
    )
    parser.add_argument(
        "--scenes",
        type=int,
        default=DEFAULT_SCENES,
        help=f"number of scenes, {OBJECTS_PER_SCENE} objects each (default {DEFAULT_SCENES})",
    )
    parser.add_argument("--first", type=int, default=0, help="index of the first scene (0)")
    parser.add_argument("--size", type=_size, default=(640, 480), help="image WxH (640x480)")
    parser.add_argument(
        "--source",
        action="append",
        choices=SOURCE_NAMES,
        help=f"depth source (repeatable; default: {' and '.join(DEFAULT_SOURCES)})",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary line last")
    args = parser.parse_args(argv)
    if args.scenes < 1 or args.first < 0:
        parser.error(f"need --scenes >= 1 and --first >= 0, got {args.scenes} and {args.first}")
    return args


def scene_rng(seed_set: str, index: int, stream: int = 0) -> np.random.Generator:
    """The generator of scene ``index`` of ``seed_set`` (stream 0: the scene, 1: the sensor)."""
    return np.random.default_rng([SEED_SETS[seed_set], index, stream])


def evaluate_source(source: DepthSource, args: argparse.Namespace) -> dict[str, Any]:
    """Run every scene through ``source``, plan, check, and summarise."""
    outcomes: list[ObjectOutcome] = []
    plan_ms, depth_ms, spurious = [], [], 0
    for index in range(args.first, args.first + args.scenes):
        gripper_config = GraspPlannerConfig()
        grasp_scene: GraspScene = generate_grasp_scene(
            scene_rng(args.seeds, index),
            default_camera(*args.size),
            gripper_config.gripper.max_opening_m,
        )
        low, high = planner_workspace(grasp_scene.workspace_half_m)
        config = GraspPlannerConfig(workspace_min_m=low, workspace_max_m=high)
        scene = grasp_scene.scene
        frame = render(scene)
        tic = time.perf_counter()
        depth = source(frame, scene, scene_rng(args.seeds, index, 1))
        depth_ms.append(1e3 * (time.perf_counter() - tic))
        result, plan = evaluate_scene(scene, depth, config, grasp_scene.situations)
        plan_ms.append(sum(plan.timings_ms.values()) if plan is not None else 0.0)
        outcomes += result.objects
        spurious += result.spurious_grasps
    summary = summarize(outcomes)
    summary["ms_per_scene"] = float(np.mean(plan_ms))
    summary["depth_ms_per_scene"] = float(np.mean(depth_ms))
    summary["spurious_grasps_per_scene"] = spurious / args.scenes
    return summary


def format_rows(name: str, summary: dict[str, Any]) -> list[str]:
    """Table rows of one depth source: overall, then one per situation."""
    rows = [
        f"{name:<22}{summary['objects']:>8}{summary['top1']:>8.3f}{summary['top5']:>8.3f}"
        f"{summary['coverage']:>10.3f}{summary['ms_per_scene']:>10.1f}"
    ]
    for situation, rates in summary["situations"].items():
        rows.append(
            f"  {situation:<20}{rates['objects']:>8}{rates['top1']:>8.3f}{rates['top5']:>8.3f}"
        )
    rows.append(f"  best-grasp verdicts: {summary['top1_verdicts']}")
    return rows


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    results: dict[str, dict[str, Any]] = {}
    print(f"scene set '{args.seeds}', scenes {args.first}..{args.first + args.scenes - 1}")
    print(f"{'source':<22}{'objects':>8}{'top1':>8}{'top5':>8}{'coverage':>10}{'ms/scene':>10}")
    try:
        for name in dict.fromkeys(args.source or DEFAULT_SOURCES):
            results[name] = evaluate_source(depth_source(name), args)
            print("\n".join(format_rows(name, results[name])), flush=True)
    except PromptDepthError as error:
        raise SystemExit(f"promptdepth-grasp-eval: error: {error}") from error
    if args.json:
        print(json.dumps({"depth_sources": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

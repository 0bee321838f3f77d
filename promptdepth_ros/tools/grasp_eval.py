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
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from promptdepth_ros.errors import PromptDepthError
from promptdepth_ros.eval.grasp_depth import (
    DEFAULT_SOURCES,
    SOURCE_NAMES,
    DepthSource,
    depth_source,
)
from promptdepth_ros.eval.grasp_eval import NO_GRASP, ObjectOutcome, evaluate_scene, summarize
from promptdepth_ros.eval.grasp_oracle import find_valid_grasp
from promptdepth_ros.grasp.types import GraspPlannerConfig, GripperModel
from promptdepth_ros.ros.grasp_planner_params import GRASP_PLANNER_PARAMS, grasp_config_from_params
from promptdepth_ros.sim.grasp_scenes import (
    OBJECTS_PER_SCENE,
    WORKSPACE_HALF_M,
    GraspScene,
    generate_grasp_scene,
)
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import default_camera
from promptdepth_ros.tools.cli import node_parameters

# scene i of a set: np.random.default_rng([SEED_SETS[set], i, stream]), disjoint streams
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
    parser.add_argument(
        "--grasp-params",
        type=Path,
        help="grasp_planner_node parameter YAML (gripper, planner); the workspace is the scene's",
    )
    parser.add_argument(
        "--oracle",
        action="store_true",
        help="also search each object for any grasp the check accepts (the ceiling; slow)",
    )
    parser.add_argument(
        "--failures",
        action="store_true",
        help="print each object whose best grasp fails: scene, object, situation, shape, verdict",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary line last")
    args = parser.parse_args(argv)
    if args.scenes < 1 or args.first < 0:
        parser.error(f"need --scenes >= 1 and --first >= 0, got {args.scenes} and {args.first}")
    return args


def scene_rng(seed_set: str, index: int, stream: int = 0) -> np.random.Generator:
    """The generator of scene ``index`` of ``seed_set`` (stream 0: the scene, 1: the sensor)."""
    return np.random.default_rng([SEED_SETS[seed_set], index, stream])


def planner_config(args: argparse.Namespace) -> GraspPlannerConfig:
    """The planner configuration: defaults, or the ``--grasp-params`` file's.

    Raises ConfigError for a bad file, OSError/yaml.YAMLError for an unreadable one.
    """
    params = node_parameters(args.grasp_params, "grasp_planner_node", GRASP_PLANNER_PARAMS, {})
    return grasp_config_from_params(params)


def scenes(args: argparse.Namespace, gripper: GripperModel) -> Iterator[GraspScene]:
    """The scenes the options select."""
    for index in range(args.first, args.first + args.scenes):
        rng = scene_rng(args.seeds, index)
        yield generate_grasp_scene(rng, default_camera(*args.size), gripper.max_opening_m)


def evaluate_source(
    source: DepthSource, args: argparse.Namespace, base: GraspPlannerConfig
) -> dict[str, Any]:
    """Run every scene through ``source``, plan with ``base`` (in the scene's workspace),
    check, and summarise."""
    outcomes: list[ObjectOutcome] = []
    plan_ms: list[float] = []
    depth_ms: list[float] = []
    spurious = 0
    for index, grasp_scene in enumerate(scenes(args, base.gripper), start=args.first):
        low, high = planner_workspace(grasp_scene.workspace_half_m)
        config = replace(base, workspace_min_m=low, workspace_max_m=high)
        scene = grasp_scene.scene
        frame = render(scene)
        tic = time.perf_counter()
        depth = source(frame, scene, scene_rng(args.seeds, index, 1))
        depth_ms.append(1e3 * (time.perf_counter() - tic))
        result, plan = evaluate_scene(scene, depth, config, grasp_scene.situations)
        if plan is not None:  # a skipped frame has nothing to plan on
            plan_ms.append(sum(plan.timings_ms.values()))
        outcomes += result.objects
        spurious += result.spurious_grasps
        if args.failures:
            print_failures(index, grasp_scene, result.objects)
    summary = summarize(outcomes)
    summary["ms_per_scene"] = float(np.mean(plan_ms)) if plan_ms else 0.0
    summary["depth_ms_per_scene"] = float(np.mean(depth_ms))
    summary["spurious_grasps_per_scene"] = spurious / args.scenes
    return summary


def print_failures(
    index: int, grasp_scene: GraspScene, outcomes: tuple[ObjectOutcome, ...]
) -> None:
    """One line per object of scene ``index`` whose best grasp fails (or that has none)."""
    for outcome in outcomes:
        if not outcome.top1:
            shape = grasp_scene.scene.objects[outcome.object_id]
            verdict = outcome.checks[0].verdict.value if outcome.checks else NO_GRASP
            situation = outcome.situation.value if outcome.situation else "-"
            dims = "x".join(f"{100 * d:.1f}" for d in shape.dims_m)
            print(
                f"  scene {index} object {outcome.object_id}: {situation}, {shape.kind.value} "
                f"{dims} cm, {verdict}"
            )


def oracle_summary(args: argparse.Namespace, gripper: GripperModel) -> dict[str, Any]:
    """Share of objects (overall, per situation) for which some grasp passes the check."""
    found: dict[str, list[bool]] = {}
    for grasp_scene in scenes(args, gripper):
        solids = (grasp_scene.scene.table, *grasp_scene.scene.objects)
        for target in grasp_scene.targets:
            situation = grasp_scene.situations[target.object_id].value
            grasp = find_valid_grasp(target, solids, gripper)
            found.setdefault(situation, []).append(grasp is not None)
    every = [f for values in found.values() for f in values]
    return {
        "graspable": sum(every) / len(every),
        "objects": len(every),
        "situations": {s: sum(v) / len(v) for s, v in found.items()},
    }


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
        config = planner_config(args)
        for name in dict.fromkeys(args.source or DEFAULT_SOURCES):
            results[name] = evaluate_source(depth_source(name), args, config)
            print("\n".join(format_rows(name, results[name])), flush=True)
        oracle = oracle_summary(args, config.gripper) if args.oracle else None
    except (PromptDepthError, OSError, yaml.YAMLError) as error:
        raise SystemExit(f"promptdepth-grasp-eval: error: {error}") from error
    if oracle is not None:
        print(f"graspable by brute force: {oracle['graspable']:.3f} of {oracle['objects']}")
        print(f"  per situation: {oracle['situations']}")
    if args.json:
        scene_set = {"seeds": args.seeds, "first": args.first, "scenes": args.scenes}
        extra = {} if oracle is None else {"oracle": oracle}
        print(json.dumps({"depth_sources": results, "scene_set": scene_set, **extra}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

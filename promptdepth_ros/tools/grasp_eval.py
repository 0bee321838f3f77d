"""promptdepth-grasp-eval: grasp success on synthetic tabletop scenes, per depth source.

Each scene is rendered, a depth source turns the frame into a depth image, the planner runs on
the world-frame cloud and each object's best grasps are checked against the true primitives
(:mod:`promptdepth_ros.eval.grasp_eval`). ``--json`` prints one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.eval.grasp_eval import ObjectOutcome, evaluate_scene, summarize
from promptdepth_ros.grasp.types import GraspPlannerConfig
from promptdepth_ros.sim.render import RenderedFrame, render
from promptdepth_ros.sim.scene import TabletopScene, default_camera, generate_tabletop_scene

DepthSource = Callable[[RenderedFrame, TabletopScene, np.random.Generator], NDArray[np.float32]]
WORKSPACE_MIN_M = (-0.4, -0.35, -0.05)
WORKSPACE_MAX_M = (0.4, 0.35, 0.5)


def ground_truth_source() -> DepthSource:
    """The rendered depth itself."""

    def depth(
        frame: RenderedFrame, scene: TabletopScene, rng: np.random.Generator
    ) -> NDArray[np.float32]:
        return frame.depth_m

    return depth


def guided_source() -> DepthSource:
    """The weight-free guided engine on a simulated 256x192 LiDAR prompt."""
    from promptdepth_ros.engines.guided import GuidedEngine
    from promptdepth_ros.prompt.conditioning import condition_prompt
    from promptdepth_ros.sim.lidar import simulate_lidar_depth

    engine = GuidedEngine()

    def depth(
        frame: RenderedFrame, scene: TabletopScene, rng: np.random.Generator
    ) -> NDArray[np.float32]:
        prompt = simulate_lidar_depth(frame.depth_m, rng, out_hw=(192, 256))
        return engine.infer(frame.rgb, condition_prompt(prompt), scene.camera).depth_m

    return depth


DEPTH_SOURCES: dict[str, Callable[[], DepthSource]] = {
    "ground_truth": ground_truth_source,
    "guided": guided_source,
}


def _size(text: str) -> tuple[int, int]:
    width, height = (int(v) for v in text.lower().split("x"))
    return width, height


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="promptdepth-grasp-eval", description=__doc__)
    parser.add_argument("--scenes", type=int, default=14, help="number of scenes (default 14)")
    parser.add_argument("--seed", type=int, default=1000, help="seed of the first scene")
    parser.add_argument("--size", type=_size, default=(640, 480), help="image WxH (640x480)")
    parser.add_argument("--friction", type=float, default=0.4, help="friction coefficient mu")
    parser.add_argument(
        "--source",
        action="append",
        choices=sorted(DEPTH_SOURCES),
        help="depth source (repeatable; default: all)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary line last")
    return parser.parse_args(argv)


def evaluate_source(
    source: DepthSource, args: argparse.Namespace, config: GraspPlannerConfig
) -> dict[str, float]:
    """Run every scene through ``source`` and summarise the grasp checks."""
    outcomes: list[ObjectOutcome] = []
    plan_ms, depth_ms = [], []
    for index in range(args.scenes):
        seed = args.seed + index
        scene = generate_tabletop_scene(np.random.default_rng(seed), default_camera(*args.size))
        frame = render(scene)
        tic = time.perf_counter()
        depth = source(frame, scene, np.random.default_rng(seed + 10_000))
        depth_ms.append(1e3 * (time.perf_counter() - tic))
        scene_outcomes, plan = evaluate_scene(scene, depth, config, args.friction, seed)
        plan_ms.append(sum(plan.timings_ms.values()))
        outcomes += scene_outcomes
    summary = summarize(outcomes)
    summary["ms_per_scene"] = float(np.mean(plan_ms))
    summary["depth_ms_per_scene"] = float(np.mean(depth_ms))
    return summary


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    config = GraspPlannerConfig(
        workspace_min_m=WORKSPACE_MIN_M,
        workspace_max_m=WORKSPACE_MAX_M,
        friction_coefficient=args.friction,
    )
    results: dict[str, dict[str, float]] = {}
    print(f"{'source':<14}{'objects':>8}{'top1':>8}{'top5':>8}{'coverage':>10}{'ms/scene':>10}")
    for name in args.source or list(DEPTH_SOURCES):
        summary = evaluate_source(DEPTH_SOURCES[name](), args, config)
        summary["objects"] = int(summary["objects"])
        results[name] = summary
        print(
            f"{name:<14}{summary['objects']:>8}{summary['top1']:>8.3f}{summary['top5']:>8.3f}"
            f"{summary['coverage']:>10.3f}{summary['ms_per_scene']:>10.1f}"
        )
    if args.json:
        print(json.dumps({"depth_sources": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

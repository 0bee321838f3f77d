"""Grasp planning time vs cloud size on dense tabletop clouds, with the stage breakdown.

Usage: python benchmarks/grasp.py [--repeats N] [--json]
Clouds: surfaces of a generated tabletop scene (objects + 0.6 x 0.5 m of table) sampled
uniformly to 50k, 200k and 1M points, planning frame = world (z-up, table at z = 0).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.grasp.planner import plan_grasps
from promptdepth_ros.grasp.types import GraspPlannerConfig
from promptdepth_ros.sim.scene import TabletopScene, default_camera, generate_tabletop_scene

SIZES = (50_000, 200_000, 1_000_000)
CONFIG = GraspPlannerConfig(
    workspace_min_m=(-0.4, -0.35, -0.05),
    workspace_max_m=(0.4, 0.35, 0.5),
    max_cloud_points=1_000_000,
)


def dense_cloud(scene: TabletopScene, n: int, rng: np.random.Generator) -> NDArray[np.float32]:
    """``n`` points: 70 % on the objects' surfaces, 30 % on the table around them."""
    per_object = int(0.7 * n) // len(scene.objects)
    parts = [p.sample_surface(per_object, rng)[0] for p in scene.objects]
    table = np.column_stack(
        [
            rng.uniform(-0.3, 0.3, n - per_object * len(scene.objects)),
            rng.uniform(-0.25, 0.25, n - per_object * len(scene.objects)),
            np.zeros(n - per_object * len(scene.objects)),
        ]
    )
    inside = np.zeros(len(table), bool)
    for prim in scene.objects:
        inside |= prim.signed_distance(table) < 0.0
    parts.append(table[~inside])
    return np.vstack(parts).astype(np.float32)


def main() -> int:
    """Print a table of median planning times (and a JSON line with --json)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    scene = generate_tabletop_scene(np.random.default_rng(7), default_camera(), n_objects=(5, 5))
    rows = []
    print(
        f"{'points':>9}{'median_ms':>11}{'scene_ms':>10}{'cand_ms':>9}{'coll_ms':>9}{'grasps':>8}"
    )
    for n in SIZES:
        cloud = dense_cloud(scene, n, np.random.default_rng(n))
        times, stages, grasps = [], [], 0
        for repeat in range(args.repeats):
            tic = time.perf_counter()
            plan = plan_grasps(cloud, CONFIG, rng=np.random.default_rng(repeat))
            times.append(1e3 * (time.perf_counter() - tic))
            stages.append(plan.timings_ms)
            grasps = len(plan.grasps)
        row = {
            "points": len(cloud),
            "median_ms": float(np.median(times)),
            **{k: float(np.median([s[k] for s in stages])) for k in stages[0]},
            "grasps": grasps,
        }
        rows.append(row)
        print(
            f"{row['points']:>9}{row['median_ms']:>11.1f}{row['scene_ms']:>10.1f}"
            f"{row['candidates_ms']:>9.1f}{row['collision_ms']:>9.1f}{grasps:>8}"
        )
    if args.json:
        print(json.dumps({"rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

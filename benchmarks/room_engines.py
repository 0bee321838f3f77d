"""Room-scale frame time of the weight-free engines, per prompt sensor, through the pipeline.

Renders the room-scale views of ``promptdepth-eval`` (640x480 by default), simulates each
prompt sensor (iPhone-like 85x64, 32-beam LiDAR, RealSense-like 640x480) and runs
``guided`` beside the ``bilinear`` baseline through the node's pipeline with its default
settings. Prints ms per frame: prompt building + conditioning (hole filling) and the engine.
Single process; the 1-minute load average is printed before and after (timings on a shared
machine are pessimistic).

Usage: python benchmarks/room_engines.py [--frames N] [--repeat N] [--seed S] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from collections import defaultdict

import numpy as np

from promptdepth_ros.engines.base import DepthEngine
from promptdepth_ros.engines.baselines import BilinearUpsampleEngine
from promptdepth_ros.engines.guided import GuidedEngine
from promptdepth_ros.eval.depth_eval import HELD_OUT_SEED, EvalConfig, generate_frames
from promptdepth_ros.pipeline.depth import DepthPipeline, FrameInput, FrameOutput, PipelineConfig


def time_engines(
    engines: list[DepthEngine], config: EvalConfig, repeat: int
) -> list[dict[str, object]]:
    """One row per sensor and engine: median and p90 engine ms, median prompt ms per frame."""
    frames = list(generate_frames(config))
    samples: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for engine in engines:
        pipeline = DepthPipeline(PipelineConfig(), engine)
        stamp = 0.0
        for index in range(repeat + 1):  # the first pass warms up (caches, allocator)
            for frame in frames:
                stamp += 0.1
                out = pipeline.process(FrameInput(stamp, frame.rgb, frame.camera, frame.prompt))
                if index and isinstance(out, FrameOutput):
                    timing = (out.timings_ms["engine_ms"], out.timings_ms["prompt_ms"])
                    samples[(frame.sensor, engine.name)].append(timing)
    rows: list[dict[str, object]] = []
    for sensor in config.sensors:
        for engine in engines:
            engine_ms, prompt_ms = np.array(samples[(sensor, engine.name)]).T
            rows.append(
                {
                    "sensor": sensor,
                    "engine": engine.name,
                    "engine_median_ms": round(statistics.median(engine_ms), 1),
                    "engine_p90_ms": round(float(np.percentile(engine_ms, 90)), 1),
                    "prompt_median_ms": round(statistics.median(prompt_ms), 1),
                    "frames": len(engine_ms),
                }
            )
    return rows


def main() -> None:
    """Run the benchmark and print the table (and the JSON line with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=4, help="room views (default 4)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (default 3)")
    parser.add_argument("--seed", type=int, default=HELD_OUT_SEED)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON last")
    args = parser.parse_args()
    config = EvalConfig(n_frames=args.frames, seed=args.seed, scenes=("room",))
    load_before = os.getloadavg()[0]
    rows = time_engines([GuidedEngine(), BilinearUpsampleEngine()], config, args.repeat)
    load_after = os.getloadavg()[0]
    print(f"room-scale 640x480, {args.frames} views x {args.repeat} passes, seed {args.seed}")
    print(f"load average (1 min) before {load_before:.1f}, after {load_after:.1f}")
    header = f"{'sensor':<10} {'engine':<9} {'engine ms':>9} {'p90 ms':>7} {'prompt ms':>9}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['sensor']:<10} {r['engine']:<9} {r['engine_median_ms']:>9} "
            f"{r['engine_p90_ms']:>7} {r['prompt_median_ms']:>9}"
        )
    if args.json:
        print(json.dumps({"rows": rows, "load": [load_before, load_after]}))


if __name__ == "__main__":
    main()

"""``promptdepth-eval``: depth engines through the pipeline on generated scenes and sensors."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from promptdepth_ros.engines.base import DepthEngine
from promptdepth_ros.engines.baselines import BilinearUpsampleEngine, NearestUpsampleEngine
from promptdepth_ros.engines.registry import create_engine
from promptdepth_ros.engines.spec import EngineSpec
from promptdepth_ros.errors import PromptDepthError
from promptdepth_ros.eval.depth_eval import (
    HELD_OUT_SEED,
    SCENE_FAMILIES,
    TUNING_SEED,
    EvalConfig,
    RowSummary,
    evaluate_engines,
)
from promptdepth_ros.sim.sensors import PROMPT_SENSORS
from promptdepth_ros.tools.cli import add_setting_option, specs_by_name

ENGINE_SETTINGS = specs_by_name(EngineSpec)
ENGINES = ENGINE_SETTINGS["name"].choices
BASELINE_FACTORIES: dict[str, Callable[[], DepthEngine]] = {
    "nearest": NearestUpsampleEngine,
    "bilinear": BilinearUpsampleEngine,
}
_COLUMNS = (
    "absrel",
    "common_absrel",
    "rmse",
    "mae",
    "delta1",
    "coverage",
    "edge_f1",
    "ms_per_frame",
)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="promptdepth-eval",
        description="Render tabletop and room scenes, simulate iPhone-like, 32-beam LiDAR and "
        "RealSense-like prompts, run depth engines through the pipeline and score them against "
        "ground truth (baselines nearest and bilinear always included).",
    )
    parser.add_argument(
        "--engine",
        action="append",
        choices=ENGINES,
        help="engine to evaluate (repeatable; default: guided)",
    )
    add_setting_option(parser, "--backend", ENGINE_SETTINGS["backend"])
    add_setting_option(parser, "--variant", ENGINE_SETTINGS["variant"])
    parser.add_argument("--weights", type=Path, help="HF model directory or PromptDA .ckpt")
    parser.add_argument("--onnx", type=Path, help="ONNX model (onnxruntime backend)")
    add_setting_option(parser, "--input-long-side", ENGINE_SETTINGS["input_long_side"])
    parser.add_argument(
        "--random-init",
        action="store_true",
        help="learned engines with random weights (meaningless depth)",
    )
    parser.add_argument(
        "--sensor", action="append", choices=PROMPT_SENSORS, help="prompt sensor (default: all)"
    )
    parser.add_argument(
        "--scene", action="append", choices=SCENE_FAMILIES, help="scene family (default: all)"
    )
    parser.add_argument("--frames", type=int, default=8, help="views per scene family (default 8)")
    parser.add_argument(
        "--seed",
        type=int,
        default=HELD_OUT_SEED,
        help=f"scene seed (default {HELD_OUT_SEED}, the held-out set the README reports; "
        f"tune on {TUNING_SEED})",
    )
    parser.add_argument("--width", type=int, default=640, help="image width in pixels")
    parser.add_argument("--height", type=int, default=480, help="image height in pixels")
    parser.add_argument(
        "--save-error-maps", type=Path, metavar="DIR", help="write pred|GT|error PNGs to DIR"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the results as one JSON object on the last line"
    )
    return parser


def format_table(results: list[RowSummary], n_frames: int) -> str:
    """A fixed-width text table of the results, one engine x sensor x scene per row."""
    header = f"{'engine':<10}{'sensor':<10}{'scene':<9}" + "".join(f"{c:>14}" for c in _COLUMNS)
    rows = [f"{n_frames} frames per scene family", header, "-" * len(header)]
    for row in sorted(results, key=lambda r: (r.sensor, r.scene)):
        values = row.as_dict()
        cells = "".join(f"{float(values[c]):>14.5f}" for c in _COLUMNS)
        rows.append(f"{row.engine:<10}{row.sensor:<10}{row.scene:<9}" + cells)
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    names = list(dict.fromkeys(args.engine or ["guided"]))
    try:
        config = EvalConfig(
            n_frames=args.frames,
            seed=args.seed,
            width=args.width,
            height=args.height,
            sensors=tuple(dict.fromkeys(args.sensor or PROMPT_SENSORS)),
            scenes=tuple(dict.fromkeys(args.scene or SCENE_FAMILIES)),
            error_map_dir=args.save_error_maps,
        )
        engines = [factory() for factory in BASELINE_FACTORIES.values()]
        engines += [
            create_engine(
                EngineSpec(
                    engine=name,
                    backend=args.backend if name != "guided" else "auto",
                    variant=args.variant,
                    weights=args.weights,
                    onnx_path=args.onnx,
                    input_long_side=args.input_long_side,
                    random_init=args.random_init and name != "guided",
                )
            )
            for name in names
        ]
        try:
            results = evaluate_engines(engines, config)
        finally:
            for engine in engines:
                engine.close()
    except PromptDepthError as error:
        parser.exit(2, f"promptdepth-eval: error: {error}\n")
    for engine in engines:
        if hasattr(engine, "weights_description"):
            print(f"{engine.name}: {engine.weights_description}")
    print(format_table(results, config.n_frames))
    if args.json:
        engines: dict[str, list[dict[str, float | str | int]]] = {}
        for row in results:
            values = row.as_dict()
            engines.setdefault(str(values.pop("engine")), []).append(values)
        payload = {"frames": config.n_frames, "seed": config.seed, "engines": engines}
        print(json.dumps(payload))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""promptdepth-export-onnx: PromptDA or Depth Pro -> ONNX with fixed shapes and metadata."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from promptdepth_ros.engines.spec import PATCH_SIZE, EngineSpec
from promptdepth_ros.errors import ConfigError, PromptDepthError
from promptdepth_ros.pipeline.depth import PipelineConfig
from promptdepth_ros.tools.cli import add_setting_option, specs_by_name
from promptdepth_ros.tools.onnx_export import DEFAULT_OPSET

ENGINE_SETTINGS = specs_by_name(EngineSpec)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=("promptda", "depth_pro"), default="promptda")
    add_setting_option(parser, "--variant", ENGINE_SETTINGS["variant"])
    add_setting_option(parser, "--depth-pro-size", ENGINE_SETTINGS["depth_pro_size"])
    parser.add_argument(
        "--input-size",
        type=int,
        nargs=2,
        metavar=("H", "W"),
        default=(756, 1008),
        help="PromptDA image size (multiples of 14); Depth Pro uses its own square size",
    )
    parser.add_argument(
        "--prompt-size",
        type=int,
        nargs=2,
        metavar=("H", "W"),
        default=PipelineConfig().prompt_hw,
        help="PromptDA prompt size (the node's prompt.height prompt.width)",
    )
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET, help="ONNX opset")
    add_setting_option(parser, "--precision", ENGINE_SETTINGS["precision"])
    weights = parser.add_mutually_exclusive_group(required=True)
    weights.add_argument("--weights", type=Path, help="transformers directory or model.ckpt")
    weights.add_argument("--random-init", action="store_true", help="random weights (tests)")
    parser.add_argument("--output", type=Path, required=True, help="ONNX file to write")
    return parser.parse_args(argv)


def input_shapes(args: argparse.Namespace, depth_pro_side: int) -> dict[str, tuple[int, ...]]:
    """Graph input shapes; ConfigError for a PromptDA size that is not a multiple of 14."""
    if args.engine == "depth_pro":
        return {"image": (1, 3, depth_pro_side, depth_pro_side)}
    height, width = args.input_size
    if height % PATCH_SIZE or width % PATCH_SIZE or height <= 0 or width <= 0:
        raise ConfigError(
            f"--input-size must be positive multiples of {PATCH_SIZE}, got {height} {width}"
        )
    if min(args.prompt_size) <= 0:
        raise ConfigError(f"--prompt-size must be positive, got {args.prompt_size}")
    return {"image": (1, 3, height, width), "prompt_depth": (1, 1, *args.prompt_size)}


def build_network(spec: EngineSpec) -> tuple[Any, str, tuple[str, ...]]:
    """The torch network to export, a description of its weights, and its output names."""
    if spec.engine == "promptda":
        from promptdepth_ros.engines.promptda.engine import PROMPTDA_OUTPUTS
        from promptdepth_ros.engines.promptda.factory import build_promptda_network

        return (*build_promptda_network(spec), PROMPTDA_OUTPUTS)
    from promptdepth_ros.engines.depth_pro.engine import DEPTH_PRO_OUTPUTS
    from promptdepth_ros.engines.depth_pro.factory import build_depth_pro_network

    return (*build_depth_pro_network(spec), DEPTH_PRO_OUTPUTS)


def main(argv: Sequence[str] | None = None) -> int:
    """Export the model; returns the exit status."""
    args = parse_args(argv)
    try:
        from promptdepth_ros.engines.backends.open import weights_tag
        from promptdepth_ros.tools.onnx_export import export_network

        spec = EngineSpec(
            engine=args.engine,
            backend="torch",
            variant=args.variant,
            weights=args.weights,
            random_init=args.random_init,
            depth_pro_size=args.depth_pro_size,
        )
        network, description, outputs = build_network(spec)
        shapes = input_shapes(args, int(getattr(network, "input_size", 0)))
        metadata = {
            "engine": args.engine,
            "variant": args.variant if args.engine == "promptda" else args.depth_pro_size,
            "input_shapes": ";".join(f"{n}={'x'.join(map(str, s))}" for n, s in shapes.items()),
            "precision": args.precision,
            "weights": weights_tag(spec),
            "opset": str(args.opset),
            "producer": "promptdepth_ros",
        }
        export_network(network, args.output, shapes, outputs, metadata, args.opset, args.precision)
    except PromptDepthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.output} ({description}); metadata {metadata}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""promptdepth-build-engine: ONNX -> TensorRT plan with cache key sidecar and validation."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from promptdepth_ros.engines.backends.tensorrt.plan import PRECISIONS
from promptdepth_ros.errors import PromptDepthError


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("onnx", type=Path, help="ONNX file from promptdepth-export-onnx")
    parser.add_argument("--output", type=Path, help="plan path (default: <onnx>.<precision>.plan)")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp16",
        help="builder precision; the node's engine.precision must name the same",
    )
    parser.add_argument("--workspace-mb", type=int, default=4096, help="builder workspace limit")
    parser.add_argument("--timing-cache", type=Path, help="timing cache file (read and updated)")
    parser.add_argument("--device", default="cuda", help="CUDA device, e.g. cuda:0")
    parser.add_argument("--force", action="store_true", help="rebuild even if the plan is current")
    parser.add_argument(
        "--no-validate", action="store_true", help="skip the comparison with ONNX Runtime"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Build (or keep a current) TensorRT plan; returns the exit status."""
    args = parse_args(argv)
    plan = args.output or args.onnx.with_suffix(f".{args.precision}.plan")
    try:
        from promptdepth_ros.engines.backends.tensorrt.build import build_plan
        from promptdepth_ros.engines.backends.tensorrt.plan import plan_is_current
        from promptdepth_ros.engines.backends.tensorrt.runtime import engine_cache_key

        key = engine_cache_key(args.onnx, args.precision, args.device)
        if plan_is_current(plan, key) and not args.force:
            print(f"{plan} is current for {key.gpu_name}, TensorRT {key.tensorrt_version}")
            return 0
        errors = build_plan(
            args.onnx,
            plan,
            args.precision,
            workspace_bytes=args.workspace_mb << 20,
            timing_cache=args.timing_cache,
            device=args.device,
            validate=not args.no_validate,
        )
    except (PromptDepthError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {plan} ({args.precision}); validation vs ONNX Runtime: {errors or 'skipped'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

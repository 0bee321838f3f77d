"""Depth engine benchmark: latency and peak memory per engine, backend and resolution.

Each row times ``engine.infer`` (pre-processing, network, post-processing) on a synthetic
textured scene with a 192x256 prompt after warm-up. Learned engines use RANDOM weights here:
timings are real, depth values are meaningless. ``--quick`` runs small networks (PromptDA
ViT-S at 182x238, reduced Depth Pro) in a few minutes on 2 CPU cores.

Usage: python benchmarks/engines.py [--quick] [--json] [--frames N] [--warmup N]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import torch
from numpy.typing import NDArray

from promptdepth_ros.engines.base import DepthEngine
from promptdepth_ros.engines.registry import create_engine
from promptdepth_ros.engines.spec import DepthProSize, EngineSpec
from promptdepth_ros.errors import PromptDepthError
from promptdepth_ros.prompt.conditioning import condition_prompt
from promptdepth_ros.tools import export_onnx

PROMPT_HW = (192, 256)


@dataclass(frozen=True)
class Case:
    """One benchmark row to run: a spec factory (it may need an exported file) and a size."""

    engine: str
    backend: str
    height: int
    width: int
    make_spec: Callable[[Path], EngineSpec]
    note: str = ""


def scene(height: int, width: int) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
    """Textured RGB (height, width, 3) and a slanted 1-3 m prompt with 10 % holes."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 128 + 60 * np.sin(xx / 9.0)[..., None] * np.cos(yy / 13.0)[..., None]
    rgb = np.clip(base + rng.normal(0, 20, (height, width, 3)), 0, 255).astype(np.uint8)
    prompt = np.linspace(1.0, 3.0, PROMPT_HW[1], dtype=np.float32)[None].repeat(PROMPT_HW[0], 0)
    prompt[rng.random(PROMPT_HW) < 0.1] = 0.0
    return rgb, prompt


class RssSampler:
    """Highest resident set size seen by a background thread polling every 10 ms."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self.baseline = self._process.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def stop(self) -> float:
        """Stop polling; peak growth over the baseline in bytes."""
        self._stop.set()
        self._thread.join()
        return float(self.peak - self.baseline)


def run_case(case: Case, workdir: Path, frames: int, warmup: int) -> dict[str, object]:
    """Latency median/p90 (ms) and peak memory (MB) of one case.

    Peak memory is the largest of: RSS growth from before the engine was built (weights,
    activations), the tracemalloc peak of one extra frame (Python/numpy buffers) and, on a
    GPU, torch.cuda.max_memory_allocated. tracemalloc is off while timing. RSS growth
    undercounts memory that an earlier row freed and this one reuses.
    """
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    sampler = RssSampler()
    engine: DepthEngine = create_engine(case.make_spec(workdir))
    rgb, raw_prompt = scene(case.height, case.width)
    prompt = condition_prompt(raw_prompt)
    for _ in range(warmup):
        engine.infer(rgb, prompt, None)
    times = []
    for _ in range(frames):
        start = time.perf_counter()
        engine.infer(rgb, prompt, None)
        times.append((time.perf_counter() - start) * 1e3)
    tracemalloc.start()
    engine.infer(rgb, prompt, None)
    traced = float(tracemalloc.get_traced_memory()[1])
    tracemalloc.stop()
    peaks = [sampler.stop(), traced]
    if cuda:
        peaks.append(float(torch.cuda.max_memory_allocated()))
    engine.close()
    return {
        "engine": case.engine,
        "backend": case.backend,
        "resolution": f"{case.height}x{case.width}",
        "median_ms": round(statistics.median(times), 2),
        "p90_ms": round(float(np.percentile(times, 90)), 2),
        "peak_mb": round(max(peaks) / 2**20, 1),
        "note": case.note,
    }


def exported(workdir: Path, name: str, argv: list[str]) -> Path:
    """Export once per run (cached in workdir) and return the ONNX path."""
    path = workdir / f"{name}.onnx"
    if not path.is_file() and export_onnx.main([*argv, "--output", str(path)]) != 0:
        raise PromptDepthError(f"export of {name} failed")
    return path


def cases(quick: bool) -> list[Case]:
    """The rows to run: small networks with --quick, the reference resolution otherwise."""
    height, width = (182, 238) if quick else (756, 1008)
    dp_size: DepthProSize = "reduced"
    pda_args = ["--engine", "promptda", "--random-init", "--input-size", str(height), str(width)]
    dp_args = ["--engine", "depth_pro", "--depth-pro-size", dp_size, "--random-init"]
    rows = [
        Case("guided", "numpy", height, width, lambda w: EngineSpec(engine="guided")),
        Case(
            "promptda",
            "torch",
            height,
            width,
            lambda w: EngineSpec(
                engine="promptda", backend="torch", random_init=True, input_long_side=width
            ),
            "ViT-S random",
        ),
        Case(
            "promptda",
            "onnxruntime",
            height,
            width,
            lambda w: EngineSpec(
                engine="promptda", backend="onnxruntime", onnx_path=exported(w, "pda", pda_args)
            ),
            "ViT-S random",
        ),
        Case(
            "depth_pro",
            "torch",
            height,
            width,
            lambda w: EngineSpec(
                engine="depth_pro", backend="torch", random_init=True, depth_pro_size=dp_size
            ),
            f"{dp_size} random",
        ),
        Case(
            "depth_pro",
            "onnxruntime",
            height,
            width,
            lambda w: EngineSpec(
                engine="depth_pro", backend="onnxruntime", onnx_path=exported(w, "dp", dp_args)
            ),
            f"{dp_size} random",
        ),
    ]
    if torch.cuda.is_available():
        rows.append(
            Case(
                "promptda",
                "torch",
                height,
                width,
                lambda w: EngineSpec(
                    engine="promptda",
                    backend="torch",
                    random_init=True,
                    input_long_side=width,
                    device="cuda",
                    precision="fp16",
                ),
                "ViT-S random, CUDA fp16",
            )
        )
        if importlib.util.find_spec("tensorrt") is not None:
            rows.append(
                Case(
                    "promptda",
                    "tensorrt",
                    height,
                    width,
                    lambda w: trt_spec(w, pda_args),
                    "ViT-S random, fp16",
                )
            )
    return rows


def trt_spec(workdir: Path, pda_args: list[str]) -> EngineSpec:
    """Build (or reuse) an fp16 plan of the exported PromptDA graph."""
    from promptdepth_ros.tools import build_engine

    onnx_path = exported(workdir, "pda", pda_args)
    plan = workdir / "pda.fp16.plan"
    if build_engine.main([str(onnx_path), "--output", str(plan), "--precision", "fp16"]) != 0:
        raise PromptDepthError("TensorRT build failed")
    return EngineSpec(engine="promptda", backend="tensorrt", engine_path=plan, device="cuda")


def print_table(rows: list[dict[str, object]]) -> None:
    """Rows as a fixed-width table."""
    header = (
        f"{'engine':<10} {'backend':<12} {'resolution':<10} {'median ms':>10} "
        f"{'p90 ms':>10} {'peak MB':>9}  note"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['engine']:<10} {r['backend']:<12} {r['resolution']:<10} {r['median_ms']:>10} "
            f"{r['p90_ms']:>10} {r['peak_mb']:>9}  {r['note']}"
        )


def main() -> None:
    """Run the benchmark and print the table (and the JSON line with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small networks, a few minutes")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON last")
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(max(1, min(torch.get_num_threads(), psutil.cpu_count() or 1)))
    print("Learned engines run with RANDOM weights: latency and memory are real, depth is not.")
    print(f"torch threads: {torch.get_num_threads()}, CUDA: {torch.cuda.is_available()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases(args.quick):
            rows.append(run_case(case, Path(tmp), args.frames, args.warmup))
    print_table(rows)
    if args.json:
        print(json.dumps({"rows": rows}))


if __name__ == "__main__":
    main()

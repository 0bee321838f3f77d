"""Evaluate depth engines on generated tabletop scenes: render, simulate LiDAR, infer, score."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.engines.base import DepthEngine
from promptdepth_ros.errors import ConfigError
from promptdepth_ros.eval.metrics import DepthMetrics, depth_metrics
from promptdepth_ros.eval.visualize import colorize
from promptdepth_ros.prompt.conditioning import condition_prompt
from promptdepth_ros.sim.lidar import simulate_lidar_depth
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import default_camera, generate_tabletop_scene

LIDAR_WIDTH = 256
ERROR_MAP_MAX_REL = 0.05


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate on: ``n_frames`` scenes seeded by ``seed`` at ``width`` x ``height``.

    lidar_hw: (h, w) of the simulated LiDAR prompt; None = 256 wide at the image aspect ratio.
    error_map_dir: where to write one PNG per frame and engine (pred | GT | rel. error), or None.
    """

    n_frames: int = 20
    seed: int = 0
    width: int = 640
    height: int = 480
    lidar_hw: tuple[int, int] | None = None
    error_map_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.n_frames < 1:
            raise ConfigError(f"n_frames must be >= 1, got {self.n_frames}")
        if self.width < 32 or self.height < 32:
            raise ConfigError(f"image must be at least 32x32, got {self.width}x{self.height}")

    @property
    def prompt_hw(self) -> tuple[int, int]:
        """(h, w) of the LiDAR prompt."""
        if self.lidar_hw is not None:
            return self.lidar_hw
        width = min(LIDAR_WIDTH, self.width)
        return max(1, round(width * self.height / self.width)), width


@dataclass(frozen=True)
class EvalFrame:
    """One evaluation sample: rgb (H, W, 3) uint8, gt_m (H, W) and prompt_m (h, w) float32 m."""

    index: int
    rgb: NDArray[np.uint8]
    gt_m: NDArray[np.float32]
    prompt_m: NDArray[np.float32]
    camera: CameraModel


@dataclass(frozen=True)
class EngineSummary:
    """Metrics of one engine averaged over frames, and its mean wall time per frame."""

    absrel: float
    rmse: float
    mae: float
    delta1: float
    edge_f1: float
    ms_per_frame: float

    def as_dict(self) -> dict[str, float]:
        """The fields as a JSON-ready dict."""
        return asdict(self)


def generate_frames(config: EvalConfig) -> Iterator[EvalFrame]:
    """Render the scenes and their simulated LiDAR prompts (frame i is seeded by (seed, i))."""
    camera = default_camera(config.width, config.height)
    for index in range(config.n_frames):
        rng = np.random.default_rng([config.seed, index])
        frame = render(generate_tabletop_scene(rng, camera))
        prompt = simulate_lidar_depth(frame.depth_m, rng, out_hw=config.prompt_hw)
        yield EvalFrame(index, frame.rgb, frame.depth_m, prompt, camera)


def save_error_map(path: Path, pred_m: NDArray[np.floating], gt_m: NDArray[np.floating]) -> None:
    """Write a PNG of pred | GT (same depth scale) | |pred - gt| / gt (0..5 %)."""
    lo, hi = float(np.nanmin(gt_m)), float(np.nanmax(gt_m))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.abs(pred_m - gt_m) / gt_m
    panels = [
        colorize(pred_m, lo, hi),
        colorize(gt_m, lo, hi),
        colorize(rel, 0, ERROR_MAP_MAX_REL),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(panels, axis=1)).save(path)


def _mean(metrics: list[DepthMetrics], field: str) -> float:
    return float(np.mean([getattr(m, field) for m in metrics]))


def evaluate_engines(
    engines: Sequence[DepthEngine], config: EvalConfig
) -> dict[str, EngineSummary]:
    """Run every engine on the same frames; metrics are means over frames, keyed by engine name."""
    names = [engine.name for engine in engines]
    if len(set(names)) != len(names):
        raise ConfigError(f"engine names must be unique, got {names}")
    metrics: dict[str, list[DepthMetrics]] = {name: [] for name in names}
    seconds: dict[str, float] = dict.fromkeys(names, 0.0)
    for frame in generate_frames(config):
        prompt = condition_prompt(frame.prompt_m)
        for engine in engines:
            start = time.perf_counter()
            pred = engine.infer(frame.rgb, prompt, frame.camera).depth_m
            seconds[engine.name] += time.perf_counter() - start
            metrics[engine.name].append(depth_metrics(pred, frame.gt_m))
            if config.error_map_dir is not None:
                path = config.error_map_dir / f"frame_{frame.index:03d}_{engine.name}.png"
                save_error_map(path, pred, frame.gt_m)
    return {
        name: EngineSummary(
            absrel=_mean(values, "absrel"),
            rmse=_mean(values, "rmse"),
            mae=_mean(values, "mae"),
            delta1=_mean(values, "delta1"),
            edge_f1=_mean(values, "edge_f1"),
            ms_per_frame=1000.0 * seconds[name] / config.n_frames,
        )
        for name, values in metrics.items()
    }

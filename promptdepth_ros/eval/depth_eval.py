"""Evaluate depth engines through the real pipeline on generated scenes and simulated sensors.

Each view (tabletop or room-scale scene, rendered with ground truth) gets a prompt from each
simulated sensor (:mod:`promptdepth_ros.sim.sensors`) as the node would receive it - a depth
image or a LiDAR cloud with its extrinsic - and every engine runs in its own
:class:`~promptdepth_ros.pipeline.depth.DepthPipeline` (projection, range clipping, hole
filling, ``max_fill_px``, engine). Metrics come per engine x sensor x scene family.

Seeds: frame i of family f is seeded by (seed, f, i). Tune on ``TUNING_SEED``; report on
``HELD_OUT_SEED`` (the default), which nothing was tuned on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.engines.base import DepthEngine
from promptdepth_ros.errors import ConfigError
from promptdepth_ros.eval.metrics import boundary_f1, coverage, depth_metrics
from promptdepth_ros.eval.visualize import colorize
from promptdepth_ros.pipeline.depth import DepthPipeline, FrameInput, FrameOutput, PipelineConfig
from promptdepth_ros.prompt.conditioning import clip_range
from promptdepth_ros.prompt.sources import PromptSource, build_raw_prompt, prompt_resolution
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.room import RoomScene, generate_room_scene
from promptdepth_ros.sim.scene import TabletopScene, default_camera, generate_tabletop_scene
from promptdepth_ros.sim.sensors import PROMPT_SENSORS, PromptSensor, simulate_prompt

SceneFamily = Literal["tabletop", "room"]
SCENE_FAMILIES: tuple[SceneFamily, ...] = get_args(SceneFamily)
HELD_OUT_SEED = 0
TUNING_SEED = 1
SENSOR_METHOD = "sensor"
ERROR_MAP_MAX_REL = 0.05


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate on: ``n_frames`` views per scene family at ``width`` x ``height``.

    pipeline: the prompt settings every engine runs with (the node's defaults unless given).
    error_map_dir: where to write one PNG per frame, sensor and engine (pred | GT | error).
    """

    n_frames: int = 8
    seed: int = HELD_OUT_SEED
    width: int = 640
    height: int = 480
    sensors: tuple[PromptSensor, ...] = PROMPT_SENSORS
    scenes: tuple[SceneFamily, ...] = SCENE_FAMILIES
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    error_map_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.n_frames < 1:
            raise ConfigError(f"n_frames must be >= 1, got {self.n_frames}")
        if self.width < 32 or self.height < 32:
            raise ConfigError(f"image must be at least 32x32, got {self.width}x{self.height}")
        unknown = set(self.sensors) - set(PROMPT_SENSORS) | set(self.scenes) - set(SCENE_FAMILIES)
        if unknown or not self.sensors or not self.scenes:
            raise ConfigError(
                f"sensors must be among {PROMPT_SENSORS} and scenes among {SCENE_FAMILIES}, "
                f"got {self.sensors} and {self.scenes}"
            )


@dataclass(frozen=True)
class EvalFrame:
    """One view and one sensor's prompt: rgb (H, W, 3) uint8, gt_m (H, W) float32 metres."""

    index: int
    scene: SceneFamily
    sensor: PromptSensor
    rgb: NDArray[np.uint8]
    gt_m: NDArray[np.float32]
    prompt: PromptSource
    camera: CameraModel


@dataclass(frozen=True)
class RowSummary:
    """Metrics of one method on one sensor x scene family, means over the frames with output.

    absrel..delta1: over the method's own valid pixels; common_*: over the pixels every method
    covers in that frame; coverage: share of the pixels with a surface in the prompt range
    that got depth; edge_f1: Depth Pro's SI boundary F1; ms_per_frame: engine time;
    pipeline_ms: prompt building + conditioning + engine; frames: frames with output.
    """

    engine: str
    sensor: str
    scene: str
    absrel: float
    rmse: float
    mae: float
    delta1: float
    common_absrel: float
    common_rmse: float
    common_mae: float
    common_delta1: float
    coverage: float
    edge_f1: float
    ms_per_frame: float
    pipeline_ms: float
    frames: int

    def as_dict(self) -> dict[str, float | str | int]:
        """The fields as a JSON-ready dict (NaN for a method without output)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


_METRICS = ("absrel", "rmse", "mae", "delta1")


def generate_frames(config: EvalConfig) -> Iterator[EvalFrame]:
    """Render each view once and simulate every sensor's prompt of it."""
    camera = default_camera(config.width, config.height)
    generators: dict[SceneFamily, Callable[..., TabletopScene | RoomScene]] = {
        "tabletop": generate_tabletop_scene,
        "room": generate_room_scene,
    }
    for family in config.scenes:
        family_index = SCENE_FAMILIES.index(family)
        for index in range(config.n_frames):
            rng = np.random.default_rng([config.seed, family_index, index])
            view = render(generators[family](rng, camera))
            for sensor in config.sensors:
                sensor_rng = np.random.default_rng(
                    [config.seed, family_index, index, 1 + PROMPT_SENSORS.index(sensor)]
                )
                prompt = simulate_prompt(sensor, view.depth_m, camera, sensor_rng)
                yield EvalFrame(index, family, sensor, view.rgb, view.depth_m, prompt, camera)


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


def raw_sensor_depth(frame: EvalFrame, pipeline: PipelineConfig) -> NDArray[np.float32] | None:
    """The sensor's own depth in the image (range-clipped, no filling) when its prompt has the
    image's resolution, else None (a coarser prompt is no depth map of the image)."""
    hw = prompt_resolution(frame.prompt, pipeline.prompt_hw, pipeline.depth_native_resolution)
    if hw != frame.gt_m.shape:
        return None
    raw = build_raw_prompt(frame.prompt, frame.camera, hw)
    conditioning = pipeline.conditioning
    return clip_range(raw, conditioning.min_range_m, conditioning.max_range_m)


def _frame_scores(
    preds: dict[str, NDArray[np.float32]], gt: NDArray[np.float32], surface: NDArray[np.bool_]
) -> dict[str, dict[str, float]]:
    """Per-method metrics of one frame (NaN where a method has no valid pixel)."""
    common = surface & np.logical_and.reduce([np.isfinite(p) for p in preds.values()])
    scores: dict[str, dict[str, float]] = {}
    for name, pred in preds.items():
        row = {"coverage": coverage(pred, surface), "edge_f1": boundary_f1(pred, gt)}
        for prefix, mask in (("", surface), ("common_", common)):
            if np.any(mask & np.isfinite(pred)):
                metrics = depth_metrics(pred, gt, mask)
                row |= {prefix + key: getattr(metrics, key) for key in _METRICS}
            else:
                row |= {prefix + key: math.nan for key in _METRICS}
        scores[name] = row
    return scores


def evaluate_engines(engines: Sequence[DepthEngine], config: EvalConfig) -> list[RowSummary]:
    """Run every engine through the pipeline on the same frames; one row per method, sensor and
    scene family (engines first, then the raw sensor where it is a depth map of the image)."""
    names = [engine.name for engine in engines]
    if len(set(names)) != len(names) or SENSOR_METHOD in names:
        raise ConfigError(f"engine names must be unique and not '{SENSOR_METHOD}', got {names}")
    cond = config.pipeline.conditioning
    pipelines = {engine.name: DepthPipeline(config.pipeline, engine) for engine in engines}
    per_row: dict[tuple[str, str, str], list[dict[str, float]]] = {}
    for stamp, frame in enumerate(generate_frames(config)):
        preds: dict[str, NDArray[np.float32]] = {}
        timing: dict[str, tuple[float, float]] = {}
        for name, pipeline in pipelines.items():
            out = pipeline.process(FrameInput(0.1 * stamp, frame.rgb, frame.camera, frame.prompt))
            preds[name] = out.depth_m if isinstance(out, FrameOutput) else _nan_like(frame.gt_m)
            if isinstance(out, FrameOutput):
                timing[name] = (out.timings_ms["engine_ms"], sum(out.timings_ms.values()))
        raw = raw_sensor_depth(frame, config.pipeline)
        if raw is not None:
            preds[SENSOR_METHOD] = raw
        with np.errstate(invalid="ignore"):
            surface = (frame.gt_m >= cond.min_range_m) & (frame.gt_m <= cond.max_range_m)
        for name, row in _frame_scores(preds, frame.gt_m, surface).items():
            row["ms_per_frame"], row["pipeline_ms"] = timing.get(name, (0.0, 0.0))
            row["has_output"] = float(name not in pipelines or name in timing)
            per_row.setdefault((name, frame.sensor, frame.scene), []).append(row)
            if config.error_map_dir is not None:
                file = f"{frame.scene}_{frame.sensor}_{frame.index:03d}_{name}.png"
                save_error_map(config.error_map_dir / file, preds[name], frame.gt_m)
    return [_summarise(key, rows) for key, rows in per_row.items()]


def _nan_like(gt: NDArray[np.float32]) -> NDArray[np.float32]:
    return np.full(gt.shape, np.nan, np.float32)


def _summarise(key: tuple[str, str, str], rows: list[dict[str, float]]) -> RowSummary:
    """Means over the frames with output (NaN-free metrics only)."""
    kept = [row for row in rows if row["has_output"]]

    def mean(name: str) -> float:
        values = [row[name] for row in kept if math.isfinite(row[name])]
        return float(np.mean(values)) if values else math.nan

    names = [f.name for f in fields(RowSummary)][3:-1]
    engine, sensor, scene = key
    means = {name: mean(name) for name in names}
    return RowSummary(engine, sensor, scene, **means, frames=len(kept))

"""The depth pipeline: prompt → conditioning/fallback → engine → depth.

Used unchanged by the ROS node, the offline bag tool and the benchmarks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.engines.base import DepthEngine
from promptdepth_ros.errors import ConfigError, InputError
from promptdepth_ros.prompt.conditioning import (
    ConditionedPrompt,
    FallbackMode,
    PromptConditioningConfig,
    PromptDecision,
    PromptFallback,
    condition_prompt,
)
from promptdepth_ros.prompt.sources import PromptSource, build_raw_prompt, prompt_resolution
from promptdepth_ros.settings import check_settings, group, setting


@dataclass(frozen=True)
class PipelineConfig:
    """Prompt resolution and prompt conditioning (parameters ``prompt.*``)."""

    height: int = setting(
        192, "Prompt rows (the LiDAR is projected at this size)", low=8, high=4096, read_only=True
    )
    width: int = setting(256, "Prompt columns", low=8, high=4096, read_only=True)
    depth_native_resolution: bool = setting(
        True,
        "In input.mode depth the prompt keeps the depth image's own resolution (false: "
        "resample it to prompt.height x prompt.width, as a cloud is projected)",
    )
    conditioning: PromptConditioningConfig = group(PromptConditioningConfig)

    def __post_init__(self) -> None:
        check_settings(self)

    @property
    def prompt_hw(self) -> tuple[int, int]:
        """(rows, cols) of the prompt."""
        return (self.height, self.width)


@dataclass(frozen=True)
class FrameInput:
    """One synchronised set: rgb (H, W, 3) uint8, its camera, and a prompt source or None."""

    stamp_s: float
    rgb: NDArray[np.uint8]
    camera: CameraModel
    prompt: PromptSource | None


@dataclass(frozen=True)
class FrameOutput:
    """What the pipeline made of one frame.

    depth_m (H, W) float32 metres NaN = unknown; confidence (H, W) in [0, 1] or None;
    timings_ms per stage.
    """

    depth_m: NDArray[np.float32]
    confidence: NDArray[np.float32] | None
    decision: PromptDecision
    prompt_valid_ratio: float
    focal_px: float | None
    engine_name: str
    timings_ms: dict[str, float]


SkipCause = Literal["prompt_empty", "prompt_too_sparse"]


@dataclass(frozen=True)
class FrameSkip:
    """Why the fallback policy gave a frame no depth: a counter name and a sentence to log."""

    cause: SkipCause
    reason: str


def _skip(valid_ratio: float, config: PromptConditioningConfig) -> FrameSkip:
    """The FrameSkip of a frame whose prompt has ``valid_ratio`` valid pixels."""
    if config.fallback is FallbackMode.SKIP:
        policy = "prompt.fallback is 'skip'"
    else:
        age = config.last_good_max_age_s
        policy = f"no last good prompt is within prompt.last_good_max_age_s = {age} s"
    if valid_ratio == 0.0:
        return FrameSkip(
            "prompt_empty",
            f"no finite return within [{config.min_range_m}, {config.max_range_m}] m lands on "
            f"the image (an empty or all-NaN cloud or depth image?), and {policy}",
        )
    return FrameSkip(
        "prompt_too_sparse",
        f"{valid_ratio:.2%} of the prompt pixels are valid, below prompt.min_valid_ratio = "
        f"{config.min_valid_ratio:.2%}, and {policy}",
    )


class DepthPipeline:
    """Runs frames through prompt building, conditioning, the engine and back-projection.

    ``monocular`` is the engine used when the fallback policy says MONOCULAR (the engine
    itself when it needs no prompt).
    Raises ConfigError when the MONOCULAR fallback is configured without such an engine.
    """

    def __init__(
        self,
        config: PipelineConfig,
        engine: DepthEngine,
        monocular: DepthEngine | None = None,
    ) -> None:
        self.engine = engine
        self._monocular = engine if not engine.needs_prompt else monocular
        if self._monocular is not None and self._monocular.needs_prompt:
            raise ConfigError(f"engine '{self._monocular.name}' needs a prompt: not monocular")
        # The engine each decision runs; MONOCULAR only where a monocular engine exists.
        self._engine_for = {PromptDecision.USE: engine, PromptDecision.USE_LAST_GOOD: engine}
        if self._monocular is not None:
            self._engine_for[PromptDecision.MONOCULAR] = self._monocular
        self.check_config(config)
        self.config = config
        self._fallback = PromptFallback(config.conditioning)

    @property
    def decisions(self) -> dict[str, int]:
        """How often each fallback decision was taken."""
        return {d.value: n for d, n in self._fallback.counts.items()}

    def check_config(self, config: PipelineConfig) -> None:
        """Raise ConfigError for the MONOCULAR fallback without a monocular engine."""
        if config.conditioning.fallback is FallbackMode.MONOCULAR and self._monocular is None:
            raise ConfigError(
                "prompt.fallback is 'monocular' but no monocular engine is configured; "
                "set monocular.name (e.g. depth_pro) or choose 'skip' or 'last_good'"
            )

    def reconfigure(self, config: PipelineConfig) -> None:
        """Apply a new configuration from the next frame on; the last good prompt and the
        decision counts are kept. Raises ConfigError like :meth:`check_config`."""
        self.check_config(config)
        self.config = config
        self._fallback.config = config.conditioning

    def process(self, frame: FrameInput) -> FrameOutput | FrameSkip:
        """Run one frame; a FrameSkip saying why when the fallback policy skips it.

        Raises InputError for unusable inputs (the caller counts and reports them).
        """
        if frame.rgb.shape[:2] != (frame.camera.height, frame.camera.width):
            raise InputError(
                f"image is {frame.rgb.shape[1]}x{frame.rgb.shape[0]} but CameraInfo says "
                f"{frame.camera.width}x{frame.camera.height}"
            )
        timings: dict[str, float] = {}
        start = time.perf_counter()
        prompt: ConditionedPrompt | None = None
        valid_ratio = 0.0
        if self.engine.needs_prompt:
            if frame.prompt is None:
                raise InputError(f"engine '{self.engine.name}' needs a prompt and none was given")
            prompt_hw = prompt_resolution(
                frame.prompt, self.config.prompt_hw, self.config.depth_native_resolution
            )
            raw = build_raw_prompt(frame.prompt, frame.camera, prompt_hw)
            scale = frame.camera.width / prompt_hw[1]
            conditioned = condition_prompt(raw, self.config.conditioning, scale)
            valid_ratio = conditioned.valid_ratio
            fallback = self._fallback.decide(conditioned, frame.stamp_s)
            decision = fallback.decision
            prompt = fallback.prompt
        else:
            decision = PromptDecision.MONOCULAR
        timings["prompt_ms"] = (time.perf_counter() - start) * 1e3

        if decision is PromptDecision.SKIP:
            return _skip(valid_ratio, self.config.conditioning)
        engine = self._engine_for[decision]
        start = time.perf_counter()
        # The engine gets the conditioned prompt whole (depth, measured mask, range) and masks
        # its output where the prompt has no depth itself.
        result = engine.infer(frame.rgb, prompt if engine.needs_prompt else None, frame.camera)
        timings["engine_ms"] = (time.perf_counter() - start) * 1e3
        return FrameOutput(
            depth_m=result.depth_m,
            confidence=result.confidence,
            decision=decision,
            prompt_valid_ratio=valid_ratio,
            focal_px=result.focal_px,
            engine_name=engine.name,
            timings_ms=timings,
        )

    def close(self) -> None:
        """Release the engines."""
        self.engine.close()
        if self._monocular is not None and self._monocular is not self.engine:
            self._monocular.close()

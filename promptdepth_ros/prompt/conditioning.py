"""Prompt conditioning: range clipping, k-NN hole filling and the no-prompt fallback policy."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.errors import ConfigError, InputError
from promptdepth_ros.prompt.hole_filling import MAX_FILL_K, fill_prompt_holes
from promptdepth_ros.settings import check_settings, setting


class FallbackMode(Enum):
    """What to do when a frame has no usable prompt."""

    SKIP = "skip"
    LAST_GOOD = "last_good"
    MONOCULAR = "monocular"


class PromptDecision(Enum):
    """How one frame is processed, as decided by :class:`PromptFallback`."""

    USE = "use"
    USE_LAST_GOOD = "use_last_good"
    MONOCULAR = "monocular"
    SKIP = "skip"


@dataclass(frozen=True)
class PromptConditioningConfig:
    """Prompt conditioning: range clipping, hole filling and the no-prompt fallback policy."""

    min_range_m: float = setting(
        0.1, "Returns nearer than this are dropped, metres", low=0.0, high=1000.0
    )
    max_range_m: float = setting(
        20.0, "Returns farther than this are dropped, metres", low=0.01, high=1000.0
    )
    fill_k: int = setting(
        4, "Neighbours for prompt hole filling (0 = no filling)", low=0, high=MAX_FILL_K
    )
    max_fill_px: float = setting(
        30.0,
        "Prompt holes farther than this (image pixels, whatever the prompt resolution) from "
        "any return are not filled and the output has no depth (NaN) there; 0 = fill everything",
        low=0.0,
        high=4096.0,
    )
    min_valid_ratio: float = setting(
        0.01,
        "Below this share of valid prompt pixels the fallback policy applies",
        low=0.0,
        high=1.0,
    )
    fallback: FallbackMode = setting(
        FallbackMode.SKIP,
        "When the prompt is too sparse: 'skip' the frame, reuse the 'last_good' prompt, "
        "or run the 'monocular' engine",
    )
    last_good_max_age_s: float = setting(
        1.0,
        "Oldest last good prompt the 'last_good' fallback may reuse, seconds",
        low=0.0,
        high=3600.0,
    )

    def __post_init__(self) -> None:
        check_settings(self)
        if self.max_range_m <= self.min_range_m:
            raise ConfigError(
                f"max_range_m ({self.max_range_m}) must be > min_range_m ({self.min_range_m})"
            )


@dataclass(frozen=True)
class ConditionedPrompt:
    """A prompt ready for an engine: what every prompted engine's ``infer`` takes.

    ``depth_m``: (h, w) float32 metres after clipping and hole filling (NaN where unfilled: no
    depth may be produced there); ``valid_mask``: (h, w) bool, pixels with a measured in-range
    return (before filling; the rest of the finite pixels are filled); ``valid_ratio``: mean of
    ``valid_mask``; ``min_m``/``max_m``: range of the measured returns (NaN when there are none).
    Raises InputError when the arrays do not match that description.
    """

    depth_m: NDArray[np.float32]
    valid_mask: NDArray[np.bool_]
    valid_ratio: float
    min_m: float
    max_m: float

    def __post_init__(self) -> None:
        depth, valid = self.depth_m, self.valid_mask
        if not (
            isinstance(depth, np.ndarray)
            and isinstance(valid, np.ndarray)
            and depth.dtype == np.float32
            and valid.dtype == np.bool_
            and depth.ndim == 2
            and depth.shape == valid.shape
        ):
            got = [
                f"{a.dtype} {a.shape}" if isinstance(a, np.ndarray) else type(a).__name__
                for a in (depth, valid)
            ]
            raise InputError(
                f"a conditioned prompt needs (h, w) float32 depth_m and an (h, w) bool "
                f"valid_mask, got {got[0]} and {got[1]}; build it with condition_prompt"
            )

    @property
    def depth_mask(self) -> NDArray[np.bool_]:
        """(h, w) bool: pixels with depth, measured or filled (a superset of ``valid_mask``)."""
        return np.isfinite(self.depth_m)


def clip_range(depth_m: NDArray[np.floating], lo: float, hi: float) -> NDArray[np.float32]:
    """float32 copy of ``depth_m`` with values outside [lo, hi] metres (and non-finite) as NaN."""
    depth = np.array(depth_m, dtype=np.float32)
    with np.errstate(invalid="ignore"):
        depth[~((depth >= lo) & (depth <= hi))] = np.nan
    return depth


def condition_prompt(
    raw_m: NDArray[np.floating],
    config: PromptConditioningConfig | None = None,
    image_px_per_prompt_px: float = 1.0,
) -> ConditionedPrompt:
    """Clip ``raw_m`` (h, w metres, NaN/0 = no return) to the range, measure it, fill holes.

    Holes are filled only when the prompt is usable (valid ratio >= ``min_valid_ratio``), up
    to ``max_fill_px`` image pixels (``image_px_per_prompt_px`` image pixels per prompt pixel);
    this is the only place prompt holes are filled. ``config`` defaults to the default settings.
    """
    config = config or PromptConditioningConfig()
    depth = clip_range(raw_m, config.min_range_m, config.max_range_m)
    if depth.ndim != 2:
        raise InputError(f"prompt must be 2-D (h, w), got shape {depth.shape}")
    valid = np.isfinite(depth)
    ratio = float(valid.mean()) if valid.size else 0.0
    measured = depth[valid]
    lo = float(measured.min()) if measured.size else math.nan
    hi = float(measured.max()) if measured.size else math.nan
    if measured.size and ratio >= config.min_valid_ratio:
        max_fill = config.max_fill_px / image_px_per_prompt_px
        depth = fill_prompt_holes(depth, config.fill_k, max_fill)
    return ConditionedPrompt(
        depth_m=depth, valid_mask=valid, valid_ratio=ratio, min_m=lo, max_m=hi
    )


@dataclass(frozen=True)
class FallbackResult:
    """The decision for one frame and the prompt to use with it (None for MONOCULAR/SKIP)."""

    decision: PromptDecision
    prompt: ConditionedPrompt | None


class PromptFallback:
    """Chooses USE / USE_LAST_GOOD / MONOCULAR / SKIP per frame and counts every decision.

    A prompt is usable when it has a valid return and ``valid_ratio >= min_valid_ratio``.
    LAST_GOOD reuses the last usable prompt while it is at most ``last_good_max_age_s`` older
    than the frame (never a prompt from the future, e.g. after a bag loop) and SKIPs otherwise.
    """

    def __init__(self, config: PromptConditioningConfig) -> None:
        self.config = config
        self._last_good: ConditionedPrompt | None = None
        self._last_good_stamp_s = 0.0
        self._counts = {decision: 0 for decision in PromptDecision}

    @property
    def counts(self) -> dict[PromptDecision, int]:
        """How often each decision was taken (a copy)."""
        return dict(self._counts)

    def is_usable(self, prompt: ConditionedPrompt | None) -> bool:
        """True when ``prompt`` has enough valid returns to condition an engine."""
        return (
            prompt is not None
            and prompt.valid_ratio > 0.0
            and prompt.valid_ratio >= self.config.min_valid_ratio
        )

    def decide(self, prompt: ConditionedPrompt | None, stamp_s: float) -> FallbackResult:
        """Decision for a frame stamped ``stamp_s`` whose prompt is ``prompt`` (None = none)."""
        if prompt is not None and self.is_usable(prompt):
            self._last_good, self._last_good_stamp_s = prompt, stamp_s
            result = FallbackResult(PromptDecision.USE, prompt)
        elif self.config.fallback is FallbackMode.MONOCULAR:
            result = FallbackResult(PromptDecision.MONOCULAR, None)
        elif self.config.fallback is FallbackMode.LAST_GOOD and self._fresh(stamp_s):
            result = FallbackResult(PromptDecision.USE_LAST_GOOD, self._last_good)
        else:
            result = FallbackResult(PromptDecision.SKIP, None)
        self._counts[result.decision] += 1
        return result

    def _fresh(self, stamp_s: float) -> bool:
        """True when a last good prompt exists and is not older than the maximum age."""
        age = stamp_s - self._last_good_stamp_s
        return self._last_good is not None and 0.0 <= age <= self.config.last_good_max_age_s

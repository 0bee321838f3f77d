"""The one interface every depth engine implements, whatever its backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.errors import InputError
from promptdepth_ros.prompt.conditioning import ConditionedPrompt


@dataclass(frozen=True)
class DepthResult:
    """Output of an engine for one frame.

    depth_m:      (H, W) float32, metres, image resolution, NaN = unknown.
    confidence:   (H, W) float32 in [0, 1] or None when the engine has no notion of it.
    focal_px:     the focal length (pixels, image resolution) the metric scale used;
                  an estimate for monocular engines without CameraInfo, else None.
    """

    depth_m: NDArray[np.float32]
    confidence: NDArray[np.float32] | None = None
    focal_px: float | None = None


@runtime_checkable
class DepthEngine(Protocol):
    """Dense metric depth from RGB and an optional conditioned prompt.

    ``infer`` takes rgb (H, W, 3) uint8, the prompt as conditioning left it (a
    :class:`ConditionedPrompt` at any resolution covering the same field of view as the image;
    None for monocular engines) and the image's camera model (None when unknown). A prompted
    engine never fills prompt holes itself: it trusts ``valid_mask`` as the measured returns
    (confidence and weighting follow it; filled pixels are not measurements) and returns NaN
    wherever the prompt has no depth (``depth_mask`` False, e.g. beyond ``max_fill_px``).
    It returns a :class:`DepthResult` at the image resolution and raises
    :class:`promptdepth_ros.errors.InputError` for unusable inputs.
    """

    name: str
    needs_prompt: bool

    def infer(
        self,
        rgb: NDArray[np.uint8],
        prompt: ConditionedPrompt | None,
        camera: CameraModel | None,
    ) -> DepthResult: ...

    def close(self) -> None: ...


def validate_rgb(rgb: NDArray[np.uint8]) -> None:
    """Raise InputError unless ``rgb`` is an (H, W, 3) uint8 array, the image engines take."""
    if (
        not isinstance(rgb, np.ndarray)
        or rgb.dtype != np.uint8
        or rgb.ndim != 3
        or rgb.shape[2] != 3
    ):
        got = f"{rgb.dtype} {rgb.shape}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
        raise InputError(f"rgb must be an (H, W, 3) uint8 array, got {got}")

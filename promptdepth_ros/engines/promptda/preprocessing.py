"""PromptDA pre- and post-processing, faithful to the official PromptDA pipeline.

Image: RGB / 255; an image whose long side exceeds ``long_side`` is shrunk with OpenCV
INTER_AREA (emulated exactly) so the long side is ``long_side`` and both sides are floored to
multiples of 14 (1920x1440 -> 1008x756), as the official ``load_image``; a smaller image is never
enlarged, only floored to multiples of 14 (640x480 -> 630x476), where the official code feeds it
as is and its 14-px patches drop the remainder.
Prompt: the conditioned prompt (:class:`ConditionedPrompt`) in metres at its native resolution,
holes already filled by conditioning (never here), so that its min/max (taken inside the network)
are those of the measured returns; pixels conditioning left without depth take their nearest
pixel's depth only to keep the network input finite, and the engine masks their output.
Output: bilinear back to the image resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from promptdepth_ros.engines.base import validate_rgb
from promptdepth_ros.engines.prompt_input import pad_unsupported
from promptdepth_ros.engines.resampling import resize_image
from promptdepth_ros.engines.spec import PATCH_SIZE
from promptdepth_ros.errors import ConfigError, InputError
from promptdepth_ros.prompt.conditioning import ConditionedPrompt

MAX_LONG_SIDE = 4 * 1008  # 4K-class inputs, as in the PromptDA paper


@dataclass(frozen=True)
class PromptDAPipelineConfig:
    """Pre/post-processing parameters.

    long_side:          network input long side in px (floored to a multiple of 14).
    saturation_margin:  fraction of the prompt depth range near its bounds where
                        confidence falls to 0 (the model cannot leave [min, max]).
    support_sigma_px:   prompt pixels from the nearest valid return at which the
                        support factor of the confidence has fallen to 1/e.
    """

    long_side: int = 1008
    saturation_margin: float = 0.02
    support_sigma_px: float = 4.0

    def __post_init__(self) -> None:
        if not PATCH_SIZE <= self.long_side <= MAX_LONG_SIDE:
            raise ConfigError(
                f"long_side must be in [{PATCH_SIZE}, {MAX_LONG_SIDE}] px, got {self.long_side}"
            )
        if not 0.0 < self.saturation_margin < 0.5:
            raise ConfigError(
                f"saturation_margin must be in (0, 0.5), got {self.saturation_margin}"
            )
        if self.support_sigma_px <= 0.0:
            raise ConfigError(f"support_sigma_px must be > 0, got {self.support_sigma_px}")


def network_input_size(height: int, width: int, long_side: int) -> tuple[int, int]:
    """(H, W) of the network input: shrunk to long side ``long_side`` when larger (never
    enlarged), both sides floored to multiples of 14."""
    scale = min(1.0, (long_side // PATCH_SIZE * PATCH_SIZE) / max(height, width))
    return (
        max(PATCH_SIZE, int(height * scale // PATCH_SIZE * PATCH_SIZE)),
        max(PATCH_SIZE, int(width * scale // PATCH_SIZE * PATCH_SIZE)),
    )


def prepare_image(rgb: NDArray[np.uint8], height: int, width: int) -> NDArray[np.float32]:
    """(1, 3, height, width) float32 RGB in [0, 1]: /255 then INTER_AREA (shrinking only), as
    PromptDA does. Raises InputError for a target larger than the image."""
    validate_rgb(rgb)
    image = resize_image(rgb.astype(np.float32) / np.float32(255.0), height, width, "area")
    return np.ascontiguousarray(image.transpose(2, 0, 1)[None])


def prepare_prompt(
    prompt: ConditionedPrompt, shape: tuple[int, int] | None = None
) -> NDArray[np.float32]:
    """(1, 1, h, w) float32 finite prompt in metres for the network.

    ``shape`` resizes it bilinearly (fixed-shape exports); values stay in [min, max] of the
    measured returns. Raises InputError for fewer than two distinct measured depths.
    """
    if prompt.max_m - prompt.min_m < 1e-6:
        raise InputError(
            f"prompt has a single depth value {prompt.min_m:.4f} m; PromptDA normalises by "
            "max - min and needs at least two distinct depths"
        )
    depth = pad_unsupported(prompt.depth_m, prompt.depth_mask)
    if shape is not None and depth.shape != shape:
        depth = resize_image(depth, shape[0], shape[1], "bilinear")
    return np.ascontiguousarray(depth[None, None])


def prompt_confidence(
    depth_m: NDArray[np.float32],
    valid: NDArray[np.bool_],
    depth_range: tuple[float, float],
    config: PromptDAPipelineConfig,
) -> NDArray[np.float32]:
    """Confidence (H, W) in [0, 1] = saturation * support; 0 where depth is NaN.

    ``valid`` (h, w) marks the measured returns (never filled pixels). With
    t = (depth - min) / (max - min) over the prompt:
    saturation = clip(min(t, 1 - t) / saturation_margin, 0, 1), because PromptDA's sigmoid
    output cannot leave [min, max] and a value at a bound is likely clipped;
    support = exp(-d / support_sigma_px), d = prompt pixels to the nearest measured return,
    resized bilinearly to (H, W).
    """
    lo, hi = depth_range
    t = (depth_m - np.float32(lo)) / np.float32(hi - lo)
    saturation = np.clip(np.minimum(t, 1.0 - t) / config.saturation_margin, 0.0, 1.0)
    distance = ndimage.distance_transform_edt(~valid).astype(np.float32)
    support = np.exp(-distance / np.float32(config.support_sigma_px))
    support = resize_image(support, depth_m.shape[0], depth_m.shape[1], "bilinear")
    return np.nan_to_num(saturation * support, nan=0.0).astype(np.float32)

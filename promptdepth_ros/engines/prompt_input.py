"""Prompt input of the weight-free engines: validate image and prompt, densify the prompt.

``guided`` and the ``nearest``/``bilinear`` baselines condition the prompt with these same
functions, so comparisons between them measure the upsampling alone.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.engines.base import validate_rgb
from promptdepth_ros.errors import InputError
from promptdepth_ros.prompt.hole_filling import fill_prompt_holes_nearest
from promptdepth_ros.prompt.pooling import mean_pool_valid

MIN_PROMPT_DENSITY = 0.3


def validate_rgb_and_prompt(
    rgb: NDArray[np.uint8], prompt_m: NDArray[np.float32] | None
) -> NDArray[np.float32]:
    """Validate an (H, W, 3) uint8 image and an (h, w) float prompt; return the prompt as float32.

    Raises InputError for a missing prompt or a wrong dtype or shape.
    """
    validate_rgb(rgb)
    if prompt_m is None:
        raise InputError("this engine needs a depth prompt (LiDAR or depth image), got None")
    if (
        not isinstance(prompt_m, np.ndarray)
        or prompt_m.dtype not in (np.float32, np.float64)
        or prompt_m.ndim != 2
    ):
        got = (
            f"{prompt_m.dtype} {prompt_m.shape}" if isinstance(prompt_m, np.ndarray) else prompt_m
        )
        raise InputError(f"prompt_m must be an (h, w) float32 array in metres, got {got}")
    return prompt_m.astype(np.float32, copy=False)


def densify_prompt(
    prompt_m: NDArray[np.float32],
    image_hw: tuple[int, int],
    min_density: float = MIN_PROMPT_DENSITY,
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Dense prompt (h', w') float32 metres with holes nearest-filled, and its (h', w') valid mask.

    0/NaN/inf are no return. A prompt larger than the image is reduced to the image size; a sparse
    one (valid fraction < ``min_density``) to a grid coarse enough to reach that density.
    Raises InputError when no pixel is valid.
    """
    valid = np.isfinite(prompt_m) & (prompt_m > 0)
    n_valid = int(valid.sum())
    if n_valid == 0:
        raise InputError(
            f"the {prompt_m.shape[1]}x{prompt_m.shape[0]} prompt has no valid depth (all 0/NaN); "
            "check the LiDAR-camera extrinsic and the time sync"
        )
    depth = prompt_m
    h, w = prompt_m.shape
    if h > image_hw[0] or w > image_hw[1]:
        h, w = min(h, image_hw[0]), min(w, image_hw[1])
        depth, valid = mean_pool_valid(depth, valid, (h, w))
    density = float(valid.mean())
    if density < min_density:
        factor = math.ceil(math.sqrt(min_density / density))
        depth, valid = mean_pool_valid(depth, valid, (-(-h // factor), -(-w // factor)))
    return fill_prompt_holes_nearest(depth, valid), valid

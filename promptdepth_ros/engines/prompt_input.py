"""Prompt input of the prompted engines: check it, put it on a working grid, mask the output.

The prompt arrives conditioned (:class:`ConditionedPrompt`: hole filling happened once, in
:mod:`promptdepth_ros.prompt.conditioning`). ``guided`` and the ``nearest``/``bilinear``
baselines put it on the same working grid, so comparisons between them measure the upsampling
alone; every prompted engine masks its output with :func:`mask_unsupported`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.engines.base import validate_rgb
from promptdepth_ros.engines.resampling import resize_nearest
from promptdepth_ros.errors import InputError
from promptdepth_ros.prompt.conditioning import ConditionedPrompt
from promptdepth_ros.prompt.hole_filling import fill_prompt_holes_nearest
from promptdepth_ros.prompt.pooling import mean_pool_valid


def require_prompt(
    engine_name: str, rgb: NDArray[np.uint8], prompt: ConditionedPrompt | None
) -> ConditionedPrompt:
    """The prompt, after checking the (H, W, 3) uint8 image and that the prompt has a return.

    Raises InputError for a bad image, a missing prompt or one without any measured return.
    """
    validate_rgb(rgb)
    if prompt is None:
        raise InputError(
            f"engine '{engine_name}' needs a depth prompt (LiDAR or depth image), got None"
        )
    if not isinstance(prompt, ConditionedPrompt):
        raise InputError(
            f"engine '{engine_name}' takes a ConditionedPrompt (prompt.conditioning."
            f"condition_prompt), got {type(prompt).__name__}"
        )
    if not prompt.valid_mask.any():
        h, w = prompt.depth_m.shape
        raise InputError(
            f"the {w}x{h} prompt has no valid depth (no measured return in range); "
            "check the LiDAR-camera extrinsic and the time sync"
        )
    return prompt


def pad_unsupported(
    depth_m: NDArray[np.float32], has_depth: NDArray[np.bool_]
) -> NDArray[np.float32]:
    """(h, w) float32 finite copy: cells without depth take their nearest cell's depth.

    Only so that array maths (resampling, networks) stays finite: engines give those cells no
    weight and mask their output (:func:`mask_unsupported`), so this is not a hole fill.
    """
    return fill_prompt_holes_nearest(depth_m, has_depth)


@dataclass(frozen=True)
class PromptGrid:
    """The prompt on an engine's working grid (h', w').

    depth_m: float32 metres, finite everywhere (cells without depth padded, see
    :func:`pad_unsupported`); measured: cells holding a measured return; has_depth: cells
    with depth, measured or filled by conditioning.
    """

    depth_m: NDArray[np.float32]
    measured: NDArray[np.bool_]
    has_depth: NDArray[np.bool_]

    def weights(self, filled_weight: float) -> NDArray[np.float32]:
        """(h', w') float32: 1 on measured cells, ``filled_weight`` on filled ones, 0 elsewhere."""
        filled = np.float32(filled_weight) * self.has_depth
        return np.where(self.measured, np.float32(1.0), filled).astype(np.float32)


def _pool(
    depth: NDArray[np.float32],
    measured: NDArray[np.bool_],
    has_depth: NDArray[np.bool_],
    out_hw: tuple[int, int],
) -> tuple[NDArray[np.float32], NDArray[np.bool_], NDArray[np.bool_]]:
    """Pool onto ``out_hw``: the mean of the measured samples, else of the filled ones."""
    measured_mean, measured_out = mean_pool_valid(depth, measured, out_hw)
    any_mean, has_depth_out = mean_pool_valid(depth, has_depth, out_hw)
    return np.where(measured_out, measured_mean, any_mean), measured_out, has_depth_out


def prompt_grid(prompt: ConditionedPrompt, image_hw: tuple[int, int]) -> PromptGrid:
    """The prompt on the working grid of the weight-free engines: its own resolution, or the
    image's when it is larger (a cell is then the mean of its measured returns, else of its
    filled pixels). No hole is filled here.
    """
    depth, measured, has_depth = prompt.depth_m, prompt.valid_mask, prompt.depth_mask
    h, w = depth.shape
    if h > image_hw[0] or w > image_hw[1]:
        out_hw = (min(h, image_hw[0]), min(w, image_hw[1]))
        depth, measured, has_depth = _pool(depth, measured, has_depth, out_hw)
    return PromptGrid(pad_unsupported(depth, has_depth), measured, has_depth)


def mask_unsupported(
    depth_m: NDArray[np.float32], prompt: ConditionedPrompt
) -> NDArray[np.float32]:
    """``depth_m`` (H, W) with NaN where the prompt has no depth (in place; returned).

    Each image pixel takes the prompt pixel that contains its centre.
    """
    has_depth = prompt.depth_mask
    if not has_depth.all():
        depth_m[~resize_nearest(has_depth, *depth_m.shape)] = np.nan
    return depth_m

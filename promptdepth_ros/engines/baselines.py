"""The two upsampling baselines, ``nearest`` and ``bilinear``.

They put the conditioned prompt on the same working grid as ``guided``
(:mod:`promptdepth_ros.engines.prompt_input`), so comparisons between them measure the
upsampling alone.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.engines.base import DepthResult
from promptdepth_ros.engines.prompt_input import mask_unsupported, prompt_grid, require_prompt
from promptdepth_ros.engines.resampling import resize_image, resize_nearest
from promptdepth_ros.prompt.conditioning import ConditionedPrompt


class _UpsampleBaseline(ABC):
    """Baseline: the conditioned prompt resized to the image (``_resize`` per subclass)."""

    name = ""
    needs_prompt = True

    def infer(
        self,
        rgb: NDArray[np.uint8],
        prompt: ConditionedPrompt | None,
        camera: CameraModel | None,
    ) -> DepthResult:
        """Depth (H, W) float32 metres, NaN where the prompt has none; InputError if unusable."""
        prompt = require_prompt(self.name, rgb, prompt)
        height, width = rgb.shape[:2]
        grid = prompt_grid(prompt, (height, width))
        depth = self._resize(grid.depth_m, height, width)
        return DepthResult(depth_m=mask_unsupported(depth, prompt))

    @abstractmethod
    def _resize(self, depth: NDArray[np.float32], height: int, width: int) -> NDArray[np.float32]:
        """The prompt-resolution depth resampled to (height, width)."""

    def close(self) -> None:  # noqa: B027 - part of the engine interface, nothing to free
        """Nothing to release."""


class NearestUpsampleEngine(_UpsampleBaseline):
    """Baseline: the prompt resized to the image with nearest neighbour."""

    name = "nearest"

    def _resize(self, depth: NDArray[np.float32], height: int, width: int) -> NDArray[np.float32]:
        return resize_nearest(depth, height, width)


class BilinearUpsampleEngine(_UpsampleBaseline):
    """Baseline: the prompt resized to the image bilinearly."""

    name = "bilinear"

    def _resize(self, depth: NDArray[np.float32], height: int, width: int) -> NDArray[np.float32]:
        return resize_image(depth, height, width, "bilinear")

"""The two upsampling baselines, ``nearest`` and ``bilinear``.

They densify the prompt exactly as ``guided`` does (:mod:`promptdepth_ros.engines.prompt_input`),
so comparisons between them measure the upsampling alone.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.engines.base import DepthResult
from promptdepth_ros.engines.prompt_input import densify_prompt, validate_rgb_and_prompt
from promptdepth_ros.engines.resampling import resize_image, resize_nearest


class _UpsampleBaseline(ABC):
    """Baseline: the hole-filled prompt resized to the image (``_resize`` per subclass)."""

    name = ""
    needs_prompt = True

    def infer(
        self,
        rgb: NDArray[np.uint8],
        prompt_m: NDArray[np.float32] | None,
        camera: CameraModel | None,
    ) -> DepthResult:
        """Depth (H, W) float32 metres; raises InputError for unusable inputs."""
        prompt = validate_rgb_and_prompt(rgb, prompt_m)
        depth, _ = densify_prompt(prompt, rgb.shape[:2])
        height, width = rgb.shape[:2]
        return DepthResult(depth_m=self._resize(depth, height, width))

    @abstractmethod
    def _resize(self, depth: NDArray[np.float32], height: int, width: int) -> NDArray[np.float32]:
        """The prompt-resolution depth resampled to (height, width)."""

    def close(self) -> None:  # noqa: B027 - part of the engine interface, nothing to free
        """Nothing to release."""


class NearestUpsampleEngine(_UpsampleBaseline):
    """Baseline: hole-filled prompt resized to the image with nearest neighbour."""

    name = "nearest"

    def _resize(self, depth: NDArray[np.float32], height: int, width: int) -> NDArray[np.float32]:
        return resize_nearest(depth, height, width)


class BilinearUpsampleEngine(_UpsampleBaseline):
    """Baseline: hole-filled prompt resized to the image bilinearly."""

    name = "bilinear"

    def _resize(self, depth: NDArray[np.float32], height: int, width: int) -> NDArray[np.float32]:
        return resize_image(depth, height, width, "bilinear")

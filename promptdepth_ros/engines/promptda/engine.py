"""The PromptDA depth engine: RGB + metric prompt -> dense metric depth, on any backend."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.engines.backends import InferenceBackend
from promptdepth_ros.engines.base import DepthResult
from promptdepth_ros.engines.prompt_input import mask_unsupported, require_prompt
from promptdepth_ros.engines.promptda.preprocessing import (
    PromptDAPipelineConfig,
    network_input_size,
    prepare_image,
    prepare_prompt,
    prompt_confidence,
)
from promptdepth_ros.engines.resampling import resize_image
from promptdepth_ros.errors import EngineMismatch
from promptdepth_ros.prompt.conditioning import ConditionedPrompt

PROMPTDA_INPUTS = ("image", "prompt_depth")
PROMPTDA_OUTPUTS = ("depth",)


class PromptDAEngine:
    """Prompt Depth Anything behind the DepthEngine interface.

    The output never leaves [min, max] of the valid prompt returns (the network ends in a
    sigmoid scaled to that range); ``confidence`` marks where it saturates at those bounds
    and where the prompt had no measured return nearby (see :func:`prompt_confidence`).
    ``weights_description`` says which weights run, e.g. "RANDOM weights (...)".
    """

    name = "promptda"
    needs_prompt = True

    def __init__(
        self,
        backend: InferenceBackend,
        config: PromptDAPipelineConfig | None = None,
        weights_description: str = "unknown weights",
    ) -> None:
        if set(backend.input_names) != set(PROMPTDA_INPUTS) or "depth" not in backend.output_names:
            raise EngineMismatch(
                f"PromptDA needs inputs {PROMPTDA_INPUTS} and output 'depth'; the {backend.name} "
                f"model has inputs {backend.input_names} and outputs {backend.output_names}"
            )
        self.backend = backend
        self.config = config or PromptDAPipelineConfig()
        self.weights_description = weights_description
        image_shape = backend.input_shapes.get("image")
        prompt_shape = backend.input_shapes.get("prompt_depth")
        self._fixed_image_hw = None if image_shape is None else (image_shape[2], image_shape[3])
        self._fixed_prompt_hw = (
            None if prompt_shape is None else (prompt_shape[2], prompt_shape[3])
        )

    def network_size(self, height: int, width: int) -> tuple[int, int]:
        """Network input (H, W) for an image of height x width px.

        A fixed-shape (exported) model takes only the shape this image would get; another
        aspect ratio raises EngineMismatch naming the export size to use, never a squashed image.
        """
        if self._fixed_image_hw is None:
            return network_input_size(height, width, self.config.long_side)
        fixed = (int(self._fixed_image_hw[0]), int(self._fixed_image_hw[1]))
        wanted = network_input_size(height, width, max(fixed))
        if wanted != fixed:
            raise EngineMismatch(
                f"the {self.backend.name} model takes {fixed[1]}x{fixed[0]} images, but a "
                f"{width}x{height} camera gives {wanted[1]}x{wanted[0]} at that long side; "
                f"export it with --input-size {wanted[0]} {wanted[1]}"
            )
        return fixed

    def infer(
        self,
        rgb: NDArray[np.uint8],
        prompt: ConditionedPrompt | None,
        camera: CameraModel | None,
    ) -> DepthResult:
        """Depth (H, W) float32 metres at the image resolution, NaN where the prompt has none,
        with confidence."""
        prompt = require_prompt(self.name, rgb, prompt)
        height, width = rgb.shape[:2]
        net_h, net_w = self.network_size(height, width)
        self._check_prompt_aspect(prompt.depth_m.shape)
        network_prompt = prepare_prompt(prompt, self._fixed_prompt_hw)
        image = prepare_image(rgb, net_h, net_w)
        outputs = self.backend.infer({"image": image, "prompt_depth": network_prompt})
        depth = resize_image(outputs["depth"].reshape(net_h, net_w), height, width, "bilinear")
        depth[~np.isfinite(depth)] = np.nan
        depth = mask_unsupported(depth, prompt)
        # The range the network scaled its output to: that of the prompt it was given.
        depth_range = (float(network_prompt.min()), float(network_prompt.max()))
        confidence = prompt_confidence(depth, prompt.valid_mask, depth_range, self.config)
        return DepthResult(depth_m=depth, confidence=confidence)

    def _check_prompt_aspect(self, shape: tuple[int, ...]) -> None:
        """Raise EngineMismatch when a fixed prompt shape has another aspect ratio."""
        if self._fixed_prompt_hw is None or len(shape) != 2 or min(shape) <= 0:
            return
        fh, fw = (int(v) for v in self._fixed_prompt_hw)
        if abs(shape[0] * fw - shape[1] * fh) > 0.01 * shape[1] * fh:
            raise EngineMismatch(
                f"the {self.backend.name} model takes {fw}x{fh} prompts, the prompt is "
                f"{shape[1]}x{shape[0]} (another aspect ratio); export it with --prompt-size "
                f"{shape[0]} {shape[1]}"
            )

    def close(self) -> None:
        """Release the backend."""
        self.backend.close()

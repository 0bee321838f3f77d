"""The Depth Pro engine: monocular metric depth, scaled by CameraInfo fx or its FOV head."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.engines.backends import InferenceBackend
from promptdepth_ros.engines.base import DepthResult, validate_rgb
from promptdepth_ros.engines.depth_pro.model import focal_from_fov, metric_depth_from_canonical
from promptdepth_ros.engines.resampling import resize_image
from promptdepth_ros.errors import EngineError, EngineMismatch
from promptdepth_ros.prompt.conditioning import ConditionedPrompt

DEPTH_PRO_INPUTS = ("image",)
DEPTH_PRO_OUTPUTS = ("depth", "fov")


class DepthProEngine:
    """Depth Pro behind the DepthEngine interface; the prompt is ignored.

    The focal length is the camera's fx scaled to the image width when a camera is given,
    else the FOV head's estimate; it is returned as ``DepthResult.focal_px``. An FOV
    outside (0, 180) degrees without a camera raises EngineError.
    """

    name = "depth_pro"
    needs_prompt = False

    def __init__(
        self, backend: InferenceBackend, input_size: int, weights_description: str = ""
    ) -> None:
        if tuple(backend.input_names) != DEPTH_PRO_INPUTS or set(DEPTH_PRO_OUTPUTS) - set(
            backend.output_names
        ):
            raise EngineMismatch(
                f"Depth Pro needs input 'image' and outputs {DEPTH_PRO_OUTPUTS}; the "
                f"{backend.name} model has {backend.input_names} -> {backend.output_names}"
            )
        fixed = backend.input_shapes.get("image")
        self.input_size = int(fixed[2]) if fixed is not None else input_size
        self.backend = backend
        self.weights_description = weights_description

    def infer(
        self,
        rgb: NDArray[np.uint8],
        prompt: ConditionedPrompt | None,
        camera: CameraModel | None,
    ) -> DepthResult:
        """Metric depth (H, W) float32 metres at the image resolution and the focal used."""
        validate_rgb(rgb)
        height, width = rgb.shape[:2]
        size = self.input_size
        image = resize_image(rgb.astype(np.float32) / np.float32(255.0), size, size, "bilinear")
        outputs = self.backend.infer(
            {"image": np.ascontiguousarray(image.transpose(2, 0, 1)[None])}
        )
        if camera is not None:
            focal_px = camera.fx * width / camera.width
        else:
            fov_deg = float(outputs["fov"].reshape(-1)[0])
            if not (np.isfinite(fov_deg) and 0.0 < fov_deg < 180.0):
                raise EngineError(
                    f"Depth Pro's FOV head returned {fov_deg} degrees (expected (0, 180)); "
                    "pass the camera model (CameraInfo) so its fx sets the scale"
                )
            focal_px = focal_from_fov(fov_deg, width)
        canonical = outputs["depth"].reshape(size, size)
        depth = metric_depth_from_canonical(canonical, height, width, focal_px)
        return DepthResult(depth_m=depth, focal_px=float(focal_px))

    def close(self) -> None:
        """Release the backend."""
        self.backend.close()

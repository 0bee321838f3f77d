"""Depth Pro networks from transformers and its metric-depth formula.

:class:`DepthProNetwork` wraps ``DepthProForDepthEstimation`` with the (x - 0.5) / 0.5
normalisation so every backend takes RGB in [0, 1]. The network returns a *canonical
inverse depth* and the horizontal field of view (degrees); :func:`metric_depth_from_canonical`
turns them into metres exactly like ``DepthProImageProcessor.post_process_depth_estimation``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from transformers import DepthProConfig, DepthProForDepthEstimation

from promptdepth_ros.engines.hf_loading import load_pretrained_strictly
from promptdepth_ros.engines.resampling import resize_image
from promptdepth_ros.engines.spec import DepthProSize
from promptdepth_ros.errors import ConfigError, InputError

INVERSE_DEPTH_RANGE = (1e-4, 1e4)  # clamp of the canonical inverse depth, as in Depth Pro


def _dinov2(hidden: int, layers: int, heads: int, patch: int, image: int) -> dict[str, object]:
    return {
        "model_type": "dinov2",
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "patch_size": patch,
        "image_size": image,
        "mlp_ratio": 4,
        "layerscale_value": 1.0,
        "layer_norm_eps": 1e-6,
        "qkv_bias": True,
        "use_swiglu_ffn": False,
    }


# Per size: DINOv2 encoder (hidden, layers, heads, patch, image) and the head's widths.
_SIZES: dict[DepthProSize, dict[str, Any]] = {
    "full": {
        "encoder": (1024, 24, 16, 16, 384),
        "fusion_hidden_size": 256,
        "patch_size": 384,
        "intermediate_hook_ids": [11, 5],
        "intermediate_feature_dims": [256, 256],
        "scaled_images_feature_dims": [1024, 1024, 512],
    },
    "reduced": {
        "encoder": (64, 2, 2, 16, 64),
        "fusion_hidden_size": 32,
        "patch_size": 64,
        "intermediate_hook_ids": [1, 0],
        "intermediate_feature_dims": [16, 16],
        "scaled_images_feature_dims": [32, 32, 16],
    },
}


def depth_pro_config(size: DepthProSize) -> DepthProConfig:
    """``full``: the published apple/DepthPro-hf (1536 px input); ``reduced``: 256 px, tests."""
    if size not in _SIZES:
        raise ConfigError(f"Depth Pro size must be one of {get_args(DepthProSize)}, got {size!r}")
    widths = dict(_SIZES[size])
    encoder = _dinov2(*widths.pop("encoder"))
    return DepthProConfig(
        **widths,
        scaled_images_ratios=[0.25, 0.5, 1],
        scaled_images_overlap_ratios=[0.0, 0.5, 0.25],
        merge_padding_value=3,
        use_fov_model=True,
        num_fov_head_layers=2,
        image_model_config=dict(encoder),
        patch_model_config=dict(encoder),
        fov_model_config=dict(encoder),
    )


def depth_pro_input_size(config: DepthProConfig) -> int:
    """Side (px) of the square network input: the patch size over the smallest image ratio."""
    patch = config.patch_size
    if not isinstance(patch, int):
        raise ConfigError(f"Depth Pro patch_size must be one int (square), got {patch}")
    return round(patch / min(config.scaled_images_ratios))


class DepthProNetwork(nn.Module):
    """(x - 0.5) / 0.5 + DepthProForDepthEstimation.

    forward(image (B, 3, S, S) float RGB in [0, 1]) -> (canonical inverse depth (B, S, S),
    horizontal field of view (B,) degrees).
    """

    def __init__(self, model: DepthProForDepthEstimation) -> None:
        super().__init__()
        if model.fov_model is None:
            raise ConfigError("Depth Pro needs its FOV head (config.use_fov_model=True)")
        self.model = model
        self.input_size = depth_pro_input_size(model.config)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model(pixel_values=(image - 0.5) / 0.5)
        return out.predicted_depth, out.field_of_view


def random_depth_pro(size: DepthProSize, seed: int = 0) -> DepthProNetwork:
    """A Depth Pro network with seeded random weights (tests and benchmarks only)."""
    torch.manual_seed(seed)
    return DepthProNetwork(DepthProForDepthEstimation(depth_pro_config(size))).eval()


def load_depth_pro_hf_dir(path: Path) -> DepthProNetwork:
    """Load a saved transformers Depth Pro directory, local files only; CheckpointError if the
    directory is missing, unreadable or its keys do not match."""
    model = load_pretrained_strictly(
        DepthProForDepthEstimation, path, "Depth Pro", use_fov_model=True
    )
    return DepthProNetwork(model).eval()


def focal_from_fov(fov_deg: float, width: int) -> float:
    """Focal length (px) of an image ``width`` px wide with horizontal FOV ``fov_deg`` degrees."""
    if not (np.isfinite(fov_deg) and 0.0 < fov_deg < 180.0):
        raise InputError(f"field of view must be in (0, 180) degrees, got {fov_deg}")
    return float(0.5 * width / np.tan(0.5 * np.deg2rad(fov_deg)))


def metric_depth_from_canonical(
    canonical_inverse: NDArray[np.float32], height: int, width: int, focal_px: float
) -> NDArray[np.float32]:
    """Metric depth (height, width) float32 metres from a canonical inverse depth map.

    inverse = canonical * width / focal_px, resized bilinearly to (height, width), then
    depth = 1 / clip(inverse, 1e-4, 1e4): the order of DepthProImageProcessor.
    """
    if focal_px <= 0.0 or not np.isfinite(focal_px):
        raise InputError(f"focal length must be finite and > 0 px, got {focal_px}")
    inverse = canonical_inverse.astype(np.float32) * np.float32(width / focal_px)
    inverse = resize_image(inverse, height, width, "bilinear")
    return (1.0 / np.clip(inverse, *INVERSE_DEPTH_RANGE)).astype(np.float32)

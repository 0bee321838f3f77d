"""Prompt Depth Anything networks from transformers, built from configs declared here.

The configs match the published ``depth-anything/prompt-depth-anything-vit{s,b,l}-hf``
checkpoints (transformers' ``convert_prompt_depth_anything_to_hf.py``). The network is
never re-implemented: :class:`PromptDANetwork` only adds the ImageNet normalisation in
front of ``PromptDepthAnythingForDepthEstimation`` so that every backend (torch, ONNX
Runtime, TensorRT) takes the same inputs: RGB in [0, 1] and the prompt in metres.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import torch
from torch import nn
from transformers import (
    Dinov2Config,
    PromptDepthAnythingConfig,
    PromptDepthAnythingForDepthEstimation,
)

from promptdepth_ros.engines.hf_loading import load_pretrained_strictly
from promptdepth_ros.engines.spec import PATCH_SIZE, Variant
from promptdepth_ros.errors import ConfigError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# variant -> (DINOv2 hidden size, layers, heads, out_indices, fusion size, neck sizes)
_VARIANTS: dict[Variant, tuple[int, int, int, tuple[int, ...], int, tuple[int, ...]]] = {
    "vits": (384, 12, 6, (3, 6, 9, 12), 64, (48, 96, 192, 384)),
    "vitb": (768, 12, 12, (3, 6, 9, 12), 128, (96, 192, 384, 768)),
    "vitl": (1024, 24, 16, (5, 12, 18, 24), 256, (256, 512, 1024, 1024)),
}


def promptda_config(variant: Variant) -> PromptDepthAnythingConfig:
    """The transformers config of the published PromptDA ``variant`` (vits, vitb or vitl)."""
    if variant not in _VARIANTS:
        raise ConfigError(f"variant must be one of {get_args(Variant)}, got {variant!r}")
    hidden, layers, heads, out_indices, fusion, neck = _VARIANTS[variant]
    backbone_kwargs: dict[str, Any] = {
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "mlp_ratio": 4,
        "image_size": 518,
        "patch_size": PATCH_SIZE,
        "layerscale_value": 1.0,
        "layer_norm_eps": 1e-6,
        "out_indices": list(out_indices),
        "apply_layernorm": True,
        "reshape_hidden_states": False,
    }
    backbone = Dinov2Config(**backbone_kwargs)
    return PromptDepthAnythingConfig(
        backbone_config=backbone,
        reassemble_hidden_size=hidden,
        patch_size=PATCH_SIZE,
        reassemble_factors=[4, 2, 1, 0.5],
        neck_hidden_sizes=list(neck),
        fusion_hidden_size=fusion,
        head_hidden_size=32,
        depth_estimation_type="metric",
        max_depth=None,
    )


class PromptDANetwork(nn.Module):
    """ImageNet normalisation + PromptDepthAnythingForDepthEstimation.

    forward(image (B, 3, H, W) float RGB in [0, 1], prompt_depth (B, 1, h, w) metres, no
    holes) -> depth (B, H, W) metres. H and W must be multiples of 14. The prompt min/max
    normalisation and the metric restoration happen once, inside the transformers model.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, model: PromptDepthAnythingForDepthEstimation) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor, prompt_depth: torch.Tensor) -> torch.Tensor:
        pixel_values = (image - self.mean) / self.std
        return self.model(pixel_values=pixel_values, prompt_depth=prompt_depth).predicted_depth


def random_promptda(variant: Variant, seed: int = 0) -> PromptDANetwork:
    """A PromptDA network with seeded random weights (for tests and benchmarks only)."""
    torch.manual_seed(seed)
    return PromptDANetwork(PromptDepthAnythingForDepthEstimation(promptda_config(variant))).eval()


def load_promptda_hf_dir(path: Path) -> PromptDANetwork:
    """Load a saved transformers PromptDA directory (config.json + weights), local files only.

    Raises CheckpointError when the directory is missing, unreadable or its keys do not match.
    """
    model = load_pretrained_strictly(PromptDepthAnythingForDepthEstimation, path, "PromptDA")
    return PromptDANetwork(model).eval()

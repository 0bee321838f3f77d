"""Load an original PromptDA ``model.ckpt`` (Lightning layout) into the transformers model.

The key mapping follows transformers' ``convert_prompt_depth_anything_to_hf.py``; the names
of the attention projections are taken from the installed transformers Dinov2 (``q_proj``
in 5.x, ``attention.attention.query`` before), so the conversion stays strict either way.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import torch

from promptdepth_ros.engines.promptda.model import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    PromptDANetwork,
    random_promptda,
)
from promptdepth_ros.engines.spec import Variant
from promptdepth_ros.errors import CheckpointError

LIGHTNING_PREFIX_LEN = (
    9  # "promptda." in the released checkpoints, stripped by the official loader
)

_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _fusion(name: str) -> Callable[[re.Match[str]], str]:
    """Refinenet i of the original head is fusion layer 4 - i in transformers."""
    return lambda m: f"neck.fusion_stage.layers.{4 - int(m[1])}.{name}.{m[2]}"


_RULES: list[_Rule] = [
    (re.compile(p), f)
    for p, f in [
        (r"pretrained\.cls_token$", lambda m: "backbone.embeddings.cls_token"),
        (r"pretrained\.mask_token$", lambda m: "backbone.embeddings.mask_token"),
        (r"pretrained\.pos_embed$", lambda m: "backbone.embeddings.position_embeddings"),
        (
            r"pretrained\.patch_embed\.proj\.(weight|bias)$",
            lambda m: f"backbone.embeddings.patch_embeddings.projection.{m[1]}",
        ),
        (r"pretrained\.norm\.(weight|bias)$", lambda m: f"backbone.layernorm.{m[1]}"),
        (
            r"pretrained\.blocks\.(\d+)\.ls([12])\.gamma$",
            lambda m: f"backbone.encoder.layer.{m[1]}.layer_scale{m[2]}.lambda1",
        ),
        (
            r"pretrained\.blocks\.(\d+)\.(norm[12]|mlp\.fc[12])\.(weight|bias)$",
            lambda m: f"backbone.encoder.layer.{m[1]}.{m[2]}.{m[3]}",
        ),
        (
            r"pretrained\.blocks\.(\d+)\.attn\.proj\.(weight|bias)$",
            lambda m: f"backbone.encoder.layer.{m[1]}.attention.{{out}}.{m[2]}",
        ),
        (
            r"pretrained\.blocks\.(\d+)\.attn\.qkv\.(weight|bias)$",
            lambda m: f"backbone.encoder.layer.{m[1]}.attention.{{qkv}}.{m[2]}",
        ),
        (
            r"depth_head\.projects\.(\d)\.(weight|bias)$",
            lambda m: f"neck.reassemble_stage.layers.{m[1]}.projection.{m[2]}",
        ),
        (
            r"depth_head\.resize_layers\.(\d)\.(weight|bias)$",
            lambda m: f"neck.reassemble_stage.layers.{m[1]}.resize.{m[2]}",
        ),
        (
            r"depth_head\.scratch\.layer(\d)_rn\.weight$",
            lambda m: f"neck.convs.{int(m[1]) - 1}.weight",
        ),
        (r"depth_head\.scratch\.refinenet(\d)\.out_conv\.(weight|bias)$", _fusion("projection")),
        (
            r"depth_head\.scratch\.refinenet(\d)\.resConfUnit1\.conv([12])\.(weight|bias)$",
            lambda m: (
                f"neck.fusion_stage.layers.{4 - int(m[1])}.residual_layer1."
                f"convolution{m[2]}.{m[3]}"
            ),
        ),
        (
            r"depth_head\.scratch\.refinenet(\d)\.resConfUnit2\.conv([12])\.(weight|bias)$",
            lambda m: (
                f"neck.fusion_stage.layers.{4 - int(m[1])}.residual_layer2."
                f"convolution{m[2]}.{m[3]}"
            ),
        ),
        (
            r"depth_head\.scratch\.refinenet(\d)\.resConfUnit_depth\.([024])\.(weight|bias)$",
            lambda m: (
                f"neck.fusion_stage.layers.{4 - int(m[1])}.prompt_depth_layer."
                f"convolution{int(m[2]) // 2 + 1}.{m[3]}"
            ),
        ),
        (r"depth_head\.scratch\.output_conv1\.(weight|bias)$", lambda m: f"head.conv1.{m[1]}"),
        (r"depth_head\.scratch\.output_conv2\.0\.(weight|bias)$", lambda m: f"head.conv2.{m[1]}"),
        (r"depth_head\.scratch\.output_conv2\.2\.(weight|bias)$", lambda m: f"head.conv3.{m[1]}"),
    ]
]
_NORMALISATION_BUFFERS = {"_mean": IMAGENET_MEAN, "_std": IMAGENET_STD}


def _attention_names(model_keys: set[str]) -> tuple[tuple[str, str, str], str]:
    """(q, k, v) and output projection names of the installed transformers Dinov2 attention."""
    if "backbone.encoder.layer.0.attention.q_proj.weight" in model_keys:
        return ("q_proj", "k_proj", "v_proj"), "o_proj"
    return ("attention.query", "attention.key", "attention.value"), "output.dense"


def convert_promptda_state_dict(
    original: Mapping[str, torch.Tensor], model_keys: set[str]
) -> dict[str, torch.Tensor]:
    """Rename prefix-stripped original keys to transformers keys, splitting fused qkv.

    ``_mean``/``_std`` must hold the ImageNet statistics (they become the network's own
    normalisation) and are dropped. Raises CheckpointError naming keys without a mapping.
    """
    qkv_names, out_name = _attention_names(model_keys)
    converted: dict[str, torch.Tensor] = {}
    unexpected: list[str] = []
    for key, value in original.items():
        if key in _NORMALISATION_BUFFERS:
            expected = torch.tensor(_NORMALISATION_BUFFERS[key], dtype=torch.float32)
            if not torch.allclose(value.float().flatten(), expected, atol=1e-4):
                raise CheckpointError(
                    f"checkpoint buffer {key} is {value.flatten().tolist()}, expected the "
                    f"ImageNet statistics {list(expected.tolist())}"
                )
            continue
        new_key = next((fn(m) for rx, fn in _RULES if (m := rx.match(key))), None)
        if new_key is None:
            unexpected.append(key)
        elif "{qkv}" in new_key:
            for name, part in zip(qkv_names, value.chunk(3, dim=0), strict=True):
                converted[new_key.replace("{qkv}", name)] = part
        else:
            converted[new_key.replace("{out}", out_name)] = value
    if unexpected:
        raise CheckpointError(f"unexpected checkpoint keys (no mapping): {sorted(unexpected)}")
    return converted


def read_lightning_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The prefix-stripped ``state_dict`` of a Lightning-style checkpoint, read weights-only.

    Raises CheckpointError with the path when the file is missing, corrupt or not a checkpoint.
    """
    try:
        payload = torch.load(str(path), map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
    state = payload.get("state_dict") if isinstance(payload, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(
            f"{path} holds no 'state_dict' mapping; expected an original PromptDA model.ckpt"
        )
    return {key[LIGHTNING_PREFIX_LEN:]: value for key, value in state.items()}


def load_promptda_checkpoint(path: Path, variant: Variant) -> PromptDANetwork:
    """A PromptDA network of ``variant`` with the weights of an original ``model.ckpt``.

    Loading is strict: CheckpointError names missing, unexpected and mis-shaped keys.
    """
    network = random_promptda(variant)
    target = network.model.state_dict()
    converted = convert_promptda_state_dict(read_lightning_state_dict(path), set(target))
    missing = sorted(set(target) - set(converted))
    unexpected = sorted(set(converted) - set(target))
    if missing or unexpected:
        raise CheckpointError(
            f"{path} does not match PromptDA {variant}: missing keys {missing}, "
            f"unexpected keys {unexpected}"
        )
    wrong = [k for k, v in converted.items() if v.shape != target[k].shape]
    if wrong:
        shapes = {k: (tuple(converted[k].shape), tuple(target[k].shape)) for k in wrong}
        raise CheckpointError(f"{path}: shape mismatch (checkpoint, model) for {shapes}")
    network.model.load_state_dict({k: v.float() for k, v in converted.items()}, strict=True)
    return network.eval()

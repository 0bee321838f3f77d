"""PromptDA configs and transformers model directories (save/load round trip)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import Dinov2Config

from promptdepth_ros.engines.promptda.engine import PromptDAEngine
from promptdepth_ros.engines.promptda.model import (
    load_promptda_hf_dir,
    promptda_config,
    random_promptda,
)
from promptdepth_ros.engines.registry import create_engine
from promptdepth_ros.engines.spec import EngineSpec
from promptdepth_ros.errors import CheckpointError, ConfigError
from promptdepth_ros.prompt.conditioning import condition_prompt


@pytest.mark.parametrize(
    ("variant", "hidden", "layers", "out_indices", "fusion", "neck"),
    [
        ("vits", 384, 12, [3, 6, 9, 12], 64, [48, 96, 192, 384]),
        ("vitb", 768, 12, [3, 6, 9, 12], 128, [96, 192, 384, 768]),
        ("vitl", 1024, 24, [5, 12, 18, 24], 256, [256, 512, 1024, 1024]),
    ],
)
def test_configs_match_the_published_checkpoints(
    variant: str, hidden: int, layers: int, out_indices: list[int], fusion: int, neck: list[int]
) -> None:
    config = promptda_config(variant)  # type: ignore[arg-type]
    backbone = config.backbone_config
    assert isinstance(backbone, Dinov2Config)
    assert backbone.hidden_size == hidden
    assert backbone.num_hidden_layers == layers
    assert list(backbone.out_indices) == out_indices
    assert backbone.apply_layernorm and not backbone.reshape_hidden_states
    assert config.fusion_hidden_size == fusion and list(config.neck_hidden_sizes) == neck
    assert list(config.reassemble_factors) == [4, 2, 1, 0.5]
    assert config.depth_estimation_type == "metric" and config.patch_size == 14


def test_unknown_variant_is_rejected() -> None:
    with pytest.raises(ConfigError, match="vits"):
        promptda_config("vith")  # type: ignore[arg-type]


def test_saved_model_directory_loads_back_with_identical_output(tmp_path: Path) -> None:
    network = random_promptda("vits", seed=7)
    network.model.save_pretrained(tmp_path)
    loaded = load_promptda_hf_dir(tmp_path)
    image = torch.rand(1, 3, 70, 98)
    prompt = torch.rand(1, 1, 12, 16) + 1.0
    with torch.no_grad():
        torch.testing.assert_close(loaded(image, prompt), network(image, prompt))
    engine = create_engine(
        EngineSpec(engine="promptda", backend="torch", weights=tmp_path, input_long_side=98)
    )
    assert isinstance(engine, PromptDAEngine)
    assert (
        str(tmp_path) in engine.weights_description and "RANDOM" not in engine.weights_description
    )
    rgb = np.full((70, 98, 3), 100, np.uint8)
    result = engine.infer(rgb, condition_prompt(prompt[0, 0].numpy()), None)
    assert result.depth_m.shape == (70, 98)


def test_weights_that_do_not_match_are_refused_with_their_keys(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    random_promptda("vits", seed=7).model.save_pretrained(tmp_path)
    weights = load_file(tmp_path / "model.safetensors")
    renamed = next(k for k in weights if k.startswith("head."))
    weights["not_a_layer.weight"] = weights.pop(renamed)
    save_file(weights, tmp_path / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match=rf"missing keys: .*{renamed}.*unexpected keys"):
        load_promptda_hf_dir(tmp_path)


def test_corrupt_weights_are_a_checkpoint_error(tmp_path: Path) -> None:
    random_promptda("vits", seed=7).model.save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(CheckpointError, match="cannot load the PromptDA model"):
        load_promptda_hf_dir(tmp_path)


def test_directory_without_config_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"no config\.json"):
        load_promptda_hf_dir(tmp_path)

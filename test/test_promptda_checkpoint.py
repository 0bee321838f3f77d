"""Original PromptDA checkpoints: key conversion, strict loading and the official output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from engine_fixtures import FIXTURE_DIR, arkit_sample, needs_fixture, needs_sample

from promptdepth_ros.engines.backends import TensorMap
from promptdepth_ros.engines.backends.torch_backend import TorchBackend
from promptdepth_ros.engines.promptda.checkpoint import (
    convert_promptda_state_dict,
    load_promptda_checkpoint,
    read_lightning_state_dict,
)
from promptdepth_ros.engines.promptda.engine import (
    PROMPTDA_INPUTS,
    PROMPTDA_OUTPUTS,
    PromptDAEngine,
)
from promptdepth_ros.engines.promptda.model import random_promptda
from promptdepth_ros.engines.resampling import resize_image
from promptdepth_ros.errors import CheckpointError
from promptdepth_ros.prompt.conditioning import condition_prompt


@pytest.fixture(scope="module")
def fixture_state() -> dict[str, torch.Tensor]:
    return read_lightning_state_dict(FIXTURE_DIR / "model.ckpt")


class RecordingBackend(TorchBackend):
    """A torch backend that keeps its last outputs (the network-resolution depth)."""

    last: TensorMap

    def infer(self, inputs: TensorMap) -> TensorMap:
        self.last = super().infer(inputs)
        return self.last


@needs_fixture
@needs_sample
def test_original_checkpoint_reproduces_official_promptda_output() -> None:
    network = load_promptda_checkpoint(FIXTURE_DIR / "model.ckpt", "vits")
    backend = RecordingBackend(network, PROMPTDA_INPUTS, PROMPTDA_OUTPUTS)
    engine = PromptDAEngine(backend)
    rgb, prompt = arkit_sample()
    expected = np.load(FIXTURE_DIR / "expected_depth.npy")

    result = engine.infer(rgb, condition_prompt(prompt), None)

    network_depth = backend.last["depth"][0]
    error = np.abs(network_depth - expected)
    assert network_depth.shape == expected.shape == (756, 1008)
    assert np.median(error) <= 0.5e-3
    assert error.max() <= 1e-2
    # the engine returns the same depth, bilinearly resized to the 1440x1920 image
    upsampled = resize_image(expected, 1440, 1920, "bilinear")
    assert result.depth_m.shape == (1440, 1920)
    assert np.median(np.abs(result.depth_m - upsampled)) <= 0.5e-3
    assert np.nanmax(np.abs(result.depth_m - upsampled)) <= 1e-2


@needs_fixture
def test_fixture_keys_convert_one_to_one_with_split_qkv(
    fixture_state: dict[str, torch.Tensor],
) -> None:
    target = random_promptda("vits").model.state_dict()
    converted = convert_promptda_state_dict(fixture_state, set(target))
    assert set(converted) == set(target)
    qkv = fixture_state["pretrained.blocks.3.attn.qkv.weight"]
    names = sorted(k for k in converted if k.startswith("backbone.encoder.layer.3.attention."))
    q_key = next(k for k in names if "q_proj.weight" in k or "query.weight" in k)
    assert torch.equal(converted[q_key], qkv[:384])
    # refinenet1 is the last fusion layer in transformers
    assert torch.equal(
        converted["neck.fusion_stage.layers.3.prompt_depth_layer.convolution3.weight"],
        fixture_state["depth_head.scratch.refinenet1.resConfUnit_depth.4.weight"],
    )


@needs_fixture
def test_unmapped_checkpoint_key_is_named(fixture_state: dict[str, torch.Tensor]) -> None:
    state = dict(fixture_state)
    state["depth_head.extra_conv.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError, match=r"depth_head\.extra_conv\.weight"):
        convert_promptda_state_dict(state, set(random_promptda("vits").model.state_dict()))


@needs_fixture
def test_missing_checkpoint_keys_are_named(
    fixture_state: dict[str, torch.Tensor], tmp_path: Path
) -> None:
    state = {
        f"promptda.{k}": v for k, v in fixture_state.items() if "refinenet2.out_conv" not in k
    }
    path = tmp_path / "model.ckpt"
    torch.save({"state_dict": state}, path)
    with pytest.raises(CheckpointError, match=r"missing keys .*layers\.2\.projection\.bias"):
        load_promptda_checkpoint(path, "vits")


@needs_fixture
def test_checkpoint_of_another_variant_is_rejected_with_shapes(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"shape mismatch|missing keys"):
        load_promptda_checkpoint(FIXTURE_DIR / "model.ckpt", "vitb")


@needs_fixture
def test_non_imagenet_normalisation_buffers_are_rejected(
    fixture_state: dict[str, torch.Tensor],
) -> None:
    state = dict(fixture_state)
    state["_mean"] = torch.zeros(1, 3, 1, 1)
    with pytest.raises(CheckpointError, match="_mean"):
        convert_promptda_state_dict(state, set(random_promptda("vits").model.state_dict()))


def test_corrupt_checkpoint_raises_checkpoint_error_with_path(tmp_path: Path) -> None:
    path = tmp_path / "broken.ckpt"
    path.write_bytes(b"PK\x03\x04 this is not a torch checkpoint")
    with pytest.raises(CheckpointError, match=r"broken\.ckpt"):
        load_promptda_checkpoint(path, "vits")


def test_checkpoint_without_state_dict_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "weights.pt"
    torch.save({"model": {}}, path)
    with pytest.raises(CheckpointError, match="no 'state_dict'"):
        read_lightning_state_dict(path)

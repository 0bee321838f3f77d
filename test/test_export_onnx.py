"""ONNX export of PromptDA and Depth Pro: metadata, and ONNX Runtime agreeing with torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from engine_fixtures import generated_scene, needs_sample, small_arkit_sample

from promptdepth_ros.engines.backends.onnxruntime_backend import OnnxRuntimeBackend
from promptdepth_ros.engines.backends.torch_backend import TorchBackend
from promptdepth_ros.engines.depth_pro.engine import DepthProEngine
from promptdepth_ros.engines.promptda.engine import PromptDAEngine
from promptdepth_ros.engines.promptda.model import random_promptda
from promptdepth_ros.engines.registry import create_engine
from promptdepth_ros.engines.spec import EngineSpec
from promptdepth_ros.errors import EngineMismatch, InputError
from promptdepth_ros.prompt.conditioning import condition_prompt
from promptdepth_ros.tools import export_onnx


@pytest.fixture(scope="module")
def promptda_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("onnx") / "promptda_vits.onnx"
    argv = [
        "--engine",
        "promptda",
        "--variant",
        "vits",
        "--random-init",
        "--input-size",
        "182",
        "238",
        "--prompt-size",
        "192",
        "256",
        "--output",
        str(path),
    ]
    assert export_onnx.main(argv) == 0
    return path


@pytest.fixture(scope="module")
def promptda_pair(promptda_onnx: Path) -> tuple[PromptDAEngine, PromptDAEngine]:
    onnx_engine = create_engine(
        EngineSpec(
            engine="promptda", backend="onnxruntime", onnx_path=promptda_onnx, num_threads=2
        )
    )
    torch_engine = create_engine(
        EngineSpec(engine="promptda", backend="torch", random_init=True, input_long_side=238)
    )
    assert isinstance(onnx_engine, PromptDAEngine) and isinstance(torch_engine, PromptDAEngine)
    return onnx_engine, torch_engine


def test_export_writes_named_io_and_metadata(promptda_onnx: Path) -> None:
    model = onnx.load(str(promptda_onnx))
    onnx.checker.check_model(model)
    props = {p.key: p.value for p in model.metadata_props}
    assert [i.name for i in model.graph.input] == ["image", "prompt_depth"]
    assert [o.name for o in model.graph.output] == ["depth"]
    assert props["engine"] == "promptda" and props["variant"] == "vits"
    assert props["weights"] == "random" and props["precision"] == "fp32"
    assert props["input_shapes"] == "image=1x3x182x238;prompt_depth=1x1x192x256"


def test_onnxruntime_matches_torch_on_raw_inputs(promptda_onnx: Path) -> None:
    network = random_promptda("vits")
    torch_backend = TorchBackend(network, ("image", "prompt_depth"), ("depth",))
    with OnnxRuntimeBackend(promptda_onnx, num_threads=2) as ort_backend:
        _, prompt = generated_scene(182, 238, (192, 256), seed=3)
        inputs = {
            "image": np.random.default_rng(3).random((1, 3, 182, 238), dtype=np.float32),
            "prompt_depth": np.where(prompt > 0, prompt, 1.0)[None, None],
        }
        np.testing.assert_allclose(
            ort_backend.infer(inputs)["depth"], torch_backend.infer(inputs)["depth"], atol=1e-4
        )


@needs_sample
def test_onnxruntime_engine_matches_torch_engine_on_arkit_sample(
    promptda_pair: tuple[PromptDAEngine, PromptDAEngine],
) -> None:
    onnx_engine, torch_engine = promptda_pair
    rgb, raw = small_arkit_sample(184, 240)
    prompt = condition_prompt(raw)
    expected = torch_engine.infer(rgb, prompt, None)
    result = onnx_engine.infer(rgb, prompt, None)
    assert onnx_engine.network_size(184, 240) == torch_engine.network_size(184, 240) == (182, 238)
    assert result.depth_m.shape == (184, 240)
    np.testing.assert_allclose(result.depth_m, expected.depth_m, atol=1e-4)
    assert "RANDOM" in onnx_engine.weights_description


def test_onnxruntime_engine_resizes_a_prompt_of_another_resolution(
    promptda_pair: tuple[PromptDAEngine, PromptDAEngine],
) -> None:
    onnx_engine, _ = promptda_pair
    rgb, raw = generated_scene(184, 240, (48, 64))
    prompt = condition_prompt(raw)
    result = onnx_engine.infer(rgb, prompt, None)
    assert result.depth_m.shape == (184, 240)
    assert result.depth_m.min() >= 0.8 - 1e-4 and result.depth_m.max() <= 2.5 + 1e-4


def test_fixed_shape_model_refuses_another_aspect_ratio_instead_of_squashing(
    promptda_pair: tuple[PromptDAEngine, PromptDAEngine],
) -> None:
    onnx_engine, _ = promptda_pair
    rgb, raw = generated_scene(240, 240, (48, 64))
    prompt = condition_prompt(raw)
    with pytest.raises(EngineMismatch, match=r"--input-size 238 238"):
        onnx_engine.infer(rgb, prompt, None)
    rgb, raw = generated_scene(184, 240, (48, 48))
    prompt = condition_prompt(raw)
    with pytest.raises(EngineMismatch, match=r"--prompt-size 48 48"):
        onnx_engine.infer(rgb, prompt, None)


def test_onnxruntime_rejects_inputs_of_the_wrong_shape(promptda_onnx: Path) -> None:
    with OnnxRuntimeBackend(promptda_onnx) as backend, pytest.raises(InputError, match="shape"):
        backend.infer(
            {
                "image": np.zeros((1, 3, 14, 14), np.float32),
                "prompt_depth": np.ones((1, 1, 192, 256), np.float32),
            }
        )


def test_onnx_of_another_engine_is_rejected(promptda_onnx: Path) -> None:
    spec = EngineSpec(engine="depth_pro", backend="onnxruntime", onnx_path=promptda_onnx)
    with pytest.raises(EngineMismatch, match="exported for engine 'promptda'"):
        create_engine(spec)


def test_depth_pro_reduced_exports_depth_and_fov_matching_torch(tmp_path: Path) -> None:
    path = tmp_path / "depth_pro.onnx"
    argv = [
        "--engine",
        "depth_pro",
        "--depth-pro-size",
        "reduced",
        "--random-init",
        "--output",
        str(path),
    ]
    assert export_onnx.main(argv) == 0
    assert [o.name for o in onnx.load(str(path)).graph.output] == ["depth", "fov"]
    onnx_engine = create_engine(EngineSpec(engine="depth_pro", onnx_path=path))
    torch_engine = create_engine(
        EngineSpec(engine="depth_pro", backend="torch", random_init=True, depth_pro_size="reduced")
    )
    assert isinstance(onnx_engine, DepthProEngine) and onnx_engine.input_size == 256
    rgb, _ = generated_scene(90, 120, (4, 4))
    result, expected = onnx_engine.infer(rgb, None, None), torch_engine.infer(rgb, None, None)
    assert result.focal_px == pytest.approx(expected.focal_px, rel=1e-4)
    # compare inverse depth: random weights put some pixels at the 1e-4 inverse-depth clamp
    inverse, inverse_expected = 1.0 / result.depth_m, 1.0 / expected.depth_m
    np.testing.assert_allclose(inverse, inverse_expected, atol=1e-4 * inverse_expected.max())


def test_export_rejects_a_size_that_is_not_a_multiple_of_14(tmp_path: Path) -> None:
    argv = ["--random-init", "--input-size", "180", "240", "--output", str(tmp_path / "x.onnx")]
    assert export_onnx.main(argv) == 1

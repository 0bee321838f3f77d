"""TensorRT engine handling without TensorRT: cache key, sidecar, I/O plan, validation."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from promptdepth_ros.engines.backends import TensorMap
from promptdepth_ros.engines.backends.tensorrt.plan import (
    EngineCacheKey,
    TensorSpec,
    check_io_plan,
    check_outputs_match,
    check_plan_current,
    check_plan_host,
    file_sha256,
    plan_is_current,
    recorded_precision,
    reference_inputs,
    relative_errors,
    sidecar_path,
    write_sidecar,
)
from promptdepth_ros.engines.backends.torch_backend import TorchBackend
from promptdepth_ros.engines.backends.validation import validate_against_onnx
from promptdepth_ros.errors import ConfigError, EngineError, EngineMismatch
from promptdepth_ros.tools.onnx_export import export_network

KEY = EngineCacheKey(
    gpu_name="NVIDIA H100",
    tensorrt_version="10.8.0",
    onnx_sha256="ab" * 32,
    input_shapes=(("image", (1, 3, 182, 238)), ("prompt_depth", (1, 1, 192, 256))),
    precision="fp16",
)


@pytest.mark.parametrize(
    "change",
    [
        {"gpu_name": "Orin"},
        {"tensorrt_version": "10.3.0"},
        {"onnx_sha256": "cd" * 32},
        {"input_shapes": (("image", (1, 3, 756, 1008)),)},
        {"precision": "fp32"},
    ],
)
def test_cache_key_digest_changes_with_every_field(change: dict[str, object]) -> None:
    assert replace(KEY, **change).digest() != KEY.digest()  # type: ignore[arg-type]
    assert replace(KEY).digest() == KEY.digest()


def test_cache_key_rejects_unknown_precision() -> None:
    with pytest.raises(ConfigError, match="precision"):
        replace(KEY, precision="int4")  # type: ignore[arg-type]


def test_file_hash_is_sha256(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(b"abc")
    assert file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_sidecar_marks_a_plan_current_only_for_its_key(tmp_path: Path) -> None:
    plan = tmp_path / "m.plan"
    plan.write_bytes(b"engine")
    assert not plan_is_current(plan, KEY)
    write_sidecar(plan, KEY, {"median_rel": 1e-4})
    assert sidecar_path(plan) == tmp_path / "m.plan.json"
    assert plan_is_current(plan, KEY)
    check_plan_current(plan, KEY)
    stale = replace(KEY, onnx_sha256="00" * 32)
    assert not plan_is_current(plan, stale)
    with pytest.raises(EngineMismatch, match="rebuild"):
        check_plan_current(plan, stale)


def test_plan_without_sidecar_is_not_trusted(tmp_path: Path) -> None:
    plan = tmp_path / "m.plan"
    plan.write_bytes(b"engine")
    with pytest.raises(EngineMismatch, match="missing or unreadable"):
        check_plan_current(plan, KEY)
    sidecar_path(plan).write_text("{not json")
    with pytest.raises(EngineMismatch, match="missing or unreadable"):
        check_plan_host(plan, KEY.gpu_name, KEY.tensorrt_version)


def test_foreign_plan_names_where_it_was_built(tmp_path: Path) -> None:
    plan = tmp_path / "m.plan"
    plan.write_bytes(b"engine")
    write_sidecar(plan, KEY, {})
    check_plan_host(plan, "NVIDIA H100", "10.8.0")
    with pytest.raises(EngineMismatch, match=r"built for NVIDIA H100 with TensorRT 10\.8\.0"):
        check_plan_host(plan, "Orin", "10.3.0")


def _io(**overrides: object) -> list[TensorSpec]:
    tensors = [
        TensorSpec("image", True, (1, 3, 182, 238), "float32"),
        TensorSpec("prompt_depth", True, (1, 1, 192, 256), "float32"),
        TensorSpec("depth", False, (1, 182, 238), "float32"),
    ]
    return [replace(t, **overrides) if t.name == "image" else t for t in tensors]  # type: ignore[arg-type]


def test_io_plan_accepts_the_expected_static_float32_tensors() -> None:
    check_io_plan(_io(), dict(KEY.input_shapes), ["depth"])


@pytest.mark.parametrize(
    ("overrides", "outputs", "message"),
    [
        ({"name": "pixel_values"}, ["depth"], "inputs"),
        ({}, ["depth", "fov"], "outputs"),
        ({"dtype": "float16"}, ["depth"], "float16, expected float32"),
        ({"shape": (1, 3, -1, 238)}, ["depth"], "dynamic shape"),
        ({"shape": (1, 3, 756, 1008)}, ["depth"], "ONNX model says"),
    ],
)
def test_io_plan_mismatches_are_named(
    overrides: dict[str, object], outputs: list[str], message: str
) -> None:
    with pytest.raises(EngineMismatch, match=message):
        check_io_plan(_io(**overrides), dict(KEY.input_shapes), outputs)


def test_relative_errors_of_identical_outputs_are_zero() -> None:
    reference = np.linspace(1.0, 3.0, 100, dtype=np.float32)
    assert relative_errors(reference.copy(), reference) == {"median_rel": 0.0, "p99_rel": 0.0}


def test_wrong_scale_engine_output_is_refused() -> None:
    reference = {"depth": np.linspace(1.0, 3.0, 1000, dtype=np.float32)}
    check_outputs_match({"depth": reference["depth"] * 1.004}, reference, "fp16")
    with pytest.raises(EngineMismatch, match="deviates from ONNX Runtime"):
        check_outputs_match({"depth": reference["depth"] * 0.5}, reference, "fp16")
    with pytest.raises(EngineMismatch, match="median relative error"):
        check_outputs_match({"depth": reference["depth"] * 1.004}, reference, "fp32")
    with pytest.raises(EngineMismatch, match="no output 'depth'"):
        check_outputs_match({}, reference, "fp16")


def test_reference_inputs_are_deterministic_with_a_positive_prompt() -> None:
    shapes = dict(KEY.input_shapes)
    first, second = reference_inputs(shapes), reference_inputs(shapes)
    assert all(np.array_equal(first[n], second[n]) for n in shapes)
    assert first["prompt_depth"].min() == 1.0 and first["prompt_depth"].max() == 3.0


class _Scaled(nn.Module):
    def __init__(self, scale: float) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 1, 3, padding=1)
        self.scale = scale

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.conv(image).abs() * self.scale + 1.0


def test_validation_against_onnxruntime_accepts_equal_and_refuses_scaled(tmp_path: Path) -> None:
    torch.manual_seed(0)
    network = _Scaled(1.0)
    onnx_path = export_network(
        network, tmp_path / "s.onnx", {"image": (1, 3, 16, 16)}, ["depth"], {"engine": "test"}
    )
    good = TorchBackend(network, ("image",), ("depth",))
    assert validate_against_onnx(good, onnx_path, "fp32")["median_rel"] < 1e-5
    network.scale = 2.0
    with pytest.raises(EngineMismatch, match="deviates"):
        validate_against_onnx(good, onnx_path, "fp16")


class _NoImage:
    name = "stand-in"
    input_names = ("pixels",)
    output_names = ("depth",)

    def infer(self, inputs: TensorMap) -> TensorMap:
        return {}


def test_validation_refuses_an_engine_with_other_inputs(tmp_path: Path) -> None:
    onnx_path = export_network(
        _Scaled(1.0), tmp_path / "s.onnx", {"image": (1, 3, 8, 8)}, ["depth"], {"engine": "test"}
    )
    with pytest.raises(EngineMismatch, match="differ"):
        validate_against_onnx(_NoImage(), onnx_path, "fp32")  # type: ignore[arg-type]


@pytest.mark.skipif(importlib.util.find_spec("tensorrt") is not None, reason="tensorrt present")
def test_tensorrt_backend_without_tensorrt_says_how_to_get_it(tmp_path: Path) -> None:
    from promptdepth_ros.engines.backends.tensorrt.runtime import TensorRTBackend

    with pytest.raises(EngineError, match="tensorrt not importable"):
        TensorRTBackend(tmp_path / "m.plan")


@pytest.mark.skipif(importlib.util.find_spec("tensorrt") is not None, reason="tensorrt present")
def test_build_tool_without_tensorrt_fails_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from promptdepth_ros.tools import build_engine

    onnx_path = export_network(
        _Scaled(1.0), tmp_path / "s.onnx", {"image": (1, 3, 8, 8)}, ["depth"], {"engine": "test"}
    )
    assert build_engine.main([str(onnx_path)]) == 1
    assert "tensorrt not importable" in capsys.readouterr().err


def test_recorded_precision_is_read_from_the_sidecar(tmp_path: Path) -> None:
    plan = tmp_path / "m.plan"
    assert recorded_precision(plan) is None
    write_sidecar(plan, KEY, {})
    assert recorded_precision(plan) == "fp16"

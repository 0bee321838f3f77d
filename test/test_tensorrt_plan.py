"""TensorRT engine handling without TensorRT: cache key, sidecar, I/O plan, validation."""

from __future__ import annotations

import importlib.util
import json
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
    file_sha256,
    onnx_input_shapes,
    plan_is_current,
    plan_key_mismatches,
    recorded_validation,
    reference_inputs,
    relative_errors,
    sidecar_path,
    write_sidecar,
)
from promptdepth_ros.engines.backends.torch_backend import TorchBackend, cuda_device
from promptdepth_ros.engines.backends.validation import validate_against_onnx
from promptdepth_ros.errors import ConfigError, EngineError, EngineMismatch
from promptdepth_ros.tools.onnx_export import export_network

KEY = EngineCacheKey(
    gpu_name="NVIDIA H100",
    compute_capability="9.0",
    tensorrt_version="10.8.0",
    onnx_sha256="ab" * 32,
    input_shapes=(("image", (1, 3, 182, 238)), ("prompt_depth", (1, 1, 192, 256))),
    precision="fp16",
)
CHANGES = {
    "gpu_name": "Orin",
    "compute_capability": "8.7",
    "tensorrt_version": "10.3.0",
    "onnx_sha256": "cd" * 32,
    "input_shapes": (("image", (1, 3, 756, 1008)), ("prompt_depth", (1, 1, 192, 256))),
    "precision": "fp32",
}


def _plan(tmp_path: Path, key: EngineCacheKey = KEY) -> Path:
    plan = tmp_path / "m.plan"
    plan.write_bytes(b"engine")
    write_sidecar(plan, key, {"median_rel": 1e-4, "p99_rel": 2e-3})
    return plan


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_plan_is_stale_when_any_key_field_differs_and_the_field_is_named(
    tmp_path: Path, field: str
) -> None:
    plan = _plan(tmp_path)
    assert plan_is_current(plan, KEY) and plan_key_mismatches(plan, KEY) == []
    check_plan_current(plan, KEY)
    expected = replace(KEY, **{field: CHANGES[field]})  # type: ignore[arg-type]
    assert not plan_is_current(plan, expected)
    (reason,) = plan_key_mismatches(plan, expected)
    assert reason.startswith(f"{field}: plan built for {getattr(KEY, field)!r}")
    with pytest.raises(EngineMismatch, match=rf"not current: {field}: .*rebuild it"):
        check_plan_current(plan, expected)


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_a_sidecar_edited_after_the_build_is_not_trusted(tmp_path: Path, field: str) -> None:
    # The build tool and the runtime read the same recorded fields: a sidecar whose key was
    # changed by hand is stale for both (a stored digest would have hidden this).
    plan = _plan(tmp_path)
    record = json.loads(sidecar_path(plan).read_text())
    record["key"][field] = CHANGES[field]
    sidecar_path(plan).write_text(json.dumps(record))
    assert [r.split(":")[0] for r in plan_key_mismatches(plan, KEY)] == [field]
    assert plan_is_current(plan, replace(KEY, **{field: CHANGES[field]}))  # type: ignore[arg-type]


def test_cache_key_has_no_int8_or_best_precision() -> None:
    for precision in ("int8", "best", "int4"):
        with pytest.raises(ConfigError, match=r"precision must be one of \('fp32', 'fp16'\)"):
            replace(KEY, precision=precision)  # type: ignore[arg-type]


def test_file_hash_is_sha256(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(b"abc")
    assert file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_key_of_an_onnx_file_holds_its_hash_and_input_shapes(tmp_path: Path) -> None:
    onnx_path = export_network(
        _Scaled(1.0), tmp_path / "s.onnx", {"image": (1, 3, 8, 12)}, ["depth"], {"engine": "test"}
    )
    key = EngineCacheKey.for_onnx(onnx_path, "fp32", "GPU", "8.7", "10.3.0")
    assert key.onnx_sha256 == file_sha256(onnx_path)
    assert key.input_shapes == (("image", (1, 3, 8, 12)),) == onnx_input_shapes(onnx_path)
    plan = _plan(tmp_path, key)
    rebuilt_key = EngineCacheKey.for_onnx(onnx_path, "fp32", "GPU", "8.7", "10.3.0")
    assert plan_is_current(plan, rebuilt_key)


def test_missing_plan_or_sidecar_is_a_named_reason(tmp_path: Path) -> None:
    plan = tmp_path / "m.plan"
    with pytest.raises(EngineMismatch, match="does not exist"):
        check_plan_current(plan, KEY)
    plan.write_bytes(b"engine")
    with pytest.raises(EngineMismatch, match="missing, unreadable or holds no cache key"):
        check_plan_current(plan, KEY)
    sidecar_path(plan).write_text("{not json")
    assert plan_key_mismatches(plan, KEY) == [
        f"{sidecar_path(plan)} is missing, unreadable or holds no cache key"
    ]


def test_recorded_validation_is_read_from_the_sidecar(tmp_path: Path) -> None:
    assert recorded_validation(tmp_path / "m.plan") == {}
    assert recorded_validation(_plan(tmp_path)) == {"median_rel": 1e-4, "p99_rel": 2e-3}


def test_missing_cuda_device_is_a_config_error_naming_the_visible_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="torch sees no CUDA GPU"):
        cuda_device("cuda:0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert cuda_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(
        ConfigError,
        match=r"'cuda:2' requested but torch sees 2 CUDA GPU\(s\): "
        r"cuda:0 to cuda:1",
    ):
        cuda_device("cuda:2")
    with pytest.raises(ConfigError, match="'cuda' or 'cuda:N'"):
        cuda_device("cuda:x")


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
        TensorRTBackend(tmp_path / "m.plan", KEY)


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

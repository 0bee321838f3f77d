"""Real TensorRT: build, cache reuse, stale rebuild, the node's key check and inference.

Needs tensorrt and a CUDA GPU; skipped (with the reason) elsewhere.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from promptdepth_ros.engines.backends.onnxruntime_backend import OnnxRuntimeBackend
from promptdepth_ros.engines.backends.tensorrt.plan import reference_inputs, sidecar_path
from promptdepth_ros.engines.registry import create_engine
from promptdepth_ros.engines.spec import EngineSpec
from promptdepth_ros.errors import ConfigError, EngineMismatch
from promptdepth_ros.tools import build_engine, export_onnx
from promptdepth_ros.tools.onnx_export import export_network

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("tensorrt") is None, reason="tensorrt not importable"
    ),
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU"),
]


class _Small(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 1, 3, padding=1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv(image)) * 2.0 + 1.0


@pytest.fixture()
def onnx_path(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    return export_network(
        _Small(), tmp_path / "small.onnx", {"image": (1, 3, 32, 32)}, ["depth"], {"engine": "test"}
    )


def _build(onnx: Path, plan: Path, precision: str) -> None:
    argv = [str(onnx), "--output", str(plan), "--precision", precision]
    assert build_engine.main(argv) == 0


def test_built_plan_matches_onnxruntime_and_is_reused(onnx_path: Path) -> None:
    from promptdepth_ros.engines.backends.tensorrt.runtime import (
        TensorRTBackend,
        engine_cache_key,
    )

    plan = onnx_path.with_suffix(".plan")
    _build(onnx_path, plan, "fp32")
    first_build = plan.stat().st_mtime_ns
    _build(onnx_path, plan, "fp32")
    assert plan.stat().st_mtime_ns == first_build  # current plan kept
    key = engine_cache_key(onnx_path, "fp32", "cuda")
    with TensorRTBackend(plan, key) as backend, OnnxRuntimeBackend(onnx_path) as reference:
        inputs = reference_inputs({"image": (1, 3, 32, 32)})
        np.testing.assert_allclose(
            backend.infer(inputs)["depth"], reference.infer(inputs)["depth"], atol=1e-4
        )


def test_edited_sidecar_is_refused_by_the_runtime_and_rebuilt_by_the_tool(
    onnx_path: Path,
) -> None:
    from promptdepth_ros.engines.backends.tensorrt.runtime import (
        TensorRTBackend,
        engine_cache_key,
    )

    plan = onnx_path.with_suffix(".plan")
    _build(onnx_path, plan, "fp16")
    key = engine_cache_key(onnx_path, "fp16", "cuda")
    record = json.loads(sidecar_path(plan).read_text())
    record["key"]["gpu_name"] = "other GPU"
    sidecar_path(plan).write_text(json.dumps(record))
    with pytest.raises(EngineMismatch, match="gpu_name: plan built for 'other GPU'"):
        TensorRTBackend(plan, key)
    _build(onnx_path, plan, "fp16")  # the same check says stale: rebuilt
    with TensorRTBackend(plan, key) as backend:
        assert backend.input_names == ("image",) and backend.output_names == ("depth",)
    with pytest.raises(ConfigError, match=f"torch sees {torch.cuda.device_count()} CUDA"):
        TensorRTBackend(plan, key, device=f"cuda:{torch.cuda.device_count()}")


def test_engine_factory_checks_onnx_hash_and_precision_and_reports_validation(
    tmp_path: Path,
) -> None:
    built_from = tmp_path / "promptda.onnx"
    argv = ["--engine", "promptda", "--random-init", "--input-size", "182", "238"]
    assert export_onnx.main([*argv, "--output", str(built_from)]) == 0
    other = onnx.load(str(built_from))  # the same graph in another file
    other.metadata_props.add(key="note", value="re-saved")
    onnx.save(other, str(tmp_path / "other.onnx"))
    plan = tmp_path / "promptda.fp32.plan"
    _build(built_from, plan, "fp32")
    spec = EngineSpec(
        engine="promptda", backend="tensorrt", onnx_path=built_from, engine_path=plan
    )
    engine = create_engine(spec)
    assert "vs ONNX Runtime at build: median" in engine.weights_description  # type: ignore[attr-defined]
    engine.close()
    with pytest.raises(EngineMismatch, match="onnx_sha256: plan built for"):
        create_engine(replace(spec, onnx_path=tmp_path / "other.onnx"))
    with pytest.raises(EngineMismatch, match="precision: plan built for 'fp32', expected 'fp16'"):
        create_engine(replace(spec, precision="fp16"))
    engine = create_engine(replace(spec, validate_on_load=True))
    description = engine.weights_description  # type: ignore[attr-defined]
    assert "validated against ONNX Runtime (CPU) on load in" in description
    engine.close()

"""Real TensorRT: build, cache reuse, stale rebuild and inference (needs tensorrt + a GPU)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from promptdepth_ros.engines.backends.onnxruntime_backend import OnnxRuntimeBackend
from promptdepth_ros.engines.backends.tensorrt.plan import reference_inputs, sidecar_path
from promptdepth_ros.errors import EngineMismatch
from promptdepth_ros.tools import build_engine
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


def test_built_plan_matches_onnxruntime_and_is_reused(onnx_path: Path) -> None:
    from promptdepth_ros.engines.backends.tensorrt.runtime import TensorRTBackend

    plan = onnx_path.with_suffix(".plan")
    assert build_engine.main([str(onnx_path), "--output", str(plan), "--precision", "fp32"]) == 0
    first_build = plan.stat().st_mtime_ns
    assert build_engine.main([str(onnx_path), "--output", str(plan), "--precision", "fp32"]) == 0
    assert plan.stat().st_mtime_ns == first_build  # current plan kept
    with TensorRTBackend(plan) as backend, OnnxRuntimeBackend(onnx_path) as reference:
        inputs = reference_inputs({"image": (1, 3, 32, 32)})
        np.testing.assert_allclose(
            backend.infer(inputs)["depth"], reference.infer(inputs)["depth"], atol=1e-4
        )


def test_plan_from_another_onnx_is_rebuilt_and_foreign_sidecar_rejected(onnx_path: Path) -> None:
    from promptdepth_ros.engines.backends.tensorrt.runtime import TensorRTBackend

    plan = onnx_path.with_suffix(".plan")
    assert build_engine.main([str(onnx_path), "--output", str(plan)]) == 0
    record = sidecar_path(plan).read_text().replace('"gpu_name": "', '"gpu_name": "other ')
    sidecar_path(plan).write_text(record)
    with pytest.raises(EngineMismatch, match="built for other"):
        TensorRTBackend(plan)
    assert build_engine.main([str(onnx_path), "--output", str(plan)]) == 0
    with TensorRTBackend(plan) as backend:
        assert backend.input_names == ("image",) and backend.output_names == ("depth",)

"""Export a network to ONNX with named fixed-shape inputs, a metadata record and a check.

The exported graph contains the input normalisation (it is part of the wrapped networks),
so ONNX Runtime, TensorRT and torch all take RGB in [0, 1] and the prompt in metres.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import onnx
import torch
from torch import nn

from promptdepth_ros.engines.spec import Precision
from promptdepth_ros.errors import EngineError

DEFAULT_OPSET = 17
EXTERNAL_DATA_BYTES = 1 << 30  # beyond 1 GiB of weights, store them beside the graph (2 GiB cap)


class _HalfPrecision(nn.Module):
    """Runs a module in float16 between float32 inputs and outputs."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module.half()

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        result = self.module(*(x.half() for x in inputs))
        if isinstance(result, tuple):
            return tuple(r.float() for r in result)
        return result.float()


def export_network(
    network: nn.Module,
    path: Path,
    input_shapes: Mapping[str, tuple[int, ...]],
    output_names: Sequence[str],
    metadata: Mapping[str, str],
    opset: int = DEFAULT_OPSET,
    precision: Precision = "fp32",
) -> Path:
    """Write ``network`` to ``path`` (ONNX, fixed shapes) with ``metadata`` as metadata_props.

    Weights go to ``<path>.data`` beside the graph when they exceed 1 GiB. The model is
    checked with ``onnx.checker``; EngineError when export or check fails.
    """
    module: nn.Module = network.eval().float()
    if precision == "fp16":
        module = _HalfPrecision(module)
    args = tuple(torch.rand(shape, dtype=torch.float32) + 0.5 for shape in input_shapes.values())
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.onnx"
        try:
            with torch.no_grad(), warnings.catch_warnings():
                # shape-dependent Python branches are constant for fixed-shape exports
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                torch.onnx.export(
                    module,
                    args,
                    str(raw),
                    input_names=list(input_shapes),
                    output_names=list(output_names),
                    opset_version=opset,
                    dynamo=False,
                    do_constant_folding=True,
                )
        except (RuntimeError, TypeError, ValueError) as exc:
            raise EngineError(f"ONNX export failed: {exc}") from exc
        model = onnx.load(str(raw))
    onnx.helper.set_model_props(model, dict(metadata))
    weight_bytes = sum(t.ByteSize() for t in model.graph.initializer)
    external = weight_bytes > EXTERNAL_DATA_BYTES
    onnx.save_model(
        model,
        str(path),
        save_as_external_data=external,
        all_tensors_to_one_file=True,
        location=path.name + ".data",
    )
    try:
        onnx.checker.check_model(str(path))
    except onnx.checker.ValidationError as exc:
        raise EngineError(f"exported ONNX model {path} fails onnx.checker: {exc}") from exc
    return path

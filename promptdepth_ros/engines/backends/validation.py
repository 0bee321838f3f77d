"""Check an engine's outputs against ONNX Runtime on a deterministic reference input."""

from __future__ import annotations

from pathlib import Path

from promptdepth_ros.engines.backends import InferenceBackend
from promptdepth_ros.engines.backends.onnxruntime_backend import OnnxRuntimeBackend
from promptdepth_ros.engines.backends.tensorrt.plan import check_outputs_match, reference_inputs
from promptdepth_ros.engines.spec import Precision
from promptdepth_ros.errors import EngineMismatch


def validate_against_onnx(
    candidate: InferenceBackend, onnx_path: Path, precision: Precision
) -> dict[str, float]:
    """Worst relative errors of ``candidate`` vs ONNX Runtime (CPU) on the same input.

    Raises EngineMismatch when the I/O differ or an output exceeds the precision's tolerance.
    """
    with OnnxRuntimeBackend(onnx_path, providers=["CPUExecutionProvider"]) as reference:
        shapes = {n: s for n, s in reference.input_shapes.items() if s is not None}
        if set(candidate.input_names) != set(shapes):
            raise EngineMismatch(
                f"engine inputs {candidate.input_names} differ from {onnx_path}: {sorted(shapes)}"
            )
        inputs = reference_inputs(shapes)
        expected = reference.infer(inputs)
    return check_outputs_match(candidate.infer(inputs), expected, precision)

"""ONNX Runtime backend: fixed-shape float32 graphs exported by promptdepth-export-onnx."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from promptdepth_ros.engines.backends import TensorMap
from promptdepth_ros.engines.backends.common import ClosingBackend, validate_input_tensors
from promptdepth_ros.errors import EngineError, EngineMismatch


def default_providers() -> list[str]:
    """CUDA first when this onnxruntime build has it, always CPU as the fallback."""
    available = ort.get_available_providers()
    preferred = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return [p for p in preferred if p in available] or ["CPUExecutionProvider"]


class OnnxRuntimeBackend(ClosingBackend):
    """Named-array inference with an ONNX Runtime session.

    Raises EngineError when the file cannot be loaded, EngineMismatch when its inputs are
    not float32 of fixed shape.
    """

    name = "onnxruntime"

    def __init__(
        self, path: Path, providers: list[str] | None = None, num_threads: int = 0
    ) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        try:
            self.session = ort.InferenceSession(
                str(path), sess_options=options, providers=providers or default_providers()
            )
        except Exception as exc:  # onnxruntime raises its own untyped exceptions
            raise EngineError(f"cannot load ONNX model {path}: {exc}") from exc
        self.path = path
        self.metadata: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)
        self.input_names = tuple(i.name for i in self.session.get_inputs())
        self.output_names = tuple(o.name for o in self.session.get_outputs())
        self.input_shapes: dict[str, tuple[int, ...] | None] = {}
        for arg in self.session.get_inputs():
            if arg.type != "tensor(float)" or not all(isinstance(d, int) for d in arg.shape):
                raise EngineMismatch(
                    f"{path}: input '{arg.name}' is {arg.type} {arg.shape}; expected float32 "
                    "with a fixed shape (export with promptdepth-export-onnx)"
                )
            self.input_shapes[arg.name] = tuple(int(d) for d in arg.shape)

    def infer(self, inputs: TensorMap) -> TensorMap:
        """Run the session; returns float32 outputs by name."""
        validate_input_tensors(inputs, self.input_names, self.input_shapes)
        try:
            results = self.session.run(list(self.output_names), dict(inputs))
        except Exception as exc:  # onnxruntime raises its own untyped exceptions
            raise EngineError(f"ONNX Runtime inference failed on {self.path}: {exc}") from exc
        pairs = zip(self.output_names, results, strict=True)
        return {n: np.asarray(r, dtype=np.float32) for n, r in pairs}

    def close(self) -> None:
        """Drop the session."""
        self.session = None  # type: ignore[assignment]

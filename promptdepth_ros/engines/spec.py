"""Which engine on which backend: :class:`EngineSpec`, its literals, and backend resolution.

No torch import: the nodes and tools read this module without the learned extras.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal, get_args

from promptdepth_ros.errors import ConfigError

EngineName = Literal["guided", "promptda", "depth_pro"]
BackendName = Literal["auto", "numpy", "torch", "onnxruntime", "tensorrt"]
Variant = Literal["vits", "vitb", "vitl"]
Precision = Literal["fp32", "fp16"]
DepthProSize = Literal["full", "reduced"]
ResolvedBackend = Literal["numpy", "torch", "onnxruntime", "tensorrt"]

_CHOICES: dict[str, tuple[object, ...]] = {
    "engine": get_args(EngineName),
    "backend": get_args(BackendName),
    "variant": get_args(Variant),
    "precision": get_args(Precision),
    "depth_pro_size": get_args(DepthProSize),
}


@dataclass(frozen=True)
class EngineSpec:
    """Which engine, on which backend, with which weights.

    weights:        PromptDA: transformers directory or original ``model.ckpt``; Depth Pro:
                    transformers directory; None with ``random_init`` (tests, benchmarks).
    onnx_path:      exported graph for the onnxruntime backend; with tensorrt, the plan is
                    validated against it on load (one ONNX Runtime CPU inference).
    engine_path:    TensorRT plan for the tensorrt backend.
    input_long_side: PromptDA network input long side in px (multiple of 14; torch only,
                    exported graphs fix their own size).
    depth_pro_size: Depth Pro architecture, ``full`` (published) or ``reduced`` (tests).
    device:         torch device, ``cpu`` or ``cuda[:N]``.
    """

    engine: EngineName = "guided"
    backend: BackendName = "auto"
    variant: Variant = "vits"
    weights: Path | None = None
    onnx_path: Path | None = None
    engine_path: Path | None = None
    input_long_side: int = 1008
    precision: Precision = "fp32"
    random_init: bool = False
    depth_pro_size: DepthProSize = "full"
    device: str = "cpu"
    num_threads: int = 0

    def __post_init__(self) -> None:
        for field in fields(self):
            allowed = _CHOICES.get(field.name)
            if allowed is not None and getattr(self, field.name) not in allowed:
                raise ConfigError(
                    f"EngineSpec.{field.name} must be one of {list(allowed)}, "
                    f"got {getattr(self, field.name)!r}"
                )
        if self.input_long_side % 14 or not 14 <= self.input_long_side <= 4032:
            raise ConfigError(
                f"EngineSpec.input_long_side must be a multiple of 14 in [14, 4032], "
                f"got {self.input_long_side}"
            )
        if not (self.device == "cpu" or self.device.startswith("cuda")):
            raise ConfigError(
                f"EngineSpec.device must be 'cpu' or 'cuda[:N]', got {self.device!r}"
            )
        if self.num_threads < 0:
            raise ConfigError(f"EngineSpec.num_threads must be >= 0, got {self.num_threads}")
        if self.engine == "guided":
            if self.backend not in ("auto", "numpy"):
                raise ConfigError(
                    "EngineSpec.backend must be 'auto' or 'numpy' for guided, "
                    f"got {self.backend!r}"
                )
            return
        if self.backend == "numpy":
            raise ConfigError(
                f"EngineSpec.backend 'numpy' is only for guided; {self.engine} allows "
                "['auto', 'torch', 'onnxruntime', 'tensorrt']"
            )
        if self.random_init and self.weights is not None:
            raise ConfigError("EngineSpec.weights and random_init exclude each other; pick one")
        if self.backend == "torch" and self.weights is None and not self.random_init:
            raise ConfigError(
                "EngineSpec.weights is required for the torch backend (a transformers directory "
                "or model.ckpt); set random_init=True only for tests and benchmarks"
            )
        if self.backend == "onnxruntime" and self.onnx_path is None:
            raise ConfigError("EngineSpec.onnx_path is required for the onnxruntime backend")
        if self.backend == "tensorrt" and self.engine_path is None:
            raise ConfigError("EngineSpec.engine_path is required for the tensorrt backend")


def cuda_available() -> bool:
    """True when torch is importable and sees a CUDA GPU."""
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def resolve_backend(spec: EngineSpec) -> ResolvedBackend:
    """The concrete backend: guided -> numpy; auto -> TensorRT when a GPU, tensorrt and the
    plan exist, else ONNX Runtime when the ONNX file exists, else torch."""
    if spec.engine == "guided":
        return "numpy"
    if spec.backend != "auto":
        return spec.backend  # type: ignore[return-value]
    if (
        spec.engine_path is not None
        and spec.engine_path.is_file()
        and importlib.util.find_spec("tensorrt") is not None
        and cuda_available()
    ):
        return "tensorrt"
    if spec.onnx_path is not None and spec.onnx_path.is_file():
        return "onnxruntime"
    if spec.weights is None and not spec.random_init:
        raise ConfigError(
            f"no backend for {spec.engine}: no TensorRT plan, no ONNX file and no weights; "
            "set EngineSpec.onnx_path, engine_path or weights"
        )
    return "torch"

"""Which engine on which backend: :class:`EngineSpec`, its literals, and backend resolution.

No torch import: the nodes and tools read this module without the learned extras.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from promptdepth_ros.errors import ConfigError
from promptdepth_ros.settings import check_settings, setting

EngineName = Literal["guided", "promptda", "depth_pro"]
BackendName = Literal["auto", "numpy", "torch", "onnxruntime", "tensorrt"]
Variant = Literal["vits", "vitb", "vitl"]
Precision = Literal["fp32", "fp16"]
DepthProSize = Literal["full", "reduced"]
FocalSource = Literal["camera_info", "estimated"]
ResolvedBackend = Literal["numpy", "torch", "onnxruntime", "tensorrt"]
PATCH_SIZE = 14  # PromptDA ViT patch side (px): network input sides are multiples of it


@dataclass(frozen=True)
class EngineSpec:
    """Which engine, on which backend, with which weights (parameters ``engine.*``).

    The tensorrt backend needs the plan and the ONNX file it was built from: the plan's cache
    key (ONNX hash, input shapes, precision, GPU, TensorRT version) is checked on load.
    """

    engine: EngineName = setting("guided", "Depth engine", read_only=True, name="name")
    backend: BackendName = setting(
        "auto",
        "Backend of a learned engine; 'auto' = TensorRT with a GPU, a plan file and its ONNX "
        "file, else ONNX Runtime with an ONNX file, else torch",
        read_only=True,
    )
    variant: Variant = setting("vits", "PromptDA encoder size", read_only=True)
    weights: Path | None = setting(
        None,
        "Weights: a Hugging Face model directory, or an original PromptDA model.ckpt "
        "(Depth Pro: a Hugging Face directory)",
        read_only=True,
    )
    onnx_path: Path | None = setting(
        None,
        "ONNX model for the onnxruntime backend, and the one the tensorrt backend's plan was "
        "built from (its cache key is checked)",
        read_only=True,
    )
    engine_path: Path | None = setting(
        None,
        "TensorRT plan for the tensorrt backend (built from onnx_path by "
        "promptdepth-build-engine at this precision, on this machine)",
        read_only=True,
    )
    validate_on_load: bool = setting(
        False,
        "tensorrt backend: compare the plan with ONNX Runtime on CPU when loading (one "
        "full-size CPU inference, logged with its duration); the build tool does it by default",
        read_only=True,
    )
    input_long_side: int = setting(
        1008,
        "PromptDA network input long side, pixels (multiple of 14; torch backend, exported "
        "graphs fix their own size)",
        low=14,
        high=4032,
        read_only=True,
    )
    precision: Precision = setting(
        "fp32", "Precision of the torch/TensorRT backends (fp16 on GPUs)", read_only=True
    )
    random_init: bool = setting(
        False, "Use random weights (testing only: the depth is meaningless)", read_only=True
    )
    depth_pro_size: DepthProSize = setting(
        "full", "Depth Pro architecture: 'full' (published) or 'reduced' (tests)", read_only=True
    )
    device: str = setting(
        "cpu",
        "Device of the torch backend ('cpu', 'cuda', 'cuda:N'); the tensorrt backend runs on "
        "it when it is a CUDA device, else on 'cuda'",
        read_only=True,
    )
    focal_source: FocalSource = setting(
        "camera_info",
        "Depth Pro's focal length: 'camera_info' (fx of the CameraInfo) or 'estimated' (its "
        "FOV head; then ~/camera_info carries the estimate)",
        read_only=True,
        name="focal.source",
    )
    num_threads: int = setting(
        0, "CPU threads of ONNX Runtime (0 = its default)", low=0, high=256, read_only=True
    )

    def __post_init__(self) -> None:
        check_settings(self)
        if self.input_long_side % PATCH_SIZE:
            raise ConfigError(
                f"EngineSpec.input_long_side must be a multiple of {PATCH_SIZE}, "
                f"got {self.input_long_side}"
            )
        if not (self.device == "cpu" or self.device.startswith("cuda")):
            raise ConfigError(
                f"EngineSpec.device must be 'cpu' or 'cuda[:N]', got {self.device!r}"
            )
        if self.focal_source == "estimated" and self.engine != "depth_pro":
            raise ConfigError(
                f"EngineSpec.focal_source 'estimated' is for depth_pro only, not {self.engine}"
            )
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
        if self.backend == "tensorrt" and self.onnx_path is None:
            raise ConfigError(
                "EngineSpec.onnx_path is required for the tensorrt backend too: the plan's "
                "cache key is checked against the ONNX file it was built from"
            )


def cuda_available() -> bool:
    """True when torch is importable and sees a CUDA GPU."""
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def resolve_backend(spec: EngineSpec) -> ResolvedBackend:
    """The concrete backend: guided -> numpy; auto -> TensorRT when a GPU, tensorrt, the plan
    and the ONNX file exist, else ONNX Runtime when the ONNX file exists, else torch."""
    if spec.engine == "guided":
        return "numpy"
    if spec.backend != "auto":
        return spec.backend  # type: ignore[return-value]
    if (
        spec.engine_path is not None
        and spec.engine_path.is_file()
        and spec.onnx_path is not None
        and spec.onnx_path.is_file()
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

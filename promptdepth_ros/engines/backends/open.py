"""Open the backend an :class:`EngineSpec` asks for and describe the weights it runs.

What PromptDA and Depth Pro share: seeded random weights, weight descriptions and tags, and
torch / ONNX Runtime / TensorRT backend opening. Imports torch and onnxruntime; imports neither
engine package (their factories import this).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from torch import nn

from promptdepth_ros.engines.backends import InferenceBackend
from promptdepth_ros.engines.backends.onnxruntime_backend import OnnxRuntimeBackend
from promptdepth_ros.engines.backends.tensorrt.plan import file_sha256, recorded_validation
from promptdepth_ros.engines.backends.torch_backend import TorchBackend
from promptdepth_ros.engines.spec import EngineSpec, ResolvedBackend
from promptdepth_ros.errors import CheckpointError, ConfigError, EngineMismatch

RANDOM_SEED = 0
RANDOM_WEIGHTS_TAG = "random"  # ONNX ``weights`` metadata of a random-init export

NetworkFactory = Callable[[EngineSpec], tuple[nn.Module, str]]


def random_weights_description(engine: str) -> str:
    """The warning every random-init engine carries (the node logs it)."""
    return (
        f"RANDOM weights ({engine}, seed {RANDOM_SEED}): the depth is meaningless; "
        "for tests and benchmarks only"
    )


def weights_tag(spec: EngineSpec) -> str:
    """ONNX metadata tag: 'random', the file's sha256, or a directory's weight-file hashes."""
    if spec.weights is None:
        return RANDOM_WEIGHTS_TAG
    path = spec.weights
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".bin"))
        return "sha256:" + ",".join(file_sha256(p)[:16] for p in files)
    return "sha256:" + file_sha256(path)


def existing_weights(spec: EngineSpec) -> Path:
    """The spec's weights path; ConfigError when unset, CheckpointError when it does not exist."""
    path = spec.weights
    if path is None:
        raise ConfigError(f"EngineSpec.weights is required for {spec.engine} (or random_init)")
    if not path.exists():
        raise CheckpointError(f"weights {path} do not exist")
    return path


def open_backend(
    spec: EngineSpec,
    backend_name: ResolvedBackend,
    build_network: NetworkFactory,
    input_names: Sequence[str],
    output_names: Sequence[str],
) -> tuple[InferenceBackend, str]:
    """The backend running the spec's network, and a description of its weights.

    torch runs ``build_network(spec)``; onnxruntime and tensorrt open the spec's exported files.
    Raises ConfigError, CheckpointError, EngineError or EngineMismatch.
    """
    if backend_name == "torch":
        network, description = build_network(spec)
        backend = TorchBackend(
            network, input_names, output_names, device=spec.device, precision=spec.precision
        )
        return backend, description
    if backend_name == "onnxruntime":
        return _onnx_backend(spec)
    return _tensorrt_backend(spec, output_names)


def _onnx_backend(spec: EngineSpec) -> tuple[InferenceBackend, str]:
    """ONNX Runtime backend whose metadata names the requested engine."""
    if spec.onnx_path is None:
        raise ConfigError("EngineSpec.onnx_path is required for the onnxruntime backend")
    backend = OnnxRuntimeBackend(spec.onnx_path, num_threads=spec.num_threads)
    exported_engine = backend.metadata.get("engine")
    if exported_engine != spec.engine:
        raise EngineMismatch(
            f"{spec.onnx_path} was exported for engine {exported_engine!r}, "
            f"the spec asks for {spec.engine!r}; export it with promptdepth-export-onnx"
        )
    weights = backend.metadata.get("weights", "unknown")
    if weights == RANDOM_WEIGHTS_TAG:
        return backend, random_weights_description(spec.engine)
    return backend, f"{spec.engine} ONNX {spec.onnx_path} ({weights})"


def _errors_text(errors: Mapping[str, float]) -> str:
    """'median 1.2e-04, p99 3.4e-03' relative error of a validation."""
    return f"median {errors['median_rel']:.1e}, p99 {errors['p99_rel']:.1e}"


def _tensorrt_backend(
    spec: EngineSpec, output_names: Sequence[str]
) -> tuple[InferenceBackend, str]:
    """TensorRT backend whose plan records the cache key of ``spec.onnx_path`` here.

    With ``validate_on_load`` the plan is also compared with ONNX Runtime on CPU; the
    description says how long that took and what it found (or what the build recorded).
    """
    from promptdepth_ros.engines.backends.tensorrt.runtime import (
        TensorRTBackend,
        engine_cache_key,
    )
    from promptdepth_ros.engines.backends.validation import validate_against_onnx

    if spec.engine_path is None or spec.onnx_path is None:
        raise ConfigError(
            "EngineSpec.engine_path and onnx_path are both required for the tensorrt backend"
        )
    device = spec.device if spec.device.startswith("cuda") else "cuda"
    key = engine_cache_key(spec.onnx_path, spec.precision, device)
    backend = TensorRTBackend(spec.engine_path, key, output_names, device)
    description = (
        f"{spec.engine} TensorRT plan {spec.engine_path}: cache key of {spec.onnx_path.name} "
        f"at {spec.precision} on {key.gpu_name} (sm {key.compute_capability}), "
        f"TensorRT {key.tensorrt_version}"
    )
    if not spec.validate_on_load:
        recorded = recorded_validation(spec.engine_path)
        built = _errors_text(recorded) if recorded else "not validated (--no-validate)"
        return backend, f"{description}; vs ONNX Runtime at build: {built}"
    start = time.perf_counter()
    try:
        errors = validate_against_onnx(backend, spec.onnx_path, spec.precision)
    except EngineMismatch:
        backend.close()
        raise
    seconds = time.perf_counter() - start
    return backend, (
        f"{description}; validated against ONNX Runtime (CPU) on load in {seconds:.1f} s: "
        f"{_errors_text(errors)}"
    )

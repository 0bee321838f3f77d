"""Build a TensorRT 10 plan from an ONNX file, record its cache key and validate it."""

from __future__ import annotations

from pathlib import Path

import torch

from promptdepth_ros.engines.backends.tensorrt.plan import sidecar_path, write_sidecar
from promptdepth_ros.engines.backends.tensorrt.runtime import (
    TensorRTBackend,
    checked,
    engine_cache_key,
    import_tensorrt,
)
from promptdepth_ros.engines.backends.torch_backend import cuda_device
from promptdepth_ros.engines.backends.validation import validate_against_onnx
from promptdepth_ros.engines.spec import Precision
from promptdepth_ros.errors import EngineError, EngineMismatch


def serialize_plan(
    onnx_path: Path,
    precision: Precision,
    workspace_bytes: int,
    timing_cache: Path | None,
) -> bytes:
    """Parse the ONNX file and build a serialized engine; EngineError names parser errors."""
    trt = import_tensorrt()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = checked(trt.Builder(logger), "trt.Builder")
    network = checked(builder.create_network(0), "create_network")
    parser = checked(trt.OnnxParser(network, logger), "trt.OnnxParser")
    if not parser.parse_from_file(str(onnx_path)):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise EngineError(f"TensorRT cannot parse {onnx_path}: {errors}")
    config = checked(builder.create_builder_config(), "create_builder_config")
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_bytes)
    if precision == "fp16":
        config.set_flag(trt.BuilderFlag.FP16)
    else:  # TF32 is on by default and rounds products to 10-bit mantissas: not fp32
        config.clear_flag(trt.BuilderFlag.TF32)
    cache_bytes = timing_cache.read_bytes() if timing_cache and timing_cache.is_file() else b""
    cache = checked(config.create_timing_cache(cache_bytes), "create_timing_cache")
    checked(config.set_timing_cache(cache, False), "set_timing_cache")
    plan = checked(builder.build_serialized_network(network, config), "build_serialized_network")
    if timing_cache is not None:
        timing_cache.write_bytes(bytes(config.get_timing_cache().serialize()))
    return bytes(plan)


def build_plan(
    onnx_path: Path,
    plan_path: Path,
    precision: Precision,
    workspace_bytes: int = 4 << 30,
    timing_cache: Path | None = None,
    device: str = "cuda",
    validate: bool = True,
) -> dict[str, float]:
    """Build ``plan_path`` from ``onnx_path``, write its sidecar and validate it.

    Returns the validation errors. An engine that deviates from ONNX Runtime beyond the
    tolerance is deleted and EngineMismatch raised.
    """
    key = engine_cache_key(onnx_path, precision, device)
    sidecar_path(plan_path).unlink(missing_ok=True)  # never an old key beside a new plan
    with torch.cuda.device(cuda_device(device)):  # the builder tunes for the current device
        plan = serialize_plan(onnx_path, precision, workspace_bytes, timing_cache)
    plan_path.write_bytes(plan)
    write_sidecar(plan_path, key, {})
    if not validate:
        return {}
    try:
        with TensorRTBackend(plan_path, key, device=device) as backend:
            errors = validate_against_onnx(backend, onnx_path, precision)
    except EngineMismatch:
        plan_path.unlink(missing_ok=True)
        sidecar_path(plan_path).unlink(missing_ok=True)
        raise
    write_sidecar(plan_path, key, errors)
    return errors

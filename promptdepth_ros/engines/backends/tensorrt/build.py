"""Build a TensorRT 10 plan from an ONNX file, record its cache key and validate it."""

from __future__ import annotations

from pathlib import Path

import onnx

from promptdepth_ros.engines.backends.tensorrt.plan import (
    BuildPrecision,
    EngineCacheKey,
    file_sha256,
    sidecar_path,
    write_sidecar,
)
from promptdepth_ros.engines.backends.tensorrt.runtime import (
    TensorRTBackend,
    checked,
    gpu_name,
    import_tensorrt,
)
from promptdepth_ros.engines.backends.validation import validate_against_onnx
from promptdepth_ros.errors import EngineError, EngineMismatch


def onnx_input_shapes(onnx_path: Path) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """(name, fixed shape) of every graph input; EngineMismatch for a dynamic dimension."""
    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    initializers = {i.name for i in graph.initializer}
    shapes = []
    for value in graph.input:
        if value.name in initializers:
            continue
        dims = value.type.tensor_type.shape.dim
        if any(not d.HasField("dim_value") for d in dims):
            raise EngineMismatch(f"{onnx_path}: input '{value.name}' has a dynamic dimension")
        shapes.append((value.name, tuple(int(d.dim_value) for d in dims)))
    return tuple(shapes)


def engine_cache_key(onnx_path: Path, precision: BuildPrecision, device: str) -> EngineCacheKey:
    """The key of a plan built from ``onnx_path`` at ``precision`` on this GPU and TensorRT."""
    trt = import_tensorrt()
    return EngineCacheKey(
        gpu_name=gpu_name(device),
        tensorrt_version=str(trt.__version__),
        onnx_sha256=file_sha256(onnx_path),
        input_shapes=onnx_input_shapes(onnx_path),
        precision=precision,
    )


def serialize_plan(
    onnx_path: Path,
    precision: BuildPrecision,
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
    if precision in ("fp16", "best"):
        config.set_flag(trt.BuilderFlag.FP16)
    if precision in ("int8", "best"):
        config.set_flag(trt.BuilderFlag.INT8)
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
    precision: BuildPrecision,
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
    plan_path.write_bytes(serialize_plan(onnx_path, precision, workspace_bytes, timing_cache))
    write_sidecar(plan_path, key, {})
    if not validate:
        return {}
    try:
        with TensorRTBackend(plan_path, expected_key=key, device=device) as backend:
            errors = validate_against_onnx(backend, onnx_path, precision)
    except EngineMismatch:
        plan_path.unlink(missing_ok=True)
        sidecar_path(plan_path).unlink(missing_ok=True)
        raise
    write_sidecar(plan_path, key, errors)
    return errors

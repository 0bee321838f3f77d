"""TensorRT-independent parts of engine handling: cache key, sidecar, I/O plan, validation.

A plan file ``x.plan`` has a JSON sidecar ``x.plan.json`` holding the cache key it was built
for (GPU name and compute capability, TensorRT version, ONNX file hash, input shapes,
precision) and the outcome of its validation against ONNX Runtime. :func:`plan_key_mismatches`
is the one test of "this plan is current": the build tool keeps a plan only when it finds no
mismatch, the runtime refuses one naming every mismatch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import get_args

import numpy as np
import onnx
from numpy.typing import NDArray

from promptdepth_ros.engines.spec import Precision
from promptdepth_ros.errors import ConfigError, EngineMismatch

PRECISIONS: tuple[Precision, ...] = get_args(Precision)
InputShapes = tuple[tuple[str, tuple[int, ...]], ...]  # (name, fixed shape) per graph input


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def onnx_input_shapes(onnx_path: Path) -> InputShapes:
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


@dataclass(frozen=True)
class EngineCacheKey:
    """What a TensorRT plan depends on; plans are not portable across any of these."""

    gpu_name: str
    compute_capability: str  # "major.minor", e.g. "8.7" on Jetson Orin
    tensorrt_version: str
    onnx_sha256: str
    input_shapes: InputShapes
    precision: Precision

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")

    @classmethod
    def for_onnx(
        cls,
        onnx_path: Path,
        precision: Precision,
        gpu_name: str,
        compute_capability: str,
        tensorrt_version: str,
    ) -> EngineCacheKey:
        """The key of a plan built from ``onnx_path`` at ``precision`` on the named host."""
        return cls(
            gpu_name=gpu_name,
            compute_capability=compute_capability,
            tensorrt_version=tensorrt_version,
            onnx_sha256=file_sha256(onnx_path),
            input_shapes=onnx_input_shapes(onnx_path),
            precision=precision,
        )


def sidecar_path(plan_path: Path) -> Path:
    """The JSON sidecar beside a plan: ``<plan>.json``."""
    return plan_path.with_name(plan_path.name + ".json")


def write_sidecar(plan_path: Path, key: EngineCacheKey, validation: Mapping[str, float]) -> Path:
    """Write the key and the validation errors (empty when not validated) next to the plan."""
    record = {"key": asdict(key), "validation": dict(validation)}
    path = sidecar_path(plan_path)
    path.write_text(json.dumps(record, indent=2, sort_keys=True))
    return path


def _read_record(plan_path: Path) -> dict[str, object]:
    """The sidecar JSON object of ``plan_path``; empty when absent or unreadable."""
    try:
        record = json.loads(sidecar_path(plan_path).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _comparable(value: object) -> object:
    """JSON lists as tuples, recursively, so a read-back key compares equal to a built one."""
    if isinstance(value, list | tuple):
        return tuple(_comparable(v) for v in value)
    return value


def plan_key_mismatches(plan_path: Path, key: EngineCacheKey) -> list[str]:
    """Why the plan is not current for ``key``: one line per reason, empty when it is.

    Every key field recorded in the sidecar is compared with ``key``; a missing plan or
    sidecar, or a sidecar without a key, is a reason too.
    """
    if not plan_path.is_file():
        return [f"TensorRT plan {plan_path} does not exist"]
    recorded = _read_record(plan_path).get("key")
    if not isinstance(recorded, dict):
        return [f"{sidecar_path(plan_path)} is missing, unreadable or holds no cache key"]
    reasons = []
    for field in fields(EngineCacheKey):
        built = _comparable(recorded.get(field.name))
        wanted = getattr(key, field.name)
        if built != wanted:
            reasons.append(f"{field.name}: plan built for {built!r}, expected {wanted!r}")
    return reasons


def plan_is_current(plan_path: Path, key: EngineCacheKey) -> bool:
    """True when the plan exists and its sidecar records exactly ``key``."""
    return not plan_key_mismatches(plan_path, key)


def check_plan_current(plan_path: Path, key: EngineCacheKey) -> None:
    """Raise EngineMismatch naming every field in which the plan differs from ``key``."""
    reasons = plan_key_mismatches(plan_path, key)
    if reasons:
        raise EngineMismatch(
            f"{plan_path} is not current: {'; '.join(reasons)}; rebuild it on this machine "
            "with promptdepth-build-engine (from the same ONNX file and precision)"
        )


def recorded_validation(plan_path: Path) -> dict[str, float]:
    """The validation errors the build tool recorded beside the plan (empty when none)."""
    validation = _read_record(plan_path).get("validation")
    if not isinstance(validation, dict):
        return {}
    return {k: float(v) for k, v in validation.items() if isinstance(v, int | float)}


def reference_inputs(
    shapes: Mapping[str, tuple[int, ...]], seed: int = 0
) -> dict[str, NDArray[np.float32]]:
    """Deterministic validation inputs: uniform [0, 1] images, a 1-3 m ramp for prompt_depth."""
    rng = np.random.default_rng(seed)
    inputs: dict[str, NDArray[np.float32]] = {}
    for name, shape in shapes.items():
        if name == "prompt_depth":
            ramp = np.linspace(1.0, 3.0, int(np.prod(shape)), dtype=np.float32)
            inputs[name] = ramp.reshape(shape)
        else:
            inputs[name] = rng.random(shape, dtype=np.float32)
    return inputs


@dataclass(frozen=True)
class TensorSpec:
    """One engine I/O tensor: name, direction, fixed shape and numpy dtype name."""

    name: str
    is_input: bool
    shape: tuple[int, ...]
    dtype: str


def check_io_plan(
    tensors: Sequence[TensorSpec],
    expected_inputs: Mapping[str, tuple[int, ...]],
    expected_outputs: Sequence[str],
) -> None:
    """Raise EngineMismatch unless the engine I/O are exactly the expected static float32."""
    inputs = {t.name: t for t in tensors if t.is_input}
    outputs = {t.name: t for t in tensors if not t.is_input}
    if set(inputs) != set(expected_inputs) or set(outputs) != set(expected_outputs):
        raise EngineMismatch(
            f"engine has inputs {sorted(inputs)} and outputs {sorted(outputs)}; expected "
            f"{sorted(expected_inputs)} and {sorted(expected_outputs)}"
        )
    for tensor in tensors:
        if tensor.dtype != "float32":
            raise EngineMismatch(
                f"engine tensor '{tensor.name}' is {tensor.dtype}, expected float32"
            )
        if any(d < 0 for d in tensor.shape):
            raise EngineMismatch(
                f"engine tensor '{tensor.name}' has dynamic shape {tensor.shape}; "
                "export the ONNX with fixed shapes"
            )
        expected = expected_inputs.get(tensor.name)
        if expected is not None and tuple(expected) != tensor.shape:
            raise EngineMismatch(
                f"engine input '{tensor.name}' is {tensor.shape}, the ONNX model says {expected}"
            )


@dataclass(frozen=True)
class ValidationTolerance:
    """Largest accepted relative errors of an engine output against ONNX Runtime."""

    median_rel: float
    p99_rel: float


TOLERANCES: dict[Precision, ValidationTolerance] = {
    "fp32": ValidationTolerance(median_rel=1e-3, p99_rel=1e-2),
    "fp16": ValidationTolerance(median_rel=1e-2, p99_rel=5e-2),
}


def relative_errors(
    candidate: NDArray[np.float32], reference: NDArray[np.float32]
) -> dict[str, float]:
    """Median and 99th-percentile of |candidate - reference| / (|reference| + eps).

    eps is 1e-3 of the reference's largest magnitude, so near-zero values do not dominate.
    """
    if candidate.shape != reference.shape:
        raise EngineMismatch(
            f"engine output shape {candidate.shape} != reference {reference.shape}"
        )
    ref = reference.astype(np.float64)
    eps = 1e-3 * max(float(np.abs(ref).max()), 1e-12)
    rel = np.abs(candidate.astype(np.float64) - ref) / (np.abs(ref) + eps)
    rel = np.where(np.isfinite(rel), rel, np.inf)
    return {"median_rel": float(np.median(rel)), "p99_rel": float(np.percentile(rel, 99))}


def check_outputs_match(
    candidate: Mapping[str, NDArray[np.float32]],
    reference: Mapping[str, NDArray[np.float32]],
    precision: Precision,
) -> dict[str, float]:
    """Worst errors over all outputs; EngineMismatch when any exceeds the precision's tolerance.

    This catches engines that run but compute the wrong thing (e.g. wrong-scale depth from
    TensorRT 10.3 on Jetson for Depth Anything).
    """
    tolerance = TOLERANCES[precision]
    worst = {"median_rel": 0.0, "p99_rel": 0.0}
    for name, ref in reference.items():
        if name not in candidate:
            raise EngineMismatch(f"engine produced no output '{name}'")
        errors = relative_errors(candidate[name], ref)
        if errors["median_rel"] > tolerance.median_rel or errors["p99_rel"] > tolerance.p99_rel:
            raise EngineMismatch(
                f"engine output '{name}' deviates from ONNX Runtime: median relative error "
                f"{errors['median_rel']:.2e} (max {tolerance.median_rel:.0e}), p99 "
                f"{errors['p99_rel']:.2e} (max {tolerance.p99_rel:.0e}) at {precision}; "
                "refusing the engine — try fp32 or another TensorRT version"
            )
        worst = {k: max(worst[k], errors[k]) for k in worst}
    return worst

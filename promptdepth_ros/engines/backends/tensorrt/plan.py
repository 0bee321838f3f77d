"""TensorRT-independent parts of engine handling: cache key, sidecar, I/O plan, validation.

A plan file ``x.plan`` has a JSON sidecar ``x.plan.json`` holding the cache key it was built
for (GPU name, TensorRT version, ONNX file hash, input shapes, precision) and the outcome of
its validation against ONNX Runtime. A plan whose key differs is stale or foreign.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.engines.spec import Precision
from promptdepth_ros.errors import ConfigError, EngineMismatch

BuildPrecision = Literal[Precision, "int8", "best"]  # int8/best: Q/DQ layers only
BUILD_PRECISIONS: tuple[BuildPrecision, ...] = get_args(BuildPrecision)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class EngineCacheKey:
    """What a TensorRT plan depends on; plans are not portable across any of these."""

    gpu_name: str
    tensorrt_version: str
    onnx_sha256: str
    input_shapes: tuple[tuple[str, tuple[int, ...]], ...]
    precision: BuildPrecision

    def __post_init__(self) -> None:
        if self.precision not in BUILD_PRECISIONS:
            raise ConfigError(
                f"precision must be one of {BUILD_PRECISIONS}, got {self.precision!r}"
            )

    def digest(self) -> str:
        """sha256 of the canonical JSON of the key."""
        text = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def sidecar_path(plan_path: Path) -> Path:
    """The JSON sidecar beside a plan: ``<plan>.json``."""
    return plan_path.with_name(plan_path.name + ".json")


def write_sidecar(plan_path: Path, key: EngineCacheKey, validation: Mapping[str, float]) -> Path:
    """Write the key, its digest and the validation errors next to the plan."""
    record = {"key": asdict(key), "digest": key.digest(), "validation": dict(validation)}
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


def read_sidecar_digest(plan_path: Path) -> str | None:
    """The key digest recorded beside ``plan_path``, or None when absent or unreadable."""
    digest = _read_record(plan_path).get("digest")
    return digest if isinstance(digest, str) else None


def read_sidecar_key(plan_path: Path) -> dict[str, object] | None:
    """The key fields recorded beside ``plan_path``, or None when absent or unreadable."""
    key = _read_record(plan_path).get("key")
    return key if isinstance(key, dict) else None


def recorded_precision(plan_path: Path) -> BuildPrecision | None:
    """The build precision recorded beside ``plan_path``, or None when unknown."""
    precision = (read_sidecar_key(plan_path) or {}).get("precision")
    for known in BUILD_PRECISIONS:
        if precision == known:
            return known
    return None


def check_plan_host(plan_path: Path, gpu_name: str, tensorrt_version: str) -> None:
    """Raise EngineMismatch unless the plan's sidecar names this GPU and TensorRT version."""
    key = read_sidecar_key(plan_path)
    if key is None:
        raise EngineMismatch(
            f"{sidecar_path(plan_path)} is missing or unreadable, so {plan_path} cannot be "
            "trusted; rebuild it with promptdepth-build-engine"
        )
    built_for = (key.get("gpu_name"), key.get("tensorrt_version"))
    if built_for != (gpu_name, tensorrt_version):
        raise EngineMismatch(
            f"{plan_path} was built for {built_for[0]} with TensorRT {built_for[1]}, this is "
            f"{gpu_name} with TensorRT {tensorrt_version}; rebuild it here"
        )


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


def plan_is_current(plan_path: Path, key: EngineCacheKey) -> bool:
    """True when the plan exists and its sidecar records exactly ``key``."""
    return plan_path.is_file() and read_sidecar_digest(plan_path) == key.digest()


def check_plan_current(plan_path: Path, key: EngineCacheKey) -> None:
    """Raise EngineMismatch unless the plan was built for ``key`` (GPU, TensorRT, ONNX, shapes)."""
    if not plan_path.is_file():
        raise EngineMismatch(f"TensorRT plan {plan_path} does not exist; build it first")
    recorded = read_sidecar_digest(plan_path)
    if recorded is None:
        raise EngineMismatch(
            f"{sidecar_path(plan_path)} is missing or unreadable, so {plan_path} cannot be "
            "trusted; rebuild it with promptdepth-build-engine"
        )
    if recorded != key.digest():
        raise EngineMismatch(
            f"{plan_path} was built for another GPU, TensorRT version, ONNX file, shape or "
            f"precision than {key}; rebuild it with promptdepth-build-engine"
        )


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


TOLERANCES: dict[BuildPrecision, ValidationTolerance] = {
    "fp32": ValidationTolerance(median_rel=1e-3, p99_rel=1e-2),
    "fp16": ValidationTolerance(median_rel=1e-2, p99_rel=5e-2),
    "int8": ValidationTolerance(median_rel=5e-2, p99_rel=2e-1),
    "best": ValidationTolerance(median_rel=5e-2, p99_rel=2e-1),
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
    precision: BuildPrecision,
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

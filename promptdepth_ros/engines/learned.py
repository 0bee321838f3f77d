"""Networks, backends and engines for PromptDA and Depth Pro (imports torch/transformers)."""

from __future__ import annotations

from torch import nn

from promptdepth_ros.engines.backends import InferenceBackend
from promptdepth_ros.engines.backends.onnxruntime_backend import OnnxRuntimeBackend
from promptdepth_ros.engines.backends.tensorrt.plan import file_sha256, recorded_precision
from promptdepth_ros.engines.backends.torch_backend import TorchBackend
from promptdepth_ros.engines.base import DepthEngine
from promptdepth_ros.engines.depth_pro.engine import (
    DEPTH_PRO_INPUTS,
    DEPTH_PRO_OUTPUTS,
    DepthProEngine,
)
from promptdepth_ros.engines.depth_pro.model import (
    DepthProNetwork,
    depth_pro_config,
    depth_pro_input_size,
    load_depth_pro_hf_dir,
    random_depth_pro,
)
from promptdepth_ros.engines.promptda.checkpoint import load_promptda_checkpoint
from promptdepth_ros.engines.promptda.engine import (
    PROMPTDA_INPUTS,
    PROMPTDA_OUTPUTS,
    PromptDAEngine,
)
from promptdepth_ros.engines.promptda.model import load_promptda_hf_dir, random_promptda
from promptdepth_ros.engines.promptda.preprocessing import PromptDAPipelineConfig
from promptdepth_ros.engines.spec import EngineSpec, ResolvedBackend
from promptdepth_ros.errors import CheckpointError, ConfigError, EngineMismatch

RANDOM_SEED = 0


def random_weights_description(engine: str) -> str:
    """The warning every random-init engine carries (the node logs it)."""
    return (
        f"RANDOM weights ({engine}, seed {RANDOM_SEED}): the depth is meaningless; "
        "for tests and benchmarks only"
    )


def weights_tag(spec: EngineSpec) -> str:
    """ONNX metadata tag: 'random', the file's sha256, or a directory's weight-file hashes."""
    if spec.weights is None:
        return "random"
    path = spec.weights
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".bin"))
        return "sha256:" + ",".join(file_sha256(p)[:16] for p in files)
    return "sha256:" + file_sha256(path)


def build_network(spec: EngineSpec) -> tuple[nn.Module, str]:
    """The torch network ``spec`` asks for and a description of its weights.

    Raises ConfigError when neither weights nor random_init are given, CheckpointError when
    the weights cannot be loaded.
    """
    if spec.random_init:
        if spec.engine == "promptda":
            network: nn.Module = random_promptda(spec.variant, RANDOM_SEED)
        else:
            network = random_depth_pro(spec.depth_pro_size, RANDOM_SEED)
        return network, random_weights_description(spec.engine)
    path = spec.weights
    if path is None:
        raise ConfigError(f"EngineSpec.weights is required for {spec.engine} (or random_init)")
    if not path.exists():
        raise CheckpointError(f"weights {path} do not exist")
    if spec.engine == "promptda":
        if path.is_dir():
            network = load_promptda_hf_dir(path)
        else:
            network = load_promptda_checkpoint(path, spec.variant)
    else:
        if not path.is_dir():
            raise CheckpointError(
                f"Depth Pro weights must be a transformers directory, got the file {path}"
            )
        network = load_depth_pro_hf_dir(path)
    return network, f"{spec.engine} weights from {path}"


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
    if weights == "random":
        return backend, random_weights_description(spec.engine)
    return backend, f"{spec.engine} ONNX {spec.onnx_path} ({weights})"


def _tensorrt_backend(spec: EngineSpec) -> tuple[InferenceBackend, str]:
    """TensorRT backend checked against its sidecar (and the ONNX file when given)."""
    from promptdepth_ros.engines.backends.tensorrt.runtime import TensorRTBackend

    if spec.engine_path is None:
        raise ConfigError("EngineSpec.engine_path is required for the tensorrt backend")
    outputs = PROMPTDA_OUTPUTS if spec.engine == "promptda" else DEPTH_PRO_OUTPUTS
    device = spec.device if spec.device.startswith("cuda") else "cuda"
    backend = TensorRTBackend(spec.engine_path, expected_outputs=outputs, device=device)
    if spec.onnx_path is not None:
        from promptdepth_ros.engines.backends.validation import validate_against_onnx

        precision = recorded_precision(spec.engine_path) or spec.precision
        try:
            validate_against_onnx(backend, spec.onnx_path, precision)
        except EngineMismatch:
            backend.close()
            raise
    return backend, f"{spec.engine} TensorRT plan {spec.engine_path}"


def create_learned_engine(spec: EngineSpec, backend_name: ResolvedBackend) -> DepthEngine:
    """PromptDA or Depth Pro on the resolved backend."""
    if backend_name == "torch":
        network, description = build_network(spec)
        names = PROMPTDA_INPUTS if spec.engine == "promptda" else DEPTH_PRO_INPUTS
        outputs = PROMPTDA_OUTPUTS if spec.engine == "promptda" else DEPTH_PRO_OUTPUTS
        backend: InferenceBackend = TorchBackend(
            network, names, outputs, device=spec.device, precision=spec.precision
        )
    elif backend_name == "onnxruntime":
        backend, description = _onnx_backend(spec)
    else:
        backend, description = _tensorrt_backend(spec)
    if spec.engine == "promptda":
        config = PromptDAPipelineConfig(long_side=spec.input_long_side)
        return PromptDAEngine(backend, config, description)
    if isinstance(backend, TorchBackend) and isinstance(backend.module, DepthProNetwork):
        size = backend.module.input_size
    else:
        size = depth_pro_input_size(depth_pro_config(spec.depth_pro_size))
    return DepthProEngine(backend, size, description)

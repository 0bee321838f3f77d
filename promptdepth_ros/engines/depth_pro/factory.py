"""Build Depth Pro from an :class:`EngineSpec`: its torch network, or the engine on any backend."""

from __future__ import annotations

from promptdepth_ros.engines.backends.open import (
    RANDOM_SEED,
    existing_weights,
    open_backend,
    random_weights_description,
)
from promptdepth_ros.engines.backends.torch_backend import TorchBackend
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
from promptdepth_ros.engines.spec import EngineSpec, ResolvedBackend
from promptdepth_ros.errors import CheckpointError


def build_depth_pro_network(spec: EngineSpec) -> tuple[DepthProNetwork, str]:
    """The Depth Pro torch network ``spec`` asks for and a description of its weights.

    Weights are a transformers directory. Raises ConfigError when neither weights nor
    random_init are given, CheckpointError when they cannot be loaded.
    """
    if spec.random_init:
        network = random_depth_pro(spec.depth_pro_size, RANDOM_SEED)
        return network, random_weights_description(spec.engine)
    path = existing_weights(spec)
    if not path.is_dir():
        raise CheckpointError(
            f"Depth Pro weights must be a transformers directory, got the file {path}"
        )
    return load_depth_pro_hf_dir(path), f"{spec.engine} weights from {path}"


def create_depth_pro_engine(spec: EngineSpec, backend_name: ResolvedBackend) -> DepthProEngine:
    """Depth Pro on the resolved backend. Raises ConfigError, CheckpointError, EngineError."""
    backend, description = open_backend(
        spec, backend_name, build_depth_pro_network, DEPTH_PRO_INPUTS, DEPTH_PRO_OUTPUTS
    )
    if isinstance(backend, TorchBackend) and isinstance(backend.module, DepthProNetwork):
        size = backend.module.input_size
    else:
        size = depth_pro_input_size(depth_pro_config(spec.depth_pro_size))
    return DepthProEngine(backend, size, description, spec.focal_source)

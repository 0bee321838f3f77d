"""Build PromptDA from an :class:`EngineSpec`: its torch network, or the engine on any backend."""

from __future__ import annotations

from promptdepth_ros.engines.backends.open import (
    RANDOM_SEED,
    existing_weights,
    open_backend,
    random_weights_description,
)
from promptdepth_ros.engines.promptda.checkpoint import load_promptda_checkpoint
from promptdepth_ros.engines.promptda.engine import (
    PROMPTDA_INPUTS,
    PROMPTDA_OUTPUTS,
    PromptDAEngine,
)
from promptdepth_ros.engines.promptda.model import (
    PromptDANetwork,
    load_promptda_hf_dir,
    random_promptda,
)
from promptdepth_ros.engines.promptda.preprocessing import PromptDAPipelineConfig
from promptdepth_ros.engines.spec import EngineSpec, ResolvedBackend


def build_promptda_network(spec: EngineSpec) -> tuple[PromptDANetwork, str]:
    """The PromptDA torch network ``spec`` asks for and a description of its weights.

    Weights are a transformers directory or an original ``model.ckpt``. Raises ConfigError
    when neither weights nor random_init are given, CheckpointError when they cannot be loaded.
    """
    if spec.random_init:
        network = random_promptda(spec.variant, RANDOM_SEED)
        return network, random_weights_description(spec.engine)
    path = existing_weights(spec)
    if path.is_dir():
        network = load_promptda_hf_dir(path)
    else:
        network = load_promptda_checkpoint(path, spec.variant)
    return network, f"{spec.engine} weights from {path}"


def create_promptda_engine(spec: EngineSpec, backend_name: ResolvedBackend) -> PromptDAEngine:
    """PromptDA on the resolved backend. Raises ConfigError, CheckpointError, EngineError."""
    backend, description = open_backend(
        spec, backend_name, build_promptda_network, PROMPTDA_INPUTS, PROMPTDA_OUTPUTS
    )
    config = PromptDAPipelineConfig(long_side=spec.input_long_side)
    return PromptDAEngine(backend, config, description)

"""Build any depth engine from one validated :class:`EngineSpec`, importing only its factory.

Nothing under ``engines/`` imports this module; the factories are imported on first use, so
the weight-free engines never load torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from promptdepth_ros.engines.base import DepthEngine
from promptdepth_ros.engines.spec import EngineName, EngineSpec, ResolvedBackend, resolve_backend

EngineFactory = Callable[[EngineSpec, ResolvedBackend], DepthEngine]

# engine name -> "module:function" of its factory
ENGINE_FACTORIES: dict[EngineName, str] = {
    "guided": "promptdepth_ros.engines.guided:create_guided_engine",
    "promptda": "promptdepth_ros.engines.promptda.factory:create_promptda_engine",
    "depth_pro": "promptdepth_ros.engines.depth_pro.factory:create_depth_pro_engine",
}


def engine_factory(engine: EngineName) -> EngineFactory:
    """Import and return the factory of ``engine``."""
    module_name, _, function_name = ENGINE_FACTORIES[engine].partition(":")
    factory: EngineFactory = getattr(importlib.import_module(module_name), function_name)
    return factory


def create_engine(spec: EngineSpec) -> DepthEngine:
    """Build the engine ``spec`` describes. Raises ConfigError, CheckpointError, EngineError."""
    backend = resolve_backend(spec)
    return engine_factory(spec.engine)(spec, backend)

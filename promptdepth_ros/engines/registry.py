"""Build any depth engine from one validated :class:`EngineSpec`; learned ones import lazily."""

from __future__ import annotations

from promptdepth_ros.engines.base import DepthEngine
from promptdepth_ros.engines.spec import EngineSpec, resolve_backend


def create_engine(spec: EngineSpec) -> DepthEngine:
    """Build the engine ``spec`` describes. Raises ConfigError, CheckpointError, EngineError."""
    backend = resolve_backend(spec)
    if spec.engine == "guided":
        from promptdepth_ros.engines.guided import GuidedEngine

        return GuidedEngine()
    from promptdepth_ros.engines.learned import create_learned_engine

    return create_learned_engine(spec, backend)

"""prompt_depth_node's parameters, composed from the configs that declare them (pure, no rclpy).

Node-only settings live in :class:`PromptDepthNodeConfig`; ``prompt.*`` come from
:class:`PipelineConfig`, ``engine.*`` and ``monocular.*`` from :class:`EngineSpec`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from promptdepth_ros.engines.spec import EngineSpec
from promptdepth_ros.pipeline.depth import PipelineConfig
from promptdepth_ros.ros.common_params import CommonNodeConfig
from promptdepth_ros.settings import (
    ParamSpec,
    check_settings,
    config_from_params,
    parameter_specs,
    setting,
)

InputMode = Literal["cloud", "depth", "none"]


@dataclass(frozen=True)
class PromptDepthNodeConfig:
    """prompt_depth_node's own settings: start-up, inputs, sync, queueing, outputs and TF."""

    autostart: bool = setting(
        True,
        "Configure and activate the lifecycle node at start (else wait for `ros2 lifecycle set`)",
        read_only=True,
    )
    input_mode: InputMode = setting(
        "cloud",
        "Prompt input: 'cloud' (LiDAR PointCloud2 on `points`), 'depth' (depth Image on "
        "`depth`, with `depth_camera_info` when not registered), 'none' (monocular)",
        read_only=True,
        name="input.mode",
    )
    depth_registered: bool = setting(
        True,
        "The depth image is already registered to the RGB camera (else it is reprojected "
        "with `depth_camera_info` and TF)",
        read_only=True,
        name="input.depth_registered",
    )
    sync_queue_size: int = setting(
        10,
        "Messages kept per input by the approximate-time sync",
        low=1,
        high=1000,
        read_only=True,
        name="sync.queue_size",
    )
    sync_slop_s: float = setting(
        0.015,
        "Largest stamp spread of a synchronised set, seconds; keep it below half the "
        "camera period so the only image within slop of a scan is the nearest one",
        low=0.0001,
        high=2.0,
        read_only=True,
        name="sync.slop_s",
    )
    queue_depth: int = setting(
        1,
        "Synchronised sets that may wait for the engine; when full the oldest waiting set is "
        "dropped (counted as `worker.skipped_for_newer`). 1 = always run the newest set (live "
        "robots); more absorbs short stalls where no frame may be lost (bag replay)",
        low=1,
        high=100,
        read_only=True,
        name="processing.queue_depth",
    )
    publish_points: bool = setting(
        True, "Publish the XYZRGB cloud on ~/points", name="output.publish_points"
    )
    tf_fallback_camera_from_lidar: str = setting(
        "",
        "Extrinsic used when TF has none: 'x y z qx qy qz qw' of the LiDAR (or depth) "
        "frame in the camera optical frame; empty = require TF",
        name="tf.fallback_camera_from_lidar",
    )
    tf_timeout_s: float = setting(
        0.05, "How long to wait for a TF lookup, seconds", low=0.0, high=5.0, name="tf.timeout_s"
    )

    def __post_init__(self) -> None:
        check_settings(self)


MONOCULAR_ENGINES = ("", "depth_pro")

PROMPT_DEPTH_PARAMS: tuple[ParamSpec, ...] = (
    *parameter_specs(PromptDepthNodeConfig),
    *parameter_specs(PipelineConfig, "prompt."),
    *parameter_specs(EngineSpec, "engine."),
    *parameter_specs(
        EngineSpec,
        "monocular.",
        {
            "name": {
                "default": "",
                "choices": MONOCULAR_ENGINES,
                "description": "Engine of the 'monocular' prompt fallback ('' = none)",
            }
        },
    ),
    *parameter_specs(CommonNodeConfig),
)


def pipeline_config_from_params(values: Mapping[str, Any]) -> PipelineConfig:
    """PipelineConfig from validated prompt_depth_node parameter values."""
    config: PipelineConfig = config_from_params(PipelineConfig, values, "prompt.")
    return config


def engine_spec_from_params(values: Mapping[str, Any], prefix: str = "engine") -> EngineSpec:
    """EngineSpec from the ``engine.*`` (or ``monocular.*``) prompt_depth_node parameters."""
    spec: EngineSpec = config_from_params(EngineSpec, values, f"{prefix}.")
    return spec

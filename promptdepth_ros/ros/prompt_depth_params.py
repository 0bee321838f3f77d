"""prompt_depth_node's parameters, composed from the configs that declare them (pure, no rclpy).

Node-only settings live in :class:`PromptDepthNodeConfig`; ``sync.*`` come from
:class:`SyncConfig`, ``prompt.*`` from
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
from promptdepth_ros.sync.pairing import SyncConfig

InputMode = Literal["cloud", "depth", "none"]


@dataclass(frozen=True)
class PromptDepthNodeConfig:
    """prompt_depth_node's own settings: start-up, inputs, queueing, outputs and TF."""

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
    tf_fixed_frame: str = setting(
        "",
        "World-fixed frame (e.g. base_link) through which the prompt at its stamp is moved to "
        "the camera at the image stamp (tf2 lookup_transform_full), for a camera and prompt "
        "sensor that move relative to each other; empty = both are rigidly mounted, one lookup "
        "at the prompt stamp",
        name="tf.fixed_frame",
    )

    def __post_init__(self) -> None:
        check_settings(self)


MONOCULAR_ENGINES = ("", "depth_pro")

PROMPT_DEPTH_PARAMS: tuple[ParamSpec, ...] = (
    *parameter_specs(PromptDepthNodeConfig),
    *parameter_specs(SyncConfig, "sync."),
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


def sync_config_from_params(values: Mapping[str, Any]) -> SyncConfig:
    """SyncConfig from validated prompt_depth_node parameter values."""
    config: SyncConfig = config_from_params(SyncConfig, values, "sync.")
    return config

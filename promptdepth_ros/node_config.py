"""Parameters of the two nodes and how they become core configurations (pure, no rclpy)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.engines.factory import EngineSpec
from promptdepth_ros.errors import ConfigError
from promptdepth_ros.grasp.types import GraspPlannerConfig, GripperModel
from promptdepth_ros.parameters import ParamSpec
from promptdepth_ros.pipeline import PipelineConfig
from promptdepth_ros.prompt.conditioning import FallbackMode, PromptConditioningConfig
from promptdepth_ros.transforms import make_transform, quaternion_to_matrix

INPUT_MODES = ("cloud", "depth", "none")

_COMMON = (
    ParamSpec(
        "input.reliable_qos",
        False,
        "Subscribe with RELIABLE instead of sensor-data (BEST_EFFORT) QoS, e.g. for bag "
        "replay with `ros2 bag play --qos-profile-overrides-path`",
        read_only=True,
    ),
    ParamSpec(
        "diagnostics.period_s",
        1.0,
        "Period of the /diagnostics status, seconds",
        low=0.1,
        high=60.0,
        read_only=True,
    ),
    ParamSpec(
        "log_throttle_s",
        5.0,
        "Minimum seconds between two log lines of one cause",
        low=0.0,
        high=600.0,
    ),
)


def _engine_params(prefix: str, name: str, names: tuple[str, ...]) -> tuple[ParamSpec, ...]:
    """The parameter group of one engine (``engine.*`` main, ``monocular.*`` fallback)."""
    what = (
        "Depth engine"
        if prefix == "engine"
        else ("Engine of the 'monocular' prompt fallback ('' = none)")
    )
    return (
        ParamSpec(f"{prefix}.name", name, what, choices=names, read_only=True),
        ParamSpec(
            f"{prefix}.backend",
            "auto",
            "Backend of a learned engine; 'auto' = TensorRT with a GPU and a plan file, "
            "else ONNX Runtime with an ONNX file, else torch",
            choices=("auto", "numpy", "torch", "onnxruntime", "tensorrt"),
            read_only=True,
        ),
        ParamSpec(
            f"{prefix}.variant",
            "vits",
            "PromptDA encoder size",
            choices=("vits", "vitb", "vitl"),
            read_only=True,
        ),
        ParamSpec(
            f"{prefix}.weights",
            "",
            "Weights: a Hugging Face model directory, or an original PromptDA model.ckpt",
            read_only=True,
        ),
        ParamSpec(
            f"{prefix}.onnx_path", "", "ONNX model for the onnxruntime backend", read_only=True
        ),
        ParamSpec(
            f"{prefix}.engine_path", "", "TensorRT plan for the tensorrt backend", read_only=True
        ),
        ParamSpec(
            f"{prefix}.precision",
            "fp32",
            "Precision of the torch/TensorRT backends (fp16 on GPUs)",
            choices=("fp32", "fp16"),
            read_only=True,
        ),
        ParamSpec(
            f"{prefix}.input_long_side",
            1008,
            "PromptDA network input long side, pixels (multiple of 14; torch backend)",
            low=14,
            high=4032,
            read_only=True,
        ),
        ParamSpec(
            f"{prefix}.device",
            "cpu",
            "torch device of the torch backend ('cpu', 'cuda:0')",
            read_only=True,
        ),
        ParamSpec(
            f"{prefix}.random_init",
            False,
            "Use random weights (testing only: the depth is meaningless)",
            read_only=True,
        ),
    )


PROMPT_DEPTH_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "autostart",
        True,
        "Configure and activate the lifecycle node at start (else wait for `ros2 lifecycle set`)",
        read_only=True,
    ),
    ParamSpec(
        "input.mode",
        "cloud",
        "Prompt input: 'cloud' (LiDAR PointCloud2 on `points`), 'depth' (depth Image on "
        "`depth`, with `depth_camera_info` when not registered), 'none' (monocular)",
        choices=INPUT_MODES,
        read_only=True,
    ),
    ParamSpec(
        "input.depth_registered",
        True,
        "The depth image is already registered to the RGB camera (else it is reprojected "
        "with `depth_camera_info` and TF)",
        read_only=True,
    ),
    ParamSpec(
        "sync.queue_size",
        10,
        "Messages kept per input by the approximate-time sync",
        low=1,
        high=1000,
        read_only=True,
    ),
    ParamSpec(
        "sync.slop_s",
        0.015,
        "Largest stamp spread of a synchronised set, seconds; keep it below half the "
        "camera period so the only image within slop of a scan is the nearest one",
        low=0.0001,
        high=2.0,
        read_only=True,
    ),
    ParamSpec(
        "prompt.height",
        192,
        "Prompt rows (the LiDAR is projected at this size)",
        low=8,
        high=4096,
        read_only=True,
    ),
    ParamSpec("prompt.width", 256, "Prompt columns", low=8, high=4096, read_only=True),
    ParamSpec(
        "prompt.min_range_m",
        0.1,
        "Returns nearer than this are dropped, metres",
        low=0.0,
        high=1000.0,
    ),
    ParamSpec(
        "prompt.max_range_m",
        20.0,
        "Returns farther than this are dropped, metres",
        low=0.01,
        high=1000.0,
    ),
    ParamSpec(
        "prompt.fill_k", 4, "Neighbours for prompt hole filling (0 = no filling)", low=0, high=64
    ),
    ParamSpec(
        "prompt.max_fill_px",
        12.0,
        "Prompt holes farther than this (prompt pixels) from any return are not filled "
        "and the output has no depth (NaN) there; 0 = fill everything",
        low=0.0,
        high=4096.0,
    ),
    ParamSpec(
        "prompt.min_valid_ratio",
        0.01,
        "Below this share of valid prompt pixels the fallback policy applies",
        low=0.0,
        high=1.0,
    ),
    ParamSpec(
        "prompt.fallback",
        "skip",
        "When the prompt is too sparse: 'skip' the frame, reuse the 'last_good' prompt, "
        "or run the 'monocular' engine",
        choices=("skip", "last_good", "monocular"),
    ),
    ParamSpec(
        "prompt.last_good_max_age_s",
        1.0,
        "Oldest last good prompt the 'last_good' fallback may reuse, seconds",
        low=0.0,
        high=3600.0,
    ),
    *_engine_params("engine", "guided", ("guided", "promptda", "depth_pro")),
    *_engine_params("monocular", "", ("", "depth_pro")),
    ParamSpec("output.publish_points", True, "Publish the XYZRGB cloud on ~/points"),
    ParamSpec(
        "tf.fallback_camera_from_lidar",
        "",
        "Extrinsic used when TF has none: 'x y z qx qy qz qw' of the LiDAR (or depth) "
        "frame in the camera optical frame; empty = require TF",
    ),
    ParamSpec(
        "tf.timeout_s", 0.05, "How long to wait for a TF lookup, seconds", low=0.0, high=5.0
    ),
    *_COMMON,
)

GRASP_PLANNER_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "planning_frame",
        "base_link",
        "Z-up frame to plan in (e.g. base_link); the cloud is transformed into it",
        read_only=True,
    ),
    ParamSpec(
        "max_rate_hz",
        2.0,
        "Plan at most this often; clouds in between are skipped and counted (0 = plan every "
        "cloud the worker can take)",
        low=0.0,
        high=1000.0,
    ),
    ParamSpec(
        "tf.fallback_planning_from_camera",
        "",
        "Extrinsic used when TF has none: 'x y z qx qy qz qw' of the cloud frame in the "
        "planning frame; empty = require TF",
    ),
    ParamSpec("tf.timeout_s", 0.1, "How long to wait for a TF lookup, seconds", low=0.0, high=5.0),
    ParamSpec(
        "grasp.workspace_min_m",
        [-0.6, -0.6, -0.05],
        "Workspace box corner (planning frame), metres",
        length=(3,),
    ),
    ParamSpec(
        "grasp.workspace_max_m",
        [0.6, 0.6, 0.5],
        "Opposite workspace box corner, metres",
        length=(3,),
    ),
    ParamSpec("grasp.max_opening_m", 0.10, "Largest gripper opening, metres", low=0.005, high=0.5),
    ParamSpec(
        "grasp.finger_depth_m",
        0.04,
        "Finger pad length along the approach, metres",
        low=0.005,
        high=0.3,
    ),
    ParamSpec(
        "grasp.finger_thickness_m",
        0.01,
        "Finger thickness along closing, metres",
        low=0.001,
        high=0.1,
    ),
    ParamSpec("grasp.finger_width_m", 0.02, "Finger width, metres", low=0.001, high=0.2),
    ParamSpec(
        "grasp.approach_distance_m",
        0.10,
        "Pre-grasp back-off along -approach that must be collision free, metres",
        low=0.0,
        high=1.0,
    ),
    ParamSpec(
        "grasp.voxel_size_m",
        0.005,
        "Voxel size of the downsampled cloud, metres",
        low=0.001,
        high=0.1,
    ),
    ParamSpec(
        "grasp.plane_distance_m",
        0.01,
        "RANSAC inlier distance of the support plane",
        low=0.001,
        high=0.1,
    ),
    ParamSpec(
        "grasp.cluster_eps_m",
        0.012,
        "Neighbourhood radius of the Euclidean object clustering, metres",
        low=0.001,
        high=0.2,
    ),
    ParamSpec(
        "grasp.cluster_min_points", 20, "Smallest object cluster, points", low=3, high=100000
    ),
    ParamSpec(
        "grasp.friction_coefficient",
        0.4,
        "Friction coefficient of the friction cone",
        low=0.05,
        high=2.0,
    ),
    ParamSpec("grasp.top_k_per_object", 5, "Grasps kept per object", low=1, high=100),
    ParamSpec("grasp.top_k_total", 20, "Grasps published in total", low=1, high=1000),
    ParamSpec(
        "grasp.preferred_approach",
        [0.0, 0.0, -1.0],
        "Preferred approach direction in the planning frame (unit vector)",
        length=(3,),
    ),
    ParamSpec(
        "grasp.max_cloud_points",
        300000,
        "Clouds larger than this are subsampled",
        low=1000,
        high=50_000_000,
    ),
    ParamSpec(
        "markers.lifetime_s",
        0.0,
        "Lifetime of the RViz markers (0 = forever)",
        low=0.0,
        high=3600.0,
    ),
    *_COMMON,
)


def transform_from_xyz_quat(text: str, name: str) -> NDArray[np.float64] | None:
    """4x4 transform from 'x y z qx qy qz qw' (parameter ``name``); None for an empty string."""
    if not text.strip():
        return None
    try:
        values = [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        values = []
    if len(values) != 7:
        raise ConfigError(f"parameter '{name}' must be 'x y z qx qy qz qw', got {text!r}")
    q = np.asarray(values[3:], dtype=np.float64)
    norm = float(np.linalg.norm(q))
    if not np.isfinite(norm) or norm < 1e-9:
        raise ConfigError(f"parameter '{name}' has a zero or non-finite quaternion: {values}")
    q /= norm
    return make_transform(quaternion_to_matrix(*q), np.asarray(values[:3], dtype=np.float64))


def pipeline_config_from_params(values: Mapping[str, Any]) -> PipelineConfig:
    """PipelineConfig from validated prompt_depth_node parameter values."""
    conditioning = PromptConditioningConfig(
        min_range_m=values["prompt.min_range_m"],
        max_range_m=values["prompt.max_range_m"],
        fill_k=values["prompt.fill_k"],
        max_fill_px=values["prompt.max_fill_px"],
        min_valid_ratio=values["prompt.min_valid_ratio"],
        fallback=FallbackMode(values["prompt.fallback"]),
        last_good_max_age_s=values["prompt.last_good_max_age_s"],
    )
    return PipelineConfig(
        prompt_hw=(values["prompt.height"], values["prompt.width"]),
        conditioning=conditioning,
    )


def grasp_config_from_params(values: Mapping[str, Any]) -> GraspPlannerConfig:
    """GraspPlannerConfig from validated grasp_planner_node parameter values."""
    gripper = GripperModel(
        max_opening_m=values["grasp.max_opening_m"],
        finger_depth_m=values["grasp.finger_depth_m"],
        finger_thickness_m=values["grasp.finger_thickness_m"],
        finger_width_m=values["grasp.finger_width_m"],
        approach_distance_m=values["grasp.approach_distance_m"],
    )
    return GraspPlannerConfig(
        workspace_min_m=tuple(values["grasp.workspace_min_m"]),
        workspace_max_m=tuple(values["grasp.workspace_max_m"]),
        gripper=gripper,
        voxel_size_m=values["grasp.voxel_size_m"],
        plane_distance_m=values["grasp.plane_distance_m"],
        cluster_eps_m=values["grasp.cluster_eps_m"],
        cluster_min_points=values["grasp.cluster_min_points"],
        friction_coefficient=values["grasp.friction_coefficient"],
        top_k_per_object=values["grasp.top_k_per_object"],
        top_k_total=values["grasp.top_k_total"],
        preferred_approach=tuple(values["grasp.preferred_approach"]),
        max_cloud_points=values["grasp.max_cloud_points"],
    )


def _optional_path(text: str) -> Path | None:
    return Path(text).expanduser() if text else None


def engine_spec_from_params(values: Mapping[str, Any], prefix: str = "engine") -> EngineSpec:
    """EngineSpec from the ``engine.*`` (or ``monocular.*``) prompt_depth_node parameters."""
    return EngineSpec(
        engine=values[f"{prefix}.name"],
        backend=values[f"{prefix}.backend"],
        variant=values[f"{prefix}.variant"],
        weights=_optional_path(values[f"{prefix}.weights"]),
        onnx_path=_optional_path(values[f"{prefix}.onnx_path"]),
        engine_path=_optional_path(values[f"{prefix}.engine_path"]),
        input_long_side=values[f"{prefix}.input_long_side"],
        precision=values[f"{prefix}.precision"],
        random_init=values[f"{prefix}.random_init"],
        device=values[f"{prefix}.device"],
    )

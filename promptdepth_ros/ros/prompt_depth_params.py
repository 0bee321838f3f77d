"""prompt_depth_node's parameters and the core configurations they build (pure, no rclpy)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from promptdepth_ros.engines.spec import EngineSpec
from promptdepth_ros.pipeline.depth import PipelineConfig
from promptdepth_ros.prompt.conditioning import FallbackMode, PromptConditioningConfig
from promptdepth_ros.settings import COMMON_PARAMS, ParamSpec

INPUT_MODES = ("cloud", "depth", "none")


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
        "processing.queue_depth",
        1,
        "Synchronised sets that may wait for the engine; when full the oldest waiting set is "
        "dropped (counted as `worker.skipped_for_newer`). 1 = always run the newest set (live "
        "robots); more absorbs short stalls where no frame may be lost (bag replay)",
        low=1,
        high=100,
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
    *COMMON_PARAMS,
)


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

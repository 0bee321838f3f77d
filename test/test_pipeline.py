"""The shared pipeline: LiDAR or depth prompt → engine → cloud, fallbacks and errors."""

from __future__ import annotations

import numpy as np
import pytest

from promptdepth_ros.engines.guided import GuidedEngine
from promptdepth_ros.errors import ConfigError, InputError
from promptdepth_ros.geometry.transforms import invert_transform
from promptdepth_ros.pipeline.depth import (
    DepthPipeline,
    FrameInput,
    FrameOutput,
    FrameSkip,
    PipelineConfig,
)
from promptdepth_ros.prompt.conditioning import (
    FallbackMode,
    PromptConditioningConfig,
    PromptDecision,
)
from promptdepth_ros.prompt.sources import DepthImagePrompt, LidarPrompt
from promptdepth_ros.ros.scene_bag import T_CAMERA_LIDAR
from promptdepth_ros.sim.lidar import simulate_lidar_depth, simulate_lidar_points
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import default_camera, plane_scene


@pytest.fixture(scope="module")
def plane():
    camera = default_camera(320, 240)
    return camera, render(plane_scene(1.2, camera))


def _pipeline(fallback: FallbackMode = FallbackMode.SKIP, min_valid_ratio: float = 0.01):
    conditioning = PromptConditioningConfig(fallback=fallback, min_valid_ratio=min_valid_ratio)
    return DepthPipeline(PipelineConfig(conditioning=conditioning), GuidedEngine())


def test_lidar_cloud_in_its_own_frame_gives_the_plane_distance(plane) -> None:
    camera, truth = plane
    rng = np.random.default_rng(1)
    points = simulate_lidar_points(
        truth.depth_m, camera, invert_transform(T_CAMERA_LIDAR), rng, noise_std_m=0.002
    )
    out = _pipeline().process(
        FrameInput(0.0, truth.rgb, camera, LidarPrompt(points, T_CAMERA_LIDAR))
    )
    assert isinstance(out, FrameOutput) and out.decision is PromptDecision.USE
    assert np.abs(out.depth_m[10:-10, 10:-10] - 1.2).max() < 0.01
    assert set(out.timings_ms) == {"prompt_ms", "engine_ms"}


def test_registered_depth_image_prompt_gives_the_plane_distance(plane) -> None:
    camera, truth = plane
    low = simulate_lidar_depth(
        truth.depth_m, np.random.default_rng(2), noise_std_m=0.002, relative_noise=0.0
    )
    out = _pipeline().process(FrameInput(0.0, truth.rgb, camera, DepthImagePrompt(low)))
    assert isinstance(out, FrameOutput)
    assert np.abs(np.nanmedian(out.depth_m) - 1.2) < 0.005


def test_an_empty_prompt_is_skipped_with_its_cause_and_the_policy(plane) -> None:
    camera, truth = plane
    empty = np.full((192, 256), np.nan, np.float32)
    pipeline = _pipeline()
    skip = pipeline.process(FrameInput(0.0, truth.rgb, camera, DepthImagePrompt(empty)))
    assert isinstance(skip, FrameSkip) and skip.cause == "prompt_empty"
    assert "no finite return within [0.1, 20.0] m" in skip.reason
    assert skip.reason.endswith("prompt.fallback is 'skip'")
    assert pipeline.decisions["skip"] == 1


def test_a_too_sparse_prompt_is_skipped_naming_its_share_and_the_threshold(plane) -> None:
    camera, truth = plane
    sparse = np.full((192, 256), np.nan, np.float32)
    sparse[:2, :100] = 1.2  # 200 of 49152 pixels
    skip = _pipeline().process(FrameInput(0.0, truth.rgb, camera, DepthImagePrompt(sparse)))
    assert isinstance(skip, FrameSkip) and skip.cause == "prompt_too_sparse"
    assert "0.41% of the prompt pixels are valid, below prompt.min_valid_ratio = 1.00%" in (
        skip.reason
    )


def test_last_good_prompt_is_reused_within_its_age(plane) -> None:
    camera, truth = plane
    good = simulate_lidar_depth(truth.depth_m, np.random.default_rng(3))
    empty = np.full_like(good, np.nan)
    pipeline = _pipeline(FallbackMode.LAST_GOOD)
    first = pipeline.process(FrameInput(1.0, truth.rgb, camera, DepthImagePrompt(good)))
    assert isinstance(first, FrameOutput)
    reused = pipeline.process(FrameInput(1.2, truth.rgb, camera, DepthImagePrompt(empty)))
    assert isinstance(reused, FrameOutput) and reused.decision is PromptDecision.USE_LAST_GOOD
    stale = pipeline.process(FrameInput(5.0, truth.rgb, camera, DepthImagePrompt(empty)))
    assert isinstance(stale, FrameSkip) and "last_good_max_age_s = 1.0 s" in stale.reason


def test_image_and_camera_info_size_mismatch_is_an_input_error(plane) -> None:
    camera, truth = plane
    with pytest.raises(InputError, match="CameraInfo says 320x240"):
        _pipeline().process(FrameInput(0.0, truth.rgb[:100], camera, None))


def test_monocular_fallback_without_a_monocular_engine_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"monocular\.name"):
        _pipeline(FallbackMode.MONOCULAR)


def test_output_has_no_depth_where_the_prompt_had_no_return_nearby(plane) -> None:
    camera, truth = plane
    prompt = simulate_lidar_depth(truth.depth_m, np.random.default_rng(4), hole_fraction=0.0)
    prompt[:, 128:] = np.nan  # the right half of the view has no returns at all
    conditioning = PromptConditioningConfig(fallback=FallbackMode.SKIP, max_fill_px=12.0)
    pipeline = DepthPipeline(PipelineConfig(conditioning=conditioning), GuidedEngine())
    out = pipeline.process(FrameInput(0.0, truth.rgb, camera, DepthImagePrompt(prompt)))
    assert isinstance(out, FrameOutput)
    assert np.isfinite(out.depth_m[:, :150]).all()  # within 12 prompt px of the returns
    assert np.isnan(out.depth_m[:, 200:]).all()  # beyond them: NaN, never invented depth

"""The pipeline on every simulated prompt sensor: depth images keep their own resolution, and
nothing is invented where no return lies within ``prompt.max_fill_px``."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from promptdepth_ros.engines.baselines import BilinearUpsampleEngine
from promptdepth_ros.engines.guided import GuidedEngine
from promptdepth_ros.engines.resampling import resize_nearest
from promptdepth_ros.pipeline.depth import DepthPipeline, FrameInput, FrameOutput, PipelineConfig
from promptdepth_ros.prompt.conditioning import PromptConditioningConfig, clip_range
from promptdepth_ros.prompt.sources import (
    DepthImagePrompt,
    LidarPrompt,
    build_raw_prompt,
    prompt_resolution,
)
from promptdepth_ros.sim.render import NO_SURFACE_ID, render
from promptdepth_ros.sim.room import generate_room_scene
from promptdepth_ros.sim.scene import default_camera
from promptdepth_ros.sim.sensors import PROMPT_SENSORS, simulate_prompt

CAMERA = default_camera(320, 240)


@pytest.fixture(scope="module")
def room_with_doorway():
    for seed in range(20):
        frame = render(generate_room_scene(np.random.default_rng(seed), CAMERA))
        if (frame.object_id == NO_SURFACE_ID).mean() > 0.08:
            return frame
    raise AssertionError("no generated room shows its doorway")


def test_depth_images_keep_their_resolution_unless_told_otherwise():
    depth = DepthImagePrompt(np.ones((480, 640), np.float32))
    cloud = LidarPrompt(np.ones((5, 3), np.float32), np.eye(4))
    assert prompt_resolution(depth, (192, 256), depth_native=True) == (480, 640)
    assert prompt_resolution(depth, (192, 256), depth_native=False) == (192, 256)
    assert prompt_resolution(cloud, (192, 256), depth_native=True) == (192, 256)


def test_a_depth_camera_at_image_resolution_is_passed_through_where_it_measured(
    room_with_doorway,
):
    frame = room_with_doorway
    prompt = simulate_prompt("realsense", frame.depth_m, CAMERA, np.random.default_rng(0))
    measured = np.isfinite(prompt.depth_m)
    outputs = {}
    for native in (True, False):
        pipeline = DepthPipeline(
            PipelineConfig(depth_native_resolution=native), BilinearUpsampleEngine()
        )
        out = pipeline.process(FrameInput(0.0, frame.rgb, CAMERA, prompt))
        assert isinstance(out, FrameOutput)
        outputs[native] = out.depth_m
    # Bilinear upsampling at the sensor's resolution is the identity: the raw sensor survives.
    np.testing.assert_array_equal(outputs[True][measured], prompt.depth_m[measured])
    assert not np.array_equal(outputs[False][measured], prompt.depth_m[measured])


@pytest.mark.parametrize("sensor", PROMPT_SENSORS)
@pytest.mark.parametrize("engine", [BilinearUpsampleEngine, GuidedEngine])
def test_no_depth_is_invented_beyond_max_fill_px_for_any_sensor(room_with_doorway, sensor, engine):
    frame = room_with_doorway
    config = PipelineConfig(conditioning=PromptConditioningConfig(max_fill_px=15.0))
    prompt = simulate_prompt(sensor, frame.depth_m, CAMERA, np.random.default_rng(1))
    out = DepthPipeline(config, engine()).process(FrameInput(0.0, frame.rgb, CAMERA, prompt))
    assert isinstance(out, FrameOutput)
    hw = prompt_resolution(prompt, config.prompt_hw, config.depth_native_resolution)
    cond = config.conditioning
    raw = clip_range(build_raw_prompt(prompt, CAMERA, hw), cond.min_range_m, cond.max_range_m)
    distance = ndimage.distance_transform_edt(~np.isfinite(raw))
    image_px = distance * CAMERA.width / hw[1]  # max_fill_px is in image pixels
    beyond = resize_nearest(image_px > cond.max_fill_px, CAMERA.height, CAMERA.width)
    assert beyond.mean() > 0.01  # the doorway is far from every return: the test can fail
    assert np.isnan(out.depth_m[beyond]).all()
    # ... and what the sensor does see is covered.
    surface = np.isfinite(frame.depth_m) & ~beyond
    assert np.isfinite(out.depth_m[surface]).mean() > 0.99

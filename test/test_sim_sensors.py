"""Tests of the room-scale scenes, the stereo depth-camera model and the prompt sensors."""

from __future__ import annotations

import numpy as np
import pytest

from promptdepth_ros.errors import ConfigError, InputError
from promptdepth_ros.prompt.sources import DepthImagePrompt, LidarPrompt, build_raw_prompt
from promptdepth_ros.sim.depth_camera import StereoDepthCameraModel, simulate_stereo_depth
from promptdepth_ros.sim.render import NO_SURFACE_ID, render
from promptdepth_ros.sim.room import STRUCTURE_ID, generate_room_scene
from promptdepth_ros.sim.scene import default_camera
from promptdepth_ros.sim.sensors import IPHONE_HW, simulate_prompt

CAMERA = default_camera(320, 240)
NOISELESS = StereoDepthCameraModel(subpixel_std_px=0.0, dropout=0.0)


@pytest.fixture(scope="module")
def rooms():
    return [render(generate_room_scene(np.random.default_rng(seed), CAMERA)) for seed in range(4)]


def test_rooms_are_room_scale_with_structure_furniture_and_an_open_doorway(rooms):
    for frame in rooms:
        depth = frame.depth_m[np.isfinite(frame.depth_m)]
        assert depth.min() > 0.5 and 2.5 < depth.max() < 9.0
        ids = set(np.unique(frame.object_id).tolist())
        assert STRUCTURE_ID in ids
    # The doorway opens onto nothing: some views see through it (no surface, NaN depth).
    assert any((frame.object_id == NO_SURFACE_ID).any() for frame in rooms)
    assert all(np.array_equal(np.isnan(f.depth_m), f.object_id == NO_SURFACE_ID) for f in rooms)


def test_room_generation_is_reproducible():
    a = generate_room_scene(np.random.default_rng(7), CAMERA)
    b = generate_room_scene(np.random.default_rng(7), CAMERA)
    assert len(a.primitives) == len(b.primitives)
    np.testing.assert_array_equal(a.T_world_camera, b.T_world_camera)


def _wall(depth_m: float) -> np.ndarray:
    return np.full((CAMERA.height, CAMERA.width), depth_m, np.float32)


def test_stereo_noise_grows_with_the_square_of_depth():
    model = StereoDepthCameraModel(noise_correlation_px=0.0, dropout=0.0)
    stds = []
    for depth in (1.0, 3.0):
        out = simulate_stereo_depth(_wall(depth), CAMERA, np.random.default_rng(0), model)
        stds.append(float(np.nanstd(out)))
        expected = depth**2 * model.subpixel_std_px / (CAMERA.fx * model.baseline_m)
        assert stds[-1] == pytest.approx(expected, rel=0.1)
    assert stds[1] / stds[0] == pytest.approx(9.0, rel=0.15)


def test_stereo_holes_on_the_occluded_side_of_an_edge_and_on_thin_structures():
    depth = _wall(3.0)
    depth[:, 150:200] = 1.0  # a near board: background just left of it is hidden from the right
    depth[:, 60:62] = 1.0  # a pole two pixels wide
    out = simulate_stereo_depth(depth, CAMERA, np.random.default_rng(0), NOISELESS)
    disparity_gap = CAMERA.fx * NOISELESS.baseline_m * (1.0 / 1.0 - 1.0 / 3.0)
    shadow = slice(150 - int(disparity_gap) + 2, 148)
    assert np.isnan(out[:, shadow]).all()
    assert np.isfinite(out[:, 205:240]).all()  # the far side is seen by both imagers
    assert np.isfinite(out[:, 155:195]).all()
    assert np.isnan(out[:, 60:62]).all()
    np.testing.assert_allclose(out[:, 100:120], 3.0, rtol=1e-5)


def test_stereo_keeps_its_range_and_reports_no_surface_as_nan():
    depth = _wall(2.0)
    depth[:, :100] = 12.0
    depth[:, 200:] = np.nan
    out = simulate_stereo_depth(depth, CAMERA, np.random.default_rng(0), NOISELESS)
    assert np.isnan(out[:, :100]).all() and np.isnan(out[:, 200:]).all()
    assert np.isfinite(out[:, 110:190]).all()
    with pytest.raises(InputError, match="camera is"):
        simulate_stereo_depth(depth[:10], CAMERA, np.random.default_rng(0))
    with pytest.raises(ConfigError):
        StereoDepthCameraModel(min_range_m=3.0, max_range_m=2.0)


def test_each_sensor_gives_the_prompt_a_node_would_receive(rooms):
    frame = rooms[0]
    rng = np.random.default_rng(1)
    iphone = simulate_prompt("iphone", frame.depth_m, CAMERA, rng)
    assert isinstance(iphone, DepthImagePrompt) and iphone.depth_m.shape == IPHONE_HW
    realsense = simulate_prompt("realsense", frame.depth_m, CAMERA, rng)
    assert isinstance(realsense, DepthImagePrompt)
    assert realsense.depth_m.shape == frame.depth_m.shape
    lidar = simulate_prompt("lidar32", frame.depth_m, CAMERA, rng)
    assert isinstance(lidar, LidarPrompt)
    # Projected back into the camera, the scan lies on 32 rings at the true depth.
    projected = build_raw_prompt(lidar, CAMERA, (CAMERA.height, CAMERA.width))
    rows = np.flatnonzero(np.isfinite(projected).any(axis=1))
    assert 28 <= len(np.unique(rows // 2)) <= 40
    hit = np.isfinite(projected) & np.isfinite(frame.depth_m)
    assert np.median(np.abs(projected[hit] - frame.depth_m[hit])) < 0.02
    with pytest.raises(ConfigError, match="unknown prompt sensor"):
        simulate_prompt("kinect", frame.depth_m, CAMERA, rng)  # type: ignore[arg-type]

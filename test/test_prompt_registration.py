"""Depth registration into the RGB camera and edge-preserving depth resampling."""

from __future__ import annotations

import numpy as np
import pytest

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.errors import InputError
from promptdepth_ros.prompt.registration import register_depth_to_camera, resample_depth

CAMERA = CameraModel(64, 48, 60.0, 60.0, 31.5, 23.5)


def test_identity_registration_reproduces_the_depth():
    depth = np.random.default_rng(1).uniform(0.5, 4.0, (48, 64)).astype(np.float32)
    depth[10:20, 5:9] = np.nan
    out = register_depth_to_camera(depth, CAMERA, CAMERA, np.eye(4), (48, 64))
    np.testing.assert_allclose(out, depth, rtol=1e-6)


def test_baseline_shifts_a_plane_by_focal_times_baseline_over_depth():
    depth = np.full((48, 64), 2.0, np.float32)
    t_rgb_depth = np.eye(4)
    t_rgb_depth[0, 3] = 0.1  # depth-camera points appear 0.1 m further right in the RGB camera
    out = register_depth_to_camera(depth, CAMERA, CAMERA, t_rgb_depth, (48, 64))
    shift = round(60.0 * 0.1 / 2.0)  # 3 px
    assert np.all(np.isnan(out[:, :shift]))
    np.testing.assert_allclose(out[:, shift:], 2.0)


def test_occluded_background_loses_to_the_nearer_surface():
    depth = np.full((48, 64), 4.0, np.float32)
    depth[:, 30:34] = 1.0
    t_rgb_depth = np.eye(4)
    t_rgb_depth[0, 3] = 0.1  # foreground moves 6 px, background 1.5 px: they overlap
    out = register_depth_to_camera(depth, CAMERA, CAMERA, t_rgb_depth, (48, 64))
    np.testing.assert_allclose(out[:, 36:40], 1.0)
    assert np.nanmax(out[:, 36:40]) == 1.0


def test_depth_at_another_resolution_uses_the_scaled_depth_camera():
    depth = np.full((24, 32), 1.5, np.float32)
    out = register_depth_to_camera(depth, CAMERA, CAMERA, np.eye(4), (24, 32))
    np.testing.assert_allclose(out, 1.5)


def test_resample_down_keeps_the_nearest_return_never_an_average():
    depth = np.array(
        [
            [1.0, 3.0, np.nan, np.nan],
            [3.0, 3.0, np.nan, np.nan],
            [2.0, np.nan, 5.0, 6.0],
            [np.nan, np.nan, 7.0, 0.0],
        ],
        np.float32,
    )
    out = resample_depth(depth, (2, 2))
    np.testing.assert_array_equal(out, [[1.0, np.nan], [2.0, 5.0]])


def test_resample_with_fractional_factor_only_outputs_input_values():
    depth = np.random.default_rng(3).choice([1.0, 4.0, np.nan], size=(48, 64)).astype(np.float32)
    out = resample_depth(depth, (20, 27))
    assert out.shape == (20, 27)
    assert set(np.unique(out[np.isfinite(out)])) <= {1.0, 4.0}


def test_resample_up_is_nearest_neighbour():
    depth = np.array([[1.0, np.nan], [2.0, 3.0]], np.float32)
    out = resample_depth(depth, (4, 4))
    expected = np.repeat(np.repeat(depth, 2, axis=0), 2, axis=1)
    np.testing.assert_array_equal(out, expected)


def test_resample_rejects_bad_sizes():
    with pytest.raises(InputError, match="out_hw"):
        resample_depth(np.ones((4, 4), np.float32), (0, 2))

"""Tests of the LiDAR simulation (low-res depth maps and sparse ring scans)."""

from __future__ import annotations

import numpy as np
import pytest

from promptdepth_ros.errors import ConfigError, InputError
from promptdepth_ros.sim.lidar import box_downsample, simulate_lidar_depth, simulate_lidar_points
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import default_camera, plane_scene


@pytest.fixture(scope="module")
def plane_depth() -> np.ndarray:
    return render(plane_scene(0.7, default_camera(640, 480))).depth_m


def test_box_downsample_averages_blocks_and_drops_mostly_invalid_cells():
    depth = np.arange(16, dtype=np.float32).reshape(4, 4) + 1.0
    depth[0, 0] = np.nan
    depth[2:4, 2] = np.nan
    depth[2, 3] = 0.0
    out = box_downsample(depth, (2, 2))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0], (2 + 5 + 6) / 3)
    np.testing.assert_allclose(out[0, 1], (3 + 4 + 7 + 8) / 4)
    np.testing.assert_allclose(out[1, 0], (9 + 10 + 13 + 14) / 4)
    assert np.isnan(out[1, 1])


def test_noise_free_lidar_of_a_plane_is_the_plane_distance(plane_depth):
    low = simulate_lidar_depth(
        plane_depth, np.random.default_rng(0), noise_std_m=0.0, relative_noise=0.0,
        hole_fraction=0.0,
    )  # fmt: skip
    assert low.shape == (192, 256) and low.dtype == np.float32
    np.testing.assert_allclose(low, 0.7, atol=2e-6)


def test_lidar_noise_has_the_requested_standard_deviation(plane_depth):
    low = simulate_lidar_depth(
        plane_depth, np.random.default_rng(1), noise_std_m=0.005, relative_noise=0.01,
        hole_fraction=0.0,
    )  # fmt: skip
    residual = low - 0.7
    expected = np.hypot(0.005, 0.01 * 0.7)
    assert np.std(residual) == pytest.approx(expected, rel=0.03)
    assert abs(np.mean(residual)) < 4 * expected / np.sqrt(residual.size)


def test_lidar_holes_cover_about_the_requested_fraction(plane_depth):
    fractions = [
        np.isnan(
            simulate_lidar_depth(plane_depth, np.random.default_rng(seed), hole_fraction=0.1)
        ).mean()
        for seed in range(5)
    ]
    assert 0.06 < np.mean(fractions) < 0.14
    assert min(fractions) > 0.05


def test_no_return_regions_stay_nan():
    depth = np.full((48, 64), 2.0, np.float32)
    depth[:, :32] = np.nan
    low = simulate_lidar_depth(depth, np.random.default_rng(0), out_hw=(12, 16), hole_fraction=0.0)
    assert np.all(np.isnan(low[:, :8]))
    assert np.all(np.isfinite(low[:, 8:]))


def test_edge_bleeding_copies_neighbour_depths_across_a_step():
    depth = np.full((64, 64), 2.0, np.float32)
    depth[:, :30] = 1.0  # step inside the 8th low-res column (cells are 4 px wide)
    quiet = {"noise_std_m": 0.0, "relative_noise": 0.0, "hole_fraction": 0.0}
    plain = simulate_lidar_depth(
        depth, np.random.default_rng(0), (16, 16), edge_bleed=False, **quiet
    )
    np.testing.assert_allclose(plain[:, 7], 1.5)  # mixed pixel: half near, half far
    bled = simulate_lidar_depth(
        depth, np.random.default_rng(0), (16, 16), edge_bleed=True, **quiet
    )
    edge_columns = bled[:, 6:9]
    assert set(np.unique(edge_columns)) <= {1.0, 1.5, 2.0}
    assert not np.array_equal(bled[:, 6:9], plain[:, 6:9])
    np.testing.assert_array_equal(bled[:, :5], 1.0)
    np.testing.assert_array_equal(bled[:, 10:], 2.0)


def test_lidar_depth_rejects_bad_arguments(plane_depth):
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigError, match="hole_fraction"):
        simulate_lidar_depth(plane_depth, rng, hole_fraction=1.0)
    with pytest.raises(ConfigError, match="out_hw"):
        simulate_lidar_depth(plane_depth, rng, out_hw=(960, 256))
    with pytest.raises(InputError, match="2-D float"):
        simulate_lidar_depth(plane_depth.astype(np.int32), rng)


def test_noise_free_ring_scan_back_projects_onto_the_plane(plane_depth):
    camera = default_camera(640, 480)
    points = simulate_lidar_points(
        plane_depth, camera, np.eye(4), np.random.default_rng(0), n_rings=16,
        points_per_ring=100, noise_std_m=0.0,
    )  # fmt: skip
    assert points.shape == (1600, 3) and points.dtype == np.float32
    np.testing.assert_allclose(points[:, 2], 0.7, atol=1e-5)
    assert len(np.unique(np.round(points[:, 1], 4))) == 16  # one image row per ring


def test_ring_scan_is_expressed_in_the_lidar_frame_with_range_noise(plane_depth):
    camera = default_camera(640, 480)
    T_lidar_camera = np.eye(4)
    T_lidar_camera[:3, :3] = [[0, 0, 1], [-1, 0, 0], [0, -1, 0]]  # optical -> x forward, z up
    T_lidar_camera[:3, 3] = [0.1, 0.0, -0.05]
    points = simulate_lidar_points(
        plane_depth, camera, T_lidar_camera, np.random.default_rng(0), noise_std_m=0.01
    ).astype(np.float64)
    assert points.shape == (32 * 512, 3)
    in_camera = (points - T_lidar_camera[:3, 3]) @ T_lidar_camera[:3, :3]
    rays = in_camera / in_camera[:, 2:3]
    true_range = 0.7 * np.linalg.norm(rays, axis=1)
    range_error = np.linalg.norm(in_camera, axis=1) - true_range
    assert np.std(range_error) == pytest.approx(0.01, rel=0.05)
    assert np.mean(points[:, 0]) == pytest.approx(0.7 + 0.1, abs=1e-3)


def test_ring_scan_skips_pixels_without_depth_and_checks_the_camera(plane_depth):
    camera = default_camera(640, 480)
    depth = plane_depth.copy()
    depth[:, 320:] = np.nan
    points = simulate_lidar_points(depth, camera, np.eye(4), np.random.default_rng(0))
    assert len(points) == 32 * 256
    assert np.all(points[:, 0] < 0.0)
    with pytest.raises(InputError, match="camera is 320x240"):
        simulate_lidar_points(depth, default_camera(320, 240), np.eye(4), np.random.default_rng(0))

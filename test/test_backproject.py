"""Depth back-projection (cached rays, distortion) and PLY export."""

from __future__ import annotations

import numpy as np
import pytest

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.camera.projection import depth_to_points, pixel_rays
from promptdepth_ros.cloud.ply import points_to_ply
from promptdepth_ros.errors import InputError
from promptdepth_ros.prompt.projection import project_points_to_depth

CAMERA = CameraModel(8, 6, 10.0, 20.0, 3.5, 2.5, frame_id="cam")


def test_points_follow_the_pinhole_model_and_keep_nan():
    depth = np.full((6, 8), 2.0, np.float32)
    depth[0, 0] = np.nan
    points = depth_to_points(depth, CAMERA)
    assert points.shape == (6, 8, 3) and points.dtype == np.float32
    np.testing.assert_allclose(points[4, 7], [(7 - 3.5) / 10 * 2, (4 - 2.5) / 20 * 2, 2.0])
    assert np.isnan(points[0, 0]).all()


def test_rays_are_cached_and_read_only():
    assert pixel_rays(CAMERA) is pixel_rays(
        CameraModel(8, 6, 10.0, 20.0, 3.5, 2.5, frame_id="cam")
    )
    with pytest.raises(ValueError, match="read-only"):
        pixel_rays(CAMERA)[0, 0, 0] = 1.0


def test_distorted_back_projection_reprojects_to_the_same_pixels():
    camera = CameraModel(
        64, 48, 50.0, 50.0, 31.5, 23.5, "plumb_bob", (-0.2, 0.05, 0.001, 0.0, 0.0)
    )
    depth = np.random.default_rng(0).uniform(0.5, 3.0, (48, 64)).astype(np.float32)
    points = depth_to_points(depth, camera).reshape(-1, 3)
    np.testing.assert_allclose(project_points_to_depth(points, camera, (48, 64)), depth, rtol=1e-6)


def test_wrong_depth_size_is_rejected():
    with pytest.raises(InputError, match="scaled"):
        depth_to_points(np.ones((5, 8), np.float32), CAMERA)
    with pytest.raises(InputError, match="from row 4"):
        depth_to_points(np.ones((3, CAMERA.width), np.float32), CAMERA, first_row=4)


def test_a_band_of_rows_gives_the_rows_of_the_whole_image():
    depth = np.random.default_rng(2).uniform(0.5, 3.0, (CAMERA.height, CAMERA.width))
    whole = depth_to_points(depth.astype(np.float32), CAMERA)
    band = depth_to_points(depth[2:5].astype(np.float32), CAMERA, first_row=2)
    np.testing.assert_array_equal(band, whole[2:5])


def test_ply_holds_only_finite_points_with_colour(tmp_path):
    xyz = np.array(
        [[[0.0, 1.0, 2.0], [np.nan] * 3], [[-1.5, 0.25, 3.0], [4.0, 5.0, 6.0]]], np.float32
    )
    rgb = np.array([[[255, 0, 0], [9, 9, 9]], [[0, 255, 0], [1, 2, 3]]], np.uint8)
    path = tmp_path / "cloud.ply"
    assert points_to_ply(path, xyz, rgb) == 3
    raw = path.read_bytes()
    header, body = raw.split(b"end_header\n")
    assert b"format binary_little_endian 1.0" in header and b"element vertex 3" in header
    vertices = np.frombuffer(body, dtype=[("p", "<f4", 3), ("c", "u1", 3)])
    np.testing.assert_array_equal(vertices["p"], xyz.reshape(-1, 3)[[0, 2, 3]])
    np.testing.assert_array_equal(vertices["c"], rgb.reshape(-1, 3)[[0, 2, 3]])


def test_ply_is_readable_by_open3d(tmp_path):
    o3d = pytest.importorskip("open3d", reason="open3d is an optional cross-check")
    xyz = np.random.default_rng(2).normal(size=(50, 3)).astype(np.float32)
    rgb = np.random.default_rng(3).integers(0, 256, (50, 3), dtype=np.uint8)
    path = tmp_path / "cloud.ply"
    points_to_ply(path, xyz, rgb)
    cloud = o3d.io.read_point_cloud(str(path))
    np.testing.assert_allclose(np.asarray(cloud.points), xyz, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(cloud.colors) * 255, rgb, atol=1e-3)


def test_undistorted_points_are_the_cached_pixel_rays_times_depth():
    depth = np.random.default_rng(3).uniform(0.5, 3.0, (CAMERA.height, CAMERA.width))
    points = depth_to_points(depth.astype(np.float32), CAMERA)
    rays = pixel_rays(CAMERA)
    np.testing.assert_array_equal(points[..., 0], rays[0] * depth.astype(np.float32))
    np.testing.assert_array_equal(points[..., 1], rays[1] * depth.astype(np.float32))

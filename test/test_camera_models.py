"""Every CameraInfo model against OpenCV (projectPoints, fisheye, undistortPoints); field guard."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptdepth_ros.camera.distortion import (
    distort_normalized,
    in_calibrated_field,
    max_undistorted_radius,
    undistort_normalized,
)
from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.camera.projection import pixel_rays
from promptdepth_ros.prompt.projection import project_points_to_depth

N_COEFFICIENTS = {"plumb_bob": 5, "rational_polynomial": 8, "equidistant": 4}


def random_camera(rng: np.random.Generator, model: str, wide: bool) -> CameraModel:
    """A 640x480 calibration; ``wide`` = short focal length and strong distortion."""
    scale = 0.4 if wide else 0.1
    coefficients = rng.uniform(-scale, scale, N_COEFFICIENTS[model])
    if model != "equidistant":
        coefficients[2:4] *= 0.01  # tangential terms are small in real calibrations
    focal = rng.uniform(150, 250) if wide else rng.uniform(400, 800)
    return CameraModel(
        640,
        480,
        fx=focal,
        fy=focal * rng.uniform(0.98, 1.02),
        cx=rng.uniform(300, 340),
        cy=rng.uniform(220, 260),
        distortion_model=model,
        distortion=tuple(float(c) for c in coefficients),
    )


def points_in_field(rng: np.random.Generator, camera: CameraModel, n: int) -> np.ndarray:
    """(n, 3) points in front of the camera inside its calibrated field (and 80° off axis)."""
    limit = min(max_undistorted_radius(camera), np.tan(np.deg2rad(80.0))) * 0.95
    radius = limit * np.sqrt(rng.uniform(0, 1, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    z = rng.uniform(0.5, 5.0, n)
    return np.stack([radius * np.cos(angle) * z, radius * np.sin(angle) * z, z], axis=1)


def our_pixels(points: np.ndarray, camera: CameraModel) -> np.ndarray:
    xd, yd = distort_normalized(points[:, 0] / points[:, 2], points[:, 1] / points[:, 2], camera)
    return np.stack([camera.fx * xd + camera.cx, camera.fy * yd + camera.cy], axis=1)


def opencv_pixels(points: np.ndarray, camera: CameraModel) -> np.ndarray:
    d = np.asarray(camera.distortion, np.float64)
    zero = np.zeros(3)
    if camera.distortion_model == "equidistant":
        pixels, _ = cv2.fisheye.projectPoints(points.reshape(-1, 1, 3), zero, zero, camera.K, d)
    else:
        pixels, _ = cv2.projectPoints(points, zero, zero, camera.K, d)
    return pixels.reshape(-1, 2)


@pytest.mark.parametrize("model", ["plumb_bob", "rational_polynomial", "equidistant"])
@pytest.mark.parametrize("wide", [False, True])
def test_projection_equals_opencv_inside_the_calibrated_field(model: str, wide: bool) -> None:
    rng = np.random.default_rng(sum(map(ord, model)) + wide)
    for _ in range(10):
        camera = random_camera(rng, model, wide)
        points = points_in_field(rng, camera, 500)
        np.testing.assert_allclose(
            our_pixels(points, camera), opencv_pixels(points, camera), rtol=0, atol=1e-6
        )


def opencv_undistorted(pixels: np.ndarray, camera: CameraModel) -> np.ndarray:
    """cv2.undistortPoints (20 iterations) or cv2.fisheye.undistortPoints, normalised (n, 2)."""
    d = np.asarray(camera.distortion)
    if camera.distortion_model == "equidistant":
        out = cv2.fisheye.undistortPoints(pixels.reshape(-1, 1, 2), camera.K, d)
    else:
        criteria = (cv2.TERM_CRITERIA_COUNT, 20, 0.0)
        out = cv2.undistortPointsIter(pixels.reshape(-1, 1, 2), camera.K, d, None, None, criteria)
    return out.reshape(-1, 2)


@pytest.mark.parametrize("model", ["plumb_bob", "rational_polynomial", "equidistant"])
@pytest.mark.parametrize("wide", [False, True])
def test_undistortion_recovers_the_points_and_equals_opencv_where_it_converges(
    model: str, wide: bool
) -> None:
    rng = np.random.default_rng(100 + sum(map(ord, model)) + wide)
    compared = 0
    for _ in range(10):
        camera = random_camera(rng, model, wide)
        points = points_in_field(rng, camera, 500)
        pixels = opencv_pixels(points, camera)
        xd = (pixels[:, 0] - camera.cx) / camera.fx
        yd = (pixels[:, 1] - camera.cy) / camera.fy
        ours = np.stack(undistort_normalized(xd, yd, camera), 1)
        np.testing.assert_allclose(ours, points[:, :2] / points[:, 2:], atol=1e-8)
        theirs = opencv_undistorted(pixels, camera)
        # OpenCV's iteration diverges on strong distortion, or converges to a folded-back
        # preimage beyond the calibrated field: compare where it reprojects inside the field.
        again = opencv_pixels(np.column_stack([theirs, np.ones(len(theirs))]), camera)
        converged = np.abs(again - pixels).max(axis=1) < 1e-4
        converged &= in_calibrated_field(theirs[:, 0], theirs[:, 1], camera)
        np.testing.assert_allclose(ours[converged], theirs[converged], atol=1e-5)
        compared += int(converged.sum())
    assert compared >= 500, "OpenCV converged too rarely for a comparison"


def test_a_point_beyond_a_wide_angle_calibration_is_dropped_not_folded_back() -> None:
    # r_d = r - 0.4 r^3 grows up to r = 0.913 (42 degrees) and folds back beyond it.
    camera = CameraModel(640, 480, 300.0, 300.0, 320.0, 240.0, "plumb_bob", (-0.4, 0, 0, 0, 0))
    assert max_undistorted_radius(camera) == pytest.approx(1 / np.sqrt(1.2), rel=1e-3)
    point = np.array([[np.tan(np.deg2rad(60.0)), 0.0, 1.0]])
    folded = opencv_pixels(point, camera)[0]
    assert 0 <= folded[0] < 640 and 0 <= folded[1] < 480, "OpenCV puts it inside the image"
    depth = project_points_to_depth(point.astype(np.float32), camera, (480, 640))
    assert np.isnan(depth).all()
    inside = np.array([[np.tan(np.deg2rad(30.0)), 0.0, 1.0]], np.float32)
    assert np.isfinite(project_points_to_depth(inside, camera, (480, 640))).sum() == 1


def test_pixels_outside_the_calibrated_field_have_no_ray() -> None:
    camera = CameraModel(640, 480, 150.0, 150.0, 320.0, 240.0, "plumb_bob", (-0.4, 0, 0, 0, 0))
    rays = pixel_rays(camera)
    # The distorted radius never exceeds 0.608 (at r = 0.913): corner pixels lie beyond it.
    assert np.isnan(rays[:, 0, 0]).all() and np.isfinite(rays[:, 240, 320]).all()
    x, y = rays[0].ravel(), rays[1].ravel()
    finite = np.isfinite(x)
    assert in_calibrated_field(x[finite], y[finite], camera).all()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(-0.3, 0.3), min_size=4, max_size=4),
    st.floats(0.0, 1.2),
    st.floats(0, 2 * np.pi),
)
def test_fisheye_round_trip(coefficients: list[float], angle: float, direction: float) -> None:
    camera = CameraModel(640, 480, 200.0, 200.0, 320.0, 240.0, "equidistant", tuple(coefficients))
    r = min(np.tan(angle), max_undistorted_radius(camera) * 0.99)
    x, y = np.array([r * np.cos(direction)]), np.array([r * np.sin(direction)])
    xu, yu = undistort_normalized(*distort_normalized(x, y, camera), camera)
    np.testing.assert_allclose([xu[0], yu[0]], [x[0], y[0]], atol=1e-9 * max(1.0, r))

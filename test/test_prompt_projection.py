"""project_points_to_depth against a per-point reference written from OpenCV's formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from promptdepth_ros.camera.distortion import distort_normalized, undistort_normalized
from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.errors import InputError
from promptdepth_ros.geometry.transforms import (
    make_transform,
    quaternion_to_matrix,
    transform_points,
)
from promptdepth_ros.prompt.projection import project_cloud_to_depth, project_points_to_depth

MIN_DEPTH = 1e-3


def reference_field_limit(camera: CameraModel) -> float:
    """Smallest undistorted radius where d(r * radial(r^2)) / dr <= 0 (analytic), else inf."""
    k1, k2, _, _, k3, k4, k5, k6 = (list(camera.distortion) + [0.0] * 8)[:8]
    r = np.tan(np.linspace(0.0, np.deg2rad(89.0), 200_001))[1:]
    s = r * r
    num, dnum = 1 + k1 * s + k2 * s**2 + k3 * s**3, k1 + 2 * k2 * s + 3 * k3 * s**2
    den, dden = 1 + k4 * s + k5 * s**2 + k6 * s**3, k4 + 2 * k5 * s + 3 * k6 * s**2
    # d/dr [r num/den] = num/den + r * 2r (dnum den - num dden) / den^2
    slope = num / den + 2 * s * (dnum * den - num * dden) / den**2
    bad = np.flatnonzero((slope <= 0) | (den <= 0))
    return float(r[bad[0]]) if bad.size else math.inf


def reference_projection(points, camera: CameraModel, out_hw):
    """Per-point projectPoints (k1 k2 p1 p2 k3 k4 k5 k6) + nearest-wins z-buffer, or None when a
    point lands within 1e-6 px of a pixel border (where float rounding may pick either pixel)."""
    h, w = out_hw
    sx, sy = w / camera.width, h / camera.height
    fx, fy = camera.fx * sx, camera.fy * sy
    cx, cy = (camera.cx + 0.5) * sx - 0.5, (camera.cy + 0.5) * sy - 0.5
    k1, k2, p1, p2, k3, k4, k5, k6 = (list(camera.distortion) + [0.0] * 8)[:8]
    limit = reference_field_limit(camera)
    depth = np.full((h, w), np.nan, np.float32)
    for px, py, pz in points.astype(np.float64):
        if not (math.isfinite(px) and math.isfinite(py) and math.isfinite(pz)) or pz <= MIN_DEPTH:
            continue
        x, y = px / pz, py / pz
        r2 = x * x + y * y
        if abs(math.sqrt(r2) - limit) < 0.01 * limit:
            return None  # at the calibrated field's edge, where the grid search may differ
        if math.sqrt(r2) > limit:
            continue  # OpenCV would fold it back into the image; the package drops it
        radial = (1 + k1 * r2 + k2 * r2**2 + k3 * r2**3) / (1 + k4 * r2 + k5 * r2**2 + k6 * r2**3)
        xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
        yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
        u, v = fx * xd + cx + 0.5, fy * yd + cy + 0.5
        if not (math.isfinite(u) and math.isfinite(v)):
            continue
        if min(abs(u - round(u)), abs(v - round(v))) < 1e-6:
            return None
        col, row = math.floor(u), math.floor(v)
        if 0 <= col < w and 0 <= row < h and not depth[row, col] <= np.float32(pz):
            depth[row, col] = np.float32(pz)
    return depth


@st.composite
def cameras(draw):
    width, height = draw(st.integers(40, 200)), draw(st.integers(30, 150))
    model = draw(st.sampled_from(["", "plumb_bob", "rational_polynomial"]))
    n = {"": 0, "plumb_bob": 5, "rational_polynomial": 8}[model]
    coeff = st.floats(-0.3, 0.3, allow_subnormal=False)
    return CameraModel(
        width,
        height,
        fx=draw(st.floats(20, 300)),
        fy=draw(st.floats(20, 300)),
        cx=draw(st.floats(0, width - 1)),
        cy=draw(st.floats(0, height - 1)),
        distortion_model=model,
        distortion=tuple(draw(st.lists(coeff, min_size=n, max_size=n))),
    )


POINT = st.tuples(
    st.floats(-3, 3, width=32),
    st.floats(-3, 3, width=32),
    st.one_of(st.floats(-1, 6, width=32), st.just(float("nan"))),
)


@settings(max_examples=200, deadline=None)
@given(cameras(), st.lists(POINT, max_size=60), st.integers(3, 24), st.integers(3, 32))
def test_projection_matches_per_point_reference(camera, points, h, w):
    pts = np.array(points, np.float32).reshape(-1, 3)
    expected = reference_projection(pts, camera, (h, w))
    assume(expected is not None)
    depth = project_points_to_depth(pts, camera, (h, w), min_depth_m=MIN_DEPTH)
    assert depth.shape == (h, w) and depth.dtype == np.float32
    np.testing.assert_array_equal(depth, expected)


def test_known_plumb_bob_numbers():
    camera = CameraModel(
        640, 480, 500.0, 500.0, 320.0, 240.0, "plumb_bob", (0.1, -0.05, 0.001, 0.002, 0.01)
    )
    # x = 0.2, y = 0.1: r2 = 0.05, radial = 1 + 0.005 - 0.000125 + 0.00000125 = 1.00487625
    # xd = 0.20097525 + 2*0.001*0.02 + 0.002*(0.05 + 0.08) = 0.20127525 -> u = 420.637625
    # yd = 0.100487625 + 0.001*(0.05 + 0.02) + 2*0.002*0.02 = 0.100637625 -> v = 290.3188125
    xd, yd = distort_normalized(np.array([0.2]), np.array([0.1]), camera)
    assert xd[0] == pytest.approx(0.20127525, abs=1e-12)
    assert yd[0] == pytest.approx(0.100637625, abs=1e-12)
    depth = project_points_to_depth(np.array([[0.4, 0.2, 2.0]], np.float32), camera, (480, 640))
    assert depth[290, 421] == np.float32(2.0)
    assert np.isnan(depth).sum() == 480 * 640 - 1


def test_rational_polynomial_denominator_is_applied():
    camera = CameraModel(
        100,
        100,
        50.0,
        50.0,
        49.5,
        49.5,
        "rational_polynomial",
        (0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0),
    )
    xd, _ = distort_normalized(np.array([0.5]), np.array([0.0]), camera)
    assert xd[0] == pytest.approx(0.5 / 1.25)


def test_undistort_inverts_distort():
    camera = CameraModel(
        640,
        480,
        500.0,
        500.0,
        320.0,
        240.0,
        "rational_polynomial",
        (0.2, -0.1, 0.001, -0.002, 0.01, 0.1, -0.02, 0.005),
    )
    x, y = np.meshgrid(np.linspace(-0.6, 0.6, 7), np.linspace(-0.45, 0.45, 5))
    xu, yu = undistort_normalized(*distort_normalized(x, y, camera), camera)
    np.testing.assert_allclose(xu, x, atol=1e-9)
    np.testing.assert_allclose(yu, y, atol=1e-9)


def test_nearest_point_wins_and_intrinsics_are_scaled_to_the_prompt():
    camera = CameraModel(1920, 1440, 1500.0, 1500.0, 960.3, 720.3)
    points = np.array([[0, 0, 3.0], [0, 0, 1.5], [0, 0, 2.0], [0, 0, -1.0]], np.float32)
    depth = project_points_to_depth(points, camera, (192, 256))
    # scaled cx = (960.3 + 0.5) * 256 / 1920 - 0.5 = 127.606..., cy = 95.606...
    assert depth[96, 128] == np.float32(1.5)
    assert np.count_nonzero(np.isfinite(depth)) == 1


def test_bad_shapes_are_rejected():
    camera = CameraModel(64, 48, 50.0, 50.0, 31.5, 23.5)
    with pytest.raises(InputError, match="\\(N, 3\\)"):
        project_points_to_depth(np.zeros((4, 2), np.float32), camera, (48, 64))
    with pytest.raises(InputError, match="out_hw"):
        project_points_to_depth(np.zeros((4, 3), np.float32), camera, (0, 64))


@settings(max_examples=100, deadline=None)
@given(
    cameras(),
    st.lists(POINT, max_size=80),
    st.tuples(*[st.floats(-1, 1)] * 4).filter(lambda q: np.linalg.norm(q) > 0.1),
    st.tuples(*[st.floats(-2, 2)] * 3),
)
def test_cloud_projection_equals_transform_then_project(camera, points, q, t):
    """Culling the points behind the camera first changes nothing (a strided view is fine)."""
    T = make_transform(quaternion_to_matrix(*(np.array(q) / np.linalg.norm(q))), np.array(t))
    padded = np.zeros((len(points), 5), np.float32)
    padded[:, 1:4] = np.array(points, np.float32).reshape(-1, 3)
    strided = padded[:, 1:4]
    expected = project_points_to_depth(transform_points(T, strided), camera, (12, 16))
    np.testing.assert_array_equal(project_cloud_to_depth(strided, T, camera, (12, 16)), expected)

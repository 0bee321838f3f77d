"""Quaternions, transform messages and chained lookups in the static transform buffer."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from geometry_msgs.msg import TransformStamped
from hypothesis import given, settings
from hypothesis import strategies as st

from promptdepth_ros.errors import InputError, MissingTransform, TransformExtrapolation
from promptdepth_ros.geometry.transform_tree import (
    LATEST,
    TransformBuffer,
    interpolate_transform,
    transform_from_msg,
)
from promptdepth_ros.geometry.transforms import (
    format_xyz_quat,
    make_transform,
    matrix_to_quaternion,
    parse_xyz_quat,
    quaternion_to_matrix,
    transform_points,
)


def stamped(parent: str, child: str, xyz, quat, stamp_s: float = 0.0) -> TransformStamped:
    msg = TransformStamped()
    msg.header.frame_id, msg.child_frame_id = parent, child
    msg.header.stamp.sec, msg.header.stamp.nanosec = int(stamp_s), round(stamp_s % 1 * 1e9)
    t, r = msg.transform.translation, msg.transform.rotation
    t.x, t.y, t.z = (float(v) for v in xyz)
    r.x, r.y, r.z, r.w = (float(v) for v in quat)
    return msg


def yaw(angle: float) -> tuple[float, float, float, float]:
    return (0.0, 0.0, math.sin(angle / 2), math.cos(angle / 2))


def test_quarter_turn_about_z_maps_x_to_y():
    rotation = quaternion_to_matrix(*yaw(math.pi / 2))
    np.testing.assert_allclose(rotation @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(-1, 1), min_size=4, max_size=4).filter(lambda q: np.linalg.norm(q) > 0.1)
)
def test_quaternion_matrix_round_trip(q):
    rotation = quaternion_to_matrix(*q)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-9)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    back = np.array(matrix_to_quaternion(rotation))
    expected = np.array(q) / np.linalg.norm(q)
    expected = expected if expected[3] >= 0 else -expected
    if abs(expected[3]) < 1e-9:  # q and -q are the same rotation when w == 0
        back = back * np.sign(back @ expected)
    np.testing.assert_allclose(back, expected, atol=1e-7)


def test_zero_quaternion_is_rejected():
    with pytest.raises(InputError, match="non-zero"):
        quaternion_to_matrix(0.0, 0.0, 0.0, 0.0)


def test_transform_from_duck_typed_message_and_points():
    msg = SimpleNamespace(
        translation=SimpleNamespace(x=1.0, y=2.0, z=3.0),
        rotation=SimpleNamespace(x=0.0, y=0.0, z=0.0, w=1.0),
    )
    transform = transform_from_msg(msg)
    points = np.array([[0.0, 0.0, 0.0], [1.0, -1.0, 0.5], [np.nan] * 3], np.float32)
    out = transform_points(transform, points)
    np.testing.assert_array_equal(out, [[1.0, 2.0, 3.0], [2.0, 1.0, 3.5], [np.nan] * 3])
    assert out.dtype == np.float32


@pytest.fixture
def robot_tree() -> TransformBuffer:
    buffer = TransformBuffer()
    buffer.set_transforms(
        static=True,
        msgs=[
            stamped("base_link", "arm_link", (0.0, 0.0, 0.5), yaw(math.pi / 2)),
            stamped("arm_link", "camera_optical_frame", (0.1, 0.0, 0.0), (0, 0, 0, 1)),
            stamped("/base_link", "lidar", (1.0, 0.0, 0.0), yaw(math.pi)),
        ],
    )
    return buffer


def test_chain_lookup_composes_parent_to_child(robot_tree):
    t_base_camera = robot_tree.lookup("base_link", "camera_optical_frame", LATEST)
    # camera origin: 0.1 m along arm x, which points along base y after the quarter turn
    np.testing.assert_allclose(t_base_camera[:3, 3], [0.0, 0.1, 0.5], atol=1e-12)


def test_reverse_lookup_is_the_inverse(robot_tree):
    forward = robot_tree.lookup("base_link", "camera_optical_frame", LATEST)
    backward = robot_tree.lookup("camera_optical_frame", "base_link", LATEST)
    np.testing.assert_allclose(forward @ backward, np.eye(4), atol=1e-12)


def test_sibling_lookup_goes_through_the_common_parent(robot_tree):
    t_camera_lidar = robot_tree.lookup("camera_optical_frame", "lidar", LATEST)
    lidar_origin_in_camera = transform_points(t_camera_lidar, np.zeros((1, 3)))[0]
    # lidar origin in base: (1, 0, 0); in arm: rotate by -90 deg about z -> (0, -1, -0.5)
    np.testing.assert_allclose(lidar_origin_in_camera, [-0.1, -1.0, -0.5], atol=1e-6)


def test_same_frame_is_identity(robot_tree):
    np.testing.assert_array_equal(robot_tree.lookup("lidar", "/lidar", LATEST), np.eye(4))


def test_missing_transform_names_both_frames_and_known_ones(robot_tree):
    with pytest.raises(MissingTransform, match=r"'gripper'.*'base_link'.*arm_link"):
        robot_tree.lookup("base_link", "gripper", LATEST)
    assert robot_tree.known_frames() == ["arm_link", "base_link", "camera_optical_frame", "lidar"]


def test_republished_edge_replaces_the_old_one(robot_tree):
    robot_tree.set_transform(stamped("base_link", "lidar", (2.0, 0.0, 0.0), (0, 0, 0, 1)), True)
    np.testing.assert_allclose(
        robot_tree.lookup("base_link", "lidar", LATEST)[:3, 3], [2.0, 0.0, 0.0]
    )


def test_self_edge_is_rejected():
    with pytest.raises(InputError, match="two different"):
        TransformBuffer().set_transform(stamped("a", "a", (0, 0, 0), (0, 0, 0, 1)), True)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-1.0, 1.0), min_size=4, max_size=4).filter(
        lambda q: np.linalg.norm(q) > 0.1
    ),
    st.lists(st.floats(-10.0, 10.0), min_size=3, max_size=3),
)
def test_xyz_quat_text_round_trips(quaternion: list[float], xyz: list[float]) -> None:
    T = make_transform(quaternion_to_matrix(*quaternion), np.asarray(xyz))
    parsed = parse_xyz_quat(format_xyz_quat(T), "tf.x")
    assert parsed is not None
    np.testing.assert_allclose(parsed, T, atol=1e-12)


def test_moving_links_are_interpolated_between_stamps() -> None:
    tree = TransformBuffer()
    tree.set_transform(stamped("base_link", "tool", (0.0, 0.0, 0.0), yaw(0.0), 1.0), False)
    tree.set_transform(stamped("base_link", "tool", (1.0, 0.0, 0.0), yaw(math.pi / 2), 2.0), False)
    halfway = tree.lookup("base_link", "tool", 1_500_000_000)
    np.testing.assert_allclose(halfway[:3, 3], [0.5, 0.0, 0.0], atol=1e-12)
    expected = make_transform(quaternion_to_matrix(*yaw(math.pi / 4)), np.array([0.5, 0, 0]))
    np.testing.assert_allclose(halfway, expected, atol=1e-12)
    with pytest.raises(TransformExtrapolation, match=r"2\.000 s, not at 2\.500 s"):
        tree.lookup("base_link", "tool", 2_500_000_000)
    np.testing.assert_allclose(tree.lookup("base_link", "tool", LATEST)[:3, 3], [1.0, 0.0, 0.0])


def test_full_lookup_moves_a_fixed_lidar_scan_into_a_moving_camera() -> None:
    """Eye-in-hand camera at 0.5 m/s, LiDAR fixed on the base: the scan stamped 50 ms before
    the image must be placed where the camera was at the image stamp."""
    tree = TransformBuffer()
    tree.set_transform(stamped("base_link", "lidar", (0.0, 0.0, 1.0), (0, 0, 0, 1)), True)
    for k in range(11):  # /tf at 100 Hz
        stamp = 1.0 + 0.01 * k
        tree.set_transform(
            stamped("base_link", "camera", (0.5 * stamp, 0, 0), (0, 0, 0, 1), stamp), False
        )
    image_ns, scan_ns = 1_100_000_000, 1_050_000_000
    full = tree.lookup_full("camera", image_ns, "lidar", scan_ns, "base_link")
    np.testing.assert_allclose(full[:3, 3], [-0.55, 0.0, 1.0], atol=1e-9)
    single = tree.lookup("camera", "lidar", scan_ns)  # the camera where it was at the scan
    assert abs(single[0, 3] - full[0, 3]) == pytest.approx(0.025, abs=1e-9)


def test_interpolating_a_rotation_stays_a_rotation() -> None:
    a = make_transform(quaternion_to_matrix(0.1, 0.7, -0.2, 0.6), np.array([1.0, 2.0, 3.0]))
    b = make_transform(quaternion_to_matrix(-0.5, 0.1, 0.3, 0.8), np.array([0.0, 0.0, 0.0]))
    for fraction in (0.0, 0.3, 1.0):
        r = interpolate_transform(a, b, fraction)[:3, :3]
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(interpolate_transform(a, b, 1.0), b, atol=1e-12)

"""Quaternions, transform messages and chained lookups in the static transform buffer."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from geometry_msgs.msg import TransformStamped
from hypothesis import given, settings
from hypothesis import strategies as st

from promptdepth_ros.errors import InputError, MissingTransform
from promptdepth_ros.geometry.transform_tree import StaticTransformBuffer, transform_from_msg
from promptdepth_ros.geometry.transforms import (
    format_xyz_quat,
    make_transform,
    matrix_to_quaternion,
    parse_xyz_quat,
    quaternion_to_matrix,
    transform_points,
)


def stamped(parent: str, child: str, xyz, quat) -> TransformStamped:
    msg = TransformStamped()
    msg.header.frame_id, msg.child_frame_id = parent, child
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
def robot_tree() -> StaticTransformBuffer:
    buffer = StaticTransformBuffer()
    buffer.set_transforms(
        [
            stamped("base_link", "arm_link", (0.0, 0.0, 0.5), yaw(math.pi / 2)),
            stamped("arm_link", "camera_optical_frame", (0.1, 0.0, 0.0), (0, 0, 0, 1)),
            stamped("/base_link", "lidar", (1.0, 0.0, 0.0), yaw(math.pi)),
        ]
    )
    return buffer


def test_chain_lookup_composes_parent_to_child(robot_tree):
    t_base_camera = robot_tree.lookup("base_link", "camera_optical_frame")
    # camera origin: 0.1 m along arm x, which points along base y after the quarter turn
    np.testing.assert_allclose(t_base_camera[:3, 3], [0.0, 0.1, 0.5], atol=1e-12)


def test_reverse_lookup_is_the_inverse(robot_tree):
    forward = robot_tree.lookup("base_link", "camera_optical_frame")
    backward = robot_tree.lookup("camera_optical_frame", "base_link")
    np.testing.assert_allclose(forward @ backward, np.eye(4), atol=1e-12)


def test_sibling_lookup_goes_through_the_common_parent(robot_tree):
    t_camera_lidar = robot_tree.lookup("camera_optical_frame", "lidar")
    lidar_origin_in_camera = transform_points(t_camera_lidar, np.zeros((1, 3)))[0]
    # lidar origin in base: (1, 0, 0); in arm: rotate by -90 deg about z -> (0, -1, -0.5)
    np.testing.assert_allclose(lidar_origin_in_camera, [-0.1, -1.0, -0.5], atol=1e-6)


def test_same_frame_is_identity(robot_tree):
    np.testing.assert_array_equal(robot_tree.lookup("lidar", "/lidar"), np.eye(4))


def test_missing_transform_names_both_frames_and_known_ones(robot_tree):
    with pytest.raises(MissingTransform, match=r"'gripper'.*'base_link'.*arm_link"):
        robot_tree.lookup("base_link", "gripper")
    assert robot_tree.known_frames() == ["arm_link", "base_link", "camera_optical_frame", "lidar"]


def test_republished_edge_replaces_the_old_one(robot_tree):
    robot_tree.set_transform(stamped("base_link", "lidar", (2.0, 0.0, 0.0), (0, 0, 0, 1)))
    np.testing.assert_allclose(robot_tree.lookup("base_link", "lidar")[:3, 3], [2.0, 0.0, 0.0])


def test_self_edge_is_rejected():
    with pytest.raises(InputError, match="two different"):
        StaticTransformBuffer().set_transform(stamped("a", "a", (0, 0, 0), (0, 0, 0, 1)))


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

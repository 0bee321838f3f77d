"""The generated messages import and travel over real DDS; grasps convert to moveit_msgs."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from geometry_msgs.msg import Vector3
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_helpers import ros_session, wait_until
from std_msgs.msg import Header

from promptdepth_ros.grasp.types import Grasp, ScoreTerms
from promptdepth_ros.msg import Grasp as GraspMsg
from promptdepth_ros.msg import GraspArray
from promptdepth_ros.ros.convert.grasps import (
    POST_GRASP_RETREAT_M,
    grasp_array_msg,
    moveit_grasps,
)


def test_grasp_message_fields_are_the_documented_ones() -> None:
    fields = GraspMsg.get_fields_and_field_types()
    assert fields["pose"] == "geometry_msgs/Pose"
    assert fields["approach"] == "geometry_msgs/Vector3"
    for name in ("width", "score", "pre_grasp_distance", "post_grasp_retreat"):
        assert fields[name] == "float"
    assert fields["object_id"] == "int32"
    assert GraspArray.get_fields_and_field_types()["grasps"] == "sequence<promptdepth_ros/Grasp>"


def _grasp() -> Grasp:
    """A grasp approaching along world +z (its x axis), closing along world +x."""
    rotation = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # x = world z
    return Grasp(
        position_m=np.array([0.1, -0.2, 0.3]),
        rotation=rotation,
        width_m=0.05,
        score=0.8,
        object_id=3,
        score_terms=ScoreTerms(0.9, 0.7, 0.6, 0.5),
        pre_grasp_distance_m=0.1,
        contact_depth_m=0.02,
    )


def test_grasp_array_round_trips_over_dds() -> None:
    sent = grasp_array_msg([_grasp()], Header(frame_id="base_link"))
    received: list[GraspArray] = []
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    with ros_session() as (_, node, _nodes):
        node.create_subscription(GraspArray, "/test/grasps", received.append, qos)
        pub = node.create_publisher(GraspArray, "/test/grasps", qos)
        assert wait_until(lambda: pub.get_subscription_count() > 0, 10.0)
        pub.publish(sent)
        assert wait_until(lambda: received, 10.0)
    msg = received[0]
    assert msg.header.frame_id == "base_link"
    (g,) = msg.grasps
    assert (g.pose.position.x, g.pose.position.y, g.pose.position.z) == (0.1, -0.2, 0.3)
    assert g.approach == Vector3(x=0.0, y=0.0, z=1.0)
    assert g.object_id == 3
    assert abs(g.width - 0.05) < 1e-7 and abs(g.score - 0.8) < 1e-7
    assert abs(g.antipodal_score - 0.9) < 1e-7 and abs(g.approach_score - 0.5) < 1e-7
    q = np.array(
        [g.pose.orientation.x, g.pose.orientation.y, g.pose.orientation.z, g.pose.orientation.w]
    )
    assert np.allclose(np.abs(q), [0.5, 0.5, 0.5, 0.5])


def test_moveit_grasps_carry_pose_approach_retreat_and_quality() -> None:
    pytest.importorskip(
        "moveit_msgs",
        reason="moveit_msgs is not installable here (no ros-moveit-msgs Kilted wheel)",
    )
    header = Header(frame_id="base_link")
    (g,) = moveit_grasps([_grasp()], header)
    assert g.id == "object3_grasp0"
    assert g.grasp_pose.header.frame_id == "base_link"
    position = g.grasp_pose.pose.position
    assert (position.x, position.y, position.z) == (0.1, -0.2, 0.3)
    q = g.grasp_pose.pose.orientation
    assert np.allclose(np.abs([q.x, q.y, q.z, q.w]), [0.5, 0.5, 0.5, 0.5])
    approach, retreat = g.pre_grasp_approach, g.post_grasp_retreat
    assert approach.direction.header.frame_id == "base_link"
    assert approach.direction.vector == Vector3(x=0.0, y=0.0, z=1.0)
    # GripperTranslation distances and max_contact_force are float32.
    assert approach.desired_distance == pytest.approx(0.1)
    assert approach.min_distance == pytest.approx(0.05)
    assert retreat.direction.vector == Vector3(x=0.0, y=0.0, z=-1.0)
    assert retreat.desired_distance == pytest.approx(POST_GRASP_RETREAT_M)
    assert retreat.min_distance == pytest.approx(POST_GRASP_RETREAT_M / 2.0)
    assert g.grasp_quality == 0.8
    assert g.max_contact_force == -1.0


def test_moveit_grasps_are_empty_without_moveit_msgs() -> None:
    if importlib.util.find_spec("moveit_msgs") is not None:
        pytest.skip("moveit_msgs is installed; the conversion itself is tested")
    assert moveit_grasps([_grasp()], Header(frame_id="base_link")) == []

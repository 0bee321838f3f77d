"""The generated messages import and travel over real DDS between two nodes."""

from __future__ import annotations

import numpy as np
from geometry_msgs.msg import Vector3
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_helpers import ros_session, wait_until
from std_msgs.msg import Header

from promptdepth_ros.grasp.types import Grasp, ScoreTerms
from promptdepth_ros.msg import Grasp as GraspMsg
from promptdepth_ros.msg import GraspArray
from promptdepth_ros.ros.convert.grasps import grasp_array_msg


def test_grasp_message_fields_are_the_documented_ones() -> None:
    fields = GraspMsg.get_fields_and_field_types()
    assert fields["pose"] == "geometry_msgs/Pose"
    assert fields["approach"] == "geometry_msgs/Vector3"
    for name in ("width", "score", "pre_grasp_distance", "post_grasp_retreat"):
        assert fields[name] == "float"
    assert fields["object_id"] == "int32"
    assert GraspArray.get_fields_and_field_types()["grasps"] == "sequence<promptdepth_ros/Grasp>"


def test_grasp_array_round_trips_over_dds() -> None:
    rotation = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # x = world z
    grasp = Grasp(
        position_m=np.array([0.1, -0.2, 0.3]),
        rotation=rotation,
        width_m=0.05,
        score=0.8,
        object_id=3,
        score_terms=ScoreTerms(0.9, 0.7, 0.6, 0.5),
        pre_grasp_distance_m=0.1,
        contact_depth_m=0.02,
    )
    sent = grasp_array_msg([grasp], Header(frame_id="base_link"))
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

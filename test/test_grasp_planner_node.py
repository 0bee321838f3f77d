"""grasp_planner_node over real DDS: a tabletop cloud in, grasps, poses and markers out."""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseArray
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_helpers import ros_session, wait_until
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import Header
from visualization_msgs.msg import Marker, MarkerArray

from promptdepth_ros.camera.projection import depth_to_points
from promptdepth_ros.geometry.transforms import format_xyz_quat
from promptdepth_ros.msg import GraspArray
from promptdepth_ros.ros.convert.pointcloud import create_xyzrgb_cloud
from promptdepth_ros.ros.grasp_planner_node import GraspPlannerNode
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import default_camera, generate_tabletop_scene

QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def test_planner_node_publishes_sorted_grasps_poses_and_markers_in_the_planning_frame() -> None:
    camera = default_camera(320, 240)
    scene = generate_tabletop_scene(np.random.default_rng(11), camera)
    truth = render(scene)
    T = scene.T_world_camera
    tf_text = format_xyz_quat(T)
    overrides = [
        Parameter("input.reliable_qos", value=True),
        Parameter("planning_frame", value="table"),
        Parameter("tf.fallback_planning_from_camera", value=tf_text),
    ]
    got: dict[str, list] = {"grasps": [], "poses": [], "markers": []}
    with ros_session(lambda ctx: GraspPlannerNode(context=ctx, parameter_overrides=overrides)) as (
        _,
        helper,
        (node,),
    ):
        helper.create_subscription(
            GraspArray, "/grasp_planner_node/grasps", got["grasps"].append, QOS
        )
        helper.create_subscription(
            PoseArray, "/grasp_planner_node/grasp_poses", got["poses"].append, QOS
        )
        helper.create_subscription(
            MarkerArray, "/grasp_planner_node/markers", got["markers"].append, QOS
        )
        pub = helper.create_publisher(PointCloud2, "points", QOS)
        assert wait_until(lambda: pub.get_subscription_count() > 0, 10.0)
        header = Header(stamp=Time(sec=42, nanosec=5), frame_id=camera.frame_id)
        pub.publish(create_xyzrgb_cloud(header, depth_to_points(truth.depth_m, camera), truth.rgb))
        assert wait_until(lambda: got["markers"], 60.0)
        node.release()

    (grasps,), (poses,), (markers,) = got["grasps"], got["poses"], got["markers"]
    for msg in (grasps, poses):
        assert msg.header.frame_id == "table"
        assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (42, 5)
    assert len(grasps.grasps) > 0
    scores = [g.score for g in grasps.grasps]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < g.width <= 0.10 + 1e-6 for g in grasps.grasps)
    assert [p.position for p in poses.poses] == [g.pose.position for g in grasps.grasps]
    for g in grasps.grasps:
        assert g.object_id >= 0
        a = np.array([g.approach.x, g.approach.y, g.approach.z])
        assert abs(np.linalg.norm(a) - 1.0) < 1e-5
        # Every grasp centre lies above the table and inside the table's extent.
        p = g.pose.position
        assert p.z > 0.0 and abs(p.x) < scene.table_extent_m[0] / 2 + 0.1
    kinds = [m.action for m in markers.markers]
    assert kinds[0] == Marker.DELETEALL
    assert len(markers.markers) == 1 + 3 * len(grasps.grasps)
    assert all(m.header.frame_id == "table" for m in markers.markers[1:])

"""Grasps ↔ messages: GraspArray, PoseArray, RViz MarkerArray (and moveit_msgs/Grasp)."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

import numpy as np
from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Point, Pose, PoseArray, Quaternion, Vector3
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from promptdepth_ros.grasp.types import Grasp, GripperModel
from promptdepth_ros.msg import Grasp as GraspMsg
from promptdepth_ros.msg import GraspArray
from promptdepth_ros.ros.convert.stamps import duration_msg

POST_GRASP_RETREAT_M = 0.10


def grasp_pose(grasp: Grasp) -> Pose:
    """geometry_msgs/Pose of the grasp frame, at the user's TCP (promptdepth_ros.grasp.types)."""
    x, y, z = (float(v) for v in grasp.tcp_position_m())
    qx, qy, qz, qw = (float(v) for v in grasp.quaternion_xyzw())
    return Pose(position=Point(x=x, y=y, z=z), orientation=Quaternion(x=qx, y=qy, z=qz, w=qw))


def grasp_array_msg(grasps: Sequence[Grasp], header: Any) -> GraspArray:
    """GraspArray of ``grasps`` (kept in their order, best first) with ``header``."""
    out = GraspArray(header=header)
    for g in grasps:
        ax, ay, az = (float(v) for v in g.approach)
        out.grasps.append(
            GraspMsg(
                pose=grasp_pose(g),
                approach=Vector3(x=ax, y=ay, z=az),
                width=float(g.width_m),
                score=float(g.score),
                antipodal_score=float(g.score_terms.antipodal),
                support_score=float(g.score_terms.support),
                symmetry_score=float(g.score_terms.symmetry),
                approach_score=float(g.score_terms.approach),
                object_id=int(g.object_id),
                pre_grasp_distance=float(g.pre_grasp_distance_m),
                post_grasp_retreat=POST_GRASP_RETREAT_M,
            )
        )
    return out


def pose_array_msg(grasps: Sequence[Grasp], header: Any) -> PoseArray:
    """PoseArray of the grasp frames."""
    return PoseArray(header=header, poses=[grasp_pose(g) for g in grasps])


def _score_colour(score: float) -> ColorRGBA:
    s = float(np.clip(score, 0.0, 1.0))
    return ColorRGBA(r=1.0 - s, g=s, b=0.1, a=0.8)


def _box(
    header: Any,
    ns: str,
    marker_id: int,
    grasp: Grasp,
    centre_g: np.ndarray,
    size: tuple[float, float, float],
    lifetime: Duration,
) -> Marker:
    centre = grasp.position_m + grasp.rotation @ centre_g
    pose = grasp_pose(grasp)
    pose.position = Point(x=float(centre[0]), y=float(centre[1]), z=float(centre[2]))
    return Marker(
        header=header,
        ns=ns,
        id=marker_id,
        type=Marker.CUBE,
        action=Marker.ADD,
        pose=pose,
        scale=Vector3(x=size[0], y=size[1], z=size[2]),
        color=_score_colour(grasp.score),
        lifetime=lifetime,
    )


def marker_array_msg(
    grasps: Sequence[Grasp], header: Any, gripper: GripperModel, lifetime_s: float = 0.0
) -> MarkerArray:
    """RViz markers: each gripper as two finger boxes and a palm box, coloured by score.

    Starts with a DELETEALL so markers of a previous plan disappear.
    """
    lifetime = duration_msg(lifetime_s)
    markers = [Marker(header=header, action=Marker.DELETEALL)]
    fd, ft, fw = gripper.finger_depth_m, gripper.finger_thickness_m, gripper.finger_width_m
    for i, g in enumerate(grasps):
        x_pad = g.contact_depth_m - fd / 2.0
        half = g.width_m / 2.0 + ft / 2.0
        x_palm = g.contact_depth_m - fd - gripper.palm_depth_m / 2.0
        palm_y = g.width_m + 2.0 * ft
        markers += [
            _box(
                header, "fingers", 2 * i, g, np.array([x_pad, -half, 0.0]), (fd, ft, fw), lifetime
            ),
            _box(
                header,
                "fingers",
                2 * i + 1,
                g,
                np.array([x_pad, half, 0.0]),
                (fd, ft, fw),
                lifetime,
            ),
            _box(
                header,
                "palm",
                i,
                g,
                np.array([x_palm, 0.0, 0.0]),
                (gripper.palm_depth_m, palm_y, fw),
                lifetime,
            ),
        ]
    return MarkerArray(markers=markers)


def grasp_plan_messages(
    grasps: Sequence[Grasp], header: Any, gripper: GripperModel, markers_lifetime_s: float = 0.0
) -> tuple[GraspArray, PoseArray, MarkerArray]:
    """~/grasps, ~/grasp_poses and ~/markers of one plan (best first), all with ``header``.

    The grasp planner node and the offline bag tool both publish these, so they agree.
    """
    return (
        grasp_array_msg(grasps, header),
        pose_array_msg(grasps, header),
        marker_array_msg(grasps, header, gripper, markers_lifetime_s),
    )


def moveit_grasps(grasps: Sequence[Grasp], header: Any) -> list[Any]:
    """moveit_msgs/Grasp list for a MoveIt pick pipeline; [] when moveit_msgs is absent.

    grasp_pose is the grasp frame; approach along +X for the pre-grasp distance, retreat
    along -X; the gripper postures are left for the robot's MoveIt config to fill.
    """
    if importlib.util.find_spec("moveit_msgs") is None:
        return []
    from geometry_msgs.msg import PoseStamped, Vector3Stamped
    from moveit_msgs.msg import Grasp as MoveItGrasp
    from moveit_msgs.msg import GripperTranslation

    out = []
    for i, g in enumerate(grasps):
        ax, ay, az = (float(v) for v in g.approach)
        approach = GripperTranslation(
            direction=Vector3Stamped(header=header, vector=Vector3(x=ax, y=ay, z=az)),
            desired_distance=float(g.pre_grasp_distance_m),
            min_distance=float(g.pre_grasp_distance_m) / 2.0,
        )
        retreat = GripperTranslation(
            direction=Vector3Stamped(header=header, vector=Vector3(x=-ax, y=-ay, z=-az)),
            desired_distance=POST_GRASP_RETREAT_M,
            min_distance=POST_GRASP_RETREAT_M / 2.0,
        )
        out.append(
            MoveItGrasp(
                id=f"object{g.object_id}_grasp{i}",
                grasp_pose=PoseStamped(header=header, pose=grasp_pose(g)),
                grasp_quality=float(g.score),
                pre_grasp_approach=approach,
                post_grasp_retreat=retreat,
                max_contact_force=-1.0,
            )
        )
    return out

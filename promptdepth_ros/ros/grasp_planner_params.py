"""grasp_planner_node's parameters and the planner configuration they build (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promptdepth_ros.grasp.types import GraspPlannerConfig, GripperModel
from promptdepth_ros.settings import COMMON_PARAMS, ParamSpec

GRASP_PLANNER_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "planning_frame",
        "base_link",
        "Z-up frame to plan in (e.g. base_link); the cloud is transformed into it",
        read_only=True,
    ),
    ParamSpec(
        "max_rate_hz",
        2.0,
        "Plan at most this often; clouds arriving meanwhile replace each other and the newest "
        "is planned next (0 = plan as fast as the planner runs)",
        low=0.0,
        high=1000.0,
    ),
    ParamSpec(
        "tf.fallback_planning_from_camera",
        "",
        "Extrinsic used when TF has none: 'x y z qx qy qz qw' of the cloud frame in the "
        "planning frame; empty = require TF",
    ),
    ParamSpec("tf.timeout_s", 0.1, "How long to wait for a TF lookup, seconds", low=0.0, high=5.0),
    ParamSpec(
        "grasp.workspace_min_m",
        [-0.6, -0.6, -0.05],
        "Workspace box corner (planning frame), metres",
        length=(3,),
    ),
    ParamSpec(
        "grasp.workspace_max_m",
        [0.6, 0.6, 0.5],
        "Opposite workspace box corner, metres",
        length=(3,),
    ),
    ParamSpec("grasp.max_opening_m", 0.10, "Largest gripper opening, metres", low=0.005, high=0.5),
    ParamSpec(
        "grasp.finger_depth_m",
        0.04,
        "Finger pad length along the approach, metres",
        low=0.005,
        high=0.3,
    ),
    ParamSpec(
        "grasp.finger_thickness_m",
        0.01,
        "Finger thickness along closing, metres",
        low=0.001,
        high=0.1,
    ),
    ParamSpec("grasp.finger_width_m", 0.02, "Finger width, metres", low=0.001, high=0.2),
    ParamSpec(
        "grasp.approach_distance_m",
        0.10,
        "Pre-grasp back-off along -approach that must be collision free, metres",
        low=0.0,
        high=1.0,
    ),
    ParamSpec(
        "grasp.voxel_size_m",
        0.005,
        "Voxel size of the downsampled cloud, metres",
        low=0.001,
        high=0.1,
    ),
    ParamSpec(
        "grasp.plane_distance_m",
        0.01,
        "RANSAC inlier distance of the support plane",
        low=0.001,
        high=0.1,
    ),
    ParamSpec(
        "grasp.cluster_eps_m",
        0.012,
        "Neighbourhood radius of the Euclidean object clustering, metres",
        low=0.001,
        high=0.2,
    ),
    ParamSpec(
        "grasp.cluster_min_points", 20, "Smallest object cluster, points", low=3, high=100000
    ),
    ParamSpec(
        "grasp.friction_coefficient",
        0.4,
        "Friction coefficient of the friction cone",
        low=0.05,
        high=2.0,
    ),
    ParamSpec("grasp.top_k_per_object", 5, "Grasps kept per object", low=1, high=100),
    ParamSpec("grasp.top_k_total", 20, "Grasps published in total", low=1, high=1000),
    ParamSpec(
        "grasp.preferred_approach",
        [0.0, 0.0, -1.0],
        "Preferred approach direction in the planning frame (unit vector)",
        length=(3,),
    ),
    ParamSpec(
        "grasp.max_cloud_points",
        300000,
        "Clouds larger than this are subsampled",
        low=1000,
        high=50_000_000,
    ),
    ParamSpec(
        "markers.lifetime_s",
        0.0,
        "Lifetime of the RViz markers (0 = forever)",
        low=0.0,
        high=3600.0,
    ),
    *COMMON_PARAMS,
)


def grasp_config_from_params(values: Mapping[str, Any]) -> GraspPlannerConfig:
    """GraspPlannerConfig from validated grasp_planner_node parameter values."""
    gripper = GripperModel(
        max_opening_m=values["grasp.max_opening_m"],
        finger_depth_m=values["grasp.finger_depth_m"],
        finger_thickness_m=values["grasp.finger_thickness_m"],
        finger_width_m=values["grasp.finger_width_m"],
        approach_distance_m=values["grasp.approach_distance_m"],
    )
    return GraspPlannerConfig(
        workspace_min_m=tuple(values["grasp.workspace_min_m"]),
        workspace_max_m=tuple(values["grasp.workspace_max_m"]),
        gripper=gripper,
        voxel_size_m=values["grasp.voxel_size_m"],
        plane_distance_m=values["grasp.plane_distance_m"],
        cluster_eps_m=values["grasp.cluster_eps_m"],
        cluster_min_points=values["grasp.cluster_min_points"],
        friction_coefficient=values["grasp.friction_coefficient"],
        top_k_per_object=values["grasp.top_k_per_object"],
        top_k_total=values["grasp.top_k_total"],
        preferred_approach=tuple(values["grasp.preferred_approach"]),
        max_cloud_points=values["grasp.max_cloud_points"],
    )

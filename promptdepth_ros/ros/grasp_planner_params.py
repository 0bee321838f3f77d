"""grasp_planner_node's parameters, composed from the configs that declare them (pure).

Node-only settings live in :class:`GraspPlannerNodeConfig`; ``grasp.*`` come from
:class:`GraspPlannerConfig` (gripper dimensions included, ``grasp.weights.*`` the score weights).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from promptdepth_ros.grasp.types import GraspPlannerConfig
from promptdepth_ros.ros.common_params import CommonNodeConfig
from promptdepth_ros.settings import (
    ParamSpec,
    check_settings,
    config_from_params,
    parameter_specs,
    setting,
)


@dataclass(frozen=True)
class GraspPlannerNodeConfig:
    """grasp_planner_node's own settings: planning frame, mode, rate, service, TF and markers."""

    planning_frame: str = setting(
        "base_link",
        "Z-up frame to plan in (e.g. base_link); the cloud is transformed into it",
        read_only=True,
    )
    mode: Literal["continuous", "on_demand"] = setting(
        "continuous",
        "continuous: plan the incoming clouds (at most max_rate_hz); on_demand: only keep the "
        "newest cloud and plan when ~/plan_grasps is called (the service works in both modes)",
    )
    max_rate_hz: float = setting(
        2.0,
        "Plan at most this often; clouds arriving meanwhile replace each other and the newest "
        "is planned next (0 = plan as fast as the planner runs)",
        low=0.0,
        high=1000.0,
    )
    service_wait_timeout_s: float = setting(
        2.0,
        "How long ~/plan_grasps waits for a cloud the request accepts when there is none yet "
        "or the newest is too old, seconds",
        low=0.0,
        high=60.0,
        name="service.wait_timeout_s",
    )
    tf_fallback_planning_from_camera: str = setting(
        "",
        "Extrinsic used when TF has none: 'x y z qx qy qz qw' of the cloud frame in the "
        "planning frame; empty = require TF",
        name="tf.fallback_planning_from_camera",
    )
    tf_timeout_s: float = setting(
        0.1, "How long to wait for a TF lookup, seconds", low=0.0, high=5.0, name="tf.timeout_s"
    )
    markers_lifetime_s: float = setting(
        0.0,
        "Lifetime of the RViz markers (0 = forever)",
        low=0.0,
        high=3600.0,
        name="markers.lifetime_s",
    )

    def __post_init__(self) -> None:
        check_settings(self)


GRASP_PLANNER_PARAMS: tuple[ParamSpec, ...] = (
    *parameter_specs(GraspPlannerNodeConfig),
    *parameter_specs(GraspPlannerConfig, "grasp."),
    *parameter_specs(CommonNodeConfig),
)


def grasp_config_from_params(values: Mapping[str, Any]) -> GraspPlannerConfig:
    """GraspPlannerConfig from validated grasp_planner_node parameter values."""
    config: GraspPlannerConfig = config_from_params(GraspPlannerConfig, values, "grasp.")
    return config

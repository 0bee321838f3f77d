"""Gripper model, planner configuration and grasp results of the parallel-jaw grasp planner.

Grasp frame convention (used by every module of :mod:`promptdepth_ros.grasp`):

* origin: on the closing line, midway between the two finger contact centres;
* +X: approach direction (palm -> object);
* +Y: closing direction (from one finger to the other);
* +Z: X x Y (along the finger width).

In this frame the fingertips sit at ``x = contact_depth_m`` (the contacts are
``contact_depth_m`` behind the tips) and each finger pad spans
``x in [contact_depth_m - finger_depth_m, contact_depth_m]``, ``|z| <= finger_width_m / 2``;
the inner pad faces are at ``y = +-width_m / 2``. The palm lies behind the pads. The
pre-grasp pose is the grasp pose moved ``approach_distance_m`` back along -X.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.errors import ConfigError
from promptdepth_ros.geometry.transforms import matrix_to_quaternion


def _require(name: str, value: float, low: float, high: float = np.inf) -> None:
    if not np.isfinite(value) or not low < value <= high:
        raise ConfigError(f"{name} must be in ({low}, {high}], got {value}")


@dataclass(frozen=True)
class GripperModel:
    """Parallel-jaw gripper geometry, metres (see the module docstring for the frame)."""

    max_opening_m: float = 0.10
    finger_depth_m: float = 0.04  # pad length along X
    finger_thickness_m: float = 0.01  # along Y
    finger_width_m: float = 0.02  # along Z
    palm_depth_m: float = 0.02  # along X
    palm_width_m: float = 0.12  # along Y
    palm_height_m: float = 0.03  # along Z
    approach_distance_m: float = 0.10

    def __post_init__(self) -> None:
        for name in (
            "max_opening_m",
            "finger_depth_m",
            "finger_thickness_m",
            "finger_width_m",
            "palm_depth_m",
            "palm_height_m",
        ):
            _require(f"gripper.{name}", getattr(self, name), 0.0, 1.0)
        _require("gripper.approach_distance_m", self.approach_distance_m, -1e-12, 1.0)
        outer = self.max_opening_m + 2.0 * self.finger_thickness_m
        if not outer - 1e-9 <= self.palm_width_m <= 2.0:
            raise ConfigError(
                f"gripper.palm_width_m must be in [{outer:.3f}, 2.0] (max opening plus both "
                f"fingers), got {self.palm_width_m}"
            )


@dataclass(frozen=True)
class ScoreWeights:
    """Non-negative weights of the score terms (normalised by their sum)."""

    antipodal: float = 0.4
    support: float = 0.15
    symmetry: float = 0.25
    approach: float = 0.2

    def __post_init__(self) -> None:
        values = (self.antipodal, self.support, self.symmetry, self.approach)
        if min(values) < 0.0 or sum(values) <= 0.0 or not np.all(np.isfinite(values)):
            raise ConfigError(f"score weights must be >= 0 with a positive sum, got {values}")


@dataclass(frozen=True)
class GraspPlannerConfig:
    """Everything the planner needs besides the cloud; lengths in metres, planning frame z-up."""

    workspace_min_m: tuple[float, float, float] = (-1.0, -1.0, -0.1)
    workspace_max_m: tuple[float, float, float] = (1.0, 1.0, 1.0)
    gripper: GripperModel = field(default_factory=GripperModel)
    voxel_size_m: float = 0.005
    plane_distance_m: float = 0.01
    cluster_eps_m: float = 0.012
    cluster_min_points: int = 20
    split_concave: bool = True  # cut clusters at concave creases (touching objects)
    friction_coefficient: float = 0.4
    width_margin_m: float = 0.01  # added to the measured contact distance (both sides together)
    table_clearance_m: float = 0.005  # fingertips stay this far above the support plane
    collision_margin_m: float = 0.0015  # gripper boxes grow by this (not into the closing gap)
    n_candidates: int = 300  # per object, before collision checks
    top_k_per_object: int = 5
    top_k_total: int = 20
    preferred_approach: tuple[float, float, float] = (0.0, 0.0, -1.0)
    weights: ScoreWeights = field(default_factory=ScoreWeights)
    max_cloud_points: int = 300_000

    def __post_init__(self) -> None:
        lo, hi = np.asarray(self.workspace_min_m, float), np.asarray(self.workspace_max_m, float)
        if lo.shape != (3,) or hi.shape != (3,) or not np.all(lo < hi):
            raise ConfigError(
                "workspace_min_m / workspace_max_m must be 3-vectors with min < max on every "
                f"axis, got {self.workspace_min_m} / {self.workspace_max_m}"
            )
        _require("voxel_size_m", self.voxel_size_m, 0.0, 0.1)
        _require("plane_distance_m", self.plane_distance_m, 0.0, 0.1)
        _require("cluster_eps_m", self.cluster_eps_m, self.voxel_size_m, 0.2)
        _require("friction_coefficient", self.friction_coefficient, 0.0, 10.0)
        _require("width_margin_m", self.width_margin_m, -1e-12, self.gripper.max_opening_m)
        _require("table_clearance_m", self.table_clearance_m, -1e-12, 0.1)
        _require("collision_margin_m", self.collision_margin_m, -1e-12, 0.05)
        for name in (
            "cluster_min_points",
            "n_candidates",
            "top_k_per_object",
            "top_k_total",
            "max_cloud_points",
        ):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
        approach = np.asarray(self.preferred_approach, float)
        if approach.shape != (3,) or abs(np.linalg.norm(approach) - 1.0) > 1e-3:
            raise ConfigError(
                f"preferred_approach must be a unit 3-vector, got {self.preferred_approach}"
            )

    @property
    def friction_angle_rad(self) -> float:
        """Half-angle of the friction cone, atan(mu), radians."""
        return float(np.arctan(self.friction_coefficient))


@dataclass(frozen=True)
class ScoreTerms:
    """Score terms of one grasp, each in [0, 1] (see :mod:`promptdepth_ros.grasp.scoring`)."""

    antipodal: float
    support: float
    symmetry: float
    approach: float


@dataclass(frozen=True)
class Grasp:
    """One parallel-jaw grasp in the planning frame.

    position_m: (3,) float64 grasp-frame origin, metres.
    rotation: (3, 3) float64, columns = grasp X (approach), Y (closing), Z axes.
    width_m: finger opening to command before closing, metres (<= max opening).
    contact_depth_m: distance from the fingertips back to the contacts along X, metres.
    """

    position_m: NDArray[np.float64]
    rotation: NDArray[np.float64]
    width_m: float
    score: float
    object_id: int
    score_terms: ScoreTerms
    pre_grasp_distance_m: float
    contact_depth_m: float

    @property
    def approach(self) -> NDArray[np.float64]:
        """Unit approach direction (+X), (3,)."""
        return self.rotation[:, 0]

    @property
    def closing(self) -> NDArray[np.float64]:
        """Unit closing direction (+Y), (3,)."""
        return self.rotation[:, 1]

    def pre_grasp_position(self) -> NDArray[np.float64]:
        """Origin of the pre-grasp pose, (3,) metres: ``pre_grasp_distance_m`` back along -X."""
        return self.position_m - self.pre_grasp_distance_m * self.rotation[:, 0]

    def quaternion_xyzw(self) -> NDArray[np.float64]:
        """Orientation as a unit quaternion (4,) (x, y, z, w), w >= 0."""
        return np.asarray(matrix_to_quaternion(self.rotation), np.float64)

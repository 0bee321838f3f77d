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

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.errors import ConfigError
from promptdepth_ros.geometry.transforms import matrix_to_quaternion
from promptdepth_ros.grasp.gripper_presets import DIMENSION_FIELDS, PRESETS, GripperPreset
from promptdepth_ros.settings import check_settings, group, setting

_SMALLEST_DIMENSION_M = 0.001


def _length(value: float, description: str, low: float, high: float) -> Any:
    """A length setting in metres."""
    return setting(value, description + ", metres", low=low, high=high)


@dataclass(frozen=True)
class GripperModel:
    """Parallel-jaw gripper geometry, metres (see the module docstring for the frame).

    Dimensions left at 0 come from ``preset``; a dimension set explicitly wins over it.
    """

    preset: GripperPreset = setting(
        "generic_100mm",
        "Gripper whose datasheet dimensions fill every dimension left at 0 (see the README)",
    )
    max_opening_m: float = _length(0.0, "Largest gripper opening (0 = the preset's)", 0.0, 0.5)
    finger_depth_m: float = _length(
        0.0, "Finger pad length along the approach (0 = the preset's)", 0.0, 0.3
    )
    finger_thickness_m: float = _length(
        0.0, "Finger thickness along closing (0 = the preset's)", 0.0, 0.1
    )
    finger_width_m: float = _length(
        0.0, "Finger width across closing (0 = the preset's)", 0.0, 0.2
    )
    palm_depth_m: float = _length(
        0.0, "Palm depth along the approach, behind the pads (0 = the preset's)", 0.0, 0.5
    )
    palm_width_m: float = _length(
        0.0,
        "Palm width along closing (0 = the preset's; the opening plus both fingers if it has "
        "none); at least that",
        0.0,
        2.0,
    )
    palm_height_m: float = _length(0.0, "Palm height across closing (0 = the preset's)", 0.0, 0.5)
    tcp_depth_m: float = _length(
        0.0,
        "Published grasp poses sit this far behind the fingertips along the approach (the "
        "user's TCP; 0 = between the fingertips, or the preset's)",
        0.0,
        0.5,
    )
    approach_distance_m: float = _length(
        0.10, "Pre-grasp back-off along -approach that must be collision free", 0.0, 1.0
    )

    def __post_init__(self) -> None:
        check_settings(self)
        # dimensions left at 0 take the preset's value (frozen: set once, here)
        for name in DIMENSION_FIELDS:
            if getattr(self, name) == 0.0:
                object.__setattr__(self, name, PRESETS[self.preset][name])
        for name in (*DIMENSION_FIELDS[:5], "palm_height_m"):
            if getattr(self, name) < _SMALLEST_DIMENSION_M:
                raise ConfigError(f"{name} must be at least 1 mm, got {getattr(self, name)}")
        if 0.0 < self.palm_width_m < self.outer_width_m - 1e-9:
            raise ConfigError(
                f"palm_width_m must be 0 or at least max_opening_m + 2 * finger_thickness_m "
                f"= {self.outer_width_m:.3f}, got {self.palm_width_m}"
            )

    @property
    def outer_width_m(self) -> float:
        """Width across both fingers at the largest opening, metres."""
        return self.max_opening_m + 2.0 * self.finger_thickness_m

    @property
    def palm_span_m(self) -> float:
        """Palm width used for collisions: ``palm_width_m``, or the outer width when 0."""
        return self.palm_width_m or self.outer_width_m


def _weight(value: float, term: str) -> Any:
    """A score-term weight setting."""
    return setting(value, f"Weight of the {term} score term", low=0.0, high=100.0)


@dataclass(frozen=True)
class ScoreWeights:
    """Non-negative weights of the score terms (normalised by their sum)."""

    antipodal: float = _weight(0.4, "friction-cone antipodality")
    support: float = _weight(0.15, "surface support between the fingers")
    symmetry: float = _weight(0.25, "closeness to the object's symmetry centre")
    approach: float = _weight(0.2, "agreement with the preferred approach")

    def __post_init__(self) -> None:
        check_settings(self)
        if self.antipodal + self.support + self.symmetry + self.approach <= 0.0:
            raise ConfigError("the score weights must have a positive sum")


@dataclass(frozen=True)
class GraspPlannerConfig:
    """Everything the planner needs besides the cloud; lengths in metres, planning frame z-up."""

    workspace_min_m: tuple[float, float, float] = setting(
        (-0.6, -0.6, -0.05), "Workspace box corner (planning frame), metres"
    )
    workspace_max_m: tuple[float, float, float] = setting(
        (0.6, 0.6, 0.5), "Opposite workspace box corner, metres"
    )
    gripper: GripperModel = group(GripperModel)
    voxel_size_m: float = _length(0.005, "Voxel size of the downsampled cloud", 0.001, 0.1)
    plane_distance_m: float = _length(
        0.01,
        "RANSAC inlier distance of the support plane (the object band comes from its noise)",
        0.001,
        0.1,
    )
    plane_noise_sigmas: float = setting(
        3.0,
        "Points higher than this many noise standard deviations of the plane fit are objects",
        low=1.0,
        high=20.0,
    )
    min_object_height_m: float = _length(
        0.002, "Lowest object band above the plane (clean depth)", 0.0005, 0.05
    )
    cluster_eps_m: float = _length(
        0.012, "Neighbourhood radius of the Euclidean object clustering", 0.001, 0.2
    )
    cluster_min_points: int = setting(20, "Smallest object cluster, points", low=3, high=100000)
    split_concave: bool = setting(
        True, "Cut clusters at concave creases, so touching objects stay apart"
    )
    friction_coefficient: float = setting(
        0.4, "Friction coefficient of the friction cone", low=0.05, high=2.0
    )
    width_margin_m: float = _length(
        0.01, "Added to the measured contact distance (both sides together)", 0.0, 0.1
    )
    min_width_clearance_m: float = _length(
        0.0015,
        "Least opening beyond the measured contact distance; the margin shrinks to it near the "
        "largest opening",
        0.0,
        0.05,
    )
    table_clearance_m: float = _length(
        0.002, "Fingertips stay this far above the support plane", 0.0, 0.1
    )
    collision_margin_m: float = _length(
        0.0025, "Gripper boxes grow by this (not into the closing gap)", 0.0, 0.05
    )
    n_candidates: int = setting(
        300, "Candidates per object before collision checks", low=1, high=100000
    )
    top_k_per_object: int = setting(5, "Grasps kept per object", low=1, high=100)
    top_k_total: int = setting(20, "Grasps published in total", low=1, high=1000)
    preferred_approach: tuple[float, float, float] = setting(
        (0.0, 0.0, -1.0), "Preferred approach direction in the planning frame (unit vector)"
    )
    weights: ScoreWeights = group(ScoreWeights, "weights.")
    max_cloud_points: int = setting(
        300000, "Clouds larger than this are subsampled", low=1000, high=50_000_000
    )

    def __post_init__(self) -> None:
        check_settings(self)
        lo, hi = np.asarray(self.workspace_min_m, float), np.asarray(self.workspace_max_m, float)
        if not np.all(lo < hi):
            raise ConfigError(
                "workspace_min_m must be below workspace_max_m on every axis, got "
                f"{self.workspace_min_m} / {self.workspace_max_m}"
            )
        if self.cluster_eps_m <= self.voxel_size_m:
            raise ConfigError(
                f"cluster_eps_m ({self.cluster_eps_m}) must be > voxel_size_m "
                f"({self.voxel_size_m})"
            )
        if self.width_margin_m >= self.gripper.max_opening_m:
            raise ConfigError(
                f"width_margin_m ({self.width_margin_m}) must be < max_opening_m "
                f"({self.gripper.max_opening_m})"
            )
        if self.min_width_clearance_m > self.width_margin_m:
            raise ConfigError(
                f"min_width_clearance_m ({self.min_width_clearance_m}) must be <= "
                f"width_margin_m ({self.width_margin_m})"
            )
        approach = np.asarray(self.preferred_approach, float)
        if abs(np.linalg.norm(approach) - 1.0) > 1e-3:
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
    tcp_offset_m: the user's TCP (published pose) lies this far along +X from position_m.
    """

    position_m: NDArray[np.float64]
    rotation: NDArray[np.float64]
    width_m: float
    score: float
    object_id: int
    score_terms: ScoreTerms
    pre_grasp_distance_m: float
    contact_depth_m: float
    tcp_offset_m: float = 0.0

    @property
    def approach(self) -> NDArray[np.float64]:
        """Unit approach direction (+X), (3,)."""
        return self.rotation[:, 0]

    @property
    def closing(self) -> NDArray[np.float64]:
        """Unit closing direction (+Y), (3,)."""
        return self.rotation[:, 1]

    def tcp_position_m(self) -> NDArray[np.float64]:
        """Where the user's TCP goes, (3,) metres: the published pose's origin."""
        return self.position_m + self.tcp_offset_m * self.rotation[:, 0]

    def pre_grasp_position(self) -> NDArray[np.float64]:
        """TCP of the pre-grasp pose, (3,) metres: ``pre_grasp_distance_m`` back along -X."""
        return self.tcp_position_m() - self.pre_grasp_distance_m * self.rotation[:, 0]

    def quaternion_xyzw(self) -> NDArray[np.float64]:
        """Orientation as a unit quaternion (4,) (x, y, z, w), w >= 0."""
        return np.asarray(matrix_to_quaternion(self.rotation), np.float64)

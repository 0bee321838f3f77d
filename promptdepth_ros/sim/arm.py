"""An eye-in-hand camera carried by an arm: its pose at any time, for moving-camera bags."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.errors import ConfigError


@dataclass(frozen=True)
class ArmStroke:
    """The camera moved back and forth along a straight line at constant speed.

    T_base_start: (4, 4) float64 pose of the camera optical frame in ``base_link`` at t = 0.
    direction: (3,) direction of travel in ``base_link`` (normalised on use).
    speed_mps: speed along the line, m/s; travel_m: length of one stroke, metres (the camera
    turns back at its ends). The orientation does not change.
    """

    T_base_start: NDArray[np.float64]
    direction: tuple[float, float, float]
    speed_mps: float = 0.5
    travel_m: float = 0.4

    def __post_init__(self) -> None:
        if np.shape(self.T_base_start) != (4, 4):
            raise ConfigError(f"T_base_start must be 4x4, got {np.shape(self.T_base_start)}")
        if not (self.speed_mps > 0.0 and self.travel_m > 0.0):
            raise ConfigError(
                f"speed_mps and travel_m must be > 0, got {self.speed_mps}, {self.travel_m}"
            )
        if not np.linalg.norm(self.direction) > 0.0:
            raise ConfigError(f"direction must be a non-zero vector, got {self.direction}")

    def offset_m(self, t_s: float) -> float:
        """Distance from the start along the line at ``t_s`` seconds (a triangle wave)."""
        period = 2.0 * self.travel_m
        s = (self.speed_mps * t_s) % period
        return s if s <= self.travel_m else period - s

    def T_base_camera(self, t_s: float) -> NDArray[np.float64]:  # noqa: N802 - T_a_b naming
        """(4, 4) pose of the camera optical frame in ``base_link`` at ``t_s`` seconds."""
        unit = np.asarray(self.direction, np.float64) / np.linalg.norm(self.direction)
        pose = np.array(self.T_base_start, np.float64)
        pose[:3, 3] += self.offset_m(t_s) * unit
        return pose

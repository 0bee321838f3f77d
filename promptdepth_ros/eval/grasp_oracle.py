"""Brute-force search for a grasp that passes :func:`~promptdepth_ros.eval.grasp_check.check_grasp`
on the true shapes: the ceiling the evaluation's scenes allow, and a test that they are fair.

Candidates: approaches straight down, tilted 45 degrees and horizontal (8 azimuths each),
closing lines every 15 degrees about the approach through the object's vertical centre line at
15 heights, contact depths from 1 mm to the finger depth (mid-pad first), openings from the
largest down.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.eval.grasp_check import Verdict, check_grasp
from promptdepth_ros.grasp.types import Grasp, GripperModel, ScoreTerms
from promptdepth_ros.sim.scene import Primitive

_AZIMUTHS = np.deg2rad(np.arange(0.0, 360.0, 45.0))
_CLOSING_ANGLES = np.deg2rad(np.arange(0.0, 180.0, 15.0))
_HEIGHTS = 15
_DEPTH_FRACTIONS = (0.5, 0.25, 0.75, 0.1, 1.0, 0.025)  # mid-pad contacts first
_WIDTH_FRACTIONS = (1.0, 0.8, 0.6, 0.45, 0.3, 0.2, 0.12)
# verdicts that no contact depth or smaller opening can turn into a success
_LINE_FAILURES = (Verdict.NO_CONTACT, Verdict.OUTSIDE_CONE, Verdict.TOO_WIDE)


def _approaches() -> Iterator[NDArray[np.float64]]:
    yield np.array([0.0, 0.0, -1.0])
    for tilt in (np.deg2rad(45.0), 0.0):
        for azimuth in _AZIMUTHS:
            horizontal = np.array([np.cos(azimuth), np.sin(azimuth), 0.0])
            yield np.cos(tilt) * horizontal - np.array([0.0, 0.0, np.sin(tilt)])


def _rotations(approach: NDArray[np.float64]) -> Iterator[NDArray[np.float64]]:
    helper = np.array([1.0, 0.0, 0.0]) if abs(approach[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    first = np.cross(approach, helper)
    first /= np.linalg.norm(first)
    second = np.cross(approach, first)
    for angle in _CLOSING_ANGLES:
        closing = np.cos(angle) * first + np.sin(angle) * second
        yield np.stack([approach, closing, np.cross(approach, closing)], axis=1)


def _vertical_extent(target: Primitive) -> tuple[float, float]:
    """Lowest and highest z (m) of the target, from its signed distance on its centre line."""
    centre = target.T_world_object[:3, 3]
    zs = centre[2] + np.linspace(-0.3, 0.3, 6001)
    points = np.column_stack([np.full_like(zs, centre[0]), np.full_like(zs, centre[1]), zs])
    inside = zs[target.signed_distance(points) <= 0.0]
    return float(inside.min()), float(inside.max())


def _grasp(
    centre: NDArray[np.float64],
    rotation: NDArray[np.float64],
    width: float,
    depth: float,
    gripper: GripperModel,
) -> Grasp:
    terms = ScoreTerms(0.0, 0.0, 0.0, 0.0)
    return Grasp(centre, rotation, width, 0.0, 0, terms, gripper.approach_distance_m, depth)


def _closing_lines(target: Primitive) -> Iterator[tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """(centre (3,), rotation (3, 3)) of every candidate closing line, in search order."""
    low, high = _vertical_extent(target)
    heights = np.linspace(low + 0.2 * (high - low) / _HEIGHTS, high, _HEIGHTS, endpoint=False)
    centre_xy = target.T_world_object[:2, 3]
    for approach in _approaches():
        for rotation in _rotations(approach):
            for z in heights:
                yield np.array([*centre_xy, z]), rotation


def find_valid_grasp(
    target: Primitive, solids: tuple[Primitive, ...], gripper: GripperModel
) -> Grasp | None:
    """The first candidate grasp on ``target`` that the check accepts, or None."""
    mid_pad = 0.5 * gripper.finger_depth_m
    for centre, rotation in _closing_lines(target):
        widest = _grasp(centre, rotation, gripper.max_opening_m, mid_pad, gripper)
        line = check_grasp(widest, target, solids, gripper)
        if line.verdict in _LINE_FAILURES:
            continue
        for width_fraction in _WIDTH_FRACTIONS:
            width = width_fraction * gripper.max_opening_m
            if width <= line.true_width_m:
                break
            for depth_fraction in _DEPTH_FRACTIONS:
                depth = depth_fraction * gripper.finger_depth_m
                candidate = _grasp(centre, rotation, width, depth, gripper)
                if check_grasp(candidate, target, solids, gripper).success:
                    return candidate
    return None

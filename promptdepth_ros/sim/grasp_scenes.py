"""Tabletop scenes for grasp evaluation: each graspable object drawn for one named situation.

Every scene holds :data:`SCENE_RECIPE` (one object of each situation, two for a touching pair),
so the proportions over any set of scenes are exactly those of the recipe. Objects rest on the
table (z = 0, world z-up) or on a platform box; platforms are supports, not targets (wider than
the gripper opens in both directions and too low to be held across their height). Groups stand
at least :data:`GROUP_GAP_M` apart; the camera sees the whole workspace. Sizes scale with the
gripper's maximum opening where the situation is about it. Metres everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.errors import ConfigError
from promptdepth_ros.sim.scene import Primitive, PrimitiveKind, TabletopScene, look_at

Kind = PrimitiveKind
WORKSPACE_HALF_M = (0.30, 0.22)  # for openings up to REFERENCE_OPENING_M, scaled above
REFERENCE_OPENING_M = 0.10
GROUP_GAP_M = 0.04
TABLE_EXTENT_M = (1.2, 0.8)
TALLEST_M = 0.16
MIN_OPENING_M = 0.084  # a large sphere (radius > 4 cm) must fit in 0.98 x the opening
NEAR_LIMIT_RANGE = (0.90, 0.98)  # of the max opening; above 0.98 no clearance remains
_PLACEMENT_TRIES = 400
_SCENE_TRIES = 100
_LYING = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # local z -> world -y


class Situation(Enum):
    """What makes an object hard (or not) to grasp."""

    THIN_BAR = "thin_bar"  # a 1 cm wide bar or a rod 0.8-1.4 cm thick lying on the table
    LOW = "low"  # 5 mm to 3 cm tall
    NEAR_OPENING_LIMIT = "near_opening_limit"  # 0.90-0.98 x the max opening across
    LARGE_SPHERE = "large_sphere"  # radius over 4 cm
    TOUCHING = "touching"  # flush against or touching another object
    STACKED = "stacked"  # standing on a platform box
    FREE_STANDING = "free_standing"  # an ordinary object with room around it


SCENE_RECIPE: Mapping[Situation, int] = {
    Situation.THIN_BAR: 1,
    Situation.LOW: 1,
    Situation.NEAR_OPENING_LIMIT: 1,
    Situation.LARGE_SPHERE: 1,
    Situation.TOUCHING: 2,
    Situation.STACKED: 1,
    Situation.FREE_STANDING: 1,
}
OBJECTS_PER_SCENE = sum(SCENE_RECIPE.values())


@dataclass(frozen=True)
class GraspScene:
    """A scene and the situation of each target object (``scene.objects`` ids); objects
    without a situation (platforms) are obstacles only."""

    scene: TabletopScene
    situations: Mapping[int, Situation]
    workspace_half_m: tuple[float, float]

    @property
    def targets(self) -> tuple[Primitive, ...]:
        """The objects the evaluation asks a grasp for."""
        return tuple(p for p in self.scene.objects if p.object_id in self.situations)


# A group is drawn around the origin: (primitive, situation or None for a support) pairs.
Group = list[tuple[Primitive, Situation | None]]


def _yaw(angle: float) -> NDArray[np.float64]:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _prim(
    kind: Kind, dims: tuple[float, ...], rot: NDArray[np.float64], xyz: tuple[float, float, float]
) -> Primitive:
    pose = np.eye(4)
    pose[:3, :3] = rot
    pose[:3, 3] = xyz
    return Primitive(kind, tuple(float(d) for d in dims), pose, 0, (0, 0, 0))


def _upright(kind: Kind, dims: tuple[float, ...], yaw: float, base_z: float = 0.0) -> Primitive:
    """A box or upright cylinder (or a sphere) standing on the plane z = ``base_z``."""
    half_height = {Kind.BOX: 0.5 * dims[-1], Kind.CYLINDER: 0.5 * dims[-1]}.get(kind, dims[0])
    return _prim(kind, dims, _yaw(yaw), (0.0, 0.0, base_z + half_height))


def _lying_cylinder(radius: float, length: float, yaw: float, base_z: float = 0.0) -> Primitive:
    return _prim(Kind.CYLINDER, (radius, length), _yaw(yaw) @ _LYING, (0.0, 0.0, base_z + radius))


def _ordinary(rng: np.random.Generator, opening: float, base_z: float = 0.0) -> Primitive:
    """A box, upright or lying cylinder or small sphere, 2-8 cm across (at most 0.8 x opening)."""
    widest = min(0.08, 0.8 * opening)
    yaw = rng.uniform(0.0, 2.0 * np.pi)
    choice = int(rng.integers(4))
    if choice == 0:
        dims = (*rng.uniform(0.02, widest, 2), rng.uniform(0.03, 0.15 - base_z))
        return _upright(Kind.BOX, dims, yaw, base_z)
    if choice == 1:
        dims = (rng.uniform(0.015, 0.5 * widest), rng.uniform(0.03, 0.15 - base_z))
        return _upright(Kind.CYLINDER, dims, yaw, base_z)
    if choice == 2:
        return _lying_cylinder(rng.uniform(0.015, 0.035), rng.uniform(0.06, 0.14), yaw, base_z)
    return _upright(Kind.SPHERE, (rng.uniform(0.015, min(0.035, 0.4 * opening)),), 0.0, base_z)


def _thin_bar(rng: np.random.Generator, opening: float) -> Group:
    yaw, length = rng.uniform(0.0, 2.0 * np.pi), rng.uniform(0.08, 0.16)
    if rng.random() < 0.5:
        bar = _upright(Kind.BOX, (length, 0.01, rng.uniform(0.008, 0.015)), yaw)
    else:
        bar = _lying_cylinder(rng.uniform(0.004, 0.007), length, yaw)
    return [(bar, Situation.THIN_BAR)]


def _low(rng: np.random.Generator, opening: float) -> Group:
    height, yaw = rng.uniform(0.005, 0.03), rng.uniform(0.0, 2.0 * np.pi)
    if rng.random() < 0.5:
        dims = (*rng.uniform(0.03, min(0.08, 0.8 * opening), 2), height)
        return [(_upright(Kind.BOX, dims, yaw), Situation.LOW)]
    radius = rng.uniform(0.015, min(0.04, 0.4 * opening))
    return [(_upright(Kind.CYLINDER, (radius, height), yaw), Situation.LOW)]


def _near_limit(rng: np.random.Generator, opening: float) -> Group:
    width = rng.uniform(*NEAR_LIMIT_RANGE) * opening
    height, yaw = rng.uniform(0.04, 0.12), rng.uniform(0.0, 2.0 * np.pi)
    if rng.random() < 0.5:  # longer than the opening: only the narrow side can be held
        dims = (rng.uniform(1.1, 1.5) * opening, width, height)
        return [(_upright(Kind.BOX, dims, yaw), Situation.NEAR_OPENING_LIMIT)]
    return [(_upright(Kind.CYLINDER, (0.5 * width, height), yaw), Situation.NEAR_OPENING_LIMIT)]


def _large_sphere(rng: np.random.Generator, opening: float) -> Group:
    radius = rng.uniform(0.041, 0.5 * NEAR_LIMIT_RANGE[1] * opening)
    return [(_upright(Kind.SPHERE, (radius,), 0.0), Situation.LARGE_SPHERE)]


def _touching(rng: np.random.Generator, opening: float) -> Group:
    """Two boxes flush face to face, a cylinder against a box face, or two cylinders."""
    widest = min(0.07, 0.7 * opening)
    yaw = rng.uniform(0.0, 2.0 * np.pi)
    along = _yaw(yaw)[:, 0]  # the contact normal of the pair, horizontal
    first_kind, second_kind = [(Kind.BOX, Kind.BOX), (Kind.BOX, Kind.CYLINDER)][rng.integers(2)]
    if rng.random() < 0.25:
        first_kind = second_kind = Kind.CYLINDER
    pair = []
    for kind in (first_kind, second_kind):
        height = rng.uniform(0.03, 0.12)
        if kind is Kind.BOX:
            pair.append(_upright(kind, (*rng.uniform(0.03, widest, 2), height), yaw))
        else:
            pair.append(_upright(kind, (rng.uniform(0.015, 0.5 * widest), height), yaw))
    reach = [0.5 * p.dims_m[0] if p.kind is Kind.BOX else p.dims_m[0] for p in pair]
    first = _shifted(pair[0], -reach[0] * along)
    second = _shifted(pair[1], reach[1] * along)
    if first_kind is Kind.BOX and second_kind is Kind.BOX:  # slide along the shared face
        side = _yaw(yaw)[:, 1] * rng.uniform(-0.4, 0.4) * min(first.dims_m[1], second.dims_m[1])
        second = _shifted(second, side)
    return [(first, Situation.TOUCHING), (second, Situation.TOUCHING)]


def _stacked(rng: np.random.Generator, opening: float) -> Group:
    yaw = rng.uniform(0.0, 2.0 * np.pi)
    dims = (*rng.uniform(1.15, 1.6, 2) * opening, rng.uniform(0.03, 0.07))
    platform = _upright(Kind.BOX, dims, yaw)
    item = _ordinary(rng, opening, base_z=dims[2])
    room = 0.5 * np.asarray(dims[:2]) - item.footprint_radius()
    offset = _yaw(yaw)[:, :2] @ (rng.uniform(-1.0, 1.0, 2) * np.maximum(room, 0.0))
    return [(platform, None), (_shifted(item, offset), Situation.STACKED)]


def _free(rng: np.random.Generator, opening: float) -> Group:
    return [(_ordinary(rng, opening), Situation.FREE_STANDING)]


DRAWERS: Mapping[Situation, Callable[[np.random.Generator, float], Group]] = {
    Situation.STACKED: _stacked,
    Situation.NEAR_OPENING_LIMIT: _near_limit,
    Situation.TOUCHING: _touching,
    Situation.THIN_BAR: _thin_bar,
    Situation.LARGE_SPHERE: _large_sphere,
    Situation.LOW: _low,
    Situation.FREE_STANDING: _free,
}  # largest groups first, so they find room


def _shifted(prim: Primitive, offset: NDArray[np.float64]) -> Primitive:
    pose = prim.T_world_object.copy()
    pose[: len(offset), 3] += offset
    return Primitive(prim.kind, prim.dims_m, pose, prim.object_id, prim.color_rgb)


def _footprint(group: Group) -> float:
    """Radius of a vertical cylinder about the origin that holds the whole group."""
    return max(float(np.hypot(*p.T_world_object[:2, 3])) + p.footprint_radius() for p, _ in group)


def workspace_half_m(max_opening_m: float) -> tuple[float, float]:
    """Half extents (x, y) of the area the groups stand in, grown for wide grippers."""
    scale = max(1.0, max_opening_m / REFERENCE_OPENING_M)
    return (WORKSPACE_HALF_M[0] * scale, WORKSPACE_HALF_M[1] * scale)


def _place_groups(
    rng: np.random.Generator, groups: list[Group], half_m: tuple[float, float]
) -> list[Group] | None:
    """Groups moved to random free spots of the workspace; None when one finds no room."""
    half = np.asarray(half_m)
    placed: list[tuple[NDArray[np.float64], float]] = []
    out = []
    for group in groups:
        radius = _footprint(group)
        for _ in range(_PLACEMENT_TRIES):
            xy = rng.uniform(-(half - radius), half - radius)
            if all(np.hypot(*(xy - c)) >= radius + r + GROUP_GAP_M for c, r in placed):
                break
        else:
            return None
        placed.append((xy, radius))
        out.append([(_shifted(p, xy), s) for p, s in group])
    return out


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    phases = rng.random() + np.array([0.0, 1.0 / 3.0, 2.0 / 3.0])
    red, green, blue = (int(v) for v in 255.0 * (0.55 + 0.4 * np.cos(2.0 * np.pi * phases)))
    return red, green, blue


def _camera_pose(
    rng: np.random.Generator, camera: CameraModel, half_m: tuple[float, float]
) -> NDArray[np.float64]:
    """A view from 40-75 degrees elevation, backed off until the whole workspace is in view."""
    centre = np.array([*rng.uniform(-0.03, 0.03, 2), 0.0])
    elevation, azimuth = np.deg2rad(rng.uniform(40.0, 75.0)), rng.uniform(0.0, 2.0 * np.pi)
    direction = np.array(
        [
            np.cos(elevation) * np.cos(azimuth),
            np.cos(elevation) * np.sin(azimuth),
            np.sin(elevation),
        ]
    )
    hx, hy = half_m
    corners = np.array([[x, y, z] for x in (-hx, hx) for y in (-hy, hy) for z in (0.0, TALLEST_M)])
    distance = rng.uniform(0.6, 0.8)
    while True:
        pose = look_at(centre + distance * direction, centre)
        local = (corners - pose[:3, 3]) @ pose[:3, :3]
        u = camera.fx * local[:, 0] / local[:, 2] + camera.cx
        v = camera.fy * local[:, 1] / local[:, 2] + camera.cy
        margin = 0.03 * camera.width
        if (
            u.min() > margin
            and v.min() > margin
            and u.max() < camera.width - margin
            and v.max() < camera.height - margin
        ):
            return pose
        distance += 0.05


def generate_grasp_scene(
    rng: np.random.Generator, camera: CameraModel, max_opening_m: float = 0.10
) -> GraspScene:
    """A table with one group of each situation of :data:`SCENE_RECIPE` and a camera.

    Raises ConfigError for an opening below :data:`MIN_OPENING_M`.
    """
    if max_opening_m < MIN_OPENING_M:
        raise ConfigError(
            f"max_opening_m must be >= {MIN_OPENING_M} (a sphere over 4 cm radius must fit), "
            f"got {max_opening_m}"
        )
    half = workspace_half_m(max_opening_m)
    for _ in range(_SCENE_TRIES):
        groups = _place_groups(rng, [draw(rng, max_opening_m) for draw in DRAWERS.values()], half)
        if groups is not None:
            break
    else:
        raise ConfigError(
            f"the situations do not fit a {2 * half[0]:.2f} x {2 * half[1]:.2f} m workspace "
            f"for max_opening_m = {max_opening_m}"
        )
    objects: list[Primitive] = []
    situations: dict[int, Situation] = {}
    for prim, situation in (member for group in groups for member in group):
        index = len(objects)
        objects.append(Primitive(prim.kind, prim.dims_m, prim.T_world_object, index, _colour(rng)))
        if situation is not None:
            situations[index] = situation
    pose = _camera_pose(rng, camera, half)
    table = (max(TABLE_EXTENT_M[0], 4.0 * half[0]), max(TABLE_EXTENT_M[1], 4.0 * half[1]))
    return GraspScene(TabletopScene(tuple(objects), camera, pose, table), situations, half)

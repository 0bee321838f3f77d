"""Synthetic room-scale scenes: floor, walls with an open doorway, ceiling and furniture.

World frame is z-up with the floor on z = 0, in metres. The room is 4-7 m by 3.5-6 m and the
camera stands 1-1.7 m high near one wall looking across it, so depths span about 1-6 m. The
doorway opens onto nothing (no surface: NaN ground truth, like sky or an open door to an unlit
corridor). Furniture has thin parts (table and chair legs, lamp poles 2-4 cm wide), which a
stereo depth camera loses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.sim.scene import Primitive, PrimitiveKind, look_at

STRUCTURE_ID = -3  # floor, walls and ceiling (object ids >= 0 are furniture parts)
_WALL_THICKNESS_M = 0.1
_DOOR_SIZE_M = (0.9, 2.05)
_STRUCTURE_COLOURS = ((205, 200, 190), (180, 185, 200), (200, 190, 170), (190, 200, 185))


@dataclass(frozen=True)
class RoomScene:
    """Room structure and furniture (both as primitives) and the camera that sees them.

    T_world_camera: (4, 4) float64 pose of the camera optical frame. size_m: (x, y, z) inner
    extent of the room, centred on the origin in x and y, floor at z = 0.
    """

    structure: tuple[Primitive, ...]
    furniture: tuple[Primitive, ...]
    camera: CameraModel
    T_world_camera: NDArray[np.float64]
    size_m: tuple[float, float, float]

    @property
    def primitives(self) -> tuple[Primitive, ...]:
        """Everything the camera can see: structure first, then furniture."""
        return (*self.structure, *self.furniture)


def _box(
    centre: tuple[float, float, float],
    dims: tuple[float, float, float],
    object_id: int,
    colour: tuple[int, int, int],
    yaw: float = 0.0,
) -> Primitive:
    pose = np.eye(4)
    c, s = np.cos(yaw), np.sin(yaw)
    pose[:3, :3] = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
    pose[:3, 3] = centre
    return Primitive(PrimitiveKind.BOX, dims, pose, object_id, colour)


def _structure(size: NDArray[np.float64], rng: np.random.Generator) -> tuple[Primitive, ...]:
    """Floor, ceiling and four walls; the +y wall has a doorway at a random position."""
    sx, sy, sz = size
    t = _WALL_THICKNESS_M
    colours = [_STRUCTURE_COLOURS[int(i)] for i in rng.integers(0, 4, 6)]
    parts = [
        _box((0.0, 0.0, -0.5 * t), (sx + 2 * t, sy + 2 * t, t), STRUCTURE_ID, colours[0]),
        _box((0.0, 0.0, sz + 0.5 * t), (sx + 2 * t, sy + 2 * t, t), STRUCTURE_ID, colours[1]),
        _box((0.0, -0.5 * (sy + t), 0.5 * sz), (sx, t, sz), STRUCTURE_ID, colours[2]),
        _box((0.5 * (sx + t), 0.0, 0.5 * sz), (t, sy + 2 * t, sz), STRUCTURE_ID, colours[3]),
        _box((-0.5 * (sx + t), 0.0, 0.5 * sz), (t, sy + 2 * t, sz), STRUCTURE_ID, colours[3]),
    ]
    door_w, door_h = _DOOR_SIZE_M
    door_x = rng.uniform(-0.5 * sx + 0.3 + 0.5 * door_w, 0.5 * sx - 0.3 - 0.5 * door_w)
    wall_y = 0.5 * (sy + t)
    left, right = door_x - 0.5 * door_w, door_x + 0.5 * door_w
    beside = ((-0.5 * sx, left), (right, 0.5 * sx))
    for lo, hi in beside:
        parts.append(
            _box((0.5 * (lo + hi), wall_y, 0.5 * sz), (hi - lo, t, sz), STRUCTURE_ID, colours[4])
        )
    lintel = (door_x, wall_y, 0.5 * (door_h + sz))
    parts.append(_box(lintel, (door_w, t, sz - door_h), STRUCTURE_ID, colours[5]))
    return tuple(parts)


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    phases = rng.random() + np.array([0.0, 1.0 / 3.0, 2.0 / 3.0])
    red, green, blue = (int(v) for v in 255.0 * (0.45 + 0.35 * np.cos(2.0 * np.pi * phases)))
    return red, green, blue


_Parts = list[Primitive]


def _table(xy: NDArray[np.float64], yaw: float, first_id: int, rng: np.random.Generator) -> _Parts:
    """A table: top 0.7-0.8 m high and four square legs 3-5 cm wide."""
    length, width = rng.uniform(0.8, 1.6), rng.uniform(0.6, 0.9)
    height, leg = rng.uniform(0.7, 0.8), rng.uniform(0.03, 0.05)
    colour = _colour(rng)
    c, s = np.cos(yaw), np.sin(yaw)
    parts = [_box((*xy, height - 0.015), (length, width, 0.03), first_id, colour, yaw)]
    for i, (dx, dy) in enumerate([(-1, -1), (-1, 1), (1, -1), (1, 1)]):
        lx, ly = dx * (0.5 * length - leg), dy * (0.5 * width - leg)
        centre = (xy[0] + c * lx - s * ly, xy[1] + s * lx + c * ly, 0.5 * (height - 0.03))
        parts.append(_box(centre, (leg, leg, height - 0.03), first_id + 1 + i, colour, yaw))
    return parts


def _chair(xy: NDArray[np.float64], yaw: float, first_id: int, rng: np.random.Generator) -> _Parts:
    """A chair: seat at 0.45 m, a back, four legs 2-3 cm wide."""
    seat, leg, colour = rng.uniform(0.4, 0.5), rng.uniform(0.02, 0.03), _colour(rng)
    c, s = np.cos(yaw), np.sin(yaw)
    parts = [_box((*xy, 0.45), (seat, seat, 0.04), first_id, colour, yaw)]
    back = (xy[0] - c * 0.5 * seat, xy[1] - s * 0.5 * seat, 0.7)
    parts.append(_box(back, (0.03, seat, 0.45), first_id + 1, colour, yaw))
    for i, (dx, dy) in enumerate([(-1, -1), (-1, 1), (1, -1), (1, 1)]):
        lx, ly = dx * (0.5 * seat - leg), dy * (0.5 * seat - leg)
        centre = (xy[0] + c * lx - s * ly, xy[1] + s * lx + c * ly, 0.215)
        parts.append(_box(centre, (leg, leg, 0.43), first_id + 2 + i, colour, yaw))
    return parts


def _cabinet(
    xy: NDArray[np.float64], yaw: float, first_id: int, rng: np.random.Generator
) -> _Parts:
    """A cabinet or shelf block 0.4-1.9 m high."""
    dims = (rng.uniform(0.4, 1.2), rng.uniform(0.3, 0.6), rng.uniform(0.4, 1.9))
    return [_box((*xy, 0.5 * dims[2]), dims, first_id, _colour(rng), yaw)]


def _lamp(xy: NDArray[np.float64], yaw: float, first_id: int, rng: np.random.Generator) -> _Parts:
    """A floor lamp: a pole 2-4 cm across, 1.4-1.8 m high, with a shade."""
    radius, height = rng.uniform(0.01, 0.02), rng.uniform(1.4, 1.8)
    colour = _colour(rng)
    pose = np.eye(4)
    pose[:3, 3] = (*xy, 0.5 * height)
    shade = np.eye(4)
    shade[:3, 3] = (*xy, height + 0.1)
    return [
        Primitive(PrimitiveKind.CYLINDER, (radius, height), pose, first_id, colour),
        Primitive(PrimitiveKind.CYLINDER, (0.18, 0.25), shade, first_id + 1, colour),
    ]


_FURNITURE = (_table, _chair, _cabinet, _lamp)


def generate_room_scene(rng: np.random.Generator, camera: CameraModel) -> RoomScene:
    """A random furnished room and a camera near the -y wall looking across it (depth 1-6 m)."""
    size = np.array([rng.uniform(4.0, 7.0), rng.uniform(3.5, 6.0), rng.uniform(2.5, 2.9)])
    furniture: list[Primitive] = []
    half = 0.5 * size[:2] - 0.5
    for _ in range(int(rng.integers(4, 9))):
        make = _FURNITURE[int(rng.integers(len(_FURNITURE)))]
        xy = rng.uniform([-half[0], -half[1] + 1.2], half)
        furniture += make(xy, rng.uniform(0.0, 2.0 * np.pi), len(furniture), rng)
    eye = np.array([rng.uniform(-0.3, 0.3) * size[0], -0.5 * size[1] + 0.3, rng.uniform(1.0, 1.7)])
    target = np.array([rng.uniform(-0.35, 0.35) * size[0], 0.5 * size[1], rng.uniform(0.3, 1.2)])
    return RoomScene(
        _structure(size, rng),
        tuple(furniture),
        camera,
        look_at(eye, target),
        (float(size[0]), float(size[1]), float(size[2])),
    )

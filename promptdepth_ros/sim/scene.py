"""Synthetic tabletop scenes: graspable primitives resting on a table seen by a pinhole camera.

World frame is z-up with the table top on the plane z = 0. Each primitive's local frame sits at
its geometric centre (cylinder axis = local z). Everything is in metres.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import open3d as o3d
from numpy.typing import NDArray

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.errors import ConfigError, InputError

TABLE_ID = -1
TABLE_THICKNESS_M = 0.03
WORKSPACE_HALF_EXTENT_M = (0.25, 0.18)
_CONTACT_CLEARANCE_M = 5e-4
_COLLISION_SAMPLES = 1500


class PrimitiveKind(Enum):
    """Shape of a :class:`Primitive`."""

    BOX = "box"
    CYLINDER = "cylinder"
    SPHERE = "sphere"


_N_DIMS = {PrimitiveKind.BOX: 3, PrimitiveKind.CYLINDER: 2, PrimitiveKind.SPHERE: 1}


@dataclass(frozen=True)
class Primitive:
    """A solid shape placed in the world.

    dims_m: box (x, y, z) full extents; cylinder (radius, height along local z); sphere (radius,).
    T_world_object: (4, 4) float64 pose of the shape's centre frame in the world.
    object_id: >= 0 for objects, -1 for the table. color_rgb: base colour, 0..255.
    """

    kind: PrimitiveKind
    dims_m: tuple[float, ...]
    T_world_object: NDArray[np.float64]
    object_id: int
    color_rgb: tuple[int, int, int]

    def __post_init__(self) -> None:
        if len(self.dims_m) != _N_DIMS[self.kind] or min(self.dims_m) <= 0.0:
            raise InputError(
                f"{self.kind.value} needs {_N_DIMS[self.kind]} positive dims_m, got {self.dims_m}"
            )
        if np.shape(self.T_world_object) != (4, 4):
            raise InputError(f"T_world_object must be 4x4, got {np.shape(self.T_world_object)}")

    def to_local(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """World points (N, 3) expressed in the object frame (N, 3)."""
        rot, t = self.T_world_object[:3, :3], self.T_world_object[:3, 3]
        return (np.asarray(points, np.float64) - t) @ rot

    def to_mesh(self) -> o3d.geometry.TriangleMesh:
        """Triangle mesh of the surface in the world frame (finely tessellated)."""
        if self.kind is PrimitiveKind.BOX:
            width, height, depth = self.dims_m
            mesh = o3d.geometry.TriangleMesh.create_box(width, height, depth)
            mesh.translate(-0.5 * np.asarray(self.dims_m))
        elif self.kind is PrimitiveKind.CYLINDER:
            radius, height = self.dims_m
            mesh = o3d.geometry.TriangleMesh.create_cylinder(radius, height, resolution=96)
        else:
            mesh = o3d.geometry.TriangleMesh.create_sphere(self.dims_m[0], resolution=64)
        mesh.transform(self.T_world_object)
        return mesh

    def signed_distance(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """Exact signed distance (N,) in metres from world points (N, 3); negative inside."""
        p = self.to_local(points)
        if self.kind is PrimitiveKind.SPHERE:
            return np.linalg.norm(p, axis=1) - self.dims_m[0]
        if self.kind is PrimitiveKind.BOX:
            q = np.abs(p) - 0.5 * np.asarray(self.dims_m)
        else:
            radius, height = self.dims_m
            q = np.stack([np.hypot(p[:, 0], p[:, 1]) - radius, np.abs(p[:, 2]) - 0.5 * height], 1)
        outside = np.linalg.norm(np.maximum(q, 0.0), axis=1)
        return outside + np.minimum(q.max(axis=1), 0.0)

    def surface_normals(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """Outward unit normals (N, 3) world of the closest face to world points on the surface."""
        p = self.to_local(points)
        if self.kind is PrimitiveKind.SPHERE:
            normals = p
        elif self.kind is PrimitiveKind.BOX:
            axis = np.argmax(np.abs(p) / np.asarray(self.dims_m), axis=1)
            normals = np.zeros_like(p)
            rows = np.arange(len(p))
            normals[rows, axis] = np.sign(p[rows, axis])
        else:
            radius, height = self.dims_m
            on_side = np.hypot(p[:, 0], p[:, 1]) / radius > np.abs(p[:, 2]) / (0.5 * height)
            normals = np.where(on_side[:, None], p * [1.0, 1.0, 0.0], p * [0.0, 0.0, 1.0])
        normals = normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
        return normals @ self.T_world_object[:3, :3].T

    def sample_surface(
        self, n: int, rng: np.random.Generator
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``n`` area-uniform surface points and their outward unit normals, both (n, 3) world."""
        if self.kind is PrimitiveKind.SPHERE:
            normals = rng.normal(size=(n, 3))
            normals /= np.linalg.norm(normals, axis=1, keepdims=True)
            points = normals * self.dims_m[0]
        elif self.kind is PrimitiveKind.BOX:
            points, normals = _sample_box(np.asarray(self.dims_m), n, rng)
        else:
            points, normals = _sample_cylinder(self.dims_m[0], self.dims_m[1], n, rng)
        rot, t = self.T_world_object[:3, :3], self.T_world_object[:3, 3]
        return points @ rot.T + t, normals @ rot.T

    def footprint_radius(self) -> float:
        """Radius (m) of the smallest vertical cylinder about the centre that holds the shape."""
        corners = _local_bbox_corners(self) @ self.T_world_object[:3, :3].T
        return float(np.hypot(corners[:, 0], corners[:, 1]).max())


def _local_bbox_corners(prim: Primitive) -> NDArray[np.float64]:
    if prim.kind is PrimitiveKind.BOX:
        half = 0.5 * np.asarray(prim.dims_m)
    elif prim.kind is PrimitiveKind.CYLINDER:
        half = np.array([prim.dims_m[0], prim.dims_m[0], 0.5 * prim.dims_m[1]])
    else:
        half = np.full(3, prim.dims_m[0])
    signs = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1])).reshape(3, -1).T
    return signs * half


def _sample_box(
    dims: NDArray[np.float64], n: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    areas = np.array([dims[1] * dims[2], dims[0] * dims[2], dims[0] * dims[1]])
    axis = rng.choice(3, size=n, p=areas / areas.sum())
    sign = rng.choice([-1.0, 1.0], size=n)
    points = (rng.random((n, 3)) - 0.5) * dims
    rows = np.arange(n)
    points[rows, axis] = sign * 0.5 * dims[axis]
    normals = np.zeros((n, 3))
    normals[rows, axis] = sign
    return points, normals


def _sample_cylinder(
    radius: float, height: float, n: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    side, cap = 2.0 * np.pi * radius * height, np.pi * radius**2
    on_side = rng.random(n) < side / (side + 2.0 * cap)
    theta = rng.uniform(0.0, 2.0 * np.pi, n)
    rho = np.where(on_side, radius, radius * np.sqrt(rng.random(n)))
    cap_sign = rng.choice([-1.0, 1.0], size=n)
    z = np.where(on_side, (rng.random(n) - 0.5) * height, cap_sign * 0.5 * height)
    points = np.stack([rho * np.cos(theta), rho * np.sin(theta), z], 1)
    normals = np.where(
        on_side[:, None],
        np.stack([np.cos(theta), np.sin(theta), np.zeros(n)], 1),
        np.stack([np.zeros(n), np.zeros(n), cap_sign], 1),
    )
    return points, normals


@dataclass(frozen=True)
class TabletopScene:
    """Objects on a table (top at z = 0) and the camera that sees them.

    T_world_camera: (4, 4) float64 pose of the camera optical frame (x right, y down, z forward).
    table_extent_m: (x, y) full size of the table top, centred on the world origin.
    """

    objects: tuple[Primitive, ...]
    camera: CameraModel
    T_world_camera: NDArray[np.float64]
    table_extent_m: tuple[float, float]

    @property
    def table(self) -> Primitive:
        """The table as a box primitive with id -1 whose top face is z = 0."""
        pose = np.eye(4)
        pose[2, 3] = -0.5 * TABLE_THICKNESS_M
        dims = (*self.table_extent_m, TABLE_THICKNESS_M)
        return Primitive(PrimitiveKind.BOX, dims, pose, TABLE_ID, (170, 130, 90))

    @property
    def primitives(self) -> tuple[Primitive, ...]:
        """Everything the camera can see: the table first, then the objects."""
        return (self.table, *self.objects)


def default_camera(width: int = 640, height: int = 480) -> CameraModel:
    """A rectified pinhole camera with 60 degrees horizontal field of view, square pixels."""
    focal = 0.5 * width / np.tan(np.deg2rad(30.0))
    return CameraModel(
        width=width,
        height=height,
        fx=focal,
        fy=focal,
        cx=0.5 * width - 0.5,
        cy=0.5 * height - 0.5,
        frame_id="camera_color_optical_frame",
    )


def look_at(eye: NDArray[np.float64], target: NDArray[np.float64]) -> NDArray[np.float64]:
    """T_world_camera (4, 4) of an optical frame at ``eye`` looking at ``target`` (up = +z)."""
    z = np.asarray(target, np.float64) - np.asarray(eye, np.float64)
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    if np.linalg.norm(x) < 1e-9:  # looking straight down: image right = world +x
        x = np.array([1.0, 0.0, 0.0])
    x /= np.linalg.norm(x)
    pose = np.eye(4)
    pose[:3, :3] = np.stack([x, np.cross(z, x), z], 1)
    pose[:3, 3] = eye
    return pose


def plane_scene(distance_m: float, camera: CameraModel) -> TabletopScene:
    """A textured table filling the view, fronto-parallel at ``distance_m`` on the optical axis."""
    if not distance_m > 0.0:
        raise ConfigError(f"distance_m must be > 0, got {distance_m}")
    half_x = distance_m * max(camera.cx + 1, camera.width - camera.cx) / camera.fx
    half_y = distance_m * max(camera.cy + 1, camera.height - camera.cy) / camera.fy
    pose = look_at(np.array([0.0, 0.0, distance_m]), np.zeros(3))
    return TabletopScene((), camera, pose, (4.0 * half_x + 0.1, 4.0 * half_y + 0.1))


def _random_object(rng: np.random.Generator, object_id: int, xy: NDArray[np.float64]) -> Primitive:
    kind = PrimitiveKind(rng.choice([k.value for k in PrimitiveKind]))
    yaw = rng.uniform(0.0, 2.0 * np.pi)
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    if kind is PrimitiveKind.BOX:
        dims: tuple[float, ...] = (*rng.uniform(0.02, 0.08, 2), rng.uniform(0.03, 0.15))
        z = 0.5 * dims[2]
    elif kind is PrimitiveKind.CYLINDER:
        dims = (rng.uniform(0.015, 0.04), rng.uniform(0.03, 0.15))
        if rng.random() < 0.5:  # lying on its side: local z horizontal
            rot = rot @ np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
            z = dims[0]
        else:
            z = 0.5 * dims[1]
    else:
        dims = (rng.uniform(0.015, 0.04),)
        z = dims[0]
    pose = np.eye(4)
    pose[:3, :3] = rot
    pose[:3, 3] = [xy[0], xy[1], z]
    phases = rng.random() + np.array([0.0, 1.0 / 3.0, 2.0 / 3.0])
    red, green, blue = (int(v) for v in 255.0 * (0.55 + 0.4 * np.cos(2.0 * np.pi * phases)))
    return Primitive(kind, tuple(float(d) for d in dims), pose, object_id, (red, green, blue))


def _min_gap(a: Primitive, b: Primitive, samples: dict[int, NDArray[np.float64]]) -> float:
    """Smallest signed distance between sampled surfaces of ``a`` and ``b`` (both ways), metres."""
    gaps = (a.signed_distance(samples[b.object_id]), b.signed_distance(samples[a.object_id]))
    return float(min(gaps[0].min(), gaps[1].min()))


def _moved(prim: Primitive, xy: NDArray[np.float64]) -> Primitive:
    pose = prim.T_world_object.copy()
    pose[:2, 3] = xy
    return Primitive(prim.kind, prim.dims_m, pose, prim.object_id, prim.color_rgb)


def _place_touching(new: Primitive, anchor: Primitive, rng: np.random.Generator) -> Primitive:
    """Slide ``new`` along a random horizontal direction until it just touches ``anchor``."""
    direction = rng.normal(size=2)
    direction /= np.linalg.norm(direction)
    centre = anchor.T_world_object[:2, 3]
    local_samples = {anchor.object_id: anchor.sample_surface(_COLLISION_SAMPLES, rng)[0]}
    new_points = new.sample_surface(_COLLISION_SAMPLES, rng)[0] - new.T_world_object[:3, 3]
    lo, hi = 0.0, anchor.footprint_radius() + new.footprint_radius() + 0.01
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        cand = _moved(new, centre + mid * direction)
        local_samples[new.object_id] = new_points + cand.T_world_object[:3, 3]
        if _min_gap(cand, anchor, local_samples) < _CONTACT_CLEARANCE_M:
            lo = mid
        else:
            hi = mid
    return _moved(new, centre + hi * direction)


def generate_tabletop_scene(
    rng: np.random.Generator,
    camera: CameraModel,
    n_objects: tuple[int, int] = (3, 6),
    touching_fraction: float = 0.3,
) -> TabletopScene:
    """A random table with non-interpenetrating graspable primitives, some touching, and a camera.

    Objects are 2-8 cm wide and 3-15 cm tall, resting on z = 0 with random yaw; the camera is
    0.5-0.9 m from the workspace centre, 30-70 degrees above horizontal, looking at it.
    """
    if not 1 <= n_objects[0] <= n_objects[1]:
        raise ConfigError(f"n_objects must be (lo, hi) with 1 <= lo <= hi, got {n_objects}")
    if not 0.0 <= touching_fraction <= 1.0:
        raise ConfigError(f"touching_fraction must be in [0, 1], got {touching_fraction}")
    half = np.asarray(WORKSPACE_HALF_EXTENT_M)
    objects: list[Primitive] = []
    samples: dict[int, NDArray[np.float64]] = {}
    target = int(rng.integers(n_objects[0], n_objects[1] + 1))
    for _ in range(50 * target):
        if len(objects) == target:
            break
        new = _random_object(rng, len(objects), rng.uniform(-half, half))
        if objects and rng.random() < touching_fraction:
            new = _place_touching(new, objects[int(rng.integers(len(objects)))], rng)
        if np.any(np.abs(new.T_world_object[:2, 3]) + new.footprint_radius() > half + 0.08):
            continue
        samples[new.object_id] = new.sample_surface(_COLLISION_SAMPLES, rng)[0]
        if all(_min_gap(new, other, samples) >= 0.0 for other in objects):
            objects.append(new)
    centre = np.array([*rng.uniform(-0.05, 0.05, 2), 0.0])
    distance = rng.uniform(0.5, 0.9)
    elevation = np.deg2rad(rng.uniform(30.0, 70.0))
    azimuth = rng.uniform(0.0, 2.0 * np.pi)
    horizontal = np.cos(elevation) * np.array([np.cos(azimuth), np.sin(azimuth)])
    eye = centre + distance * np.array([*horizontal, np.sin(elevation)])
    return TabletopScene(tuple(objects), camera, look_at(eye, centre), (1.2, 0.8))

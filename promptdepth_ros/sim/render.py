"""Ray-cast rendering of a tabletop or room scene: RGB, z-depth, object ids and normals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import open3d as o3d
from numpy.typing import NDArray

from promptdepth_ros.camera.distortion import undistort_normalized
from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.sim.room import STRUCTURE_ID, RoomScene
from promptdepth_ros.sim.scene import TABLE_ID, TabletopScene

NO_SURFACE_ID = -2
BACKGROUND_GRAY = 128
LIGHT_DIR_WORLD = np.array([0.3, -0.4, 1.0]) / np.linalg.norm([0.3, -0.4, 1.0])
_AMBIENT = 0.35
_OBJECT_CHECKER_M = 0.015
_TABLE_CHECKER_M = 0.05
_STRUCTURE_CHECKER_M = 0.3
_FURNITURE_CHECKER_M = 0.1


@dataclass(frozen=True)
class RenderedFrame:
    """Ground truth for one camera view.

    rgb:         (H, W, 3) uint8.
    depth_m:     (H, W) float32, z-depth along the optical axis in metres, NaN = no surface.
    object_id:   (H, W) int32, object id, -1 table, -2 no surface, -3 room structure.
    normals_cam: (H, W, 3) float32 unit normals in the camera optical frame (0 where no surface).
    """

    rgb: NDArray[np.uint8]
    depth_m: NDArray[np.float32]
    object_id: NDArray[np.int32]
    normals_cam: NDArray[np.float32]


def camera_rays(camera: CameraModel) -> NDArray[np.float32]:
    """Unit ray directions (H, W, 3) float32 in the optical frame through each pixel centre,
    the lens distortion undone (NaN beyond a distorted camera's calibrated field)."""
    u = (np.arange(camera.width, dtype=np.float64) - camera.cx) / camera.fx
    v = (np.arange(camera.height, dtype=np.float64) - camera.cy) / camera.fy
    x, y = undistort_normalized(*np.meshgrid(u, v), camera)
    rays = np.empty((camera.height, camera.width, 3), np.float64)
    rays[..., 0] = x
    rays[..., 1] = y
    rays[..., 2] = 1.0
    rays /= np.linalg.norm(rays, axis=2, keepdims=True)
    return rays.astype(np.float32)


def _checker(coords: NDArray[np.float64], cell_m: float) -> NDArray[np.float64]:
    """1.0 / 0.8 checker pattern from (N, k) coordinates in metres."""
    parity = np.floor(coords / cell_m).astype(np.int64).sum(axis=1) % 2
    return np.where(parity == 0, 1.0, 0.8)


def _structure_texture(
    points: NDArray[np.float64], normals: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Checker on floor, ceiling (world x, y) and walls (along the wall, height)."""
    horizontal = np.abs(normals[:, 2]) > 0.5
    along = np.where(np.abs(normals[:, 0]) > 0.5, points[:, 1], points[:, 0])
    coords = np.where(horizontal[:, None], points[:, :2], np.stack([along, points[:, 2]], 1))
    return _checker(coords + 1e-4, _STRUCTURE_CHECKER_M)


def render(scene: TabletopScene | RoomScene) -> RenderedFrame:
    """Ray-cast ``scene`` through its camera (deterministic; one ray per pixel centre)."""
    camera = scene.camera
    prims = scene.primitives
    object_cell = _OBJECT_CHECKER_M if isinstance(scene, TabletopScene) else _FURNITURE_CHECKER_M
    raycaster = o3d.t.geometry.RaycastingScene()
    for prim in prims:
        raycaster.add_triangles(o3d.t.geometry.TriangleMesh.from_legacy(prim.to_mesh()))
    rays_cam = camera_rays(camera)
    rot = scene.T_world_camera[:3, :3].astype(np.float32)
    origin = scene.T_world_camera[:3, 3].astype(np.float32)
    rays = np.empty((camera.height, camera.width, 6), np.float32)
    rays[..., :3] = origin
    rays[..., 3:] = rays_cam @ rot.T
    hits = raycaster.cast_rays(o3d.core.Tensor.from_numpy(rays))
    t_hit = hits["t_hit"].numpy()
    geometry = hits["geometry_ids"].numpy()
    hit = np.isfinite(t_hit)

    ids = np.full(t_hit.shape, NO_SURFACE_ID, np.int32)
    lut = np.array([p.object_id for p in prims], np.int32)
    ids[hit] = lut[geometry[hit]]
    depth = np.where(hit, t_hit * rays_cam[..., 2], np.nan).astype(np.float32)

    normals_world = np.zeros((*rays.shape[:2], 3), np.float64)
    shade = np.full((*rays.shape[:2], 3), float(BACKGROUND_GRAY), np.float64)
    points_world = rays[..., :3].astype(np.float64) + t_hit[..., None] * rays[..., 3:]
    for index, prim in enumerate(prims):
        mask = hit & (geometry == index)
        if not mask.any():
            continue
        points = points_world[mask]
        normals = prim.surface_normals(points)
        normals_world[mask] = normals
        if prim.object_id == TABLE_ID:  # the table: texture fixed to the world
            texture = _checker(points[:, :2], _TABLE_CHECKER_M)
        elif prim.object_id == STRUCTURE_ID:
            texture = _structure_texture(points, normals)
        else:
            texture = _checker(prim.to_local(points), object_cell)
        light = _AMBIENT + (1.0 - _AMBIENT) * np.clip(normals @ LIGHT_DIR_WORLD, 0.0, 1.0)
        shade[mask] = np.asarray(prim.color_rgb, np.float64) * (texture * light)[:, None]
    normals_cam = (normals_world @ scene.T_world_camera[:3, :3]).astype(np.float32)
    rgb = np.clip(np.rint(shade), 0, 255).astype(np.uint8)
    return RenderedFrame(rgb=rgb, depth_m=depth, object_id=ids, normals_cam=normals_cam)

"""Scene cloud -> support plane + object clusters with oriented normals (Open3D + SciPy).

Input clouds are in the planning frame (z-up: robot base or table frame), metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import open3d as o3d
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from promptdepth_ros.errors import InputError
from promptdepth_ros.grasp.support_plane import fit_support_plane
from promptdepth_ros.grasp.types import GraspPlannerConfig

NOT_AN_OBJECT = -1
_NORMAL_RADIUS_VOXELS = 2.5
_NORMAL_MAX_NN = 30
_CONCAVE_LIMIT = -0.15  # (n_j - n_i) . unit(p_j - p_i) below this marks a concave crease
_CENTRE_ITERATIONS = 4
_CENTRE_SCALE_M = 0.01  # normal lines this far from the centre count half
_BOXY_RESULTANT = 0.5  # wall azimuths this aligned (mod 90 degrees) come from box faces
_RESTING_M = 0.015  # an object whose lowest point is this close to the plane rests on it


@dataclass(frozen=True)
class ProcessedScene:
    """The scene after cropping, voxelisation, plane removal and clustering.

    points: (M, 3) float64 voxelised scene cloud, metres (support plane included).
    normals: (M, 3) float64 unit normals, oriented towards the camera (or outwards); points
        on the support plane carry the plane's normal.
    cluster_labels: (M,) int64, object index or -1 for the support plane and noise.
    plane_model: (4,) float64 ``(a, b, c, d)``, unit normal pointing up, or None if no plane.
    clusters: one (K_i,) int64 index array into ``points`` per object, largest first.
    plane_noise_m: measured noise (standard deviation) of the plane's points, metres.
    object_height_m: points higher than this above the plane belong to objects, metres.
    """

    points: NDArray[np.float64]
    normals: NDArray[np.float64]
    cluster_labels: NDArray[np.int64]
    plane_model: NDArray[np.float64] | None
    clusters: tuple[NDArray[np.int64], ...]
    plane_noise_m: float = 0.0
    object_height_m: float = 0.0

    def plane_distance(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """Signed height (N,) of points (N, 3) above the support plane; +inf without a plane."""
        if self.plane_model is None:
            return np.full(len(points), np.inf)
        return points @ self.plane_model[:3] + self.plane_model[3]


def finite_points(points_xyz: NDArray[np.floating]) -> NDArray[np.float64]:
    """(..., 3) cloud -> (N, 3) float64 of the rows without NaN/inf. Raises InputError on shape."""
    cloud = np.asarray(points_xyz)
    if cloud.ndim < 2 or cloud.shape[-1] != 3:
        raise InputError(f"points must have shape (N, 3) or (H, W, 3), got {cloud.shape}")
    flat = cloud.reshape(-1, 3).astype(np.float64, copy=False)
    return flat[np.isfinite(flat).all(axis=1)]


def crop_to_workspace(
    points: NDArray[np.float64], config: GraspPlannerConfig
) -> NDArray[np.float64]:
    """Rows of ``points`` (N, 3) inside the workspace box of ``config``."""
    lo, hi = np.asarray(config.workspace_min_m), np.asarray(config.workspace_max_m)
    return points[np.all((points >= lo) & (points <= hi), axis=1)]


def estimate_normals(
    points: NDArray[np.float64], voxel_size_m: float, camera_position_m: NDArray[np.float64] | None
) -> NDArray[np.float64]:
    """Unit normals (N, 3) from local PCA, facing the camera when given, else facing +z."""
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    cloud.estimate_normals(
        o3d.geometry.KDTreeSearchParamHybrid(_NORMAL_RADIUS_VOXELS * voxel_size_m, _NORMAL_MAX_NN)
    )
    normals = np.asarray(cloud.normals)
    if camera_position_m is not None:
        flip = np.einsum("ij,ij->i", normals, np.asarray(camera_position_m) - points) < 0.0
    else:
        flip = normals[:, 2] < 0.0
    normals[flip] *= -1.0
    return normals


def orient_outwards(
    points: NDArray[np.float64], normals: NDArray[np.float64], labels: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Flip object normals (N, 3) to point away from their cluster centroid."""
    valid = labels >= 0
    n_clusters = int(labels.max()) + 1 if valid.any() else 0
    sums = np.zeros((n_clusters, 3))
    np.add.at(sums, labels[valid], points[valid])
    counts = np.bincount(labels[valid], minlength=n_clusters)
    centroids = sums / np.maximum(counts, 1)[:, None]
    out = normals.copy()
    rows = np.flatnonzero(valid)
    inward = np.einsum("ij,ij->i", out[rows], points[rows] - centroids[labels[rows]]) < 0.0
    out[rows[inward]] *= -1.0
    return out


def cluster_objects(
    points: NDArray[np.float64],
    normals: NDArray[np.float64],
    config: GraspPlannerConfig,
) -> NDArray[np.int64]:
    """Object labels (N,) int64 (largest cluster 0, -1 = noise) by Euclidean connectivity.

    Neighbours closer than ``cluster_eps_m`` are linked. With ``split_concave``, points on a
    concave crease (where two touching convex objects meet) are first left out, the rest is
    split into components, then each crease point joins its nearest component within eps.
    """
    if len(points) == 0:
        return np.zeros(0, np.int64)
    pairs = cKDTree(points).query_pairs(config.cluster_eps_m, output_type="ndarray")
    crease = np.zeros(len(points), bool)
    if config.split_concave and len(pairs):
        delta = points[pairs[:, 1]] - points[pairs[:, 0]]
        delta /= np.maximum(np.linalg.norm(delta, axis=1, keepdims=True), 1e-12)
        turn = np.einsum("ij,ij->i", normals[pairs[:, 1]] - normals[pairs[:, 0]], delta)
        concave = pairs[turn < _CONCAVE_LIMIT]
        crease[concave.ravel()] = True
        pairs = pairs[~crease[pairs[:, 0]] & ~crease[pairs[:, 1]]]
    graph = coo_matrix(
        (np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])), shape=(len(points),) * 2
    )
    _, raw = connected_components(graph, directed=False)
    sizes = np.bincount(raw)
    core = ~crease & (sizes[raw] >= config.cluster_min_points)
    labels = np.full(len(points), NOT_AN_OBJECT, np.int64)
    if not core.any():
        return labels
    labels[core] = raw[core]
    if crease.any():
        distance, nearest = cKDTree(points[core]).query(points[crease])
        labels[crease] = np.where(distance <= config.cluster_eps_m, raw[core][nearest], -1)
    valid = labels >= 0
    sizes = np.bincount(labels[valid], minlength=len(sizes))
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    labels[valid] = rank[labels[valid]]
    return labels


def symmetry_centre(
    points: NDArray[np.float64], normals: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Point (3,) closest in robust least squares to all normal lines (centre of a sphere, a
    point on a cylinder axis, the middle of a box); the centroid when the normals are degenerate.

    Lines passing far from the current estimate (normals blended across an edge) are weighted
    down over a few Cauchy-reweighted iterations.
    """
    proj = np.eye(3)[None] - normals[:, :, None] * normals[:, None, :]  # (K, 3, 3)
    weights = np.ones(len(points))
    centre = points.mean(axis=0)
    for _ in range(_CENTRE_ITERATIONS):
        a = np.einsum("k,kij->ij", weights, proj)
        if np.linalg.cond(a) > 1e6:
            return points.mean(axis=0) if _ == 0 else centre
        centre = np.linalg.solve(a, np.einsum("k,kij,kj->i", weights, proj, points))
        offset = np.einsum("kij,kj->ki", proj, centre - points)  # centre to each line
        weights = 1.0 / (1.0 + np.einsum("ki,ki->k", offset, offset) / _CENTRE_SCALE_M**2)
    return centre


@dataclass(frozen=True)
class MirroredBack:
    """Guess of an object's hidden back: its seen points turned 180 degrees about the vertical
    axis through its symmetry centre (objects resting on a table are mostly symmetric so; shape
    completion by symmetry as in Bohg et al., ICRA 2011).

    centre_m: (3,) float64 symmetry centre, metres.
    points: (K, 3) float64 turned points, metres. normals: (K, 3) float64 turned unit normals.
    """

    centre_m: NDArray[np.float64]
    points: NDArray[np.float64]
    normals: NDArray[np.float64]


def plane_axes(up: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two unit vectors (3,) spanning the plane perpendicular to ``up``."""
    e1 = np.cross(up, [1.0, 0.0, 0.0] if abs(up[0]) < 0.9 else [0.0, 1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(up, e1)


def wall_azimuth(
    normals: NDArray[np.float64], up: NDArray[np.float64]
) -> tuple[float, bool] | None:
    """Azimuth (rad, from :func:`plane_axes` e1) of the walls' normals modulo 90 degrees, and
    whether they are box walls (aligned mod 90 degrees); None with under 3 wall normals."""
    walls = np.abs(normals @ up) < 0.5
    if walls.sum() < 3:
        return None
    e1, e2 = plane_axes(up)
    azimuth = np.arctan2(normals[walls] @ e2, normals[walls] @ e1)
    resultant = np.exp(4j * azimuth).mean()  # box walls repeat every 90 degrees
    return float(np.angle(resultant) / 4.0), bool(abs(resultant) >= _BOXY_RESULTANT)


def _box_centre(
    points: NDArray[np.float64], azimuth: float, up: NDArray[np.float64], centre: NDArray
) -> NDArray[np.float64]:
    """``centre`` moved horizontally to the middle of the points' extents along box axes at
    ``azimuth`` (a box seen from above shows its whole top face)."""
    e1, e2 = plane_axes(up)
    out = centre.copy()
    for angle in (azimuth, azimuth + 0.5 * np.pi):
        axis = np.cos(angle) * e1 + np.sin(angle) * e2
        along = points @ axis
        out += (0.5 * (along.min() + along.max()) - out @ axis) * axis
    return out


def mirrored_back(
    points: NDArray[np.float64],
    normals: NDArray[np.float64],
    up: NDArray[np.float64],
    plane_model: NDArray[np.float64] | None = None,
) -> MirroredBack:
    """Mirror one object's points and normals (K, 3) about its vertical symmetry axis (``up``).

    A symmetry centre outside the object's height range (normals blended over a thin part)
    is not trusted: the centroid is used instead. A box (walls aligned mod 90 degrees) is
    centred between the extents of its points along its axes. An object resting on the plane
    (lowest point within ``_RESTING_M``) has its centre at half its height.
    """
    centre = symmetry_centre(points, normals)
    heights = points @ up
    if not heights.min() <= centre @ up <= heights.max():
        centre = points.mean(axis=0)
    walls = wall_azimuth(normals, up)
    if walls is not None and walls[1]:
        centre = _box_centre(points, walls[0], up, centre)
    if plane_model is not None:
        above = heights + plane_model[3]
        if above.min() <= _RESTING_M:
            centre = centre + (0.5 * above.max() - (centre @ up + plane_model[3])) * up
    offset = points - centre
    along = (offset @ up)[:, None] * up
    turned_normals = 2.0 * (normals @ up)[:, None] * up - normals
    return MirroredBack(centre, centre + 2.0 * along - offset, turned_normals)


def process_scene(
    points: NDArray[np.float64],
    config: GraspPlannerConfig,
    camera_position_m: NDArray[np.float64] | None = None,
    seed: int = 0,
) -> ProcessedScene:
    """Crop, voxelise, remove the support plane, estimate object normals and cluster objects.

    points: (N, 3) finite cloud in the planning frame, metres. Raises InputError when no point
    lies inside the workspace.
    """
    cropped = crop_to_workspace(points, config)
    if len(cropped) == 0:
        raise InputError(
            f"no point of the {len(points)}-point cloud lies inside the workspace "
            f"{config.workspace_min_m} .. {config.workspace_max_m}; check the frame and the box"
        )
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(cropped))
    voxels = np.asarray(cloud.voxel_down_sample(config.voxel_size_m).points)
    plane = fit_support_plane(voxels, config.plane_distance_m, config.min_object_height_m, seed)
    labels = np.full(len(voxels), NOT_AN_OBJECT, np.int64)
    above = np.ones(len(voxels), bool)
    normals = np.zeros_like(voxels)
    threshold = 0.0
    if plane is not None:
        threshold = max(config.min_object_height_m, config.plane_noise_sigmas * plane.noise_m)
        above = plane.height(voxels) > threshold
        normals[:] = plane.model[:3]
    if above.any():  # objects only: faster, and their lower normals don't bend to the table
        normals[above] = estimate_normals(voxels[above], config.voxel_size_m, camera_position_m)
        labels[above] = cluster_objects(voxels[above], normals[above], config)
    if camera_position_m is None:
        normals = orient_outwards(voxels, normals, labels)
    n_clusters = int(labels.max()) + 1 if len(labels) else 0
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_clusters + 1))
    clusters = tuple(order[bounds[i] : bounds[i + 1]] for i in range(n_clusters))
    return ProcessedScene(
        voxels,
        normals,
        labels,
        None if plane is None else plane.model,
        clusters,
        0.0 if plane is None else plane.noise_m,
        threshold,
    )

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
    flat = cloud.reshape(-1, 3)
    finite = np.isfinite(flat)
    return flat[finite[:, 0] & finite[:, 1] & finite[:, 2]].astype(np.float64, copy=False)


def crop_to_workspace(
    points: NDArray[np.float64], config: GraspPlannerConfig
) -> NDArray[np.float64]:
    """Rows of ``points`` (N, 3) inside the workspace box of ``config``."""
    inside = points >= np.asarray(config.workspace_min_m)
    inside &= points <= np.asarray(config.workspace_max_m)
    return points[inside[:, 0] & inside[:, 1] & inside[:, 2]]  # faster than all(axis=1)


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
        # the length coordinate by coordinate: reductions over an axis of 3 are slow in numpy
        delta = (points[pairs[:, 1]] - points[pairs[:, 0]]).T
        length = np.sqrt(delta[0] * delta[0] + delta[1] * delta[1] + delta[2] * delta[2])
        delta /= np.maximum(length, 1e-12)
        turn = np.einsum("ij,ij->i", normals[pairs[:, 1]] - normals[pairs[:, 0]], delta.T)
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

"""Parallel-jaw grasp planning on a scene point cloud: the one entry point, :func:`plan_grasps`."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from promptdepth_ros.geometry.transforms import transform_points
from promptdepth_ros.grasp.candidates import (
    APPROACH_ANGLES_RAD,
    MIN_CONTACT_DEPTH_M,
    antipodal_pairs,
    frames_around_closing,
    palm_margin_m,
    top_down_poses,
)
from promptdepth_ros.grasp.collision import (
    below_plane,
    closing_gap_boxes,
    columns_below,
    contact_depth_below_object,
    contact_depth_for_clearance,
    gripper_boxes,
    inflate_boxes,
    points_in_boxes,
)
from promptdepth_ros.grasp.object_shape import MirroredBack, mirrored_back
from promptdepth_ros.grasp.scene_processing import (
    NOT_AN_OBJECT,
    ProcessedScene,
    finite_points,
    process_scene,
)
from promptdepth_ros.grasp.scoring import measure_contacts, score_terms, total_score
from promptdepth_ros.grasp.types import Grasp, GraspPlannerConfig, ScoreTerms

_COLLISION_CHUNK = 128
_FIRST_COLLISION_CHUNK = 16  # most objects find their grasps among the first few candidates


@dataclass(frozen=True)
class GraspPlan:
    """Planner output: grasps best-first, the per-object lists, the processed scene, timings."""

    grasps: tuple[Grasp, ...]
    per_object: dict[int, tuple[Grasp, ...]]
    scene: ProcessedScene
    timings_ms: dict[str, float]


@dataclass(frozen=True)
class _Scored:
    """Antipodal-valid candidates of one object, sorted best-first (arrays of length M)."""

    centres: NDArray[np.float64]
    rotations: NDArray[np.float64]
    widths: NDArray[np.float64]
    depths: NDArray[np.float64]
    terms: NDArray[np.float64]
    scores: NDArray[np.float64]


def _object_candidates(
    scene: ProcessedScene,
    index: NDArray[np.int64],
    back: MirroredBack,
    config: GraspPlannerConfig,
    camera_position_m: NDArray[np.float64] | None,
    rng: np.random.Generator,
) -> _Scored:
    """Generate, measure and score the candidates of one cluster."""
    points, normals = scene.points[index], scene.normals[index]
    whole = np.vstack([points, back.points])
    preferred = np.asarray(config.preferred_approach, np.float64)
    n_seeds = max(1, config.n_candidates // len(APPROACH_ANGLES_RAD))
    mids, axes = antipodal_pairs(
        whole, np.vstack([normals, back.normals]), len(points), config, n_seeds, rng
    )
    td_centres, td_rot = top_down_poses(
        points, normals, back.centre_m, scene.plane_model, config, camera_position_m
    )
    centres = np.concatenate([np.repeat(mids, len(APPROACH_ANGLES_RAD), axis=0), td_centres])
    rotations = np.concatenate(
        [frames_around_closing(axes, preferred, APPROACH_ANGLES_RAD), td_rot]
    )
    g = config.gripper
    # the cheap table limit first: the palm limit only for what the table leaves reachable
    depths = contact_depth_for_clearance(
        centres,
        rotations,
        np.full(len(centres), g.max_opening_m),
        scene.plane_model,
        g,
        config.table_clearance_m,
    )
    keep = depths >= MIN_CONTACT_DEPTH_M
    centres, rotations = centres[keep], rotations[keep]
    depths = np.minimum(
        depths[keep],
        contact_depth_below_object(centres, rotations, whole, g, palm_margin_m(config)),
    )
    reachable = depths >= MIN_CONTACT_DEPTH_M
    centres, rotations, depths = centres[reachable], rotations[reachable], depths[reachable]
    measured = measure_contacts(centres, rotations, depths, points, normals, config)
    radius = float(np.linalg.norm(points - back.centre_m, axis=1).max())
    terms = score_terms(measured, centres, rotations, back.centre_m, radius, config)
    # the margin shrinks near the largest opening, down to min_width_clearance_m
    widths = np.minimum(measured.width_m + config.width_margin_m, g.max_opening_m)
    fits = measured.width_m + config.min_width_clearance_m <= g.max_opening_m
    ok = measured.found & (terms[:, 0] > 0.0) & fits
    scores = total_score(terms, config)
    order = np.flatnonzero(ok)[np.argsort(-scores[ok], kind="stable")]
    return _Scored(
        centres[order],
        rotations[order],
        widths[order],
        depths[order],
        terms[order],
        scores[order],
    )


def _first_collision_free(
    scored: _Scored,
    label: int,
    obstacles: NDArray[np.float64],
    owners: NDArray[np.int64],
    plane_model: NDArray[np.float64] | None,
    config: GraspPlannerConfig,
) -> NDArray[np.int64]:
    """Indices of the best ``top_k_per_object`` candidates of object ``label`` whose gripper and
    approach miss the ``obstacles`` (P, 3) and the plane, and whose
    closing gap holds no obstacle of another ``owners`` (P,) label."""
    kept: list[NDArray[np.int64]] = []
    found = 0
    start, chunk = 0, _FIRST_COLLISION_CHUNK
    while start < len(scored.scores):
        rows = np.arange(start, min(start + chunk, len(scored.scores)))
        start, chunk = start + chunk, min(2 * chunk, _COLLISION_CHUNK)
        w, d = scored.widths[rows], scored.depths[rows]
        exact = gripper_boxes(config.gripper, w, d)
        c, r = scored.centres[rows], scored.rotations[rows]
        # the plane is known better than the cloud's points: no margin under the fingertips
        free = ~below_plane(c, r, exact, plane_model, 0.0)
        gap = closing_gap_boxes(config.gripper, w, d)
        gap[:, 0, ::2] -= config.collision_margin_m  # grown along X and Z, not into the pads
        gap[:, 1, ::2] += config.collision_margin_m
        # the swept boxes hold the gripper at the grasp too: one pass over the points
        swept = inflate_boxes(exact, config.collision_margin_m)
        hits = points_in_boxes(
            c[free], r[free], swept[free], obstacles, (gap[free], owners, label)
        )
        free[free] = hits == 0
        kept.append(rows[free])
        found += int(free.sum())
        if found >= config.top_k_per_object:
            break
    if not kept:
        return np.zeros(0, np.int64)
    return np.concatenate(kept)[: config.top_k_per_object]


def plan_grasps(
    points_xyz: NDArray[np.floating],
    config: GraspPlannerConfig,
    camera_position_m: NDArray[np.float64] | None = None,
    rng: np.random.Generator | None = None,
) -> GraspPlan:
    """Plan parallel-jaw grasps on a scene cloud (N, 3) or (H, W, 3), metres, planning frame z-up.

    NaN rows are ignored. ``camera_position_m`` (3,) orients normals and helps choose closing
    axes. Deterministic for a given ``rng`` seed (default seed 0). Raises InputError when the
    cloud has a wrong shape or no point inside the workspace.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    camera = None if camera_position_m is None else np.asarray(camera_position_m, np.float64)
    timings: dict[str, float] = {}
    tic = time.perf_counter()
    cloud = finite_points(points_xyz)
    if len(cloud) > config.max_cloud_points:
        cloud = cloud[np.sort(rng.choice(len(cloud), config.max_cloud_points, replace=False))]
    scene = process_scene(cloud, config, camera, seed=int(rng.integers(2**31)))
    timings["scene_ms"] = 1e3 * (time.perf_counter() - tic)

    tic = time.perf_counter()
    up = np.array([0.0, 0.0, 1.0]) if scene.plane_model is None else scene.plane_model[:3]
    backs = [
        mirrored_back(scene.points[i], scene.normals[i], up, scene.plane_model)
        for i in scene.clusters
    ]
    scored = [
        _object_candidates(scene, idx, back, config, camera, rng)
        for idx, back in zip(scene.clusters, backs, strict=True)
    ]
    timings["candidates_ms"] = 1e3 * (time.perf_counter() - tic)

    tic = time.perf_counter()
    # the plane itself is checked exactly; everything above it is an obstacle
    above = scene.plane_distance(scene.points) > scene.object_height_m
    objects = np.vstack([scene.points[above], *(back.points for back in backs)])
    labels = np.concatenate(
        [_owners(scene, above, config), *(np.full(len(b.points), i) for i, b in enumerate(backs))]
    )
    solid, under = columns_below(objects, scene.plane_model, config.voxel_size_m)
    obstacles, owners = np.vstack([objects, solid]), np.concatenate([labels, labels[under]])
    per_object: dict[int, tuple[Grasp, ...]] = {}
    for label, object_scored in enumerate(scored):
        chosen = _first_collision_free(
            object_scored, label, obstacles, owners, scene.plane_model, config
        )
        per_object[label] = tuple(_to_grasp(object_scored, int(i), label, config) for i in chosen)
    timings["collision_ms"] = 1e3 * (time.perf_counter() - tic)
    everything = sorted(
        (g for grasps in per_object.values() for g in grasps), key=lambda g: -g.score
    )
    return GraspPlan(tuple(everything[: config.top_k_total]), per_object, scene, timings)


def _owners(
    scene: ProcessedScene, above: NDArray[np.bool_], config: GraspPlannerConfig
) -> NDArray[np.int64]:
    """Object label (K,) of the points above the plane; an unclustered point (a crease, a
    fragment too small to be an object) belongs to the nearest object within ``cluster_eps_m``,
    so it does not block the closing gap of its own object."""
    labels = scene.cluster_labels[above]
    loose, clustered = labels < 0, labels >= 0
    if loose.any() and clustered.any():
        points = scene.points[above]
        distance, nearest = cKDTree(points[clustered]).query(points[loose])
        labels = labels.copy()
        labels[loose] = np.where(
            distance <= config.cluster_eps_m, labels[clustered][nearest], NOT_AN_OBJECT
        )
    return labels


def _to_grasp(scored: _Scored, i: int, label: int, config: GraspPlannerConfig) -> Grasp:
    terms = scored.terms[i]
    return Grasp(
        position_m=scored.centres[i].copy(),
        rotation=scored.rotations[i].copy(),
        width_m=float(scored.widths[i]),
        score=float(scored.scores[i]),
        object_id=label,
        score_terms=ScoreTerms(*(float(t) for t in terms)),
        pre_grasp_distance_m=config.gripper.approach_distance_m,
        contact_depth_m=float(scored.depths[i]),
        tcp_offset_m=float(scored.depths[i]) - config.gripper.tcp_depth_m,
    )


def plan_grasps_in_frame(
    points: NDArray[np.float32],
    T_planning_sensor: NDArray[np.float64],
    config: GraspPlannerConfig,
) -> GraspPlan:
    """Grasps in the (z-up) planning frame from points (..., 3) in the sensor frame (NaN ok).

    The sensor origin seen from the planning frame orients the surface normals.
    """
    xyz = transform_points(T_planning_sensor, np.asarray(points, np.float64).reshape(-1, 3))
    return plan_grasps(
        xyz.astype(np.float32), config, camera_position_m=T_planning_sensor[:3, 3].copy()
    )

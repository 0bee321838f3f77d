"""Planner on synthetic clouds: box and cylinder on a table, width limits, workspace crop."""

from __future__ import annotations

import numpy as np
import pytest

from promptdepth_ros.errors import InputError
from promptdepth_ros.grasp.planner import plan_grasps
from promptdepth_ros.grasp.types import GraspPlannerConfig
from promptdepth_ros.sim.scene import Primitive, PrimitiveKind

CONFIG = GraspPlannerConfig(workspace_min_m=(-0.3, -0.3, -0.05), workspace_max_m=(0.3, 0.3, 0.4))


def _pose(z: float, yaw: float = 0.0) -> np.ndarray:
    pose = np.eye(4)
    c, s = np.cos(yaw), np.sin(yaw)
    pose[:3, :3] = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
    pose[:3, 3] = [0.02, -0.01, z]
    return pose


def _table_cloud(prim: Primitive, rng: np.random.Generator) -> np.ndarray:
    """Object surface (bottom face removed) plus a 40 x 40 cm table grid at z = 0."""
    points, normals = prim.sample_surface(20_000, rng)
    points = points[normals[:, 2] > -0.5]
    grid = np.arange(-0.2, 0.2, 0.004)
    gx, gy = np.meshgrid(grid, grid)
    table = np.stack([gx.ravel(), gy.ravel(), np.zeros(gx.size)], 1)
    lifted = table + np.array([0.0, 0.0, 0.002])
    table = table[prim.signed_distance(lifted) > 0.0]
    return np.vstack([points, table]).astype(np.float32)


def test_top_down_grasp_on_a_box_closes_across_its_short_side() -> None:
    yaw = np.deg2rad(30.0)
    box = Primitive(PrimitiveKind.BOX, (0.10, 0.05, 0.08), _pose(0.04, yaw), 0, (1, 1, 1))
    plan = plan_grasps(_table_cloud(box, np.random.default_rng(0)), CONFIG)
    assert len(plan.scene.clusters) == 1
    best = plan.grasps[0]
    assert best.approach @ [0.0, 0.0, -1.0] > np.cos(np.deg2rad(5.0))
    short_axis = np.array([-np.sin(yaw), np.cos(yaw), 0.0])
    assert abs(best.closing @ short_axis) > np.cos(np.deg2rad(5.0))
    assert best.width_m == pytest.approx(0.05 + CONFIG.width_margin_m, abs=0.005)
    assert np.linalg.norm(best.position_m[:2] - [0.02, -0.01]) < 0.01


def test_cylinder_is_grasped_across_its_axis_with_its_diameter() -> None:
    cylinder = Primitive(PrimitiveKind.CYLINDER, (0.03, 0.12), _pose(0.06), 0, (1, 1, 1))
    plan = plan_grasps(_table_cloud(cylinder, np.random.default_rng(1)), CONFIG)
    best = plan.grasps[0]
    assert abs(best.closing[2]) < 0.1  # closing horizontal: across the vertical axis
    assert best.width_m == pytest.approx(0.06 + CONFIG.width_margin_m, abs=0.005)
    offset = best.position_m[:2] - [0.02, -0.01]
    assert np.linalg.norm(offset - (offset @ best.closing[:2]) * best.closing[:2]) < 0.008


def test_no_grasp_is_wider_than_the_gripper_and_too_wide_objects_get_none() -> None:
    wide = Primitive(PrimitiveKind.BOX, (0.14, 0.13, 0.05), _pose(0.025), 0, (1, 1, 1))
    plan = plan_grasps(_table_cloud(wide, np.random.default_rng(2)), CONFIG)
    assert plan.grasps == ()
    small = Primitive(PrimitiveKind.SPHERE, (0.03,), _pose(0.03), 0, (1, 1, 1))
    plan = plan_grasps(_table_cloud(small, np.random.default_rng(3)), CONFIG)
    assert plan.grasps
    assert all(g.width_m <= CONFIG.gripper.max_opening_m for g in plan.grasps)


def test_workspace_crop_removes_objects_outside_and_empty_workspace_raises() -> None:
    sphere = Primitive(PrimitiveKind.SPHERE, (0.03,), _pose(0.03), 0, (1, 1, 1))
    cloud = _table_cloud(sphere, np.random.default_rng(4))
    outside = GraspPlannerConfig(
        workspace_min_m=(0.1, 0.1, -0.05), workspace_max_m=(0.3, 0.3, 0.4)
    )
    plan = plan_grasps(cloud, outside)
    assert plan.scene.clusters == ()
    assert np.all(plan.scene.points[:, :2] >= 0.1 - 1e-6)
    with pytest.raises(InputError, match="workspace"):
        plan_grasps(cloud + np.float32(5.0), CONFIG)


def test_plan_is_deterministic_for_a_seed_and_ignores_nan_rows() -> None:
    sphere = Primitive(PrimitiveKind.SPHERE, (0.03,), _pose(0.03), 0, (1, 1, 1))
    cloud = _table_cloud(sphere, np.random.default_rng(5))
    with_nan = np.vstack([cloud, np.full((100, 3), np.nan, np.float32)])
    a = plan_grasps(with_nan, CONFIG, rng=np.random.default_rng(7))
    b = plan_grasps(with_nan, CONFIG, rng=np.random.default_rng(7))
    assert [g.score for g in a.grasps] == [g.score for g in b.grasps]
    np.testing.assert_array_equal(a.grasps[0].position_m, b.grasps[0].position_m)

"""Planner on hard tabletop situations, rendered from a camera and checked on the true shapes:
low and thin objects, objects near the opening limit, large spheres, flush neighbours, a
neighbour in the closing gap, a noisy table."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.ndimage import zoom

from promptdepth_ros.eval.grasp_check import Verdict, check_grasp
from promptdepth_ros.eval.grasp_eval import plan_on_depth
from promptdepth_ros.grasp.planner import GraspPlan
from promptdepth_ros.grasp.types import Grasp, GraspPlannerConfig, GripperModel
from promptdepth_ros.ros.grasp_planner_params import grasp_config_from_params
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import (
    Primitive,
    PrimitiveKind,
    TabletopScene,
    default_camera,
    look_at,
)

BOX, CYLINDER, SPHERE = PrimitiveKind.BOX, PrimitiveKind.CYLINDER, PrimitiveKind.SPHERE
CONFIG = GraspPlannerConfig(workspace_min_m=(-0.3, -0.3, -0.05), workspace_max_m=(0.3, 0.3, 0.4))
LYING = np.pi / 2  # roll that lays a cylinder's axis horizontal


def _prim(
    kind: PrimitiveKind,
    dims: tuple[float, ...],
    xyz: tuple[float, float, float],
    yaw: float = 0.0,
    roll: float = 0.0,
    object_id: int = 0,
) -> Primitive:
    c, s = np.cos(yaw), np.sin(yaw)
    cr, sr = np.cos(roll), np.sin(roll)
    pose = np.eye(4)
    pose[:3, :3] = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]) @ np.array(
        [[1.0, 0, 0], [0, cr, -sr], [0, sr, cr]]
    )
    pose[:3, 3] = xyz
    return Primitive(kind, dims, pose, object_id, (200, 120, 90))


def _scene(*objects: Primitive) -> TabletopScene:
    eye = np.array([0.05, -0.35, 0.42])
    return TabletopScene(objects, default_camera(), look_at(eye, np.zeros(3)), (1.0, 0.8))


def _plan(scene: TabletopScene) -> GraspPlan:
    return plan_on_depth(render(scene).depth_m, scene, CONFIG)


def _grasps_on(plan: GraspPlan, target: Primitive) -> list[Grasp]:
    """The plan's grasps whose closing-line centre lies inside ``target``, best first."""
    grasps = [g for gs in plan.per_object.values() for g in gs]
    inside = [g for g in grasps if target.signed_distance(g.position_m[None])[0] < 0.0]
    return sorted(inside, key=lambda g: -g.score)


def _best_holds(plan: GraspPlan, scene: TabletopScene, target: Primitive) -> Grasp:
    grasps = _grasps_on(plan, target)
    assert grasps, f"no grasp on the {target.kind.value} {target.dims_m}"
    solids = (scene.table, *scene.objects)
    check = check_grasp(grasps[0], target, solids, CONFIG.gripper)
    assert check.verdict is Verdict.SUCCESS, (target.dims_m, check)
    return grasps[0]


@pytest.mark.parametrize("height", [0.005, 0.012, 0.03])
def test_low_objects_get_a_grasp_that_holds(height: float) -> None:
    box = _prim(BOX, (0.05, 0.04, height), (0.0, 0.0, 0.5 * height), yaw=0.4)
    disc = _prim(CYLINDER, (0.025, height), (0.1, 0.05, 0.5 * height), object_id=1)
    scene = _scene(box, disc)
    plan = _plan(scene)
    for target in (box, disc):
        best = _best_holds(plan, scene, target)
        assert best.position_m[2] < height


def test_thin_bar_and_rod_lying_on_the_table_are_grasped_from_above() -> None:
    bar = _prim(BOX, (0.15, 0.01, 0.01), (0.0, 0.0, 0.005), yaw=0.7)
    rod = _prim(CYLINDER, (0.005, 0.12), (-0.1, 0.1, 0.005), yaw=-0.3, roll=LYING, object_id=1)
    scene = _scene(bar, rod)
    plan = _plan(scene)
    for target in (bar, rod):
        best = _best_holds(plan, scene, target)
        assert best.approach[2] < -0.8  # from above
        assert best.width_m < 0.03


def test_box_95_mm_wide_fits_a_100_mm_gripper() -> None:
    box = _prim(BOX, (0.14, 0.095, 0.06), (0.0, 0.0, 0.03), yaw=0.3)
    scene = _scene(box)
    best = _best_holds(_plan(scene), scene, box)
    assert 0.095 < best.width_m <= CONFIG.gripper.max_opening_m


@pytest.mark.parametrize("radius", [0.042, 0.047])
def test_large_sphere_is_held_above_its_equator(radius: float) -> None:
    sphere = _prim(SPHERE, (radius,), (0.0, 0.0, radius))
    scene = _scene(sphere)
    best = _best_holds(_plan(scene), scene, sphere)
    assert best.position_m[2] > radius  # the closing line holds against gravity


def test_flush_boxes_stay_apart_and_each_is_held_across_its_free_sides() -> None:
    yaw = 0.3
    along = np.array([np.cos(yaw), np.sin(yaw), 0.0])
    left = _prim(BOX, (0.05, 0.05, 0.08), tuple(-0.025 * along + [0, 0, 0.04]), yaw=yaw)
    right = _prim(BOX, (0.04, 0.06, 0.05), tuple(0.02 * along + [0, 0, 0.025]), yaw, 0.0, 1)
    scene = _scene(left, right)
    plan = _plan(scene)
    assert len(plan.scene.clusters) == 2
    for target in (left, right):
        best = _best_holds(plan, scene, target)
        assert abs(best.closing @ along) < 0.5  # not across the shared face


def test_no_grasp_has_a_neighbour_in_its_closing_gap() -> None:
    # a cylinder against a box face and a thin post beside the box: many closing lines miss
    # the neighbour while their pads would squeeze it
    box = _prim(BOX, (0.05, 0.05, 0.08), (0.0, 0.0, 0.04), yaw=0.2)
    cylinder = _prim(CYLINDER, (0.02, 0.06), (0.045, 0.01, 0.03), object_id=1)
    post = _prim(CYLINDER, (0.006, 0.1), (-0.012, -0.037, 0.05), object_id=2)
    scene = _scene(box, cylinder, post)
    plan = _plan(scene)
    grasps = [g for gs in plan.per_object.values() for g in gs]
    assert len(plan.per_object) == 3 and grasps
    solids = (scene.table, *scene.objects)
    for grasp in grasps:
        target = min(scene.objects, key=lambda p: p.signed_distance(grasp.position_m[None])[0])
        check = check_grasp(grasp, target, solids, CONFIG.gripper)
        assert check.verdict is not Verdict.GAP_OCCUPIED, (target.dims_m, grasp)


def test_noisy_table_gives_no_spurious_objects() -> None:
    # an 85 x 64 depth map with 1 % noise, upsampled bilinearly (a low-resolution sensor)
    scene = _scene()
    depth = render(scene).depth_m
    rng = np.random.default_rng(3)
    small = zoom(depth, (64 / depth.shape[0], 85 / depth.shape[1]), order=1)
    small *= 1.0 + 0.01 * rng.standard_normal(small.shape)
    noisy = zoom(small, (depth.shape[0] / 64, depth.shape[1] / 85), order=1).astype(np.float32)
    plan = plan_on_depth(noisy, scene, CONFIG)
    assert plan.scene.clusters == ()
    assert plan.grasps == ()
    assert plan.scene.object_height_m > 3.0 * CONFIG.min_object_height_m  # the band grew


def test_plan_of_a_noise_free_table_keeps_the_lowest_band() -> None:
    scene = _scene()
    plan: GraspPlan = plan_on_depth(render(scene).depth_m, scene, CONFIG)
    assert plan.scene.plane_noise_m < 1e-4


def test_robotiq_2f_140_preset_from_the_node_parameters_plans_a_box_too_wide_for_100_mm() -> None:
    config = grasp_config_from_params(
        {
            "grasp.preset": "robotiq_2f_140",
            "grasp.workspace_min_m": [-0.3, -0.3, -0.05],
            "grasp.workspace_max_m": [0.3, 0.3, 0.4],
        }
    )
    assert config.gripper.max_opening_m == pytest.approx(0.14)
    box = _prim(BOX, (0.2, 0.12, 0.06), (0.0, 0.0, 0.03), yaw=0.3)
    scene = _scene(box)
    plan = plan_on_depth(render(scene).depth_m, scene, config)
    grasps = _grasps_on(plan, box)
    assert grasps
    check = check_grasp(grasps[0], box, (scene.table, box), config.gripper)
    assert check.verdict is Verdict.SUCCESS, check
    assert 0.12 < grasps[0].width_m <= 0.14
    assert _grasps_on(_plan(scene), box) == []  # the default 100 mm gripper cannot


def test_grasps_are_published_at_the_configured_tcp() -> None:
    gripper = GripperModel(tcp_depth_m=0.01)
    config = replace(CONFIG, gripper=gripper)
    box = _prim(BOX, (0.05, 0.04, 0.08), (0.0, 0.0, 0.04), yaw=0.3)
    scene = _scene(box)
    best = plan_on_depth(render(scene).depth_m, scene, config).grasps[0]
    fingertips = best.position_m + best.contact_depth_m * best.approach
    np.testing.assert_allclose(best.tcp_position_m(), fingertips - 0.01 * best.approach)
    np.testing.assert_allclose(
        best.pre_grasp_position(), best.tcp_position_m() - 0.1 * best.approach
    )

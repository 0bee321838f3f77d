"""Contact measurement on the closing line, shape completion and the obstacle model."""

from __future__ import annotations

import numpy as np
import pytest

from promptdepth_ros.eval.grasp_check import Verdict
from promptdepth_ros.eval.grasp_eval import evaluate_scene
from promptdepth_ros.grasp.collision import columns_below, gripper_boxes, inflate_boxes
from promptdepth_ros.grasp.object_shape import mirrored_back, symmetry_centre
from promptdepth_ros.grasp.scene_processing import process_scene
from promptdepth_ros.grasp.scoring import measure_contacts
from promptdepth_ros.grasp.types import GraspPlannerConfig, GripperModel
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import (
    Primitive,
    PrimitiveKind,
    default_camera,
    generate_tabletop_scene,
)
from promptdepth_ros.tools.grasp_eval import WORKSPACE_MAX_M, WORKSPACE_MIN_M

CONFIG = GraspPlannerConfig(workspace_min_m=(-0.3, -0.3, -0.05), workspace_max_m=(0.3, 0.3, 0.4))
UP = np.array([0.0, 0.0, 1.0])
CAMERA = np.array([-0.4, -0.3, 0.5])


def _prim(kind: PrimitiveKind, dims: tuple[float, ...], xyz: list[float], yaw: float = 0.0):
    pose = np.eye(4)
    c, s = np.cos(yaw), np.sin(yaw)
    pose[:3, :3] = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
    pose[:3, 3] = xyz
    return Primitive(kind, dims, pose, 0, (1, 1, 1))


def _seen_object(prim: Primitive, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Voxelised points and PCA normals of the faces of ``prim`` that face ``CAMERA``."""
    points, normals = prim.sample_surface(40_000, np.random.default_rng(seed))
    seen = np.einsum("ij,ij->i", normals, CAMERA - points) > 0.0
    grid = np.arange(-0.2, 0.2, 0.004)
    gx, gy = np.meshgrid(grid, grid)
    table = np.stack([gx.ravel(), gy.ravel(), np.zeros(gx.size)], 1)
    table = table[prim.signed_distance(table + np.array([0.0, 0.0, 0.002])) > 0.0]
    scene = process_scene(np.vstack([points[seen], table]), CONFIG, CAMERA)
    index = scene.clusters[0]
    return scene.points[index], scene.normals[index]


def _top_down(centre: list[float], closing_yaw: float) -> tuple[np.ndarray, np.ndarray]:
    closing = np.array([np.cos(closing_yaw), np.sin(closing_yaw), 0.0])
    approach = -UP
    rotation = np.stack([approach, closing, np.cross(approach, closing)], axis=1)
    return np.array([centre], float), rotation[None]


def test_line_across_box_faces_is_square_and_a_line_near_a_vertical_edge_is_not() -> None:
    box = _prim(PrimitiveKind.BOX, (0.05, 0.04, 0.08), [0.0, 0.0, 0.04])
    points, normals = _seen_object(box, 0)
    across, rot = _top_down([0.0, 0.0, 0.055], 0.0)
    edge, _ = _top_down([0.0, -0.012, 0.055], 0.0)  # 8 mm inside the seen face at y = -2 cm
    centres, rotations = np.vstack([across, edge]), np.vstack([rot, rot])
    measured = measure_contacts(centres, rotations, np.full(2, 0.02), points, normals, CONFIG)
    assert measured.found.tolist() == [True, True]
    assert measured.width_m[0] == pytest.approx(0.05, abs=0.006)
    assert np.degrees(measured.angles_rad[0]).max() < 5.0
    assert np.degrees(measured.angles_rad[1]).max() > np.degrees(CONFIG.friction_angle_rad)


def test_symmetry_centre_weights_down_normal_lines_that_miss_it() -> None:
    rng = np.random.default_rng(1)
    centre = np.array([0.01, -0.02, 0.03])
    normals = rng.normal(size=(300, 3))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    points = centre + 0.025 * normals  # a sphere: every normal line passes through the centre
    bent = normals[:60] + np.array([0.0, 0.0, 0.8])  # blended normals at an edge miss the centre
    normals[:60] = bent / np.linalg.norm(bent, axis=1, keepdims=True)
    assert np.linalg.norm(symmetry_centre(points, normals) - centre) < 0.0015
    plain = np.eye(3) - normals[:, :, None] * normals[:, None, :]
    unweighted = np.linalg.solve(plain.sum(0), np.einsum("kij,kj->i", plain, points))
    assert np.linalg.norm(unweighted - centre) > 0.003  # what the reweighting fixes


def test_mirrored_back_of_a_half_seen_cylinder_lies_on_its_hidden_side() -> None:
    cylinder = _prim(PrimitiveKind.CYLINDER, (0.03, 0.1), [0.02, -0.01, 0.05])
    points, normals = _seen_object(cylinder, 2)
    back = mirrored_back(points, normals, UP)
    assert np.linalg.norm(back.centre_m[:2] - [0.02, -0.01]) < 0.004
    assert np.abs(cylinder.signed_distance(back.points)).max() < 0.006
    hidden = (back.points - back.centre_m)[:, :2] @ (CAMERA[:2] - [0.02, -0.01])
    walls = np.abs(back.normals[:, 2]) < 0.5
    assert np.mean(hidden[walls] < 0.0) > 0.95  # the turned walls face away from the camera
    truth = cylinder.surface_normals(back.points[walls])
    assert np.median(np.einsum("ij,ij->i", back.normals[walls], truth)) > 0.98


def test_columns_below_fill_down_to_the_plane_and_keep_only_their_shell() -> None:
    plane = np.array([0.0, 0.0, 1.0, 0.0])
    single, _ = columns_below(np.array([[0.0, 0.0, 0.05]]), plane, 0.01)
    np.testing.assert_allclose(np.sort(single[:, 2]), np.arange(0.0, 0.05, 0.01), atol=1e-9)
    block = np.array([[x, y, 0.04] for x in (0.0, 0.01, 0.02) for y in (0.0, 0.01, 0.02)])
    filled, under = columns_below(block, plane, 0.01)
    middle = filled[np.all(np.isclose(filled[:, :2], 0.01), axis=1)]
    np.testing.assert_allclose(middle[:, 2], [0.03])  # the inner column keeps only its top
    assert len(filled) == 8 * 4 + 1
    np.testing.assert_allclose(filled[:, :2], block[under, :2])  # each lies under its source
    assert columns_below(block, None, 0.01)[0].shape == (0, 3)
    assert columns_below(block - [0.0, 0.0, 0.035], plane, 0.01)[0].shape == (0, 3)


def test_inflated_boxes_grow_outwards_but_keep_the_closing_gap() -> None:
    boxes = gripper_boxes(GripperModel(), np.array([0.06]), np.array([0.02]))
    grown = inflate_boxes(boxes, 0.002)
    assert grown[0, 0, 0, 1] == pytest.approx(0.03)  # inner face of the +Y finger
    assert grown[0, 1, 1, 1] == pytest.approx(-0.03)  # inner face of the -Y finger
    assert grown[0, 0, 1, 1] == pytest.approx(0.042)
    assert grown[0, 2, 0, 2] == pytest.approx(-0.017)
    assert grown[0, 0, 1, 0] == pytest.approx(0.022)  # fingertips


def test_every_object_of_a_cluttered_generated_scene_gets_a_grasp_that_holds() -> None:
    # seed 1011: two spheres beside taller boxes (the palm hits them from straight above) and a
    # thin box seen edge-on; each object's best grasp must pass the ground-truth check
    scene = generate_tabletop_scene(np.random.default_rng(1011), default_camera(320, 240))
    config = GraspPlannerConfig(workspace_min_m=WORKSPACE_MIN_M, workspace_max_m=WORKSPACE_MAX_M)
    result, _ = evaluate_scene(scene, render(scene).depth_m, config)
    outcomes = result.objects
    assert len(outcomes) == 4
    for outcome in outcomes:
        assert outcome.checks, f"object {outcome.object_id} got no grasp"
        assert outcome.checks[0].verdict is Verdict.SUCCESS, outcome

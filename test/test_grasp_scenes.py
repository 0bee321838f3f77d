"""Scenes of the grasp evaluation: the stated situations, in the stated proportions."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from promptdepth_ros.errors import ConfigError
from promptdepth_ros.sim.grasp_scenes import (
    NEAR_LIMIT_RANGE,
    OBJECTS_PER_SCENE,
    SCENE_RECIPE,
    GraspScene,
    Situation,
    generate_grasp_scene,
)
from promptdepth_ros.sim.scene import Primitive, PrimitiveKind, default_camera
from promptdepth_ros.tools import grasp_eval

OPENING = 0.10
SCENES = [
    generate_grasp_scene(np.random.default_rng([7, i]), default_camera(64, 48), OPENING)
    for i in range(4)
]


def _lowest_z(prim: Primitive) -> float:
    rot, z = prim.T_world_object[:3, :3], prim.T_world_object[2, 3]
    if prim.kind is PrimitiveKind.SPHERE:
        return z - prim.dims_m[0]
    if prim.kind is PrimitiveKind.BOX:
        return z - float(np.abs(rot[2]) @ (0.5 * np.asarray(prim.dims_m)))
    axis_z = abs(rot[2, 2])
    radius, height = prim.dims_m
    return z - axis_z * 0.5 * height - radius * np.sqrt(1.0 - axis_z**2)


def _highest_z(prim: Primitive) -> float:
    return 2.0 * prim.T_world_object[2, 3] - _lowest_z(prim)


def _gap(a: Primitive, b: Primitive) -> float:
    """Smallest signed distance between sampled surfaces (5k points each way), metres."""
    rng = np.random.default_rng(0)
    return min(
        float(a.signed_distance(b.sample_surface(5_000, rng)[0]).min()),
        float(b.signed_distance(a.sample_surface(5_000, rng)[0]).min()),
    )


def _by_situation(scene: GraspScene, situation: Situation) -> list[Primitive]:
    return [p for p in scene.targets if scene.situations[p.object_id] is situation]


def test_every_scene_holds_the_recipe_so_proportions_are_exact() -> None:
    for scene in SCENES:
        assert Counter(scene.situations.values()) == Counter(SCENE_RECIPE)
        assert len(scene.targets) == OBJECTS_PER_SCENE == 8


def test_the_default_evaluation_set_is_held_out_and_large_enough() -> None:
    args = grasp_eval.parse_args([])
    assert args.seeds == "heldout" and args.first == 0
    assert args.scenes * OBJECTS_PER_SCENE >= 150
    tune = grasp_eval.scene_rng("tune", 0).random(4)
    assert not np.allclose(tune, grasp_eval.scene_rng("heldout", 0).random(4))


def test_objects_rest_on_their_support_without_interpenetrating() -> None:
    for scene in SCENES:
        objects = scene.scene.objects
        platforms = [p for p in objects if p.object_id not in scene.situations]
        supports = [0.0, *(_highest_z(p) for p in platforms)]
        for prim in objects:
            assert min(abs(_lowest_z(prim) - s) for s in supports) < 1e-9
        for i, a in enumerate(objects):
            for b in objects[i + 1 :]:
                assert _gap(a, b) > -1e-9


def test_each_situation_has_its_stated_geometry() -> None:
    for scene in SCENES:
        (bar,) = _by_situation(scene, Situation.THIN_BAR)
        if bar.kind is PrimitiveKind.BOX:
            assert bar.dims_m[1] == 0.01 and bar.dims_m[2] <= 0.015  # 1 cm wide, lying
        else:
            assert 0.004 <= bar.dims_m[0] <= 0.007 and abs(bar.T_world_object[2, 2]) < 1e-9
        (low,) = _by_situation(scene, Situation.LOW)
        assert 0.005 <= _highest_z(low) <= 0.03
        (wide,) = _by_situation(scene, Situation.NEAR_OPENING_LIMIT)
        across = 2.0 * wide.dims_m[0] if wide.kind is PrimitiveKind.CYLINDER else wide.dims_m[1]
        assert NEAR_LIMIT_RANGE[0] <= across / OPENING <= NEAR_LIMIT_RANGE[1]
        if wide.kind is PrimitiveKind.BOX:
            assert wide.dims_m[0] > OPENING  # only the narrow side fits the gripper
        (ball,) = _by_situation(scene, Situation.LARGE_SPHERE)
        assert ball.kind is PrimitiveKind.SPHERE and 0.04 < ball.dims_m[0] < 0.5 * OPENING
        first, second = _by_situation(scene, Situation.TOUCHING)
        assert -1e-9 < _gap(first, second) < 0.002
        (stacked,) = _by_situation(scene, Situation.STACKED)
        assert _lowest_z(stacked) > 0.02
        platforms = [p for p in scene.scene.objects if p.object_id not in scene.situations]
        assert len(platforms) == 1 and min(platforms[0].dims_m[:2]) > OPENING


def test_a_gripper_too_small_for_a_large_sphere_is_rejected() -> None:
    with pytest.raises(ConfigError, match="max_opening_m"):
        generate_grasp_scene(np.random.default_rng(0), default_camera(64, 48), 0.05)

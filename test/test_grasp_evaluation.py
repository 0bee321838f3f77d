"""The independent grasp check, the evaluation's bookkeeping and the promptdepth-grasp-eval CLI."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptdepth_ros.eval import grasp_check, grasp_oracle
from promptdepth_ros.eval.grasp_check import (
    PENETRATION_TOLERANCE_M,
    Verdict,
    box_penetrates,
    check_grasp,
)
from promptdepth_ros.eval.grasp_depth import SourceName, depth_source
from promptdepth_ros.eval.grasp_eval import ObjectOutcome, evaluate_grasps, summarize
from promptdepth_ros.eval.grasp_oracle import find_valid_grasp
from promptdepth_ros.grasp.types import Grasp, GripperModel, ScoreTerms
from promptdepth_ros.sim.grasp_scenes import Situation, generate_grasp_scene
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import Primitive, PrimitiveKind, TabletopScene, default_camera
from promptdepth_ros.tools import grasp_eval

GRIPPER = GripperModel()  # 10 cm opening, 4 cm deep and 2 cm wide fingers, 1 cm thick


def _prim(kind: PrimitiveKind, dims: tuple[float, ...], xyz: tuple[float, ...], oid: int = 0):
    pose = np.eye(4)
    pose[:3, 3] = xyz
    return Primitive(kind, dims, pose, oid, (1, 1, 1))


def _box(x: float = 0.0, oid: int = 0, dims=(0.05, 0.04, 0.08)) -> Primitive:
    return _prim(PrimitiveKind.BOX, dims, (x, 0.0, 0.5 * dims[2]), oid)


def _scene(*objects: Primitive) -> TabletopScene:
    return TabletopScene(tuple(objects), default_camera(64, 48), np.eye(4), (1.2, 0.8))


def _top_down(
    xyz: tuple[float, float, float],
    width: float = 0.06,
    yaw_deg: float = 0.0,
    depth: float = 0.02,
    score: float = 1.0,
) -> Grasp:
    """A grasp approaching straight down, closing along world x rotated by ``yaw_deg``."""
    a = np.deg2rad(yaw_deg)
    closing = np.array([np.cos(a), np.sin(a), 0.0])
    approach = np.array([0.0, 0.0, -1.0])
    rot = np.stack([approach, closing, np.cross(approach, closing)], 1)
    return Grasp(np.array(xyz, float), rot, width, score, 0, ScoreTerms(1, 1, 1, 1), 0.1, depth)


def _check(grasp: Grasp, target: Primitive, *others: Primitive):
    return check_grasp(grasp, target, (_scene().table, target, *others), GRIPPER)


def test_a_top_down_grasp_across_a_box_holds_and_measures_the_box() -> None:
    check = _check(_top_down((0.0, 0.0, 0.06)), _box())
    assert check.verdict is Verdict.SUCCESS
    assert check.true_width_m == pytest.approx(0.05, abs=1e-6)
    assert check.max_angle_rad == pytest.approx(0.0, abs=1e-6)


def test_a_finger_through_a_neighbour_is_a_collision() -> None:
    neighbour = _box(0.06, oid=1)  # 1 cm gap: the 1 cm finger at x = 3..4 cm enters it 5 mm
    assert _check(_top_down((0.0, 0.0, 0.06)), _box(), neighbour).verdict is Verdict.COLLISION
    away = _box(0.08, oid=1)  # 3 cm gap: the finger fits
    assert _check(_top_down((0.0, 0.0, 0.06)), _box(), away).verdict is Verdict.SUCCESS


def test_something_between_the_pads_off_the_closing_line_occupies_the_gap() -> None:
    target = _box(dims=(0.03, 0.03, 0.08))
    # a rod 6 mm off the closing line (the pads are 2 cm wide), between the pads, not the target
    rod = _prim(PrimitiveKind.CYLINDER, (0.004, 0.06), (0.022, 0.006, 0.03), oid=1)
    grasp = _top_down((0.0, 0.0, 0.06), width=0.06)
    assert _check(grasp, target, rod).verdict is Verdict.GAP_OCCUPIED
    clear = _prim(PrimitiveKind.CYLINDER, (0.004, 0.06), (0.022, 0.016, 0.03), oid=1)
    assert _check(grasp, target, clear).verdict is Verdict.SUCCESS  # beside the pads


def test_the_friction_cone_is_atan_of_0_4_on_the_analytic_normals() -> None:
    box = _box(dims=(0.05, 0.05, 0.08))
    inside = _check(_top_down((0.0, 0.0, 0.06), width=0.08, yaw_deg=20.0), box)
    assert inside.verdict is Verdict.SUCCESS  # tan 20 deg = 0.36 < 0.4
    outside = _check(_top_down((0.0, 0.0, 0.06), width=0.08, yaw_deg=23.0), box)
    assert outside.verdict is Verdict.OUTSIDE_CONE  # tan 23 deg = 0.42 > 0.4
    assert np.degrees(outside.max_angle_rad) == pytest.approx(23.0, abs=1e-4)


def test_a_large_sphere_holds_just_above_its_equator_only() -> None:
    ball = _prim(PrimitiveKind.SPHERE, (0.045,), (0.0, 0.0, 0.045))
    # 1 cm above the centre: normals 12.8 degrees off, the palm 3.8 cm higher clears the top
    above = _top_down((0.0, 0.0, 0.055), width=0.095, depth=0.002)
    assert _check(above, ball).verdict is Verdict.SUCCESS
    at_equator = _top_down((0.0, 0.0, 0.045), width=0.095, depth=0.002)
    assert _check(at_equator, ball).verdict is Verdict.COLLISION  # the palm meets the top
    high = _check(_top_down((0.0, 0.0, 0.075), width=0.095), ball)  # 3 cm above: 42 degrees
    assert high.verdict is Verdict.OUTSIDE_CONE


def test_openings_too_wide_for_the_gripper_or_too_narrow_for_the_object_fail() -> None:
    box = _box()
    assert _check(_top_down((0.0, 0.0, 0.06), width=0.101), box).verdict is Verdict.TOO_WIDE
    narrow = _check(_top_down((0.0, 0.0, 0.06), width=0.048), box)
    assert narrow.verdict is Verdict.TOO_WIDE  # the 5 cm box reaches the pads
    assert _check(_top_down((0.2, 0.0, 0.06)), box).verdict is Verdict.NO_CONTACT
    assert _check(_top_down((0.0, 0.0, 0.06), depth=0.05), box).verdict is Verdict.OFF_PAD


def test_fingertips_in_the_table_and_an_obstacle_over_the_approach_fail() -> None:
    low = _box(dims=(0.05, 0.04, 0.01))
    assert _check(_top_down((0.0, 0.0, 0.005), depth=0.004), low).verdict is Verdict.SUCCESS
    assert _check(_top_down((0.0, 0.0, 0.005), depth=0.006), low).verdict is Verdict.COLLISION
    shelf = _prim(PrimitiveKind.BOX, (0.2, 0.2, 0.01), (0.0, 0.0, 0.16), oid=1)  # 8 cm above
    blocked = _check(_top_down((0.0, 0.0, 0.06)), _box(), shelf)
    assert blocked.verdict is Verdict.APPROACH_COLLISION


@settings(max_examples=60, deadline=None)
@given(
    st.tuples(*(st.floats(0.005, 0.05),) * 3),
    st.tuples(*(st.floats(-0.06, 0.06),) * 3),
    st.floats(0.005, 0.04),
    st.floats(0.0, 2.0 * np.pi),
)
def test_box_penetration_matches_the_exact_box_sphere_distance(half, centre, radius, yaw) -> None:
    c, s = np.cos(yaw), np.sin(yaw)
    rotation = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    origin = np.array([0.01, -0.02, 0.03])
    box = np.array([np.negative(half), half])
    sphere = _prim(PrimitiveKind.SPHERE, (radius,), tuple(origin + rotation @ np.array(centre)))
    gap = np.linalg.norm(np.maximum(np.abs(centre) - np.array(half), 0.0)) - radius
    if gap < -2.0 * PENETRATION_TOLERANCE_M:
        assert box_penetrates(box, rotation, origin, sphere)
    elif gap > -PENETRATION_TOLERANCE_M:
        assert not box_penetrates(box, rotation, origin, sphere)


def test_each_object_is_judged_on_its_best_grasps_and_no_grasp_is_a_failure() -> None:
    scene = _scene(_box(oid=0), _box(0.2, oid=1), _box(-0.2, oid=2))
    grasps = [
        _top_down((0.0, 0.0, 0.06), width=0.048, score=0.9),  # best on object 0: too narrow
        _top_down((0.0, 0.0, 0.06), score=0.5),  # second on object 0: holds
        _top_down((0.2, 0.0, 0.06), score=0.7),  # object 1: holds
        _top_down((0.0, 0.3, 0.06), score=1.0),  # nothing near: spurious
    ]
    situations = {0: Situation.LOW, 1: Situation.LOW, 2: Situation.FREE_STANDING}
    result = evaluate_grasps(grasps, scene, GRIPPER, situations)
    assert result.spurious_grasps == 1
    by_id = {o.object_id: o for o in result.objects}
    assert [c.verdict for c in by_id[0].checks] == [Verdict.TOO_WIDE, Verdict.SUCCESS]
    assert (by_id[0].top1, by_id[0].top5, by_id[1].top1, by_id[2].top5) == (0, 1, 1, 0)
    summary = summarize(result.objects)
    assert summary["top1"] == pytest.approx(1 / 3) and summary["top5"] == pytest.approx(2 / 3)
    assert summary["situations"]["low"] == {"top1": 0.5, "top5": 1.0, "objects": 2}
    assert summary["top1_verdicts"] == {"no_grasp": 1, "success": 1, "too_wide": 1}


def test_summary_of_no_objects_is_zero() -> None:
    empty: list[ObjectOutcome] = []
    assert summarize(empty)["top1"] == 0.0


def test_cli_json_on_one_small_scene_with_the_users_gripper(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = tmp_path / "grasp.yaml"
    params.write_text("grasp_planner_node:\n  ros__parameters:\n    grasp.max_opening_m: 0.12\n")
    argv = ["--scenes", "1", "--seeds", "tune", "--size", "320x240", "--json"]
    argv += ["--grasp-params", str(params), "--source", "ground_truth", "--source", "guided"]
    assert grasp_eval.main([*argv, "--failures"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    failed = sum(round(8 * (1.0 - s["top1"])) for s in result["depth_sources"].values())
    assert sum(line.startswith("  scene 0 object ") for line in lines) == failed
    assert result["scene_set"] == {"seeds": "tune", "first": 0, "scenes": 1}
    for name in ("ground_truth", "guided"):
        summary = result["depth_sources"][name]
        assert summary["objects"] == 8
        assert set(summary["situations"]) == {s.value for s in Situation}
        assert 0.0 <= summary["top1"] <= summary["top5"] <= 1.0
        assert summary["ms_per_scene"] > 0.0
    assert result["depth_sources"]["guided"]["depth_ms_per_scene"] > 0.0


def test_cli_names_a_misspelt_planner_parameter(tmp_path: Path) -> None:
    params = tmp_path / "grasp.yaml"
    params.write_text("grasp_planner_node:\n  ros__parameters:\n    grasp.max_opening: 0.12\n")
    with pytest.raises(SystemExit) as exit_info:
        grasp_eval.main(["--grasp-params", str(params)])
    assert "did you mean 'grasp.max_opening_m'" in str(exit_info.value.code)


def test_cli_rejects_an_empty_scene_range() -> None:
    with pytest.raises(SystemExit) as exit_info:
        grasp_eval.main(["--scenes", "0"])
    assert exit_info.value.code == 2


def test_every_object_of_a_generated_scene_has_a_grasp_the_check_accepts() -> None:
    scene = generate_grasp_scene(grasp_eval.scene_rng("tune", 3), default_camera(64, 48))
    solids = (scene.scene.table, *scene.scene.objects)
    for target in scene.targets:
        grasp = find_valid_grasp(target, solids, GRIPPER)
        assert grasp is not None, scene.situations[target.object_id]
        assert check_grasp(grasp, target, solids, GRIPPER).success


@pytest.mark.parametrize("name", ["guided", "guided_lidar"])
def test_sensor_sources_give_pipeline_depth_near_the_truth(name: SourceName) -> None:
    scene = generate_grasp_scene(grasp_eval.scene_rng("tune", 0), default_camera(160, 120))
    frame = render(scene.scene)
    depth = depth_source(name)(frame, scene.scene, np.random.default_rng(0))
    assert depth is not None and depth.shape == frame.depth_m.shape
    both = np.isfinite(depth) & np.isfinite(frame.depth_m)
    assert both.mean() > 0.5
    error = np.abs(depth[both] - frame.depth_m[both])
    # not the truth itself, but the same scene: within twice the sensors' 1 cm noise
    assert 0.0 < np.median(error) < 0.02


def test_the_check_shares_no_code_with_the_planner() -> None:
    for module in (grasp_check, grasp_oracle):
        tree = ast.parse(Path(module.__file__ or "").read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        planner_modules = {m for m in imported if m and m.startswith("promptdepth_ros.grasp")}
        assert planner_modules == {"promptdepth_ros.grasp.types"}, module.__name__

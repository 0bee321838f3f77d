"""Ground-truth grasp checks and the promptdepth-grasp-eval CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.eval.grasp_eval import Verdict, check_grasp
from promptdepth_ros.grasp.types import Grasp, GripperModel, ScoreTerms
from promptdepth_ros.sim.scene import Primitive, PrimitiveKind, TabletopScene, default_camera
from promptdepth_ros.tools import grasp_eval

GRIPPER = GripperModel()


def _scene(*objects: Primitive) -> TabletopScene:
    camera: CameraModel = default_camera(64, 48)
    return TabletopScene(tuple(objects), camera, np.eye(4), (1.2, 0.8))


def _box(x: float, object_id: int = 0) -> Primitive:
    pose = np.eye(4)
    pose[:3, 3] = [x, 0.0, 0.04]
    return Primitive(PrimitiveKind.BOX, (0.05, 0.04, 0.08), pose, object_id, (1, 1, 1))


def _top_down(x: float, z: float, yaw_deg: float = 0.0, width: float = 0.06) -> Grasp:
    a = np.deg2rad(yaw_deg)
    closing = np.array([np.cos(a), np.sin(a), 0.0])
    approach = np.array([0.0, 0.0, -1.0])
    rot = np.stack([approach, closing, np.cross(approach, closing)], 1)
    return Grasp(np.array([x, 0.0, z]), rot, width, 1.0, 0, ScoreTerms(1, 1, 1, 1), 0.1, 0.02)


def test_check_accepts_a_top_down_grasp_across_the_box() -> None:
    check = check_grasp(_top_down(0.0, 0.065), _scene(_box(0.0)), GRIPPER, 0.4)
    assert check.verdict is Verdict.SUCCESS
    assert check.true_width_m == pytest.approx(0.05, abs=0.001)


def test_check_rejects_off_object_collisions_tilted_and_narrow_grasps() -> None:
    scene = _scene(_box(0.0))
    assert check_grasp(_top_down(0.0, 0.03), scene, GRIPPER, 0.4).verdict is Verdict.COLLISION
    assert check_grasp(_top_down(0.2, 0.065), scene, GRIPPER, 0.4).verdict is Verdict.NO_CONTACT
    tilted = check_grasp(_top_down(0.0, 0.065, yaw_deg=30.0, width=0.09), scene, GRIPPER, 0.4)
    assert tilted.verdict is Verdict.OUTSIDE_CONE
    assert np.degrees(tilted.max_angle_rad) == pytest.approx(30.0, abs=1.0)
    narrow = check_grasp(_top_down(0.0, 0.065, width=0.045), scene, GRIPPER, 0.4)
    assert narrow.verdict is Verdict.TOO_WIDE


def test_check_rejects_a_neighbour_in_a_finger() -> None:
    scene = _scene(_box(0.0), _box(0.065, object_id=1))  # 1.5 cm gap: a finger cannot fit
    assert check_grasp(_top_down(0.0, 0.065), scene, GRIPPER, 0.4).verdict is Verdict.COLLISION


def test_cli_json_on_one_small_scene(capsys: pytest.CaptureFixture[str]) -> None:
    code = grasp_eval.main(
        ["--scenes", "1", "--size", "320x240", "--source", "ground_truth", "--json"]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    gt = result["depth_sources"]["ground_truth"]
    assert gt["objects"] >= 3
    assert 0.0 <= gt["top1"] <= 1.0 and 0.0 <= gt["top5"] <= 1.0
    assert gt["ms_per_scene"] > 0.0

"""Collision model, scoring and config validation of the grasp planner."""

from __future__ import annotations

import numpy as np
import pytest

from promptdepth_ros.errors import ConfigError
from promptdepth_ros.grasp.collision import (
    below_plane,
    closing_gap_boxes,
    gripper_boxes,
    points_in_boxes,
)
from promptdepth_ros.grasp.scoring import ContactMeasurement, score_terms
from promptdepth_ros.grasp.types import (
    Grasp,
    GraspPlannerConfig,
    GripperModel,
    ScoreTerms,
)

GRIPPER = GripperModel()
TOP_DOWN = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]).T  # X down, Y = +y


def test_gripper_boxes_follow_the_documented_layout() -> None:
    boxes = gripper_boxes(GRIPPER, np.array([0.06]), np.array([0.02]), include_approach=False)[0]
    np.testing.assert_allclose(boxes[0], [[-0.02, 0.03, -0.01], [0.02, 0.04, 0.01]])
    np.testing.assert_allclose(boxes[1], [[-0.02, -0.04, -0.01], [0.02, -0.03, 0.01]])
    np.testing.assert_allclose(boxes[2], [[-0.04, -0.06, -0.015], [-0.02, 0.06, 0.015]])
    swept = gripper_boxes(GRIPPER, np.array([0.06]), np.array([0.02]))[0]
    assert swept[2, 0, 0] == pytest.approx(-0.14)


def test_points_between_fingers_are_free_and_points_in_a_finger_collide() -> None:
    centre = np.array([[0.0, 0.0, 0.1]])
    rot = TOP_DOWN[None]
    boxes = gripper_boxes(GRIPPER, np.array([0.06]), np.array([0.02]))
    between = np.array([[0.0, 0.0, 0.1], [0.0, 0.029, 0.1], [0.0, -0.029, 0.085]])
    assert points_in_boxes(centre, rot, boxes, between)[0] == 0
    in_finger = np.vstack([between, [[0.005, 0.035, 0.09]]])  # grasp y = 0.035, x = 0.01
    assert points_in_boxes(centre, rot, boxes, in_finger)[0] == 1
    above_palm = np.array([[0.0, 0.0, 0.13]])  # behind the fingers: inside the palm box
    assert points_in_boxes(centre, rot, boxes, above_palm)[0] == 1
    on_approach = np.array([[0.0, 0.0, 0.2]])  # 10 cm up: only the swept palm reaches it
    assert points_in_boxes(centre, rot, boxes, on_approach)[0] == 1
    still = gripper_boxes(GRIPPER, np.array([0.06]), np.array([0.02]), include_approach=False)
    assert points_in_boxes(centre, rot, still, on_approach)[0] == 0


def test_a_neighbour_between_the_pads_off_the_closing_line_collides_the_target_does_not() -> None:
    centre, rot = np.array([[0.0, 0.0, 0.1]]), TOP_DOWN[None]
    width, depth = np.array([0.06]), np.array([0.02])
    boxes = gripper_boxes(GRIPPER, width, depth)
    gap = closing_gap_boxes(GRIPPER, width, depth)
    np.testing.assert_allclose(gap[0], [[-0.02, -0.03, -0.01], [0.02, 0.03, 0.01]])
    # grasp x = 0.01 (under the line), y = 0.02, z = 0.008: between the pads, off the line
    beside = np.array([[0.008, 0.02, 0.09]])
    on_line = np.array([[0.0, 0.0, 0.1]])
    points, owners = np.vstack([on_line, beside]), np.array([3, 7])
    assert points_in_boxes(centre, rot, boxes, points)[0] == 0  # fingers and palm miss both
    assert points_in_boxes(centre, rot, boxes, points, (gap, owners, 3))[0] == 1
    assert points_in_boxes(centre, rot, boxes, points, (gap, owners, 7))[0] == 1
    assert points_in_boxes(centre, rot, boxes, points[:1], (gap, owners[:1], 3))[0] == 0


def test_below_plane_rejects_fingertips_under_the_table() -> None:
    plane = np.array([0.0, 0.0, 1.0, 0.0])
    boxes = gripper_boxes(GRIPPER, np.array([0.06, 0.06]), np.array([0.02, 0.02]))
    centres = np.array([[0.0, 0.0, 0.025], [0.0, 0.0, 0.015]])  # tips at z = 5 mm and -5 mm
    hit = below_plane(centres, np.stack([TOP_DOWN] * 2), boxes, plane, 0.0)
    assert hit.tolist() == [False, True]


def _measurement(angles_deg: list[list[float]]) -> ContactMeasurement:
    m = len(angles_deg)
    return ContactMeasurement(
        width_m=np.full(m, 0.05),
        angles_rad=np.deg2rad(np.asarray(angles_deg, float)),
        completed=np.zeros((m, 2), bool),
        support=np.full(m, 100),
        found=np.ones(m, bool),
    )


def test_antipodal_term_matches_the_friction_cone_by_hand() -> None:
    config = GraspPlannerConfig(friction_coefficient=0.4)
    cone = np.degrees(np.arctan(0.4))  # 21.80 degrees
    terms = score_terms(
        _measurement([[0.0, 0.0], [10.0, 5.0], [cone + 1.0, 0.0]]),
        np.zeros((3, 3)),
        np.stack([TOP_DOWN] * 3),
        np.zeros(3),
        0.05,
        config,
    )
    np.testing.assert_allclose(terms[:, 0], [1.0, 1.0 - 10.0 / cone, 0.0], atol=1e-9)
    assert terms[0, 3] == pytest.approx(1.0)  # top-down = preferred approach
    assert terms[0, 2] == pytest.approx(1.0)  # centre on the object centre


def test_config_rejects_out_of_range_values_naming_the_field() -> None:
    with pytest.raises(ConfigError, match="friction_coefficient"):
        GraspPlannerConfig(friction_coefficient=0.0)
    with pytest.raises(ConfigError, match="workspace"):
        GraspPlannerConfig(workspace_min_m=(0.0, 0.0, 1.0), workspace_max_m=(1.0, 1.0, 0.5))
    with pytest.raises(ConfigError, match="palm_width_m"):
        GripperModel(palm_width_m=0.05)
    with pytest.raises(ConfigError, match="preferred_approach"):
        GraspPlannerConfig(preferred_approach=(0.0, 0.0, -2.0))


def test_grasp_quaternion_and_pre_grasp_position() -> None:
    grasp = Grasp(
        position_m=np.array([0.1, 0.0, 0.05]),
        rotation=TOP_DOWN,
        width_m=0.05,
        score=0.9,
        object_id=0,
        score_terms=ScoreTerms(1.0, 1.0, 1.0, 1.0),
        pre_grasp_distance_m=0.1,
        contact_depth_m=0.02,
    )
    np.testing.assert_allclose(grasp.pre_grasp_position(), [0.1, 0.0, 0.15])
    q = grasp.quaternion_xyzw()
    x, y, z, w = q
    rebuilt = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    np.testing.assert_allclose(rebuilt, TOP_DOWN, atol=1e-12)


def test_presets_fill_the_dimensions_left_at_zero_and_explicit_ones_win() -> None:
    franka = GripperModel(preset="franka_hand")
    assert franka.max_opening_m == pytest.approx(0.08)
    assert franka.palm_span_m == pytest.approx(0.204)
    custom = GripperModel(preset="robotiq_2f_85", finger_depth_m=0.05)
    assert (custom.max_opening_m, custom.finger_depth_m) == pytest.approx((0.085, 0.05))
    assert GripperModel().max_opening_m == pytest.approx(0.10)
    with pytest.raises(ConfigError, match="preset"):
        GripperModel(preset="acme_claw")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="palm_width_m"):
        GripperModel(preset="robotiq_2f_140", palm_width_m=0.15)  # narrower than the fingers

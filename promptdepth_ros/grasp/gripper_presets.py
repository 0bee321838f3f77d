"""Dimensions of common parallel-jaw grippers, in the terms of
:class:`promptdepth_ros.grasp.types.GripperModel` (metres).

``finger_depth_m`` is the length of the fingers' inner faces in front of the gripper body,
``palm_*`` the body right behind them. Sources (cited in the README): the Robotiq 2F-85/2F-140
instruction manual (section 6.1, specifications) and the Franka Hand datasheet; rounded to the
millimetre, standard fingertips. ``generic_100mm`` is the package's own default.
"""

from __future__ import annotations

from typing import Literal

GripperPreset = Literal["generic_100mm", "robotiq_2f_85", "robotiq_2f_140", "franka_hand"]

DIMENSION_FIELDS = (
    "max_opening_m",
    "finger_depth_m",
    "finger_thickness_m",
    "finger_width_m",
    "palm_depth_m",
    "palm_width_m",
    "palm_height_m",
    "tcp_depth_m",
)

PRESETS: dict[str, dict[str, float]] = {
    "generic_100mm": {
        "max_opening_m": 0.10,
        "finger_depth_m": 0.04,
        "finger_thickness_m": 0.01,
        "finger_width_m": 0.02,
        "palm_depth_m": 0.02,
        "palm_width_m": 0.0,
        "palm_height_m": 0.03,
        "tcp_depth_m": 0.0,
    },
    "robotiq_2f_85": {
        "max_opening_m": 0.085,
        "finger_depth_m": 0.038,
        "finger_thickness_m": 0.012,
        "finger_width_m": 0.022,
        "palm_depth_m": 0.06,
        "palm_width_m": 0.149,
        "palm_height_m": 0.075,
        "tcp_depth_m": 0.0,
    },
    "robotiq_2f_140": {
        "max_opening_m": 0.14,
        "finger_depth_m": 0.045,
        "finger_thickness_m": 0.012,
        "finger_width_m": 0.027,
        "palm_depth_m": 0.06,
        "palm_width_m": 0.196,
        "palm_height_m": 0.075,
        "tcp_depth_m": 0.0,
    },
    "franka_hand": {
        "max_opening_m": 0.08,
        "finger_depth_m": 0.045,
        "finger_thickness_m": 0.01,
        "finger_width_m": 0.02,
        "palm_depth_m": 0.07,
        "palm_width_m": 0.204,
        "palm_height_m": 0.063,
        "tcp_depth_m": 0.0,
    },
}

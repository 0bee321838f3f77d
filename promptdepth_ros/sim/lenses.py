"""Cameras of generated data beyond the rectified pinhole: fisheye, wide-angle, rectified."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.errors import ConfigError
from promptdepth_ros.sim.scene import default_camera

FISHEYE_K = (0.02, -0.005, 0.001, 0.0)  # equidistant k1..k4 of a mild real fisheye
WIDE_ANGLE_D = (-0.28, 0.07, 0.0005, -0.0003, 0.0)  # plumb_bob of a ~100 degree lens


def fisheye_camera(width: int, height: int, fov_deg: float = 150.0) -> CameraModel:
    """An ``equidistant`` camera whose image width spans ``fov_deg`` (up to 170 degrees)."""
    if not 0.0 < fov_deg <= 170.0:
        raise ConfigError(f"fov_deg must be in (0, 170], got {fov_deg}")
    half = np.deg2rad(0.5 * fov_deg)
    k = np.asarray(FISHEYE_K)
    theta_d = half * (1 + k[0] * half**2 + k[1] * half**4 + k[2] * half**6 + k[3] * half**8)
    focal = 0.5 * width / theta_d
    return replace(
        default_camera(width, height),
        fx=focal,
        fy=focal,
        distortion_model="equidistant",
        distortion=FISHEYE_K,
    )


def wide_angle_camera(width: int, height: int) -> CameraModel:
    """A ``plumb_bob`` camera with strong barrel distortion, about 100 degrees across."""
    focal = 0.5 * width / np.tan(np.deg2rad(45.0))
    return replace(
        default_camera(width, height),
        fx=focal,
        fy=focal,
        distortion_model="plumb_bob",
        distortion=WIDE_ANGLE_D,
    )


def raw_calibration(rectified: CameraModel) -> CameraModel:
    """The raw camera a ``rectified`` image (its P) was made from: K differs from P, as a
    rectification that crops and rescales the image does (focal 12 % longer, centre moved)."""
    return replace(
        rectified,
        fx=rectified.fx * 0.88,
        fy=rectified.fy * 0.88,
        cx=rectified.cx + 0.04 * rectified.width,
        cy=rectified.cy - 0.03 * rectified.height,
    )

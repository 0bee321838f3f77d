"""CameraInfo -> CameraModel with ROI and binning as image_geometry applies them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.errors import InputError, UnsupportedCameraModel
from promptdepth_ros.ros.convert.camera_info import (
    camera_info_msg_from_model,
    camera_model_from_msg,
)


def make_info(**kwargs) -> CameraInfo:
    msg = CameraInfo()
    msg.header.frame_id = "cam_optical_frame"
    msg.width, msg.height = 1280, 960
    msg.k = [600.0, 0.0, 640.5, 0.0, 610.0, 480.25, 0.0, 0.0, 1.0]
    msg.distortion_model = "plumb_bob"
    msg.d = [0.1, -0.05, 0.001, 0.002, 0.01]
    for key, value in kwargs.items():
        setattr(msg, key, value)
    return msg


def test_full_resolution_info_keeps_k_and_d():
    model = camera_model_from_msg(make_info())
    assert (model.width, model.height) == (1280, 960)
    assert (model.fx, model.fy, model.cx, model.cy) == (600.0, 610.0, 640.5, 480.25)
    assert model.distortion == (0.1, -0.05, 0.001, 0.002, 0.01)
    assert model.distortion_model == "plumb_bob"
    assert model.frame_id == "cam_optical_frame"


def test_roi_and_binning_shift_and_scale_the_intrinsics():
    msg = make_info(binning_x=2, binning_y=4)
    msg.roi.x_offset, msg.roi.y_offset, msg.roi.width, msg.roi.height = 100, 40, 640, 480
    msg.roi.do_rectify = True
    model = camera_model_from_msg(msg)
    assert (model.width, model.height) == (320, 120)
    assert model.fx == pytest.approx(300.0) and model.fy == pytest.approx(152.5)
    assert model.cx == pytest.approx((640.5 - 100) / 2)
    assert model.cy == pytest.approx((480.25 - 40) / 4)


def test_binning_without_roi_uses_the_binned_full_image():
    model = camera_model_from_msg(make_info(binning_x=2, binning_y=2))
    assert (model.width, model.height) == (640, 480)
    assert (model.fx, model.cx) == (300.0, 320.25)


def test_binning_zero_means_one():
    model = camera_model_from_msg(make_info(binning_x=0, binning_y=0))
    assert (model.width, model.fx) == (1280, 600.0)


@pytest.mark.parametrize("k", [[0.0] * 9, [math.nan, 0, 320, 0, 500, 240, 0, 0, 1]])
def test_uncalibrated_k_is_rejected(k):
    with pytest.raises(InputError, match="K must be"):
        camera_model_from_msg(make_info(k=k))


def test_unknown_distortion_model_is_rejected():
    with pytest.raises(UnsupportedCameraModel, match="fov"):
        camera_model_from_msg(make_info(distortion_model="fov", d=[0.5]))


def test_model_to_message_round_trip():
    model = CameraModel(
        640,
        480,
        500.0,
        501.0,
        319.5,
        239.5,
        "rational_polynomial",
        (0.1, 0.01, 0.0, 0.0, 0.001, 0.2, 0.02, 0.002),
        "cam",
    )
    msg = camera_info_msg_from_model(model, Header(frame_id="cam"))
    np.testing.assert_array_equal(np.reshape(msg.r, (3, 3)), np.eye(3))
    p = np.reshape(msg.p, (3, 4))
    np.testing.assert_array_equal(p[:, :3], model.K)
    np.testing.assert_array_equal(p[:, 3], 0.0)
    assert camera_model_from_msg(msg) == model


def test_undistorted_model_becomes_zero_plumb_bob():
    msg = camera_info_msg_from_model(CameraModel(64, 48, 50.0, 50.0, 31.5, 23.5), Header())
    assert msg.distortion_model == "plumb_bob" and list(msg.d) == [0.0] * 5


def test_rectified_info_takes_its_intrinsics_from_p():
    p = [580.0, 0.0, 630.0, 0.0, 0.0, 585.0, 470.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    model = camera_model_from_msg(make_info(d=[0.0] * 5, p=p))
    assert (model.fx, model.fy, model.cx, model.cy) == (580.0, 585.0, 630.0, 470.0)
    raw = camera_model_from_msg(make_info(p=p))  # distorted: K and D, as image_geometry
    assert (raw.fx, raw.cx) == (600.0, 640.5)


def test_fisheye_info_is_read():
    model = camera_model_from_msg(
        make_info(distortion_model="equidistant", d=[0.1, -0.02, 0.003, -0.001])
    )
    assert model.distortion_model == "equidistant" and model.is_distorted

"""Every input message is checked (stamp, encoding, sizes, calibration) before it is synced."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from std_msgs.msg import Header

from promptdepth_ros.errors import InputError, InvalidStamp, UnsupportedEncoding
from promptdepth_ros.ros.convert.camera_info import camera_info_msg_from_model
from promptdepth_ros.ros.convert.image import depth_to_mm_image_msg, rgb_to_image_msg
from promptdepth_ros.ros.convert.pointcloud import create_xyz_cloud
from promptdepth_ros.ros.convert.synced_set import check_input
from promptdepth_ros.sim.scene import default_camera

NOW_NS = 1_700_000_000 * 10**9
CAMERA = default_camera(8, 6)


def _messages() -> dict[str, Any]:
    header = Header(stamp=Time(sec=1_700_000_000), frame_id=CAMERA.frame_id)
    info = camera_info_msg_from_model(CAMERA, header)
    return {
        "image": rgb_to_image_msg(np.zeros((6, 8, 3), np.uint8), header),
        "camera_info": info,
        "points": create_xyz_cloud(header, np.ones((5, 3), np.float32)),
        "depth": depth_to_mm_image_msg(np.ones((6, 8), np.float32), header),
        "depth_camera_info": info,
    }


def test_well_formed_messages_of_every_input_pass() -> None:
    for name, msg in _messages().items():
        check_input(name, msg, NOW_NS)


def _stamp(sec: int, nanosec: int = 0) -> Callable[[Any], None]:
    def mutate(msg: Any) -> None:
        msg.header.stamp = Time(sec=sec, nanosec=nanosec)

    return mutate


def _set(**fields: Any) -> Callable[[Any], None]:
    def mutate(msg: Any) -> None:
        for key, value in fields.items():
            setattr(msg, key, value)

    return mutate


@pytest.mark.parametrize(
    ("name", "mutate", "error", "match"),
    [
        ("camera_info", _stamp(-1), InvalidStamp, "sec=-1"),
        ("image", _stamp(5, 10**9), InvalidStamp, "nanosec=1000000000"),
        ("points", _stamp(2**31 - 1), InvalidStamp, "ahead of this node's clock"),
        ("image", _set(encoding="bayer_rggb8"), UnsupportedEncoding, "bayer_rggb8"),
        ("image", _set(data=b"\x00" * 7), InputError, "7 bytes, expected step\\*height"),
        ("depth", _set(step=3), InputError, "smaller than width"),
        ("camera_info", _set(k=[0.0] * 9), InputError, "fx, fy > 0"),
        ("depth_camera_info", _set(width=0), InputError, "empty image"),
        ("points", _set(row_step=1), InputError, "row_step 1 is smaller"),
        ("points", _set(data=b"\x01" * 13), InputError, "13 bytes"),
        ("points", _set(fields=[]), UnsupportedEncoding, "fields x, y, z"),
        ("points", _set(point_step=2**31), InputError, "not a point size"),
        ("depth", _set(height=0, width=0, step=0, data=b""), InputError, "0x0 px"),
    ],
)
def test_a_malformed_message_raises_an_input_error_naming_the_problem(
    name: str, mutate: Callable[[Any], None], error: type[InputError], match: str
) -> None:
    msg = _messages()[name]
    mutate(msg)
    with pytest.raises(error, match=match):
        check_input(name, msg, NOW_NS)

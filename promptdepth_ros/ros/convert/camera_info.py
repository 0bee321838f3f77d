"""sensor_msgs/CameraInfo <-> CameraModel, with ROI and binning applied like image_geometry."""

from __future__ import annotations

from typing import Any

import numpy as np
from sensor_msgs.msg import CameraInfo

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.errors import InputError


def camera_model_from_msg(msg: Any) -> CameraModel:
    """CameraModel of the image that accompanies ``msg`` (the ROI at binned resolution).

    Follows image_geometry's PinholeCameraModel.from_camera_info: an all-zero ROI means the full
    sensor; ``fx /= binning_x``, ``cx = (cx - roi.x_offset) / binning_x`` (same for y); the size
    is ``roi.width // binning_x`` x ``roi.height // binning_y``. ``roi.do_rectify`` only says
    whether the ROI still needs rectification and does not change the intrinsics. D is kept as
    is (it acts on normalised coordinates). A rectified image (D all zero) takes its intrinsics
    from P, as image_geometry projects rectified points; R is not applied (it is the identity
    for a monocular camera). Raises InputError for zero/non-finite K or an empty image,
    UnsupportedCameraModel (from CameraModel) for an unknown distortion model.
    """
    k = np.asarray(msg.k, dtype=np.float64).reshape(-1)
    if k.size != 9 or not np.all(np.isfinite(k)) or k[0] <= 0.0 or k[4] <= 0.0:
        raise InputError(
            f"CameraInfo K must be 9 finite values with fx, fy > 0, got {k.tolist()}; "
            "the camera is not calibrated or the driver publishes an empty CameraInfo"
        )
    p = np.asarray(msg.p, dtype=np.float64).reshape(-1)
    if not any(msg.d) and p.size == 12 and np.all(np.isfinite(p)) and p[0] > 0.0 and p[5] > 0.0:
        k = p.reshape(3, 4)[:, :3].reshape(-1)  # a rectified image: P's intrinsics
    distortion = tuple(float(c) for c in msg.d)
    if not all(np.isfinite(distortion)):
        raise InputError(f"CameraInfo D must be finite, got {list(distortion)}")
    binning_x = max(1, int(msg.binning_x))
    binning_y = max(1, int(msg.binning_y))
    roi = msg.roi
    x_off, y_off = int(roi.x_offset), int(roi.y_offset)
    roi_w, roi_h = int(roi.width), int(roi.height)
    if x_off == 0 and y_off == 0 and roi_w == 0 and roi_h == 0:
        roi_w, roi_h = int(msg.width), int(msg.height)
    width, height = roi_w // binning_x, roi_h // binning_y
    if width <= 0 or height <= 0:
        raise InputError(
            f"CameraInfo describes an empty image: {msg.width}x{msg.height}, ROI {roi_w}x{roi_h}, "
            f"binning {binning_x}x{binning_y}"
        )
    return CameraModel(
        width=width,
        height=height,
        fx=float(k[0]) / binning_x,
        fy=float(k[4]) / binning_y,
        cx=(float(k[2]) - x_off) / binning_x,
        cy=(float(k[5]) - y_off) / binning_y,
        distortion_model=str(msg.distortion_model),
        distortion=distortion,
        frame_id=str(msg.header.frame_id),
    )


def camera_info_msg_from_model(model: CameraModel, header: Any) -> CameraInfo:
    """CameraInfo for ``model``: K, P = [K | 0] (Tx = 0), R = I, D and its distortion model."""
    msg = CameraInfo()
    msg.header = header
    msg.width, msg.height = int(model.width), int(model.height)
    msg.distortion_model = model.distortion_model or "plumb_bob"
    d = list(model.distortion)
    if not d and msg.distortion_model == "plumb_bob":
        d = [0.0] * 5
    msg.d = [float(c) for c in d]
    msg.k = model.K.reshape(-1).tolist()
    msg.r = np.eye(3).reshape(-1).tolist()
    msg.p = np.hstack([model.K, np.zeros((3, 1))]).reshape(-1).tolist()
    return msg

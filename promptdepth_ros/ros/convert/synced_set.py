"""Synchronised message sets → pipeline frames, and pipeline outputs → messages.

The node and the offline bag tool both go through these two functions, so a bag processed
offline gives the messages the node would have published.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from sensor_msgs.msg import CameraInfo, Image, PointCloud2

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.pipeline.depth import FrameInput, FrameOutput
from promptdepth_ros.prompt.sources import DepthImagePrompt, LidarPrompt, PromptSource
from promptdepth_ros.ros.convert.camera_info import (
    camera_info_msg_from_model,
    camera_model_from_msg,
)
from promptdepth_ros.ros.convert.image import (
    COLOR_ENCODINGS,
    DEPTH_ENCODINGS,
    check_image,
    float_to_image_msg,
    image_to_depth_m,
    image_to_rgb,
)
from promptdepth_ros.ros.convert.pointcloud import (
    check_cloud,
    depth_to_xyzrgb_cloud,
    xyz_points,
)
from promptdepth_ros.ros.convert.stamps import check_stamp_not_ahead, stamp_ns, stamp_s

InputMode = Literal["cloud", "depth", "none"]
# (target_frame, target_ns, source_frame, source_ns) -> T_target_source, the source at its
# stamp moved to the target at its stamp; raises MissingTransform.
TransformLookup = Callable[[str, int, str, int], NDArray[np.float64]]


def input_topics(mode: InputMode, depth_registered: bool) -> list[str]:
    """The relative topic names a synchronised set is made of, in set order."""
    topics = ["image", "camera_info"]
    if mode == "cloud":
        topics.append("points")
    elif mode == "depth":
        topics.append("depth")
        if not depth_registered:
            topics.append("depth_camera_info")
    return topics


_LAYOUT_CHECKS: dict[str, Callable[[Any], object]] = {
    "image": lambda msg: check_image(msg, COLOR_ENCODINGS),
    "camera_info": camera_model_from_msg,
    "points": check_cloud,
    "depth": lambda msg: check_image(msg, DEPTH_ENCODINGS),
    "depth_camera_info": camera_model_from_msg,
}


def check_input(name: str, msg: Any, now_ns: int) -> None:
    """Check one message of input ``name`` (see :func:`input_topics`) before it is synchronised.

    Stamp (valid, at most a day ahead of ``now_ns``), encoding, sizes and calibration, without
    decoding the data, so a malformed message never takes the place of a good one in a set.
    Raises InvalidStamp, UnsupportedEncoding, UnsupportedCameraModel or InputError.
    """
    check_stamp_not_ahead(stamp_ns(msg.header), now_ns)
    _LAYOUT_CHECKS[name](msg)


def _prompt_source(
    msgs: Sequence[Any], mode: InputMode, lookup: TransformLookup
) -> PromptSource | None:
    if mode == "none":
        return None
    image_header, prompt_msg = msgs[0].header, msgs[2]
    camera_frame, image_ns = image_header.frame_id, stamp_ns(image_header)
    stamp = stamp_ns(prompt_msg.header)
    if mode == "cloud":
        T = lookup(camera_frame, image_ns, prompt_msg.header.frame_id, stamp)
        return LidarPrompt(xyz_points(prompt_msg), T)
    depth = image_to_depth_m(prompt_msg)
    if len(msgs) == 3:
        return DepthImagePrompt(depth)
    T = lookup(camera_frame, image_ns, prompt_msg.header.frame_id, stamp)
    return DepthImagePrompt(depth, camera_model_from_msg(msgs[3]), T)


def frame_from_messages(
    msgs: Sequence[Any], mode: InputMode, lookup: TransformLookup
) -> FrameInput:
    """FrameInput of a synchronised set ordered as :func:`input_topics` says.

    Raises InputError/UnsupportedEncoding for bad messages, MissingTransform without TF.
    """
    image_msg, info_msg = msgs[0], msgs[1]
    return FrameInput(
        stamp_s=stamp_s(image_msg.header),
        rgb=image_to_rgb(image_msg),
        camera=camera_model_from_msg(info_msg),
        prompt=_prompt_source(msgs, mode, lookup),
    )


def depth_camera(frame: FrameInput, out: FrameOutput) -> CameraModel:
    """The camera of the published depth: the input's, with the engine's focal length (fy
    scaled alike) when the engine estimated it (Depth Pro, ``focal.source: estimated``)."""
    camera = frame.camera
    if out.focal_px is None:
        return camera
    return replace(camera, fx=out.focal_px, fy=camera.fy * out.focal_px / camera.fx)


def output_messages(
    frame: FrameInput, out: FrameOutput, header: Any, with_points: bool
) -> tuple[Image, CameraInfo, PointCloud2 | None]:
    """~/depth (32FC1, NaN = no depth), ~/camera_info of :func:`depth_camera` and (optionally)
    the organized XYZRGB ~/points unprojected with it, all with the image's header."""
    camera = depth_camera(frame, out)
    depth = float_to_image_msg(out.depth_m, header)
    info = camera_info_msg_from_model(camera, header)
    points = depth_to_xyzrgb_cloud(header, out.depth_m, camera, frame.rgb) if with_points else None
    return depth, info, points

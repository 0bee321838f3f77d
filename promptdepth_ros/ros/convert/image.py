"""sensor_msgs/Image <-> numpy arrays (colour as uint8 RGB, depth as float32 metres).

Decoding works on a strided view of ``msg.data`` (``step`` padding honoured, no copy where the
encoding allows one). When ``cv_bridge`` is importable it performs the buffer-to-array step
(``imgmsg_to_cv2(msg, "passthrough")`` / ``cv2_to_imgmsg``); the colour and unit conversions that
follow are always ours, so both paths give identical outputs.
"""

from __future__ import annotations

import array
import importlib
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from sensor_msgs.msg import Image

from promptdepth_ros.errors import InputError, UnsupportedEncoding


def _load_cv_bridge() -> Any:
    """A ``cv_bridge.CvBridge`` instance, or None where cv_bridge is not installed."""
    try:
        return importlib.import_module("cv_bridge").CvBridge()
    except ImportError:
        return None


_BRIDGE: Any = _load_cv_bridge()
T = TypeVar("T")

# encoding -> (numpy base type, channels); the byte order is applied from ``is_bigendian``.
_LAYOUTS: dict[str, tuple[str, int]] = {
    "rgb8": ("u1", 3),
    "bgr8": ("u1", 3),
    "8UC3": ("u1", 3),
    "rgba8": ("u1", 4),
    "bgra8": ("u1", 4),
    "mono8": ("u1", 1),
    "mono16": ("u2", 1),
    "16UC1": ("u2", 1),
    "32FC1": ("f4", 1),
    "yuv422": ("u1", 2),
    "yuv422_yuy2": ("u1", 2),
}
COLOR_ENCODINGS = (
    "rgb8",
    "bgr8",
    "rgba8",
    "bgra8",
    "mono8",
    "mono16",
    "yuv422",
    "yuv422_yuy2",
    "8UC3",
)
DEPTH_ENCODINGS = ("16UC1", "mono16", "32FC1")

# ITU-R BT.601 video-range YCbCr -> RGB, the coefficients OpenCV uses for its YUV422 conversions.
_YUV_Y, _YUV_RV, _YUV_GU, _YUV_GV, _YUV_BU = 1.164, 1.596, -0.391, -0.813, 2.018


def message_bytes(data: Any) -> NDArray[np.uint8]:
    """``msg.data`` (bytes, array.array('B'), numpy uint8 or a list) as a flat uint8 array."""
    if isinstance(data, np.ndarray):
        return np.ascontiguousarray(data, dtype=np.uint8).reshape(-1)
    try:
        return np.frombuffer(data, dtype=np.uint8)
    except TypeError:
        return np.asarray(data, dtype=np.uint8).reshape(-1)


def new_message(message_class: Callable[..., T]) -> T:
    """An empty message whose uint8[] setters keep an ``array.array('B')`` without copying it.

    Newer rosidl (Kilted here) skips field checks unless ROS_PYTHON_CHECK_FIELDS=1, and its
    unchecked setter copies every value assigned to a sequence field; with checks on, an
    array.array of the right type code is stored as is. Humble always checks and has no
    ``check_fields`` argument.
    """
    try:
        return message_class(check_fields=True)
    except (AssertionError, TypeError):
        return message_class()


def message_data(pixels: NDArray[Any]) -> array.array[int]:
    """Bytes of a C-contiguous array as the ``array.array('B')`` message fields hold (one copy)."""
    data = array.array("B")
    data.frombytes(np.ascontiguousarray(pixels).reshape(-1).view(np.uint8).data)
    return data


def _layout(msg: Any, supported: tuple[str, ...]) -> tuple[np.dtype[Any], int]:
    """(pixel dtype, channels) of a well-formed image in one of ``supported`` encodings.

    Raises UnsupportedEncoding, or InputError for an empty image or when step or the data
    size do not match.
    """
    encoding = msg.encoding
    if encoding not in supported:
        raise UnsupportedEncoding(
            f"image encoding '{encoding}' is not supported here; expected one of {supported}"
        )
    base, channels = _LAYOUTS[encoding]
    dtype = np.dtype(base).newbyteorder(">" if msg.is_bigendian else "<")
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    size = len(msg.data)
    if height == 0 or width == 0:
        raise InputError(f"image is {width}x{height} px; expected at least 1x1")
    row_bytes = width * channels * dtype.itemsize
    if step < row_bytes:
        raise InputError(
            f"image step {step} is smaller than width*bytes_per_pixel = {row_bytes} "
            f"for {width} px of '{encoding}'; the message is malformed"
        )
    if size != step * height:
        raise InputError(
            f"image data has {size} bytes, expected step*height = {step}*{height} = "
            f"{step * height}; the message is truncated or its header is wrong"
        )
    return dtype, channels


def check_image(msg: Any, supported: tuple[str, ...]) -> None:
    """Check encoding and sizes of an Image without decoding it; raises like :func:`_layout`."""
    _layout(msg, supported)


def _raw_view(msg: Any, supported: tuple[str, ...]) -> NDArray[Any]:
    """(H, W, C) view of the message pixels in their own dtype (native byte order not forced)."""
    dtype, channels = _layout(msg, supported)
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if _BRIDGE is not None:
        arr = np.asarray(_BRIDGE.imgmsg_to_cv2(msg, desired_encoding="passthrough"))
        return arr.reshape(height, width, channels)
    return np.ndarray(
        shape=(height, width, channels),
        dtype=dtype,
        buffer=message_bytes(msg.data),
        strides=(step, channels * dtype.itemsize, dtype.itemsize),
    )


def _yuv422_to_rgb(pixels: NDArray[np.uint8], y_first: bool) -> NDArray[np.uint8]:
    """(H, W, 2) packed 4:2:2 pixels (UYVY or YUYV) -> (H, W, 3) RGB."""
    height, width = pixels.shape[:2]
    if width % 2:
        raise InputError(f"a yuv422 image needs an even width, got {width}")
    pairs = pixels.reshape(height, width // 2, 4).astype(np.float32)
    if y_first:  # YUYV: Y0 U Y1 V
        y = pairs[..., [0, 2]]
        u, v = pairs[..., 1], pairs[..., 3]
    else:  # UYVY: U Y0 V Y1
        y = pairs[..., [1, 3]]
        u, v = pairs[..., 0], pairs[..., 2]
    yy = _YUV_Y * (y - 16.0)
    du = np.repeat((u - 128.0)[..., None], 2, axis=-1)
    dv = np.repeat((v - 128.0)[..., None], 2, axis=-1)
    rgb = np.stack([yy + _YUV_RV * dv, yy + _YUV_GU * du + _YUV_GV * dv, yy + _YUV_BU * du], -1)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8).reshape(height, width, 3)


def image_to_rgb(msg: Any) -> NDArray[np.uint8]:
    """Decode a colour or mono Image message to (H, W, 3) uint8 RGB.

    rgb8/bgr8/rgba8/bgra8/8UC3 (as bgr) return a view on ``msg.data`` (read-only for bytes);
    mono8 is replicated, mono16 keeps its high byte, yuv422 (UYVY) and yuv422_yuy2 (YUYV)
    use BT.601 video range. Raises UnsupportedEncoding or InputError (size mismatch).
    """
    pixels = _raw_view(msg, COLOR_ENCODINGS)
    encoding = msg.encoding
    if encoding == "rgb8":
        return pixels
    if encoding in ("bgr8", "8UC3"):
        return pixels[..., ::-1]
    if encoding == "rgba8":
        return pixels[..., :3]
    if encoding == "bgra8":
        return pixels[..., 2::-1]
    if encoding in ("yuv422", "yuv422_yuy2"):
        return _yuv422_to_rgb(pixels, y_first=encoding == "yuv422_yuy2")
    gray = pixels[..., 0] if encoding == "mono8" else (pixels[..., 0] >> 8).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


def image_to_depth_m(msg: Any) -> NDArray[np.float32]:
    """Decode a depth Image to (H, W) float32 metres, NaN = no return.

    16UC1/mono16 are millimetres (0 = no return); 32FC1 is metres (0, NaN and inf = no return).
    Raises UnsupportedEncoding or InputError (size mismatch).
    """
    pixels = _raw_view(msg, DEPTH_ENCODINGS)[..., 0]
    if msg.encoding == "32FC1":
        depth = pixels.astype(np.float32)
        depth[~np.isfinite(depth) | (depth == 0.0)] = np.nan
        return depth
    depth = pixels.astype(np.float32)
    depth *= np.float32(0.001)
    depth[pixels == 0] = np.nan
    return depth


def _to_message(pixels: NDArray[Any], header: Any, encoding: str) -> Image:
    """Wrap a C-contiguous (H, W[, C]) array in an Image message (one copy into ``data``)."""
    if _BRIDGE is not None:
        return _BRIDGE.cv2_to_imgmsg(pixels, encoding=encoding, header=header)
    msg = new_message(Image)
    msg.header = header
    msg.height, msg.width = int(pixels.shape[0]), int(pixels.shape[1])
    msg.encoding = encoding
    msg.is_bigendian = sys.byteorder == "big"
    msg.step = int(pixels.strides[0])
    msg.data = message_data(pixels)
    return msg


def _float_2d(values: NDArray[np.floating], what: str) -> NDArray[np.floating]:
    """``values`` as an array; raises InputError unless it is 2-D and floating point."""
    array_2d = np.asarray(values)
    if array_2d.ndim != 2 or not np.issubdtype(array_2d.dtype, np.floating):
        raise InputError(
            f"{what} must be a 2-D float array, got shape {array_2d.shape} {array_2d.dtype}"
        )
    return array_2d


def float_to_image_msg(values: NDArray[np.floating], header: Any) -> Image:
    """(H, W) float array -> 32FC1 Image, values as float32 with NaN kept (any float image).

    The node publishes depth in metres (REP 118, NaN = no return) and confidence with it.
    Raises InputError for a non-2-D or non-float array.
    """
    pixels = _float_2d(values, "a float image")
    return _to_message(np.ascontiguousarray(pixels, dtype=np.float32), header, "32FC1")


def depth_to_mm_image_msg(depth_m: NDArray[np.floating], header: Any) -> Image:
    """(H, W) depth in metres -> 16UC1 Image of rounded millimetres (REP 118).

    NaN, inf and depth outside [0, 65.535] m become 0 (no return).
    Raises InputError for a non-2-D or non-float array.
    """
    depth = _float_2d(depth_m, "depth in metres")
    mm = np.round(np.nan_to_num(depth, nan=0.0, posinf=0.0, neginf=0.0) * 1000.0)
    mm[(mm < 0) | (mm > 65535)] = 0
    return _to_message(mm.astype(np.uint16), header, "16UC1")


def rgb_to_image_msg(rgb: NDArray[np.uint8], header: Any, encoding: str = "rgb8") -> Image:
    """(H, W, 3) uint8 RGB -> Image in ``encoding`` ("rgb8" or "bgr8")."""
    pixels = np.asarray(rgb)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise InputError(f"rgb must be (H, W, 3) uint8, got shape {pixels.shape} {pixels.dtype}")
    if encoding not in ("rgb8", "bgr8"):
        raise UnsupportedEncoding(
            f"output encoding '{encoding}' is not supported; use 'rgb8' or 'bgr8'"
        )
    if encoding == "bgr8":
        pixels = pixels[..., ::-1]
    return _to_message(np.ascontiguousarray(pixels), header, encoding)

"""sensor_msgs/PointCloud2 reading (x, y, z of any layout) and organised XYZRGB cloud writing."""

from __future__ import annotations

import array
import sys
import threading
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sensor_msgs.msg import PointCloud2, PointField

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.camera.projection import depth_to_points
from promptdepth_ros.errors import InputError, UnsupportedEncoding
from promptdepth_ros.ros.convert.image import message_bytes, message_data, new_message

_FLOAT_TYPES = {PointField.FLOAT32: "f4", PointField.FLOAT64: "f8"}
_XYZ = ("x", "y", "z")
_MAX_POINT_STEP = 2**31  # numpy records must be smaller
_BAND_ROWS = 64  # rows of an XYZRGB cloud written at once (2 MB at 1920 columns)
_SPARE: dict[int, array.array[int]] = {}  # size -> the data buffer of the last cloud
_SPARE_LOCK = threading.Lock()


def xyz_dtype(msg: Any) -> np.dtype[np.void]:
    """Structured dtype (itemsize = point_step) holding only the x, y, z fields of ``msg``.

    Raises UnsupportedEncoding when a coordinate is missing, repeated or not FLOAT32/FLOAT64,
    InputError when the fields do not fit in point_step or point_step is 2**31 or more.
    """
    fields = {f.name: f for f in msg.fields}
    order = ">" if msg.is_bigendian else "<"
    formats, offsets = [], []
    for name in _XYZ:
        field = fields.get(name)
        if field is None or field.datatype not in _FLOAT_TYPES or int(field.count) != 1:
            found = [(f.name, int(f.datatype), int(f.count)) for f in msg.fields]
            raise UnsupportedEncoding(
                f"PointCloud2 needs scalar FLOAT32 (7) or FLOAT64 (8) fields x, y, z; got fields "
                f"(name, datatype, count) {found}"
            )
        formats.append(order + _FLOAT_TYPES[field.datatype])
        offsets.append(int(field.offset))
    point_step = int(msg.point_step)
    if point_step >= _MAX_POINT_STEP:
        raise InputError(
            f"PointCloud2 point_step {point_step} is not a point size: expected fewer than "
            f"{_MAX_POINT_STEP} bytes per point; the message is malformed"
        )
    if max(o + np.dtype(f).itemsize for o, f in zip(offsets, formats, strict=True)) > point_step:
        raise InputError(
            f"PointCloud2 fields at offsets {offsets} do not fit in point_step {point_step}"
        )
    return np.dtype(
        {"names": list(_XYZ), "formats": formats, "offsets": offsets, "itemsize": point_step}
    )


def _adjacent_float32_offset(dtype: np.dtype[np.void]) -> int | None:
    """Offset of x when x, y, z are three consecutive float32 (the usual layout), else None."""
    fields: Any = dtype.fields or {}
    offsets = [fields[name][1] for name in _XYZ]
    if all(fields[name][0].itemsize == 4 for name in _XYZ) and offsets == [
        offsets[0] + 4 * i for i in range(3)
    ]:
        return int(offsets[0])
    return None


def check_cloud(msg: Any) -> np.dtype[np.void]:
    """The x, y, z dtype of ``msg`` (see :func:`xyz_dtype`) after checking its sizes.

    Raises UnsupportedEncoding (no x/y/z) or InputError (row_step or data size do not match
    height, width and point_step).
    """
    dtype = xyz_dtype(msg)
    height, width = int(msg.height), int(msg.width)
    point_step, row_step = int(msg.point_step), int(msg.row_step)
    size = len(msg.data)
    if row_step < width * point_step:
        raise InputError(
            f"PointCloud2 row_step {row_step} is smaller than width*point_step = "
            f"{width}*{point_step}; the message is malformed"
        )
    if size != row_step * height:
        raise InputError(
            f"PointCloud2 data has {size} bytes, expected row_step*height = "
            f"{row_step}*{height} = {row_step * height}"
        )
    return dtype


def read_xyz(msg: Any) -> NDArray[np.float32]:
    """Finite x, y, z of every point as (N, 3) float32, in the cloud's frame (metres).

    Any layout: FLOAT32/FLOAT64 fields at any offsets, point and row padding, either byte order,
    organised or not. NaN/inf points are dropped. Raises like :func:`check_cloud`.
    """
    dtype = check_cloud(msg)
    height, width = int(msg.height), int(msg.width)
    point_step, row_step = int(msg.point_step), int(msg.row_step)
    buf = message_bytes(msg.data)
    if height == 0 or width == 0:
        return np.empty((0, 3), dtype=np.float32)
    points = np.ndarray(
        shape=(height, width), dtype=dtype, buffer=buf, strides=(row_step, point_step)
    )
    coords = [points[name] for name in _XYZ]
    finite = np.isfinite(coords[0]) & np.isfinite(coords[1]) & np.isfinite(coords[2])
    first = _adjacent_float32_offset(dtype)
    if first is not None:
        # x, y, z are three adjacent float32: copy the finite triplets in one pass.
        triplets = np.ndarray(
            shape=(height, width, 3),
            dtype=dtype["x"],
            buffer=buf,
            offset=first,
            strides=(row_step, point_step, dtype["x"].itemsize),
        )
        # np.compress is faster than boolean indexing for the common unorganised cloud.
        xyz = np.compress(finite[0], triplets[0], axis=0) if height == 1 else triplets[finite]
        return xyz.astype(np.float32, copy=False)
    n_finite = int(np.count_nonzero(finite))
    xyz = np.empty((n_finite, 3), dtype=np.float32)
    for axis, values in enumerate(coords):
        xyz[:, axis] = values[finite]
    return xyz


def xyz_points(msg: Any) -> NDArray[np.floating]:
    """x, y, z of every point as (N, 3) floats in the cloud's frame (metres), NaN points kept.

    For the usual layout (x, y, z adjacent float32, no row padding) a strided view of
    ``msg.data`` without a copy, for consumers that drop non-finite points themselves
    (:func:`promptdepth_ros.prompt.projection.project_cloud_to_depth`); otherwise
    :func:`read_xyz`. Raises like :func:`check_cloud`.
    """
    dtype = check_cloud(msg)
    height, width, point_step = int(msg.height), int(msg.width), int(msg.point_step)
    first = _adjacent_float32_offset(dtype)
    if (
        first is None
        or height * width == 0
        or (height > 1 and int(msg.row_step) != width * point_step)
    ):
        return read_xyz(msg)
    return np.ndarray(
        shape=(height * width, 3),
        dtype=dtype["x"],
        buffer=message_bytes(msg.data),
        offset=first,
        strides=(point_step, dtype["x"].itemsize),
    )


def _float32_fields(names: tuple[str, ...]) -> list[PointField]:
    """Consecutive scalar FLOAT32 PointFields ``names`` at offsets 0, 4, 8, ..."""
    return [
        PointField(name=name, offset=4 * i, datatype=PointField.FLOAT32, count=1)
        for i, name in enumerate(names)
    ]


def xyzrgb_fields() -> list[PointField]:
    """PointFields of the PCL XYZRGB layout: x, y, z float32 and packed rgb float32 at 12."""
    return _float32_fields((*_XYZ, "rgb"))


def _xyzrgb_message(height: int, width: int, data: array.array[int]) -> PointCloud2:
    """An organised XYZRGB PointCloud2 that keeps ``data`` (16 * H * W bytes) without a copy."""
    msg = new_message(PointCloud2)
    msg.height, msg.width = int(height), int(width)
    msg.fields = xyzrgb_fields()
    msg.is_bigendian = sys.byteorder == "big"
    msg.point_step = 16
    msg.row_step = 16 * int(width)
    msg.is_dense = False
    msg.data = data
    return msg


def _cloud_buffer(size: int) -> array.array[int]:
    """A buffer of ``size`` bytes for XYZRGB points whose colour floats' unused byte is 0.

    The buffer of an earlier cloud is reused once nothing holds it any more (its message was
    published and dropped): a fresh one costs a memset and a page fault per 4 KiB on every frame
    (44 MB at 1920x1440). The writers overwrite every byte but those zero ones.
    """
    with _SPARE_LOCK:
        spare = _SPARE.get(size)
        # References: the dict, ``spare`` and getrefcount's argument; any more is a live user.
        if spare is not None and sys.getrefcount(spare) == 3:
            return spare
        buffer = array.array("B", bytes(size))
        _SPARE.clear()  # one size kept: a node publishes one resolution
        _SPARE[size] = buffer
        return buffer


def _new_cloud(height: int, width: int) -> tuple[PointCloud2, NDArray[Any]]:
    """An XYZRGB cloud and a writable (H, W, 4) float32 view aliasing its ``data``; the caller
    fills x, y, z and the colour (:func:`_pack_rgb`), the colour's unused byte is zero."""
    msg = _xyzrgb_message(height, width, _cloud_buffer(16 * height * width))
    return msg, np.frombuffer(msg.data, dtype=np.float32).reshape(height, width, 4)


def _pack_rgb(points: NDArray[Any], rgb: NDArray[np.uint8]) -> None:
    """Write 0x00RRGGBB (host order) into the fourth float of each (H, W, 4) point (the three
    colour bytes; the zero byte is left as it is)."""
    point_bytes = points.view(np.uint8)
    # One strided copy per channel is much faster than a (H, W, 3) copy with a length-3 loop.
    first = 12 if sys.byteorder == "little" else 13
    for channel in range(3):
        byte = first + (2 - channel if sys.byteorder == "little" else channel)
        point_bytes[..., byte] = rgb[..., channel]


def _check_rgb(shape: tuple[int, ...], rgb: NDArray[Any]) -> None:
    """Raise InputError unless ``rgb`` is (H, W, 3) uint8 for an (H, W) ``shape``."""
    if len(shape) != 2 or rgb.shape != (*shape, 3) or rgb.dtype != np.uint8:
        raise InputError(
            f"rgb must be (H, W, 3) uint8 matching the {shape} points, got {rgb.shape} {rgb.dtype}"
        )


def create_xyzrgb_cloud(
    header: Any,
    xyz: NDArray[np.float32],
    rgb: NDArray[np.uint8],
) -> PointCloud2:
    """Organised (height=H, width=W) XYZRGB PointCloud2 from (H, W, 3) metres and (H, W, 3) RGB.

    Points without depth keep NaN coordinates (is_dense False); colour is packed as
    0x00RRGGBB in a float32 (PCL convention), point_step 16; ``header`` is a std_msgs/Header.
    Raises InputError on shape/dtype.
    """
    xyz = np.asarray(xyz)
    rgb = np.asarray(rgb)
    if xyz.ndim != 3 or xyz.shape[2] != 3:
        raise InputError(f"xyz must be (H, W, 3) float metres, got {xyz.shape} {xyz.dtype}")
    _check_rgb(xyz.shape[:2], rgb)
    height, width = xyz.shape[:2]
    msg, points = _new_cloud(height, width)
    for axis in range(3):  # per axis: long strided loops instead of length-3 inner loops
        points[..., axis] = xyz[..., axis]
    _pack_rgb(points, rgb)
    msg.header = header
    return msg


def depth_to_xyzrgb_cloud(
    header: Any,
    depth_m: NDArray[np.floating],
    camera: CameraModel,
    rgb: NDArray[np.uint8],
) -> PointCloud2:
    """Organised XYZRGB PointCloud2 straight from (H, W) depth in metres (NaN = none) and RGB.

    Same result as ``create_xyzrgb_cloud(header, depth_to_points(depth_m, camera), rgb)``, but
    the points are back-projected directly into the message buffer (one pass, no temporary).
    """
    depth = np.asarray(depth_m)
    rgb = np.asarray(rgb)
    _check_rgb(depth.shape, rgb)
    height = depth.shape[0]
    msg, points = _new_cloud(height, depth.shape[1])
    # Band by band, so that the band's 16-byte points stay in cache for the four writes.
    for start in range(0, height, _BAND_ROWS):
        band = slice(start, min(height, start + _BAND_ROWS))
        depth_to_points(depth[band], camera, out=points[band, :, :3], first_row=start)
        _pack_rgb(points[band], rgb[band])
    msg.header = header
    return msg


def create_xyz_cloud(header: Any, xyz: NDArray[np.floating]) -> PointCloud2:
    """Unorganised (height 1) PointCloud2 with float32 x, y, z from (N, 3) metres.

    The layout a LiDAR driver publishes (point_step 12, is_dense when all points are finite).
    Raises InputError for a wrong shape.
    """
    points = np.asarray(xyz)
    if points.ndim != 2 or points.shape[1] != 3:
        raise InputError(f"xyz must be (N, 3), got shape {points.shape}")
    msg = new_message(PointCloud2)
    msg.header = header
    msg.height, msg.width = 1, int(points.shape[0])
    msg.fields = _float32_fields(_XYZ)
    msg.is_bigendian = sys.byteorder == "big"
    msg.point_step = 12
    msg.row_step = 12 * int(points.shape[0])
    msg.data = message_data(np.ascontiguousarray(points, dtype=np.float32))
    msg.is_dense = bool(np.isfinite(points).all())
    return msg

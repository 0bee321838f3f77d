"""Depth image -> 3-D points in the camera optical frame, and PLY export."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera import CameraModel
from promptdepth_ros.errors import InputError
from promptdepth_ros.prompt.projection import undistort_normalized


@lru_cache(maxsize=8)
def pixel_rays(camera: CameraModel) -> NDArray[np.float32]:
    """(2, H, W) float32 read-only undistorted (x/z, y/z) of the ray through every pixel centre.

    Cached per camera model, so per-frame back-projection is one multiply per axis.
    """
    cols = (np.arange(camera.width, dtype=np.float64) - camera.cx) / camera.fx
    rows = (np.arange(camera.height, dtype=np.float64) - camera.cy) / camera.fy
    xd, yd = np.meshgrid(cols, rows)
    rays = np.stack(undistort_normalized(xd, yd, camera)).astype(np.float32)
    rays.setflags(write=False)
    return rays


def depth_to_points(
    depth_m: NDArray[np.floating], camera: CameraModel, out: NDArray[np.float32] | None = None
) -> NDArray[np.float32]:
    """(H, W) depth in metres -> (H, W, 3) float32 optical-frame points, NaN where depth is NaN.

    ``out``: optional (H, W, 3) float32 array (a strided view is fine) to write the points into.
    Raises InputError when the depth size is not the camera's or ``out`` does not fit.
    """
    depth = np.asarray(depth_m)
    if depth.shape != (camera.height, camera.width):
        raise InputError(
            f"depth is {depth.shape} but the camera model is {camera.height}x{camera.width}; "
            "scale the camera with CameraModel.scaled to the depth resolution"
        )
    if out is None:
        out = np.empty((*depth.shape, 3), dtype=np.float32)
    elif out.shape != (*depth.shape, 3) or out.dtype != np.float32:
        raise InputError(f"out must be {(*depth.shape, 3)} float32, got {out.shape} {out.dtype}")
    rays = pixel_rays(camera)
    np.multiply(rays[0], depth, out=out[..., 0], casting="same_kind")
    np.multiply(rays[1], depth, out=out[..., 1], casting="same_kind")
    out[..., 2] = depth
    return out


def points_to_ply(
    path: str | Path, xyz: NDArray[np.floating], rgb: NDArray[np.uint8] | None = None
) -> int:
    """Write finite points (..., 3) metres [+ (..., 3) uint8 colour] as binary little-endian PLY.

    Returns the number of points written. Raises InputError on mismatched shapes.
    """
    points = np.asarray(xyz)
    if points.ndim < 1 or points.shape[-1] != 3:
        raise InputError(f"xyz must have shape (..., 3), got {points.shape}")
    pts = points.reshape(-1, 3).astype(np.float32, copy=False)
    fields = [("x", "<f4"), ("y", "<f4"), ("z", "<f4")]
    colours = None
    if rgb is not None:
        colours = np.asarray(rgb)
        if colours.shape != points.shape or colours.dtype != np.uint8:
            raise InputError(
                f"rgb must be uint8 of the shape of xyz {points.shape}, got "
                f"{colours.shape} {colours.dtype}"
            )
        colours = colours.reshape(-1, 3)
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
    finite = np.isfinite(pts).all(axis=1)
    vertices = np.empty(int(finite.sum()), dtype=fields)
    for axis, name in enumerate(("x", "y", "z")):
        vertices[name] = pts[finite, axis]
    if colours is not None:
        for channel, name in enumerate(("red", "green", "blue")):
            vertices[name] = colours[finite, channel]
    properties = "".join(
        f"property {'float' if kind == '<f4' else 'uchar'} {name}\n" for name, kind in fields
    )
    header = (
        "ply\nformat binary_little_endian 1.0\n"
        f"element vertex {vertices.size}\n{properties}end_header\n"
    )
    with open(path, "wb") as stream:
        stream.write(header.encode("ascii"))
        stream.write(vertices.tobytes())
    return int(vertices.size)

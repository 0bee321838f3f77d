"""Point clouds to files: binary PLY export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.errors import InputError


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

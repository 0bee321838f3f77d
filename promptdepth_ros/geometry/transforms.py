"""Rigid transforms: quaternions, 4x4 matrices, points, and the 'x y z qx qy qz qw' form.

``T_a_b`` is a 4x4 float64 matrix mapping points from frame b to frame a.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.errors import ConfigError, InputError


def quaternion_to_matrix(x: float, y: float, z: float, w: float) -> NDArray[np.float64]:
    """3x3 rotation of the quaternion (x, y, z, w); normalised first. Raises InputError if zero."""
    q = np.array([x, y, z, w], dtype=np.float64)
    norm = float(np.linalg.norm(q))
    if not np.isfinite(norm) or norm < 1e-12:
        raise InputError(f"quaternion must be finite and non-zero, got (x, y, z, w) = {tuple(q)}")
    x, y, z, w = q / norm
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def matrix_to_quaternion(rotation: NDArray[np.floating]) -> tuple[float, float, float, float]:
    """Quaternion (x, y, z, w) with w >= 0 of a 3x3 rotation matrix (Shepperd's method)."""
    m = np.asarray(rotation, dtype=np.float64)[:3, :3]
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0.0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [s / 4, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, s / 4, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4, (m[1, 0] - m[0, 1]) / s]
    quat = np.array(q) / np.linalg.norm(q)
    if quat[3] < 0.0:
        quat = -quat
    return (float(quat[0]), float(quat[1]), float(quat[2]), float(quat[3]))


def make_transform(
    rotation: NDArray[np.floating], translation: NDArray[np.floating]
) -> NDArray[np.float64]:
    """4x4 T from a 3x3 rotation and a 3-vector translation (metres)."""
    transform = np.eye(4)
    transform[:3, :3] = rotation
    transform[:3, 3] = np.asarray(translation, dtype=np.float64).reshape(3)
    return transform


def invert_transform(transform: NDArray[np.floating]) -> NDArray[np.float64]:
    """Inverse of a rigid 4x4 transform (R^T, -R^T t)."""
    rotation = np.asarray(transform, dtype=np.float64)[:3, :3]
    return make_transform(rotation.T, -rotation.T @ np.asarray(transform)[:3, 3])


def transform_points(
    transform: NDArray[np.floating], points: NDArray[np.floating]
) -> NDArray[np.float32]:
    """Apply 4x4 T to (..., 3) points; returns float32 of the same shape (NaN stays NaN)."""
    pts = np.asarray(points)
    if pts.shape[-1] != 3:
        raise InputError(f"points must have shape (..., 3), got {pts.shape}")
    t = np.asarray(transform, dtype=np.float64)
    src = pts.astype(np.float32, copy=False)
    out = np.empty(src.shape, dtype=np.float32)
    # Nine scaled adds instead of a BLAS matmul: as fast single-threaded, and immune to BLAS
    # threads fighting other thread pools (Open3D, torch) for the same cores.
    for row in range(3):
        axis = out[..., row]
        np.multiply(src[..., 0], np.float32(t[row, 0]), out=axis)
        axis += src[..., 1] * np.float32(t[row, 1])
        axis += src[..., 2] * np.float32(t[row, 2])
        axis += np.float32(t[row, 3])
    return out


def parse_xyz_quat(text: str, name: str) -> NDArray[np.float64] | None:
    """4x4 transform from 'x y z qx qy qz qw' (parameter ``name``); None for an empty string."""
    if not text.strip():
        return None
    try:
        values = [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        values = []
    if len(values) != 7:
        raise ConfigError(f"parameter '{name}' must be 'x y z qx qy qz qw', got {text!r}")
    q = np.asarray(values[3:], dtype=np.float64)
    norm = float(np.linalg.norm(q))
    if not np.isfinite(norm) or norm < 1e-9:
        raise ConfigError(f"parameter '{name}' has a zero or non-finite quaternion: {values}")
    q /= norm
    return make_transform(quaternion_to_matrix(*q), np.asarray(values[:3], dtype=np.float64))


def format_xyz_quat(transform: NDArray[np.floating]) -> str:
    """'x y z qx qy qz qw' of a 4x4 transform: the text :func:`parse_xyz_quat` reads back."""
    rotation = matrix_to_quaternion(np.asarray(transform)[:3, :3])
    return " ".join(repr(float(v)) for v in (*np.asarray(transform)[:3, 3], *rotation))

"""Image resampling: OpenCV INTER_AREA and bilinear without OpenCV, and nearest neighbour.

Each resize is two sparse weight matrices (rows of destination pixels, columns of source
pixels), so a (H, W, C) image becomes ``Wy @ image @ Wx.T`` per channel.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from promptdepth_ros.errors import InputError

ResizeMode = Literal["area", "bilinear"]

_AREA_EPS = 1e-3  # OpenCV's threshold for a partial source cell (computeResizeAreaTab)


def _area_weights(src: int, dst: int) -> sp.csr_matrix:
    """OpenCV INTER_AREA weights for one axis when shrinking ``src`` to ``dst`` samples."""
    scale = src / dst
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for d in range(dst):
        f1 = d * scale
        f2 = f1 + scale
        cell = min(scale, src - f1)
        s1 = int(np.ceil(f1))
        s2 = min(int(np.floor(f2)), src - 1)
        s1 = min(s1, s2)
        if s1 - f1 > _AREA_EPS:
            rows.append(d)
            cols.append(s1 - 1)
            vals.append((s1 - f1) / cell)
        for s in range(s1, s2):
            rows.append(d)
            cols.append(s)
            vals.append(1.0 / cell)
        if f2 - s2 > _AREA_EPS:
            rows.append(d)
            cols.append(s2)
            vals.append(min(min(f2 - s2, 1.0), cell) / cell)
    return sp.csr_matrix(
        (np.asarray(vals, np.float64), (rows, cols)), shape=(dst, src), dtype=np.float64
    )


def source_coords(n_out: int, n_in: int) -> NDArray[np.float64]:
    """Source pixel coordinates (n_out,) of output pixel centres (pixel-centre convention)."""
    return (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5


def resize_nearest(image: NDArray[Any], height: int, width: int) -> NDArray[Any]:
    """Nearest-neighbour resize of (H, W[, C]) data of any dtype to (height, width[, C])."""
    h, w = image.shape[:2]
    rows = np.clip(np.floor(source_coords(height, h) + 0.5), 0, h - 1).astype(np.intp)
    cols = np.clip(np.floor(source_coords(width, w) + 0.5), 0, w - 1).astype(np.intp)
    return image[rows[:, None], cols[None, :]]


def _bilinear_weights(src: int, dst: int) -> sp.csr_matrix:
    """Half-pixel bilinear weights (torch ``align_corners=False``, no antialias) for one axis."""
    x = np.clip(source_coords(dst, src), 0.0, src - 1)
    x0 = np.floor(x).astype(np.int64)
    x1 = np.minimum(x0 + 1, src - 1)
    w1 = x - x0
    rows = np.concatenate([np.arange(dst), np.arange(dst)])
    cols = np.concatenate([x0, x1])
    vals = np.concatenate([1.0 - w1, w1])
    return sp.csr_matrix((vals, (rows, cols)), shape=(dst, src), dtype=np.float64)


@lru_cache(maxsize=64)
def resize_weights(src: int, dst: int, mode: ResizeMode) -> sp.csr_matrix:
    """Sparse (dst, src) float32 weights for one axis; ``area`` only shrinks (or keeps) a size.

    Raises InputError for a non-positive size or an ``area`` enlargement (OpenCV's INTER_AREA
    zoom is another filter, which the package does not emulate).
    """
    if src <= 0 or dst <= 0:
        raise InputError(f"resize sizes must be positive, got {src} -> {dst}")
    if mode == "area" and dst > src:
        raise InputError(f"'area' resampling only shrinks; asked to enlarge {src} -> {dst}")
    if mode == "area" and dst < src:
        weights = _area_weights(src, dst)
    else:
        weights = _bilinear_weights(src, dst)
    return weights.astype(np.float32)


def resize_image(
    image: NDArray[np.floating], height: int, width: int, mode: ResizeMode
) -> NDArray[np.float32]:
    """Resample (H, W) or (H, W, C) float data to (height, width[, C]) float32.

    ``area`` reproduces ``cv2.resize(..., interpolation=cv2.INTER_AREA)`` on float input when
    shrinking (enlarging raises InputError);
    ``bilinear`` reproduces ``torch.nn.functional.interpolate(mode="bilinear")``.
    Raises InputError for an empty image or a non-positive target size.
    """
    if image.ndim not in (2, 3) or image.shape[0] == 0 or image.shape[1] == 0:
        raise InputError(f"expected an (H, W) or (H, W, C) image, got shape {image.shape}")
    src_h, src_w = image.shape[:2]
    if (src_h, src_w) == (height, width):
        return np.ascontiguousarray(image, dtype=np.float32)
    wy = resize_weights(src_h, height, mode)
    wx = resize_weights(src_w, width, mode)
    channels = 1 if image.ndim == 2 else image.shape[2]
    flat = np.asarray(image, dtype=np.float32).reshape(src_h, src_w * channels)
    rows = np.asarray(wy @ flat).reshape(height, src_w, channels)
    cols = rows.transpose(1, 0, 2).reshape(src_w, height * channels)
    out = np.asarray(wx @ cols).reshape(width, height, channels).transpose(1, 0, 2)
    return np.ascontiguousarray(out.reshape((height, width, *image.shape[2:])), dtype=np.float32)

"""Colour maps for depth and error images, saved as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

# Turbo colour map (Mikhailov, Google 2019) as a polynomial fit per channel.
_TURBO = np.array(
    [
        [0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943],
        [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604],
        [0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973],
    ]
)


def colorize(
    values: NDArray[np.floating], lo: float | None = None, hi: float | None = None
) -> NDArray[np.uint8]:
    """(H, W) values → (H, W, 3) uint8 turbo colours over [lo, hi]; non-finite is black.

    lo/hi default to the 2nd and 98th percentiles of the finite values.
    """
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros((*values.shape, 3), np.uint8)
    lo = float(np.percentile(values[finite], 2)) if lo is None else lo
    hi = float(np.percentile(values[finite], 98)) if hi is None else hi
    t = np.clip((np.nan_to_num(values, nan=lo) - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    powers = np.stack([t**k for k in range(6)], axis=-1)
    rgb = np.clip(powers @ _TURBO.T, 0.0, 1.0)
    rgb[~finite] = 0.0
    return (rgb * 255.0 + 0.5).astype(np.uint8)


def save_depth_png(
    path: Path, depth_m: NDArray[np.floating], lo: float | None = None, hi: float | None = None
) -> None:
    """Write a colour-mapped depth (or error) image; near = blue, far = red."""
    Image.fromarray(colorize(depth_m, lo, hi)).save(path)

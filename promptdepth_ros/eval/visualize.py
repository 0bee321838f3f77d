"""Colour maps for depth and error images, saved as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

# A small perceptual colormap (dark blue -> cyan -> green -> yellow -> red), 0..1 RGB stops.
_COLORMAP_STOPS = np.array(
    [[0.19, 0.07, 0.23], [0.16, 0.47, 0.93], [0.11, 0.82, 0.73], [0.55, 0.97, 0.30],
     [0.98, 0.73, 0.22], [0.80, 0.22, 0.05], [0.48, 0.02, 0.01]]
)  # fmt: skip


def colorize(values: NDArray[np.floating], vmin: float, vmax: float) -> NDArray[np.uint8]:
    """(H, W) values to (H, W, 3) uint8 colours over [vmin, vmax]; non-finite -> black."""
    t = np.clip((np.nan_to_num(values, nan=vmin) - vmin) / max(vmax - vmin, 1e-12), 0.0, 1.0)
    grid = np.linspace(0.0, 1.0, len(_COLORMAP_STOPS))
    rgb = np.stack([np.interp(t, grid, _COLORMAP_STOPS[:, c]) for c in range(3)], axis=-1)
    rgb[~np.isfinite(values)] = 0.0
    return np.rint(255.0 * rgb).astype(np.uint8)


def save_depth_png(path: Path, depth_m: NDArray[np.floating]) -> None:
    """Write a colour-mapped depth image over its 2nd..98th percentile; near = dark blue."""
    finite = depth_m[np.isfinite(depth_m)]
    lo, hi = np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0)
    Image.fromarray(colorize(depth_m, float(lo), float(hi))).save(path)

"""Edge snapping of the ``guided`` engine: depth at image pixels near a discontinuity.

Each pixel picks the surface (layer) of the best of the (2r+1)^2 prompt cells around its
nearest cell - by cell weight, distance and colour likeness, as in joint bilateral upsampling
(Kopf et al., 2007) - and interpolates bilinearly among the cells of that layer only, so depth
never mixes across the edge and slanted surfaces stay linear.

The choice maximises log(weight) - |offset|^2 / (2 sigma_s^2) - |colour difference|^2 /
(2 sigma_c^2) (the log of the joint bilateral weight, so no exp underflows to a tie). Expanded,
the terms a pixel shares with all its candidates drop out and the rest is a dot product of 6
pixel features with 6 candidate features, so the pixels of one cell are scored against that
cell's candidates with one small matrix product, never an (n, k, 3) temporary.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from promptdepth_ros.engines.resampling import source_coords
from promptdepth_ros.prompt.pooling import block_index

_NO_WEIGHT_SCORE = np.float32(-1e30)  # log(0): never picked over a cell with weight
_FALLBACK_WEIGHT = 1e-6
_MIN_LAYER_WEIGHT = 0.1  # less in-layer bilinear weight than this: keep the picked cell
_CHUNK_CELLS = 512  # cells scored per matrix product (bounds the (cells, m, k) scores)


@dataclass(frozen=True)
class SnapConfig:
    """radius: candidate cells within this many cells (r); sigmas in cells and 0..255 RGB."""

    radius: int
    spatial_sigma: float
    color_sigma: float


@lru_cache(maxsize=8)
def _cell_sums(
    image_hw: tuple[int, int], grid_hw: tuple[int, int]
) -> tuple[sp.csr_matrix, sp.csr_matrix, NDArray[np.float32]]:
    """Sparse 0/1 sums over the cells of an (h, w) grid: rows (h, H), interleaved RGB columns
    (w * 3, W * 3), and the pixel count (h, w, 1) of each cell."""
    rows, cols = block_index(image_hw[0], grid_hw[0]), block_index(image_hw[1], grid_hw[1])
    by_row = sp.csr_matrix(
        (np.ones(rows.size, np.float32), (rows, np.arange(rows.size))),
        shape=(grid_hw[0], image_hw[0]),
    )
    rgb_cols = (cols[:, None] * 3 + np.arange(3)).ravel()
    by_col = sp.csr_matrix(
        (np.ones(rgb_cols.size, np.float32), (rgb_cols, np.arange(rgb_cols.size))),
        shape=(grid_hw[1] * 3, image_hw[1] * 3),
    )
    counts = np.outer(np.bincount(rows), np.bincount(cols)).astype(np.float32)
    return by_row, by_col, counts[:, :, None]


def cell_mean_colour(rgb: NDArray[np.uint8], grid_hw: tuple[int, int]) -> NDArray[np.float32]:
    """Mean colour (h, w, 3) float32 of the image pixels inside each cell of an (h, w) grid.

    The grid must not be finer than the image (every cell holds at least one pixel).
    """
    height, width = rgb.shape[:2]
    by_row, by_col, counts = _cell_sums((height, width), grid_hw)
    row_sums = by_row @ rgb.reshape(height, width * 3).astype(np.float32)  # (h, W * 3)
    sums = np.asarray(by_col @ row_sums.T).T  # (h, w * 3)
    return (sums.reshape(*grid_hw, 3) / counts).astype(np.float32, copy=False)


class _AxisMap:
    """Image rows (or columns) onto grid cells, as small per-pixel tables of one axis.

    nearest: nearest cell; offset: position minus that cell's centre, in cells; slot: index
    among the pixels of that cell (``block`` at most); low, t: the lower of the two cells a
    bilinear upsampling reads and the weight of the upper one.
    """

    def __init__(self, n_image: int, n_grid: int) -> None:
        coord = source_coords(n_image, n_grid).astype(np.float32)
        self.nearest = np.clip(np.rint(coord).astype(np.intp), 0, n_grid - 1)
        self.offset = coord - self.nearest
        first = np.searchsorted(self.nearest, np.arange(n_grid))
        self.slot = np.arange(n_image) - first[self.nearest]
        self.block = int(self.slot.max()) + 1
        low = np.clip(np.floor(coord).astype(np.intp), 0, max(n_grid - 2, 0))
        self.low, self.t = low, np.clip(coord - low, 0.0, 1.0)


def snap_to_edges(
    rgb: NDArray[np.uint8],
    ys: NDArray[np.intp],
    xs: NDArray[np.intp],
    depth: NDArray[np.float32],
    weight: NDArray[np.float32],
    config: SnapConfig,
) -> NDArray[np.float32]:
    """Depth (n,) metres at image pixels (ys, xs) from an (h, w) grid of depth and cell weight.

    A cell is in the picked layer when its depth is nearer to the picked one than half the
    depth range of the candidates with weight. Cells beyond the grid repeat its edge cells.
    """
    h, w = depth.shape
    rows, cols = _AxisMap(rgb.shape[0], h), _AxisMap(rgb.shape[1], w)
    grid = _PaddedGrid(depth, weight, config.radius)
    picked, tolerance = _pick_layer(rgb, ys, xs, rows, cols, grid, config)
    # Bilinear among the four cells around the pixel that lie in the picked layer.
    y0, x0, ty, tx = rows.low[ys], cols.low[xs], rows.t[ys], cols.t[xs]
    num = np.zeros(ys.size, np.float32)
    den = np.zeros(ys.size, np.float32)
    corners = [(0, 0, (1 - ty) * (1 - tx)), (0, 1, (1 - ty) * tx)]
    corners += [(1, 0, ty * (1 - tx)), (1, 1, ty * tx)]
    for oy, ox, bilinear in corners:
        index = grid.index(np.minimum(y0 + oy, h - 1), np.minimum(x0 + ox, w - 1))
        d = grid.depth[index]
        k = bilinear * grid.weight[index] * (np.abs(d - picked) <= tolerance)
        num += k * d
        den += k
    return np.where(den > _MIN_LAYER_WEIGHT, num / np.maximum(den, _FALLBACK_WEIGHT), picked)


class _PaddedGrid:
    """Flat depth and weight of an (h, w) grid padded by r repeated edge cells."""

    def __init__(self, depth: NDArray[np.float32], weight: NDArray[np.float32], r: int) -> None:
        self.shape, self.r, self.stride = depth.shape, r, depth.shape[1] + 2 * r
        self.depth = np.pad(depth, r, mode="edge").ravel()
        self.weight = np.pad(weight, r, mode="edge").ravel()

    def index(self, rows: NDArray[np.intp], cols: NDArray[np.intp]) -> NDArray[np.intp]:
        """Flat padded index of grid cells (rows, cols); either may lie up to r cells outside."""
        return (rows + self.r) * self.stride + cols + self.r


def _pick_layer(
    rgb: NDArray[np.uint8],
    ys: NDArray[np.intp],
    xs: NDArray[np.intp],
    rows: _AxisMap,
    cols: _AxisMap,
    grid: _PaddedGrid,
    config: SnapConfig,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Depth of the picked cell (n,) and the layer tolerance (n,) of each pixel (ys, xs)."""
    h, w = grid.shape
    r = grid.r
    offsets = np.arange(-r, r + 1)
    dy, dx = (a.ravel() for a in np.meshgrid(offsets, offsets, indexing="ij"))
    spatial = np.float32(0.5 / config.spatial_sigma**2)
    colour_scale = np.float32(0.5 / config.color_sigma**2)
    # Per padded cell: colour (centred on mid-grey) and log(weight) - |colour|^2 / (2 s_c^2).
    colour = np.pad(
        cell_mean_colour(rgb, (h, w)) - np.float32(128.0), ((r, r), (r, r), (0, 0)), mode="edge"
    )
    colour = colour.reshape(-1, 3).T.copy()
    log_w = np.full(grid.weight.size, _NO_WEIGHT_SCORE, np.float32)
    np.log(grid.weight, out=log_w, where=grid.weight > 0)
    own = log_w - colour_scale * np.square(colour).sum(axis=0)
    # The pixels of each cell the band touches, in a fixed slot per pixel of the cell: one
    # (m, 6) @ (6, k) product of pixel and candidate features per cell.
    cell = rows.nearest[ys] * w + cols.nearest[xs]
    used = np.zeros(h * w, bool)
    used[cell] = True
    cells = np.flatnonzero(used)
    group = (np.cumsum(used) - 1)[cell]
    m = rows.block * cols.block
    position = group * m + rows.slot[ys] * cols.block + cols.slot[xs]
    pixel = np.empty((ys.size, 6), np.float32)
    pixel[:, 0] = 1.0
    pixel[:, 1] = (2.0 * spatial) * rows.offset[ys]
    pixel[:, 2] = (2.0 * spatial) * cols.offset[xs]
    pixel[:, 3:] = np.take(rgb.reshape(-1, 3), ys * rgb.shape[1] + xs, axis=0)
    pixel[:, 3:] -= np.float32(128.0)
    pixel[:, 3:] *= 2.0 * colour_scale
    features = np.zeros((cells.size, m, 6), np.float32)
    features.reshape(-1, 6)[position] = pixel
    flat = grid.index(cells // w, cells % w)[:, None] + (dy * grid.stride + dx)
    candidates = np.empty((cells.size, 6, dy.size), np.float32)
    candidates[:, 0] = own[flat] - spatial * (dy * dy + dx * dx).astype(np.float32)
    candidates[:, 1] = dy
    candidates[:, 2] = dx
    for channel in range(3):
        candidates[:, 3 + channel] = colour[channel][flat]
    best = np.empty((cells.size, m), np.intp)
    for start in range(0, cells.size, _CHUNK_CELLS):
        part = slice(start, start + _CHUNK_CELLS)
        best[part] = np.argmax(features[part] @ candidates[part], axis=2)
    candidate_depth = grid.depth[flat]
    usable = grid.weight[flat] > 0
    lo = np.where(usable, candidate_depth, np.inf).min(axis=1)
    hi = np.where(usable, candidate_depth, -np.inf).max(axis=1)
    picked = np.take_along_axis(candidate_depth, best, axis=1).ravel()[position]
    return picked, (0.5 * (hi - lo))[group]

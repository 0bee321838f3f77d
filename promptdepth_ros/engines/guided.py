"""Weight-free ``guided`` engine: prompt upsampling that snaps depth discontinuities to RGB edges.

Steps: put the conditioned prompt on a working grid (as the baselines do; measured cells weigh 1,
cells filled by conditioning ``filled_weight``, cells without depth 0), denoise it with a
bilateral filter at that resolution (range kernel centred on the exact local median), upsample
it bilinearly, then re-estimate the pixels near depth discontinuities with a joint bilateral
upsampling (Kopf et al., 2007) whose range kernel compares each pixel's colour with the mean
colour of the prompt cells around it. Prompt cells on a discontinuity hold mixed or bled
returns, so they count little there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from scipy import ndimage

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.engines.base import DepthResult
from promptdepth_ros.engines.prompt_input import mask_unsupported, prompt_grid, require_prompt
from promptdepth_ros.engines.resampling import resize_image, resize_nearest, source_coords
from promptdepth_ros.engines.spec import EngineSpec, ResolvedBackend
from promptdepth_ros.errors import ConfigError
from promptdepth_ros.prompt.conditioning import ConditionedPrompt
from promptdepth_ros.prompt.pooling import block_index

_FALLBACK_WEIGHT = 1e-6


@dataclass(frozen=True)
class GuidedConfig:
    """Parameters of :class:`GuidedEngine` (prompt px = pixels of the conditioned prompt).

    denoise_radius:   bilateral denoising radius in prompt px (0 = off).
    denoise_sigma_rel: range sigma of the denoising, relative to depth.
    edge_ratio:       max/min depth ratio in a 3x3 prompt window that marks a discontinuity.
    snap_radius:      joint bilateral upsampling radius in prompt px.
    spatial_sigma:    its spatial sigma in prompt px.
    color_sigma:      its RGB range sigma (0..255 units).
    edge_weight:      weight of prompt cells on a discontinuity (mixed or bled returns).
    filled_weight:    weight of prompt cells filled by conditioning (not measured).
    """

    denoise_radius: int = 2
    denoise_sigma_rel: float = 0.03
    edge_ratio: float = 1.03
    snap_radius: int = 3
    spatial_sigma: float = 1.5
    color_sigma: float = 12.0
    edge_weight: float = 0.02
    filled_weight: float = 0.05

    def __post_init__(self) -> None:
        if not 0 <= self.denoise_radius <= 5 or not 1 <= self.snap_radius <= 5:
            raise ConfigError(
                f"denoise_radius must be in [0, 5] and snap_radius in [1, 5], got "
                f"{self.denoise_radius} and {self.snap_radius}"
            )
        positive = {
            "denoise_sigma_rel": self.denoise_sigma_rel,
            "spatial_sigma": self.spatial_sigma,
            "color_sigma": self.color_sigma,
        }
        for name, value in positive.items():
            if not value > 0.0:
                raise ConfigError(f"guided.{name} must be > 0, got {value}")
        if not self.edge_ratio > 1.0:
            raise ConfigError(f"guided.edge_ratio must be > 1, got {self.edge_ratio}")
        for name, value in (
            ("edge_weight", self.edge_weight),
            ("filled_weight", self.filled_weight),
        ):
            if not 0.0 < value <= 1.0:
                raise ConfigError(f"guided.{name} must be in (0, 1], got {value}")


def _shifted(padded: NDArray, dy: int, dx: int, radius: int, shape: tuple[int, int]) -> NDArray:
    return padded[radius + dy : radius + dy + shape[0], radius + dx : radius + dx + shape[1]]


def _batcher_pairs(n: int) -> list[tuple[int, int]]:
    """Comparators (i < j) of Batcher's odd-even merge sort for ``n`` inputs."""
    pairs = []
    p = 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return pairs


@lru_cache(maxsize=8)
def _median_network(n: int) -> tuple[tuple[int, int, bool, bool], ...]:
    """Sorting-network comparators that the middle output of ``n`` inputs depends on.

    Each is (i, j, keep_min, keep_max): the min goes to wire i, the max to wire j, and only the
    outputs the median still needs are computed.
    """
    needed = {n // 2}
    kept = []
    for i, j in reversed(_batcher_pairs(n)):
        if i in needed or j in needed:
            kept.append((i, j, i in needed, j in needed))
            needed |= {i, j}
    return tuple(reversed(kept))


def median_filter(image: NDArray[np.float32], radius: int) -> NDArray[np.float32]:
    """Exact (2r+1)^2 median of (h, w) data with edge replication, via a selection network.

    Same result as ``scipy.ndimage.median_filter(image, 2 * radius + 1, mode="nearest")``.
    """
    h, w = image.shape
    padded = np.pad(image, radius, mode="edge")
    size = 2 * radius + 1
    wires = [padded[dy : dy + h, dx : dx + w] for dy in range(size) for dx in range(size)]
    for i, j, keep_min, keep_max in _median_network(size * size):
        low = np.minimum(wires[i], wires[j]) if keep_min else wires[i]
        if keep_max:
            wires[j] = np.maximum(wires[i], wires[j])
        wires[i] = low
    return np.ascontiguousarray(wires[size * size // 2])


def bilateral_denoise(
    depth: NDArray[np.float32], weight: NDArray[np.float32], radius: int, sigma_rel: float
) -> NDArray[np.float32]:
    """Weighted bilateral filter of (h, w) depth (metres), range kernel relative to depth.

    A pixel with no weight in its window keeps its depth.
    """
    padded_d = np.pad(depth, radius, mode="edge")
    padded_w = np.pad(weight, radius, mode="constant")
    spatial_sigma = max(radius, 1) / 1.5
    num = np.zeros_like(depth)
    den = np.zeros_like(depth)
    # Compare neighbours with a robust local estimate, not the noisy centre value itself.
    reference = median_filter(depth, radius)
    scale = np.float32(np.sqrt(0.5)) / (np.float32(sigma_rel) * reference)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            d = _shifted(padded_d, dy, dx, radius, depth.shape)
            spatial = np.float32(np.exp(-0.5 * (dy * dy + dx * dx) / spatial_sigma**2))
            z = (d - reference) * scale
            w = np.exp(-(z * z)) * (_shifted(padded_w, dy, dx, radius, depth.shape) * spatial)
            num += w * d
            den += w
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0.0, num / den, depth)


def _cell_membership(n_image: int, n_grid: int) -> sp.csr_matrix:
    """(n_grid, n_image) 0/1 float32 matrix: which grid cell each image row (or column) is in."""
    cells = block_index(n_image, n_grid)
    ones = np.ones(n_image, np.float32)
    return sp.csr_matrix((ones, (cells, np.arange(n_image))), shape=(n_grid, n_image))


def cell_mean_colour(rgb: NDArray[np.uint8], grid_hw: tuple[int, int]) -> NDArray[np.float32]:
    """Mean colour (h, w, 3) float32 of the image pixels inside each cell of an (h, w) grid.

    The grid must not be finer than the image (every cell holds at least one pixel).
    """
    height, width = rgb.shape[:2]
    gh, gw = grid_hw
    rows, cols = _cell_membership(height, gh), _cell_membership(width, gw)
    by_row = np.asarray(rows @ rgb.reshape(height, width * 3).astype(np.float32))
    by_col = by_row.reshape(gh, width, 3).transpose(1, 0, 2).reshape(width, gh * 3)
    sums = np.asarray(cols @ by_col).reshape(gw, gh, 3).transpose(1, 0, 2)
    counts = np.outer(rows.sum(axis=1), cols.sum(axis=1))[:, :, None]
    return (sums / counts).astype(np.float32)


def discontinuity_mask(depth: NDArray[np.float32], edge_ratio: float) -> NDArray[np.bool_]:
    """(h, w) True near depth steps larger than ``edge_ratio`` - 1 (relative) in a 3x3 window.

    Inverse depth is linear in the image on planes, so its second differences vanish on tilted
    planes (table seen at grazing angles) and peak at occluding contours.
    """
    inv = np.pad(1.0 / depth, 1, mode="edge")
    centre = inv[1:-1, 1:-1]
    second = np.maximum(
        np.abs(inv[1:-1, :-2] + inv[1:-1, 2:] - 2.0 * centre),
        np.abs(inv[:-2, 1:-1] + inv[2:, 1:-1] - 2.0 * centre),
    )
    return ndimage.maximum_filter(second / centre, size=3, mode="nearest") > edge_ratio - 1.0


@lru_cache(maxsize=16)
def _spatial_kernel(
    n_image: int, n_grid: int, radius: int, sigma: float
) -> tuple[NDArray[np.intp], NDArray[np.float32]]:
    """Nearest grid cell (n_image,) of each image row (or column) and Gaussian weights.

    The weights (n_image, 2 * radius + 1) float32 are those of the cells at offsets
    -radius..radius from the nearest one, by distance in prompt px.
    """
    coords = source_coords(n_image, n_grid)
    nearest = np.rint(coords)
    offsets = np.arange(-radius, radius + 1)
    gap = nearest[:, None] + offsets[None, :] - coords[:, None]
    kernel = np.exp(-0.5 * gap**2 / sigma**2).astype(np.float32)
    return nearest.astype(np.intp), kernel


class GuidedEngine:
    """Dense metric depth from a low-res or sparse prompt, edges guided by the RGB image."""

    name = "guided"
    needs_prompt = True

    def __init__(self, config: GuidedConfig | None = None) -> None:
        self.config = config or GuidedConfig()

    def infer(
        self,
        rgb: NDArray[np.uint8],
        prompt: ConditionedPrompt | None,
        camera: CameraModel | None,
    ) -> DepthResult:
        """Depth (H, W) float32 metres, NaN where the prompt has none; InputError if unusable."""
        cfg = self.config
        prompt = require_prompt(self.name, rgb, prompt)
        image_hw = rgb.shape[:2]
        grid = prompt_grid(prompt, image_hw)
        depth, weight = grid.depth_m, grid.weights(cfg.filled_weight)
        if cfg.denoise_radius > 0:
            depth = bilateral_denoise(depth, weight, cfg.denoise_radius, cfg.denoise_sigma_rel)
        on_edge = discontinuity_mask(depth, cfg.edge_ratio)
        out = resize_image(depth, image_hw[0], image_hw[1], "bilinear")
        band = resize_nearest(ndimage.binary_dilation(on_edge, iterations=1), *image_hw)
        ys, xs = np.nonzero(band)
        if ys.size:
            weight = np.where(on_edge, weight * cfg.edge_weight, weight)
            out[ys, xs] = self._snap(rgb, ys, xs, depth, weight)
        return DepthResult(depth_m=mask_unsupported(out, prompt))

    def _snap(
        self,
        rgb: NDArray[np.uint8],
        ys: NDArray[np.intp],
        xs: NDArray[np.intp],
        depth: NDArray[np.float32],
        weight: NDArray[np.float32],
    ) -> NDArray[np.float32]:
        """Joint bilateral upsampling of ``depth`` at image pixels (ys, xs): (n,) metres.

        Each pixel weighs the (2r+1)^2 prompt cells around the cell nearest to it (edge cells
        repeated at the border).
        """
        cfg = self.config
        r = cfg.snap_radius
        size = 2 * r + 1
        h, w = depth.shape
        row_cell, row_spatial = _spatial_kernel(rgb.shape[0], h, r, cfg.spatial_sigma)
        col_cell, col_spatial = _spatial_kernel(rgb.shape[1], w, r, cfg.spatial_sigma)
        cy, cx = row_cell[ys], col_cell[xs]

        def windows(grid: NDArray[np.float32]) -> NDArray[np.float32]:
            """(n, size^2[, C]) values of the cells around each pixel's nearest cell."""
            pad = ((r, r), (r, r)) + ((0, 0),) * (grid.ndim - 2)
            view = sliding_window_view(np.pad(grid, pad, mode="edge"), (size, size), (0, 1))
            cells = np.moveaxis(view[cy, cx], 1, -1) if grid.ndim == 3 else view[cy, cx]
            return cells.reshape(ys.size, size * size, *grid.shape[2:])

        colour = windows(cell_mean_colour(rgb, (h, w)))  # (n, size^2, 3)
        pixel = rgb[ys, xs].astype(np.float32)
        colour_d2 = np.zeros((ys.size, size * size), np.float32)
        for channel in range(3):
            colour_d2 += np.square(colour[:, :, channel] - pixel[:, channel, None])
        spatial = (row_spatial[ys][:, :, None] * col_spatial[xs][:, None, :]).reshape(ys.size, -1)
        wts = windows(weight) * spatial
        wts *= np.exp(colour_d2 * np.float32(-0.5 / cfg.color_sigma**2))
        num = np.einsum("ij,ij->i", wts, windows(depth))
        den = wts.sum(axis=1)
        fallback = depth[cy, cx]
        return ((num + _FALLBACK_WEIGHT * fallback) / (den + _FALLBACK_WEIGHT)).astype(np.float32)

    def close(self) -> None:
        """Nothing to release."""


def create_guided_engine(spec: EngineSpec, backend: ResolvedBackend) -> GuidedEngine:
    """The guided engine with its default config; it has no weights and runs on numpy only."""
    return GuidedEngine()

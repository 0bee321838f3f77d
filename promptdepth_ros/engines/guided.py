"""Weight-free ``guided`` engine: prompt upsampling that snaps depth discontinuities to RGB edges.

Steps: put the conditioned prompt on a working grid (as the baselines do, with cells of at least
``min_cell_px`` image pixels; measured cells weigh 1, cells filled by conditioning
``filled_weight``, cells without depth 0), denoise it with a
bilateral filter over about ``denoise_reach_px`` image pixels, re-estimate the filled cells from
the measured ones on the same surface (between LiDAR rings), upsample bilinearly, then
re-estimate the pixels whose bilinear cells touch a depth discontinuity: each picks the surface
of the prompt cell around it that best matches its colour (cell weight, distance, colour
likeness, as in joint bilateral upsampling, Kopf et al., 2007) and interpolates bilinearly among
the cells of that surface only, so depth never mixes across the edge. Prompt cells on a
discontinuity hold mixed or bled returns, so they count little there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.engines.base import DepthResult
from promptdepth_ros.engines.depth_filters import bilateral_denoise, refill_from_measured
from promptdepth_ros.engines.edge_snap import SnapConfig, snap_to_edges
from promptdepth_ros.engines.prompt_input import mask_unsupported, prompt_grid, require_prompt
from promptdepth_ros.engines.resampling import resize_image, source_coords
from promptdepth_ros.engines.spec import EngineSpec, ResolvedBackend
from promptdepth_ros.errors import ConfigError
from promptdepth_ros.prompt.conditioning import ConditionedPrompt

_DENSE_PROMPT = 0.9  # measured share above which a cell's neighbours are measurements


@dataclass(frozen=True)
class GuidedConfig:
    """Parameters of :class:`GuidedEngine` (prompt px = pixels of the conditioned prompt).

    denoise_radius:   largest bilateral denoising radius in prompt px (0 = off).
    denoise_reach_px: the denoising radius is about this many image px (at least 1 prompt px,
                      at most ``denoise_radius``), so it covers a similar footprint for
                      coarse and for image-resolution prompts.
    denoise_sigma_rel: range sigma of the denoising, relative to depth.
    fill_reach_px:    on a sparse prompt (under 90 % measured), cells filled by conditioning
                      are re-estimated from the measured cells within about this many image
                      px on the same surface (0 = off).
    edge_ratio:       1 + the relative inverse-depth curvature that marks a discontinuity.
    snap_radius:      largest radius in prompt px of the cells a pixel near a discontinuity
                      picks from: 1 on a dense prompt, about ``snap_reach_px`` image px on a
                      sparse one (under 90 % measured), to reach the next measured row.
    spatial_sigma:    spatial sigma of that choice in prompt px.
    color_sigma:      its RGB range sigma (0..255 units).
    edge_weight:      weight of prompt cells on a discontinuity (mixed or bled returns).
    filled_weight:    weight of prompt cells filled by conditioning (not measured).
    min_cell_px:      a prompt finer than this many image px per cell is pooled to it (the
                      mean of its measured pixels): a depth camera at the image's resolution
                      is averaged 2x2, halving its noise, and the edges come back from the
                      image in the snapping step.
    min_measured_share: a sparser prompt (a LiDAR scan) is pooled until about this share of
                      its cells hold a measured return, so denoising and snapping reach
                      across the rings.
    """

    denoise_radius: int = 2
    denoise_reach_px: float = 5.0
    denoise_sigma_rel: float = 0.03
    fill_reach_px: float = 15.0
    edge_ratio: float = 1.1
    snap_radius: int = 3
    snap_reach_px: float = 15.0
    spatial_sigma: float = 1.5
    color_sigma: float = 12.0
    edge_weight: float = 0.02
    filled_weight: float = 0.05
    min_cell_px: float = 2.0
    min_measured_share: float = 0.3

    def __post_init__(self) -> None:
        if not 0 <= self.denoise_radius <= 5 or not 1 <= self.snap_radius <= 5:
            raise ConfigError(
                f"denoise_radius must be in [0, 5] and snap_radius in [1, 5], got "
                f"{self.denoise_radius} and {self.snap_radius}"
            )
        positive = {
            "denoise_sigma_rel": self.denoise_sigma_rel,
            "denoise_reach_px": self.denoise_reach_px,
            "snap_reach_px": self.snap_reach_px,
            "spatial_sigma": self.spatial_sigma,
            "color_sigma": self.color_sigma,
            "min_cell_px": self.min_cell_px,
        }
        for name, value in positive.items():
            if not value > 0.0:
                raise ConfigError(f"guided.{name} must be > 0, got {value}")
        if not self.edge_ratio > 1.0:
            raise ConfigError(f"guided.edge_ratio must be > 1, got {self.edge_ratio}")
        if not self.fill_reach_px >= 0.0:
            raise ConfigError(f"guided.fill_reach_px must be >= 0, got {self.fill_reach_px}")
        for name, value in (
            ("edge_weight", self.edge_weight),
            ("filled_weight", self.filled_weight),
            ("min_measured_share", self.min_measured_share),
        ):
            if not 0.0 < value <= 1.0:
                raise ConfigError(f"guided.{name} must be in (0, 1], got {value}")


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


def _bilinear_support(cells: NDArray[np.bool_], image_hw: tuple[int, int]) -> NDArray[np.bool_]:
    """(H, W) True where any of the (up to) four cells a bilinear upsampling reads is set."""
    h, w = cells.shape
    rows = source_coords(image_hw[0], h)
    cols = source_coords(image_hw[1], w)
    r0 = np.clip(np.floor(rows).astype(np.intp), 0, h - 1)
    c0 = np.clip(np.floor(cols).astype(np.intp), 0, w - 1)
    r1, c1 = np.minimum(r0 + 1, h - 1), np.minimum(c0 + 1, w - 1)
    by_row = cells[r0] | cells[r1]
    return by_row[:, c0] | by_row[:, c1]


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
        grid = prompt_grid(prompt, self._grid_hw(prompt, image_hw))
        depth, weight = grid.depth_m, grid.weights(cfg.filled_weight)
        if cfg.denoise_radius > 0:
            cell_px = image_hw[1] / depth.shape[1]
            radius = min(cfg.denoise_radius, max(1, round(cfg.denoise_reach_px / cell_px)))
            depth = bilateral_denoise(depth, weight, radius, cfg.denoise_sigma_rel)
        dense = float(grid.measured.mean()) >= _DENSE_PROMPT
        if cfg.fill_reach_px > 0 and not dense:  # conditioning's fill is a staircase there
            cell_px = image_hw[1] / depth.shape[1]
            reach = max(1, min(5, round(cfg.fill_reach_px / cell_px)))
            depth = refill_from_measured(depth, grid.measured, reach, cfg.edge_ratio - 1.0)
        on_edge = discontinuity_mask(depth, cfg.edge_ratio)
        out = resize_image(depth, image_hw[0], image_hw[1], "bilinear")
        band = _bilinear_support(on_edge, image_hw)
        ys, xs = np.nonzero(band)
        if ys.size:
            weight = np.where(on_edge, weight * cfg.edge_weight, weight)
            r = 1
            if not dense:  # reach the next measured row of a sparse prompt
                reach = round(cfg.snap_reach_px * depth.shape[1] / image_hw[1])
                r = min(cfg.snap_radius, max(1, reach))
            snap = SnapConfig(r, cfg.spatial_sigma, cfg.color_sigma)
            out[ys, xs] = snap_to_edges(rgb, ys, xs, depth, weight, snap)
        return DepthResult(depth_m=mask_unsupported(out, prompt))

    def _grid_hw(self, prompt: ConditionedPrompt, image_hw: tuple[int, int]) -> tuple[int, int]:
        """Largest working grid (h', w'): cells of at least ``min_cell_px`` image px, and coarse
        enough that about ``min_measured_share`` of them hold a measured return."""
        cfg = self.config
        h, w = prompt.depth_m.shape
        factor = 1
        if 0.0 < prompt.valid_ratio < cfg.min_measured_share:
            factor = math.ceil(math.sqrt(cfg.min_measured_share / prompt.valid_ratio))
        cell = max(1.0, cfg.min_cell_px)
        rows = min(math.ceil(image_hw[0] / cell), -(-h // factor))
        cols = min(math.ceil(image_hw[1] / cell), -(-w // factor))
        return rows, cols

    def close(self) -> None:
        """Nothing to release."""


def create_guided_engine(spec: EngineSpec, backend: ResolvedBackend) -> GuidedEngine:
    """The guided engine with its default config; it has no weights and runs on numpy only."""
    return GuidedEngine()

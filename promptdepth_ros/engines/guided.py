"""Weight-free ``guided`` engine: prompt upsampling that snaps depth discontinuities to RGB edges.

Steps: fill prompt holes (as the baselines do), denoise the prompt with a bilateral filter at its
own resolution, upsample it bilinearly, then re-estimate the pixels near depth discontinuities
with a joint bilateral upsampling (Kopf et al., 2007) whose range kernel compares each pixel's
colour with the mean colour of the prompt cells around it. Prompt cells on a discontinuity hold
mixed or bled returns, so they count little there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from promptdepth_ros.camera import CameraModel
from promptdepth_ros.engines.base import DepthResult
from promptdepth_ros.engines.baselines import check_inputs, densify_prompt
from promptdepth_ros.engines.resize import resize_image, resize_nearest, source_coords
from promptdepth_ros.errors import ConfigError

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
    filled_weight:    weight of hole-filled prompt cells.
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


def bilateral_denoise(
    depth: NDArray[np.float32], weight: NDArray[np.float32], radius: int, sigma_rel: float
) -> NDArray[np.float32]:
    """Weighted bilateral filter of (h, w) depth (metres), range kernel relative to depth."""
    padded_d = np.pad(depth, radius, mode="edge")
    padded_w = np.pad(weight, radius, mode="constant")
    spatial_sigma = max(radius, 1) / 1.5
    num = np.zeros_like(depth)
    den = np.zeros_like(depth)
    # Compare neighbours with a robust local estimate, not the noisy centre value itself.
    reference = ndimage.median_filter(depth, size=2 * radius + 1, mode="nearest")
    inv_range = 1.0 / (sigma_rel * reference)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            d = _shifted(padded_d, dy, dx, radius, depth.shape)
            w = _shifted(padded_w, dy, dx, radius, depth.shape) * np.exp(
                -0.5
                * ((dy * dy + dx * dx) / spatial_sigma**2 + ((d - reference) * inv_range) ** 2)
            )
            num += w * d
            den += w
    return num / den


def cell_mean_colour(rgb: NDArray[np.uint8], grid_hw: tuple[int, int]) -> NDArray[np.float32]:
    """Mean colour (h, w, 3) float32 of the image pixels inside each cell of an (h, w) grid."""
    height, width = rgb.shape[:2]
    gh, gw = grid_hw
    cell = (
        (np.arange(height) * gh // height)[:, None] * gw + np.arange(width) * gw // width
    ).ravel()
    counts = np.bincount(cell, minlength=gh * gw).astype(np.float64)
    flat = rgb.reshape(-1, 3).astype(np.float64)
    means = [np.bincount(cell, flat[:, c], gh * gw) / counts for c in range(3)]
    return np.stack(means, 1).reshape(gh, gw, 3).astype(np.float32)


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


class GuidedEngine:
    """Dense metric depth from a low-res or sparse prompt, edges guided by the RGB image."""

    name = "guided"
    needs_prompt = True

    def __init__(self, config: GuidedConfig | None = None) -> None:
        self.config = config or GuidedConfig()

    def infer(
        self,
        rgb: NDArray[np.uint8],
        prompt_m: NDArray[np.float32] | None,
        camera: CameraModel | None,
    ) -> DepthResult:
        """Depth (H, W) float32 metres, finite everywhere; raises InputError on unusable input."""
        cfg = self.config
        prompt = check_inputs(rgb, prompt_m)
        image_hw = rgb.shape[:2]
        depth, valid = densify_prompt(prompt, image_hw)
        weight = np.where(valid, 1.0, cfg.filled_weight).astype(np.float32)
        if cfg.denoise_radius > 0:
            depth = bilateral_denoise(depth, weight, cfg.denoise_radius, cfg.denoise_sigma_rel)
        on_edge = discontinuity_mask(depth, cfg.edge_ratio)
        out = resize_image(depth, image_hw[0], image_hw[1], "bilinear")
        band = resize_nearest(ndimage.binary_dilation(on_edge, iterations=1), *image_hw)
        ys, xs = np.nonzero(band)
        if ys.size:
            weight = np.where(on_edge, weight * cfg.edge_weight, weight)
            out[ys, xs] = self._snap(rgb, ys, xs, depth, weight)
        return DepthResult(depth_m=out)

    def _snap(
        self,
        rgb: NDArray[np.uint8],
        ys: NDArray[np.intp],
        xs: NDArray[np.intp],
        depth: NDArray[np.float32],
        weight: NDArray[np.float32],
    ) -> NDArray[np.float32]:
        """Joint bilateral upsampling of ``depth`` at image pixels (ys, xs): (n,) metres."""
        cfg = self.config
        h, w = depth.shape
        colour = cell_mean_colour(rgb, (h, w))
        ly = source_coords(rgb.shape[0], h)[ys]
        lx = source_coords(rgb.shape[1], w)[xs]
        offsets = np.arange(-cfg.snap_radius, cfg.snap_radius + 1)
        iy = np.rint(ly)[:, None, None] + offsets[None, :, None]
        ix = np.rint(lx)[:, None, None] + offsets[None, None, :]
        dist2 = (iy - ly[:, None, None]) ** 2 + (ix - lx[:, None, None]) ** 2
        iy = np.clip(iy, 0, h - 1).astype(np.intp)
        ix = np.clip(ix, 0, w - 1).astype(np.intp)
        pixel = rgb[ys, xs].astype(np.float32)[:, None, None, :]
        colour_d2 = np.sum((colour[iy, ix] - pixel) ** 2, axis=-1)
        wts = weight[iy, ix] * np.exp(
            -0.5 * (dist2 / cfg.spatial_sigma**2 + colour_d2 / cfg.color_sigma**2)
        )
        num = np.sum(wts * depth[iy, ix], axis=(1, 2))
        den = np.sum(wts, axis=(1, 2))
        fallback = depth[iy[:, cfg.snap_radius, 0], ix[:, 0, cfg.snap_radius]]
        return ((num + _FALLBACK_WEIGHT * fallback) / (den + _FALLBACK_WEIGHT)).astype(np.float32)

    def close(self) -> None:
        """Nothing to release."""

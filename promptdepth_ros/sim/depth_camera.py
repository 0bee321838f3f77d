"""A RealSense-like active-stereo depth camera, simulated from ground-truth depth.

The model follows how a stereo depth camera fails (Intel's D400 tuning guide, "depth RMS error
= z^2 * subpixel / (focal * baseline)"; Keselman et al. 2017): disparity ``f * b / z`` gets
Gaussian sub-pixel noise correlated over a few pixels by the matching window, so depth noise
grows with z^2; background pixels beside a foreground edge that the second imager cannot see
(stereo occlusion) and a band of mixed pixels on every depth edge have no depth; structures
narrower than the matching window are lost; nothing is returned outside [min, max] range. No
return is NaN. The image is registered to the colour camera, at its resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.errors import ConfigError, InputError

_FOUR = ((-1, 0), (1, 0), (0, -1), (0, 1))


@dataclass(frozen=True)
class StereoDepthCameraModel:
    """Parameters of the simulated stereo depth camera (defaults: a D435 at 640x480).

    baseline_m: distance between the imagers; subpixel_std_px: disparity noise (1 sigma) in px;
    noise_correlation_px: Gaussian correlation length of that noise; edge_ratio: relative depth
    step between neighbours that counts as an edge; edge_band_px: half-width of the band of
    invalid pixels on edges; min_width_px: narrower foreground structures are lost;
    dropout: share of pixels dropped at random; min_range_m / max_range_m: valid range.
    """

    baseline_m: float = 0.05
    subpixel_std_px: float = 0.08
    noise_correlation_px: float = 1.0
    edge_ratio: float = 1.03
    edge_band_px: int = 1
    min_width_px: int = 5
    dropout: float = 0.005
    min_range_m: float = 0.28
    max_range_m: float = 8.0

    def __post_init__(self) -> None:
        if not (self.baseline_m > 0 and self.subpixel_std_px >= 0 and self.edge_ratio > 1):
            raise ConfigError(
                "need baseline_m > 0, subpixel_std_px >= 0 and edge_ratio > 1, got "
                f"{self.baseline_m}, {self.subpixel_std_px}, {self.edge_ratio}"
            )
        if not 0.0 <= self.dropout < 1.0 or not 0.0 < self.min_range_m < self.max_range_m:
            raise ConfigError(
                f"need dropout in [0, 1) and 0 < min_range_m < max_range_m, got {self.dropout}, "
                f"{self.min_range_m}, {self.max_range_m}"
            )


def _correlated_noise(
    shape: tuple[int, int], correlation_px: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Unit-variance Gaussian noise (H, W) smoothed over ``correlation_px`` pixels."""
    white = rng.normal(size=shape)
    if correlation_px <= 0.0:
        return white
    smooth = ndimage.gaussian_filter(white, correlation_px, mode="reflect")
    return smooth / smooth.std()


def _stereo_occlusion(disparity: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Pixels (H, W) of the left (reference) image that the right imager cannot see.

    A pixel at column u lands at u - d(u) in the right image; it is hidden when a pixel to its
    right lands at or left of that column (a nearer surface covers it).
    """
    cols = np.arange(disparity.shape[1], dtype=np.float64)
    x_right = np.where(np.isfinite(disparity), cols - disparity, np.inf)
    # Minimum over the pixels strictly to the right of each one.
    right_min = np.minimum.accumulate(x_right[:, ::-1], axis=1)[:, ::-1]
    beyond = np.concatenate([right_min[:, 1:], np.full((len(x_right), 1), np.inf)], axis=1)
    return beyond <= x_right - 0.5


def _thin_structures(
    inverse: NDArray[np.float64], width_px: int, ratio: float
) -> NDArray[np.bool_]:
    """Foreground pixels (H, W) in structures narrower than ``width_px`` in x or in y."""
    if width_px <= 1:
        return np.zeros(inverse.shape, bool)
    thin = np.zeros(inverse.shape, bool)
    for size in ((1, width_px), (width_px, 1)):
        opened = ndimage.grey_opening(inverse, size=size, mode="nearest")
        thin |= inverse > opened * ratio
    return thin


def simulate_stereo_depth(
    depth_m: NDArray[np.floating],
    camera: CameraModel,
    rng: np.random.Generator,
    model: StereoDepthCameraModel | None = None,
) -> NDArray[np.float32]:
    """Depth image (H, W) float32 metres (NaN = no return) a stereo camera reports for GT (H, W).

    ``camera`` gives the focal length of the depth image. Raises InputError on a shape mismatch.
    """
    model = model or StereoDepthCameraModel()
    depth = np.asarray(depth_m, np.float64)
    if depth.shape != (camera.height, camera.width):
        raise InputError(
            f"depth is {depth.shape[1]}x{depth.shape[0]} but the camera is "
            f"{camera.width}x{camera.height}"
        )
    surface = np.isfinite(depth) & (depth > 0)
    focal_baseline = camera.fx * model.baseline_m
    with np.errstate(divide="ignore", invalid="ignore"):
        disparity = np.where(surface, focal_baseline / depth, np.nan)
    # No surface is treated as infinitely far: it hides nothing and is never an edge's near side.
    inverse = np.where(surface, disparity, 0.0)
    occluded = _stereo_occlusion(np.where(surface, disparity, 0.0))
    padded = np.pad(inverse, 1, mode="edge")
    h, w = depth.shape
    neighbours = [padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in _FOUR]
    step = np.max([np.abs(n - inverse) for n in neighbours], axis=0)
    on_edge = step > (model.edge_ratio - 1.0) * np.maximum(inverse, 1e-9)
    if model.edge_band_px > 1:
        on_edge = ndimage.binary_dilation(on_edge, iterations=model.edge_band_px - 1)
    thin = _thin_structures(inverse, model.min_width_px, model.edge_ratio)
    noise = _correlated_noise(depth.shape, model.noise_correlation_px, rng)
    noisy = disparity + model.subpixel_std_px * noise
    with np.errstate(divide="ignore", invalid="ignore"):
        out = focal_baseline / noisy
    lost = ~surface | occluded | on_edge | thin | (rng.random(depth.shape) < model.dropout)
    lost |= ~((out >= model.min_range_m) & (out <= model.max_range_m))
    out[lost] = np.nan
    return out.astype(np.float32)

"""LiDAR simulation from ground-truth depth: a low-res depth map (iPhone-style) or a sparse scan.

The low-res recipe follows PromptDA's synthetic LiDAR: box-downsample the GT, add additive and
depth-proportional noise, bleed depth across discontinuities (mixed pixels) and drop returns.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.camera.distortion import undistort_normalized
from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.errors import ConfigError, InputError
from promptdepth_ros.prompt.pooling import mean_pool_valid

_MAX_NAN_FRACTION = 0.5
_EDGE_RATIO = 1.05
_BLEED_PROBABILITY = 0.5
_N_HOLE_BLOBS = 3


def _check_depth(depth_m: NDArray[np.floating]) -> NDArray[np.float64]:
    depth = np.asarray(depth_m)
    if depth.ndim != 2 or not np.issubdtype(depth.dtype, np.floating):
        raise InputError(f"depth_m must be a 2-D float array, got {depth.dtype} {depth.shape}")
    return depth.astype(np.float64)


def box_downsample(depth_m: NDArray[np.floating], out_hw: tuple[int, int]) -> NDArray[np.float32]:
    """Area-average (H, W) depth to ``out_hw`` (h, w) float32, ignoring NaN/<=0 pixels.

    A low-res cell whose footprint is more than half invalid becomes NaN.
    """
    depth = _check_depth(depth_m)
    height, width = depth.shape
    out_h, out_w = out_hw
    if not (0 < out_h <= height and 0 < out_w <= width):
        raise ConfigError(f"out_hw must be within (1..{height}, 1..{width}), got {out_hw}")
    valid = np.isfinite(depth) & (depth > 0)
    low, _ = mean_pool_valid(depth, valid, (out_h, out_w), 1.0 - _MAX_NAN_FRACTION)
    return low


def _bleed_edges(depth: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.float64]:
    """Copy a random 4-neighbour's depth into pixels that sit on a depth discontinuity."""
    padded = np.pad(depth, 1, mode="edge")
    h, w = depth.shape
    shifts = [(0, 1), (2, 1), (1, 0), (1, 2)]
    neighbours = np.stack([padded[r : r + h, c : c + w] for r, c in shifts])
    ratio = np.maximum(neighbours / depth, depth / neighbours)
    on_edge = np.nanmax(np.where(np.isfinite(ratio), ratio, 1.0), axis=0) > _EDGE_RATIO
    pick = neighbours[rng.integers(0, 4, size=depth.shape), np.arange(h)[:, None], np.arange(w)]
    bleed = on_edge & (rng.random(depth.shape) < _BLEED_PROBABILITY) & np.isfinite(pick)
    return np.where(bleed, pick, depth)


def _hole_mask(
    shape: tuple[int, int], fraction: float, rng: np.random.Generator
) -> NDArray[np.bool_]:
    """Mask of dropped returns: about ``fraction`` of pixels, half scattered, half in blobs."""
    h, w = shape
    mask = rng.random(shape) < 0.5 * fraction
    blob_area = 0.5 * fraction * h * w / _N_HOLE_BLOBS
    if blob_area >= 1.0:
        radii = np.sqrt(blob_area / np.pi) * rng.uniform(0.7, 1.3, _N_HOLE_BLOBS)
        centres = rng.uniform([0.0, 0.0], [h, w], size=(_N_HOLE_BLOBS, 2))
        yy, xx = np.mgrid[0:h, 0:w]
        dist2 = (yy[None] - centres[:, 0, None, None]) ** 2 + (
            xx[None] - centres[:, 1, None, None]
        ) ** 2
        mask |= np.any(dist2 <= radii[:, None, None] ** 2, axis=0)
    return mask


def simulate_lidar_depth(
    depth_m: NDArray[np.floating],
    rng: np.random.Generator,
    out_hw: tuple[int, int] = (192, 256),
    noise_std_m: float = 0.005,
    relative_noise: float = 0.01,
    hole_fraction: float = 0.02,
    edge_bleed: bool = True,
) -> NDArray[np.float32]:
    """Low-res LiDAR depth (h, w) float32 metres from GT (H, W) metres; NaN = no return.

    Noise std per pixel is sqrt(noise_std_m^2 + (relative_noise * depth)^2).
    Raises ConfigError for negative noise or a hole fraction outside [0, 1).
    """
    if noise_std_m < 0.0 or relative_noise < 0.0:
        raise ConfigError(f"noise must be >= 0, got {noise_std_m} m and {relative_noise} relative")
    if not 0.0 <= hole_fraction < 1.0:
        raise ConfigError(f"hole_fraction must be in [0, 1), got {hole_fraction}")
    low = box_downsample(depth_m, out_hw).astype(np.float64)
    if edge_bleed:
        low = _bleed_edges(low, rng)
    sigma = np.sqrt(noise_std_m**2 + (relative_noise * np.nan_to_num(low)) ** 2)
    low = low + rng.normal(size=low.shape) * sigma
    low[_hole_mask(low.shape, hole_fraction, rng) | (low <= 0.0)] = np.nan
    return low.astype(np.float32)


def simulate_lidar_points(
    depth_m: NDArray[np.floating],
    camera: CameraModel,
    T_lidar_camera: NDArray[np.float64],
    rng: np.random.Generator,
    n_rings: int = 32,
    points_per_ring: int = 512,
    noise_std_m: float = 0.01,
) -> NDArray[np.float32]:
    """A sparse ring scan (N, 3) float32 in the LiDAR frame from GT depth (H, W) metres.

    Rings are ``n_rings`` evenly spaced image rows (jittered by up to half a ring spacing) with
    ``points_per_ring`` evenly spaced columns; pixels without GT depth give no point. Each point is
    back-projected with ``camera`` (lens distortion undone), its range perturbed by
    N(0, noise_std_m) along its ray, then
    mapped by ``T_lidar_camera`` (4, 4), which takes camera-frame points into the LiDAR frame
    (p_lidar = T_lidar_camera @ p_camera).
    """
    depth = _check_depth(depth_m)
    if depth.shape != (camera.height, camera.width):
        raise InputError(
            f"depth is {depth.shape[1]}x{depth.shape[0]} but the camera is "
            f"{camera.width}x{camera.height}; pass the camera model of the depth image"
        )
    if np.shape(T_lidar_camera) != (4, 4):
        raise InputError(f"T_lidar_camera must be 4x4, got {np.shape(T_lidar_camera)}")
    if n_rings <= 0 or points_per_ring <= 0 or noise_std_m < 0.0:
        raise ConfigError(
            f"need n_rings > 0, points_per_ring > 0, noise_std_m >= 0; got "
            f"{n_rings}, {points_per_ring}, {noise_std_m}"
        )
    spacing = camera.height / n_rings
    ring_rows = (np.arange(n_rings) + 0.5) * spacing + rng.uniform(-0.5, 0.5, n_rings) * spacing
    rows = np.clip(np.rint(ring_rows), 0, camera.height - 1).astype(np.int64)
    cols = np.rint(np.linspace(0, camera.width - 1, points_per_ring)).astype(np.int64)
    v, u = (a.ravel() for a in np.meshgrid(rows, cols, indexing="ij"))
    z = depth[v, u]
    # NaN rays: pixels beyond a distorted lens's calibrated field
    xd = (u - camera.cx) / camera.fx
    yd = (v - camera.cy) / camera.fy
    x, y = undistort_normalized(xd.astype(np.float64), yd.astype(np.float64), camera)
    keep = np.isfinite(z) & (z > 0) & np.isfinite(x) & np.isfinite(y)
    x, y, z = x[keep], y[keep], z[keep]
    points = np.stack([x, y, np.ones_like(z)], 1) * z[:, None]
    ranges = np.linalg.norm(points, axis=1)
    points *= ((ranges + rng.normal(size=ranges.shape) * noise_std_m) / ranges)[:, None]
    transform = np.asarray(T_lidar_camera, np.float64)
    return (points @ transform[:3, :3].T + transform[:3, 3]).astype(np.float32)

"""Edge snapping of the guided engine against a direct, per-pixel joint bilateral choice."""

from __future__ import annotations

import numpy as np
import pytest

from promptdepth_ros.engines.edge_snap import SnapConfig, cell_mean_colour, snap_to_edges
from promptdepth_ros.engines.resampling import source_coords


def _direct_snap(rgb, ys, xs, depth, weight, config):
    """Per pixel: score = weight * exp(-d^2 / 2s^2 - |colour diff|^2 / 2c^2) over the cells
    around the nearest one (edge cells repeated), then bilinear among the picked layer."""
    h, w = depth.shape
    r = config.radius
    colour = cell_mean_colour(rgb, (h, w)).astype(np.float64)
    fys = source_coords(rgb.shape[0], h)
    fxs = source_coords(rgb.shape[1], w)
    out = np.empty(ys.size)
    for i, (y, x) in enumerate(zip(ys, xs, strict=True)):
        fy, fx = np.float32(fys[y]), np.float32(fxs[x])
        cy, cx = min(max(round(fy), 0), h - 1), min(max(round(fx), 0), w - 1)
        best, best_score, cands = None, -1.0, []
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                py, px = min(max(cy + dy, 0), h - 1), min(max(cx + dx, 0), w - 1)
                spatial = ((dy - (fy - cy)) ** 2 + (dx - (fx - cx)) ** 2) / config.spatial_sigma**2
                diff = np.sum((colour[py, px] - rgb[y, x]) ** 2) / config.color_sigma**2
                score = weight[py, px] * np.exp(-0.5 * (spatial + diff))
                if weight[py, px] > 0:
                    cands.append(depth[py, px])
                if score > best_score:
                    best, best_score = depth[py, px], score
        tolerance = 0.5 * (max(cands) - min(cands))
        y0, x0 = min(max(int(np.floor(fy)), 0), h - 2), min(max(int(np.floor(fx)), 0), w - 2)
        ty, tx = min(max(fy - y0, 0.0), 1.0), min(max(fx - x0, 0.0), 1.0)
        num = den = 0.0
        corners = [(0, 0, (1 - ty) * (1 - tx)), (0, 1, (1 - ty) * tx)]
        corners += [(1, 0, ty * (1 - tx)), (1, 1, ty * tx)]
        for oy, ox, bilinear in corners:
            d = depth[y0 + oy, x0 + ox]
            k = bilinear * weight[y0 + oy, x0 + ox] * (abs(d - best) <= tolerance)
            num, den = num + k * d, den + k
        out[i] = num / den if den > 0.1 else best
    return out


@pytest.mark.parametrize(("grid_hw", "radius"), [((8, 10), 1), ((9, 13), 2), ((20, 25), 1)])
def test_snap_matches_the_direct_joint_bilateral_choice(grid_hw, radius):
    rng = np.random.default_rng(radius + grid_hw[0])
    rgb = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    # Two surfaces (a step in depth), cell weights of measured, filled and empty cells.
    depth = np.where(np.arange(grid_hw[1]) < grid_hw[1] // 2, 1.0, 2.5) + rng.uniform(
        0, 0.05, grid_hw
    )
    depth = depth.astype(np.float32)
    weight = rng.choice(np.array([1.0, 0.05, 0.02, 0.0], np.float32), grid_hw)
    ys, xs = np.nonzero(rng.random((40, 50)) < 0.5)
    config = SnapConfig(radius, 1.5, 12.0)
    got = snap_to_edges(rgb, ys, xs, depth, weight, config)
    expected = _direct_snap(rgb, ys, xs, depth, weight, config)
    np.testing.assert_allclose(got, expected, rtol=1e-5)

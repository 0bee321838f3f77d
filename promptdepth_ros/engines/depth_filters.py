"""Edge-preserving filters of prompt depth grids used by the ``guided`` engine.

An exact median filter (a selection network), a weighted bilateral filter and the re-estimate
of unmeasured cells from measured ones. (h, w) float32 metres in and out; numpy only.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray


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
    # Compare neighbours with a robust local estimate, not the noisy centre value itself.
    reference = median_filter(depth, radius)
    neg_inv_var = np.float32(-0.5) / np.square(np.float32(sigma_rel) * reference)
    num, den = _range_weighted_sums(depth, weight, reference, neg_inv_var, radius)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0.0, num / den, depth)


def _range_weighted_sums(
    depth: NDArray[np.float32],
    weight: NDArray[np.float32],
    reference: NDArray[np.float32],
    neg_inv_var: NDArray[np.float32],
    radius: int,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Sums over the (2r+1)^2 window of w * d and w, w = weight * spatial * range kernel.

    Spatial kernel: Gaussian with sigma r / 1.5; range kernel: exp(neg_inv_var *
    (d - reference)^2), neg_inv_var = -1 / (2 sigma^2). Beyond the grid, depth repeats its
    edge and weight is 0. In-place float32 buffers: no (h, w, k) temporary.
    """
    padded_d = np.pad(depth, radius, mode="edge")
    padded_w = np.pad(weight, radius)
    spatial_sigma = max(radius, 1) / 1.5
    num = np.zeros_like(depth)
    den = np.zeros_like(depth)
    kernel = np.empty_like(depth)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            d = _shifted(padded_d, dy, dx, radius, depth.shape)
            spatial = np.float32(np.exp(-0.5 * (dy * dy + dx * dx) / spatial_sigma**2))
            np.subtract(d, reference, out=kernel)
            np.square(kernel, out=kernel)
            kernel *= neg_inv_var
            np.exp(kernel, out=kernel)
            kernel *= _shifted(padded_w, dy, dx, radius, depth.shape)
            kernel *= spatial
            den += kernel
            kernel *= d
            num += kernel
    return num, den


def refill_from_measured(
    depth: NDArray[np.float32], measured: NDArray[np.bool_], radius: int, sigma_rel: float
) -> NDArray[np.float32]:
    """Re-estimate the unmeasured cells of (h, w) depth from the measured ones within ``radius``.

    Conditioning fills a hole from its few nearest returns, which between LiDAR rings are all on
    the nearest ring: a staircase on slanted surfaces. Here each filled cell takes the
    Gaussian-weighted mean of the measured cells around it whose depth is within about
    ``sigma_rel`` (relative) of its own, so rings on the same surface blend linearly and
    rings on another surface (across an edge) do not. Cells without such neighbours keep
    their depth.
    """
    neg_inv_var = np.float32(-0.5) / np.square(np.float32(sigma_rel) * depth)
    known = measured.astype(np.float32)
    num, den = _range_weighted_sums(depth, known, depth, neg_inv_var, radius)
    out = depth.copy()
    refill = ~measured & (den > 1e-6)
    out[refill] = num[refill] / den[refill]
    return out

"""Block pooling of 2-D arrays onto a coarser grid: the mean of the valid samples, or the minimum.

Both split an axis of n samples into contiguous blocks whose sizes differ by at most one. Mean
pooling puts sample i into block i * n_out // n (:func:`block_index`); min pooling starts block
j at sample j * n // n_out. The two splits agree when n_out divides n.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.errors import InputError

_MAX_STRIDED_BLOCK = 16  # samples per block up to which equal blocks are summed by slices


def block_index(n: int, n_out: int) -> NDArray[np.intp]:
    """Block (n,) of each of ``n`` samples split into ``n_out`` contiguous blocks: i*n_out // n."""
    return np.arange(n) * n_out // n


def mean_pool_valid(
    values: NDArray[np.floating],
    valid: NDArray[np.bool_],
    out_hw: tuple[int, int],
    min_valid_fraction: float = 0.0,
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Mean of the valid samples of each block of an (out_h, out_w) grid, and where it is kept.

    (h, w) values and mask in; (out_h, out_w) float32 means (NaN where not kept) and bool mask
    out. A block is kept when more than ``min_valid_fraction`` of its samples are valid (0: one
    valid sample suffices). Sums run in float64.
    """
    sums, counts, totals = _block_sums(np.where(valid, values, 0.0), valid, out_hw)
    kept = counts > min_valid_fraction * totals
    means = np.where(kept, sums / np.maximum(counts, 1.0), np.nan).astype(np.float32)
    return means.reshape(out_hw), kept.reshape(out_hw)


def _block_sums(
    values: NDArray[np.floating], valid: NDArray[np.bool_], out_hw: tuple[int, int]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per block (flat, out_h * out_w): sum of ``values``, of ``valid`` and sample count."""
    h, w = values.shape
    out_h, out_w = out_hw
    fy, fx = h // out_h, w // out_w
    if fy * out_h == h and fx * out_w == w and fy * fx <= _MAX_STRIDED_BLOCK:
        # Small equal blocks: one strided slice per position in the block (float32 depths
        # sum exactly in float64, so the order does not matter).
        sums = np.zeros(out_hw, np.float64)
        counts = np.zeros(out_hw, np.float64)
        for dy in range(fy):
            for dx in range(fx):
                sums += values[dy::fy, dx::fx]
                counts += valid[dy::fy, dx::fx]
        return sums.ravel(), counts.ravel(), np.full(out_h * out_w, fy * fx, np.float64)
    n_cells = out_h * out_w
    cell = (block_index(h, out_h)[:, None] * out_w + block_index(w, out_w)).ravel()
    sums_1d = np.bincount(cell, values.ravel(), n_cells).astype(np.float64, copy=False)
    counts_1d = np.bincount(cell, valid.ravel(), n_cells).astype(np.float64, copy=False)
    return sums_1d, counts_1d, np.bincount(cell, minlength=n_cells).astype(np.float64)


def min_pool_axis(values: NDArray[Any], size: int, axis: int) -> NDArray[Any]:
    """Minimum of each of ``size`` contiguous blocks along ``axis``; block j starts at j*n // size.

    Other axes are kept. Raises InputError unless 0 < size <= n (n = values.shape[axis]).
    """
    n = values.shape[axis]
    if not 0 < size <= n:
        raise InputError(f"min pooling needs 0 < size <= {n}, got {size}")
    starts = (np.arange(size) * n) // size
    return np.minimum.reduceat(values, starts, axis=axis)

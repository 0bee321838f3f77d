"""Block pooling: block split, mean of valid samples, and per-axis minimum."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from promptdepth_ros.errors import InputError
from promptdepth_ros.prompt.pooling import block_index, mean_pool_valid, min_pool_axis


@st.composite
def grids(draw: st.DrawFn) -> tuple[np.ndarray, int, int]:
    """(h, w) float32 values in [0.125, 10] with NaN holes, and an out size per axis <= it."""
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    values = draw(hnp.arrays(np.float32, (h, w), elements=st.floats(0.125, 10.0, width=32)))
    values[draw(hnp.arrays(np.bool_, (h, w)))] = np.nan
    return values, draw(st.integers(1, h)), draw(st.integers(1, w))


def test_block_index_splits_into_contiguous_blocks():
    np.testing.assert_array_equal(block_index(5, 2), [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(block_index(4, 4), [0, 1, 2, 3])


@given(st.integers(1, 200), st.integers(1, 200))
def test_block_index_blocks_are_contiguous_and_nearly_equal(n, n_out):
    n_out = min(n, n_out)
    blocks = block_index(n, n_out)
    sizes = np.bincount(blocks, minlength=n_out)
    assert blocks[0] == 0 and blocks[-1] == n_out - 1
    assert np.all(np.diff(blocks) >= 0)
    assert sizes.min() >= 1 and sizes.max() - sizes.min() <= 1


def test_mean_pool_valid_averages_valid_samples_and_drops_mostly_invalid_blocks():
    values = np.arange(16, dtype=np.float64).reshape(4, 4) + 1.0
    valid = np.ones((4, 4), bool)
    valid[0, 0] = valid[2:4, 2] = valid[2, 3] = False
    means, kept = mean_pool_valid(values, valid, (2, 2), min_valid_fraction=0.5)
    assert means.dtype == np.float32
    np.testing.assert_allclose(means[0], [(2 + 5 + 6) / 3, (3 + 4 + 7 + 8) / 4])
    np.testing.assert_allclose(means[1, 0], (9 + 10 + 13 + 14) / 4)
    assert np.isnan(means[1, 1])
    np.testing.assert_array_equal(kept, [[True, True], [True, False]])
    means, kept = mean_pool_valid(values, valid, (2, 2))
    assert kept.all() and means[1, 1] == 16.0


@given(grids(), st.sampled_from([0.0, 0.25, 0.5]))
def test_mean_pool_valid_equals_the_brute_force_block_mean(grid, fraction):
    values, out_h, out_w = grid
    valid = np.isfinite(values)
    means, kept = mean_pool_valid(values, valid, (out_h, out_w), fraction)
    rows, cols = block_index(values.shape[0], out_h), block_index(values.shape[1], out_w)
    for i in range(out_h):
        for j in range(out_w):
            block = values[np.ix_(rows == i, cols == j)]
            samples = block[np.isfinite(block)]
            assert kept[i, j] == (samples.size > fraction * block.size)
            if kept[i, j]:
                np.testing.assert_allclose(means[i, j], samples.astype(np.float64).mean(), 1e-6)
            else:
                assert np.isnan(means[i, j])


def test_min_pool_axis_keeps_the_smallest_value_of_each_block():
    values = np.array([[4.0, 1.0, 3.0, np.inf, 2.0]])
    np.testing.assert_array_equal(min_pool_axis(values, 2, axis=1), [[1.0, 2.0]])
    np.testing.assert_array_equal(min_pool_axis(values.T, 3, axis=0), [[4.0], [1.0], [2.0]])


@given(grids(), st.sampled_from([0, 1]))
def test_min_pool_axis_equals_the_brute_force_block_minimum(grid, axis):
    values, out_h, out_w = grid
    values = np.where(np.isnan(values), np.float32(np.inf), values)
    size = (out_h, out_w)[axis]
    n = values.shape[axis]
    pooled = min_pool_axis(values, size, axis)
    bounds = [j * n // size for j in range(size + 1)]
    expected = np.stack(
        [
            np.take(values, range(bounds[j], bounds[j + 1]), axis=axis).min(axis=axis)
            for j in range(size)
        ],
        axis=axis,
    )
    np.testing.assert_array_equal(pooled, expected)


@pytest.mark.parametrize("size", [0, 6])
def test_min_pool_axis_rejects_sizes_outside_the_axis(size):
    with pytest.raises(InputError, match="0 < size <= 5"):
        min_pool_axis(np.ones((2, 5)), size, axis=1)


@pytest.mark.parametrize("out_hw", [(6, 8), (3, 4), (2, 2)])  # 2x2, 4x4 (strided), 6x8 blocks
def test_mean_pool_valid_of_equal_blocks_is_the_block_mean(out_hw):
    rng = np.random.default_rng(3)
    values = rng.uniform(0.1, 20.0, (12, 16)).astype(np.float32)
    valid = rng.random(values.shape) > 0.3
    means, kept = mean_pool_valid(values, valid, out_hw, 0.25)
    fy, fx = 12 // out_hw[0], 16 // out_hw[1]
    blocks = np.where(valid, values, np.nan).reshape(out_hw[0], fy, out_hw[1], fx)
    share = np.isfinite(blocks).mean(axis=(1, 3))
    np.testing.assert_array_equal(kept, share > 0.25)
    np.testing.assert_allclose(means[kept], np.nanmean(blocks, axis=(1, 3))[kept], rtol=1e-6)
    assert np.isnan(means[~kept]).all()

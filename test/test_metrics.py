"""Tests of the depth metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from promptdepth_ros.errors import InputError
from promptdepth_ros.eval.metrics import boundary_f1, depth_metrics


def _step(columns: list[float], rows: int = 3) -> np.ndarray:
    return np.tile(np.asarray(columns, np.float32), (rows, 1))


def test_depth_metrics_match_hand_computed_values():
    pred = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    gt = np.array([[1.0, 1.0], [2.0, 4.0]], np.float32)
    m = depth_metrics(pred, gt)
    assert m.absrel == pytest.approx((0 + 1 + 0.5 + 0) / 4)
    assert m.rmse == pytest.approx(np.sqrt(0.5))
    assert m.mae == pytest.approx(0.5)
    assert m.delta1 == pytest.approx(0.5)  # ratios 1, 2, 1.5, 1
    assert m.n_pixels == 4


def test_depth_metrics_ignore_invalid_pixels_and_honour_the_mask():
    pred = np.array([[1.0, np.nan, 5.0], [2.0, 2.0, 3.0]], np.float32)
    gt = np.array([[1.0, 1.0, 0.0], [np.nan, 1.0, 3.0]], np.float32)
    m = depth_metrics(pred, gt)
    assert m.n_pixels == 3
    assert m.absrel == pytest.approx((0 + 1 + 0) / 3)
    masked = depth_metrics(pred, gt, valid=np.array([[True, True, True], [True, False, True]]))
    assert masked.n_pixels == 2 and masked.absrel == 0.0 and masked.delta1 == 1.0


def test_non_positive_predictions_fail_delta1():
    m = depth_metrics(np.array([[0.0, -1.0, 1.0]]), np.array([[1.0, 1.0, 1.0]]))
    assert m.delta1 == pytest.approx(1 / 3)


def test_depth_metrics_raise_without_valid_pixels_or_on_shape_mismatch():
    with pytest.raises(InputError, match="no pixel"):
        depth_metrics(np.full((2, 2), np.nan), np.ones((2, 2)))
    with pytest.raises(InputError, match="same shape"):
        depth_metrics(np.ones((2, 2)), np.ones((2, 3)))


def test_boundary_f1_is_one_for_identical_maps_and_zero_for_a_shifted_edge():
    gt = _step([1.0, 1.0, 2.0, 2.0])
    assert boundary_f1(gt, gt) == 1.0
    assert boundary_f1(_step([1.0, 1.0, 1.0, 2.0]), gt) == 0.0


def test_boundary_f1_counts_matching_contour_pairs():
    gt = _step([1.0, 1.0, 2.0, 2.0])
    pred = _step([1.0, 1.0, 1.0, 2.0])
    pred[0] = gt[0]  # one of the three GT pairs right; rows 0-1 now differ at column 2 too
    assert boundary_f1(pred, gt) == pytest.approx(2 * 1 / (4 + 3))


def test_boundary_f1_averages_over_thresholds():
    gt = _step([1.0, 1.0, 1.12, 1.12])  # a contour at t = 1.05 and 1.10 only
    weak = _step([1.0, 1.0, 1.07, 1.07])  # a contour at t = 1.05 only
    assert boundary_f1(gt, gt) == 1.0
    assert boundary_f1(weak, gt) == pytest.approx((1 + 0 + 1 + 1 + 1) / 5)
    assert boundary_f1(weak, gt, thresholds=(1.10,)) == 0.0


def test_boundary_f1_of_a_flat_prediction_of_a_flat_scene_is_one():
    assert boundary_f1(np.ones((4, 4)), np.ones((4, 4))) == 1.0
    assert boundary_f1(np.ones((4, 4)), _step([1.0, 2.0, 2.0, 2.0], rows=4)) == 0.0


def test_blurring_lowers_boundary_f1():
    gt = np.full((64, 64), 2.0, np.float32)
    gt[16:48, 16:48] = 1.0
    blurred = ndimage.gaussian_filter(gt, 1.5)
    score = boundary_f1(blurred, gt)
    assert score < 0.5
    assert boundary_f1(ndimage.gaussian_filter(gt, 0.5), gt) > score


def test_boundary_f1_rejects_thresholds_not_above_one():
    with pytest.raises(InputError, match="ratios > 1"):
        boundary_f1(np.ones((2, 2)), np.ones((2, 2)), thresholds=(0.9,))

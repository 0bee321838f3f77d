"""Tests of the depth metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from promptdepth_ros.errors import InputError
from promptdepth_ros.eval.metrics import boundary_f1, coverage, depth_metrics


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


def _square(inner: float, outer: float = 2.0, size: int = 12) -> np.ndarray:
    depth = np.full((size, size), outer, np.float64)
    depth[4:8, 4:8] = inner
    return depth


def _reference_si_boundary_f1(pred: np.ndarray, gt: np.ndarray) -> float:
    """Depth Pro's SI_boundary_F1 written pair by pair, the way its paper states it."""
    thresholds = np.linspace(1.05, 1.25, 10)
    score = 0.0
    for t in thresholds:
        counts = np.zeros((4, 3))  # per direction: matched, predicted, GT
        h, w = gt.shape
        for y in range(h):
            for x in range(w):
                for k, (dy, dx) in enumerate(((0, -1), (-1, 0), (0, 1), (1, 0))):
                    ny, nx = y + dy, x + dx
                    if not (0 <= ny < h and 0 <= nx < w):
                        continue
                    # the neighbour is nearer by more than t (inverse-depth ratio)
                    p = pred[y, x] / pred[ny, nx] > t
                    g = gt[y, x] / gt[ny, nx] > t
                    counts[k] += [p and g, p, g]
        recall = np.mean(counts[:, 0] / np.maximum(counts[:, 2], 1))
        precision = np.mean(counts[:, 0] / np.maximum(counts[:, 1], 1))
        f1 = 0.0 if recall + precision == 0 else 2 * recall * precision / (recall + precision)
        score += f1 * t / thresholds.sum()
    return score


def test_boundary_f1_is_one_for_identical_maps_with_contours_in_every_direction():
    gt = _square(1.0)
    assert boundary_f1(gt, gt) == pytest.approx(1.0)
    assert boundary_f1(np.roll(gt, 5, axis=1), gt) == 0.0


def test_boundary_f1_counts_each_direction_apart_as_depth_pro_does():
    # One step seen from one side only: the three directions without a contour score 0.
    step = _step([1.0, 1.0, 2.0, 2.0])
    assert boundary_f1(step, step) == pytest.approx(0.25)
    assert boundary_f1(np.ones((4, 4)), np.ones((4, 4))) == 0.0


def test_boundary_f1_weights_thresholds_by_their_value():
    gt = _square(1.0, outer=1.1)  # a contour only at thresholds below 1.1
    thresholds = np.linspace(1.05, 1.25, 10)
    expected = thresholds[thresholds < 1.1].sum() / thresholds.sum()
    assert boundary_f1(gt, gt) == pytest.approx(expected)
    assert boundary_f1(gt, gt, thresholds=(1.2,)) == 0.0


def test_boundary_f1_matches_a_pair_by_pair_reference_on_random_maps():
    rng = np.random.default_rng(4)
    for _ in range(5):
        gt = rng.choice([1.0, 1.07, 1.15, 1.3, 2.0], size=(9, 11))
        pred = gt * rng.choice([1.0, 1.0, 1.08, 0.9], size=gt.shape)
        assert boundary_f1(pred, gt) == pytest.approx(_reference_si_boundary_f1(pred, gt))


def test_boundary_f1_counts_gt_contours_where_the_prediction_is_missing_as_missed():
    gt = _square(1.0)
    holed = gt.copy()
    holed[:, :6] = np.nan  # the left half of the square's contour has no prediction
    score = boundary_f1(holed, gt)
    assert 0.0 < score < 0.9
    masked = np.ones(gt.shape, bool)
    masked[:, :6] = False
    assert boundary_f1(holed, gt, valid=masked) > score


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


def test_coverage_is_the_share_of_surface_pixels_with_depth():
    pred = np.array([[1.0, np.nan], [2.0, 3.0]])
    surface = np.array([[True, True], [True, False]])
    assert coverage(pred, surface) == pytest.approx(2 / 3)
    assert np.isnan(coverage(pred, np.zeros((2, 2), bool)))

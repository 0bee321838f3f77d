"""Depth accuracy metrics: AbsRel, RMSE, MAE, delta < 1.25, coverage and Depth Pro's boundary F1.

:func:`boundary_f1` is ``SI_boundary_F1`` of Depth Pro (Bochkovskii et al., 2024, "Depth Pro:
Sharp Monocular Metric Depth in Less Than a Second", Sec. 4 and the reference code
``src/depth_pro/eval/boundary_metrics.py`` of github.com/apple/ml-depth-pro): on inverse depth,
a 4-neighbour j of pixel i is a foreground/background contour at threshold t when
inv_j / inv_i > t, separately for the left, top, right and bottom neighbour; precision and
recall are the means over those four directions of matched / predicted and matched / GT
contours (a direction with no contour counts 0 over max(count, 1)); F1 = 2pr / (p + r), 0 when
p + r = 0; the score is the average over thresholds ``linspace(1.05, 1.25, 10)`` weighted by
t / sum(t).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.errors import InputError

BOUNDARY_THRESHOLDS = tuple(float(t) for t in np.linspace(1.05, 1.25, 10))
_MIN_DEPTH = 1e-6  # Depth Pro's invert_depth clips at this before inverting


@dataclass(frozen=True)
class DepthMetrics:
    """Errors of one depth map against GT over ``n_pixels`` pixels (metres where dimensional)."""

    absrel: float
    rmse: float
    mae: float
    delta1: float
    edge_f1: float
    n_pixels: int


def _valid_mask(
    pred: NDArray[np.floating], gt: NDArray[np.floating], valid: NDArray[np.bool_] | None
) -> NDArray[np.bool_]:
    if pred.shape != gt.shape or pred.ndim != 2:
        raise InputError(
            f"pred and gt must be 2-D of the same shape, got {pred.shape}, {gt.shape}"
        )
    mask = np.isfinite(pred) & np.isfinite(gt) & (gt > 0)
    if valid is not None:
        if valid.shape != gt.shape:
            raise InputError(f"valid mask shape {valid.shape} differs from gt shape {gt.shape}")
        mask &= valid.astype(bool)
    return mask


def _contours(inverse: NDArray[np.float64], t: float) -> tuple[NDArray[np.bool_], ...]:
    """Depth Pro's ``fgbg_depth``: (left, top, right, bottom) neighbour-is-nearer maps."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (
            inverse[:, :-1] / inverse[:, 1:] > t,
            inverse[:-1, :] / inverse[1:, :] > t,
            inverse[:, 1:] / inverse[:, :-1] > t,
            inverse[1:, :] / inverse[:-1, :] > t,
        )


def _f1_at(pred_inv: NDArray[np.float64], gt_inv: NDArray[np.float64], t: float) -> float:
    """Depth Pro's ``boundary_f1`` of inverse depths at one threshold."""
    pred_c, gt_c = _contours(pred_inv, t), _contours(gt_inv, t)
    hits = [int(np.count_nonzero(p & g)) for p, g in zip(pred_c, gt_c, strict=True)]
    recall = 0.25 * sum(
        h / max(int(np.count_nonzero(g)), 1) for h, g in zip(hits, gt_c, strict=True)
    )
    precision = 0.25 * sum(
        h / max(int(np.count_nonzero(p)), 1) for h, p in zip(hits, pred_c, strict=True)
    )
    if recall + precision == 0.0:
        return 0.0
    return 2.0 * recall * precision / (recall + precision)


def boundary_f1(
    pred: NDArray[np.floating],
    gt: NDArray[np.floating],
    valid: NDArray[np.bool_] | None = None,
    thresholds: tuple[float, ...] = BOUNDARY_THRESHOLDS,
) -> float:
    """Depth Pro's ``SI_boundary_F1`` of pred against gt, both (H, W) depth in metres.

    Pixels that are NaN (or outside ``valid``, (H, W) bool) take part in no contour: a GT
    contour there counts as missed, a predicted one as false. Thresholds are depth ratios > 1;
    the weights are t / sum(t).
    """
    pred_a, gt_a = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    if pred_a.shape != gt_a.shape or pred_a.ndim != 2:
        raise InputError(
            f"pred and gt must be 2-D of the same shape, got {pred_a.shape}, {gt_a.shape}"
        )
    if not thresholds or min(thresholds) <= 1.0:
        raise InputError(f"thresholds must be depth ratios > 1, got {thresholds}")
    keep = np.ones(gt_a.shape, bool) if valid is None else valid.astype(bool)
    pred_inv = np.where(keep, 1.0 / np.clip(pred_a, _MIN_DEPTH, None), np.nan)
    gt_inv = np.where(keep & (gt_a > 0), 1.0 / np.clip(gt_a, _MIN_DEPTH, None), np.nan)
    weights = np.asarray(thresholds) / np.sum(thresholds)
    scores = [_f1_at(pred_inv, gt_inv, t) for t in thresholds]
    return float(np.dot(weights, scores))


def coverage(pred_m: NDArray[np.floating], surface: NDArray[np.bool_]) -> float:
    """Share of the ``surface`` pixels (H, W bool: a surface in range) with a finite prediction.

    NaN when ``surface`` is empty.
    """
    if pred_m.shape != surface.shape:
        raise InputError(f"pred {pred_m.shape} and surface {surface.shape} differ in shape")
    n_surface = int(np.count_nonzero(surface))
    if n_surface == 0:
        return float("nan")
    return float(np.count_nonzero(surface & np.isfinite(pred_m)) / n_surface)


def depth_metrics(
    pred_m: NDArray[np.floating],
    gt_m: NDArray[np.floating],
    valid: NDArray[np.bool_] | None = None,
) -> DepthMetrics:
    """Metrics of pred (H, W) metres against gt (H, W) metres where both are finite and gt > 0.

    ``valid`` (H, W) bool further restricts the pixels. Raises InputError when none is left.
    """
    pred = np.asarray(pred_m, np.float64)
    gt = np.asarray(gt_m, np.float64)
    mask = _valid_mask(pred, gt, valid)
    n_pixels = int(mask.sum())
    if n_pixels == 0:
        raise InputError("no pixel has both a finite prediction and a positive finite GT depth")
    p, g = pred[mask], gt[mask]
    err = p - g
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(p > 0, np.maximum(p / g, g / p), np.inf)
    return DepthMetrics(
        absrel=float(np.mean(np.abs(err) / g)),
        rmse=float(np.sqrt(np.mean(err**2))),
        mae=float(np.mean(np.abs(err))),
        delta1=float(np.mean(ratio < 1.25)),
        edge_f1=boundary_f1(pred, gt, valid),
        n_pixels=n_pixels,
    )

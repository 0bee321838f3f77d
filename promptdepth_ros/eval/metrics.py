"""Depth accuracy metrics: AbsRel, RMSE, MAE, delta < 1.25 and an occluding-boundary F1.

The boundary F1 follows Depth Pro (Bochkovskii et al., 2024): a pair of 4-neighbours (i, j) is an
occluding contour at threshold t when d_j / d_i > t (j behind i); predicted and GT contours are
matched pair by pair and the F1 is averaged over several thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.errors import InputError

DEFAULT_BOUNDARY_THRESHOLDS = (1.05, 1.10, 1.15, 1.20, 1.25)


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


def _contours(
    depth: NDArray[np.float64], pair_valid: list[NDArray[np.bool_]], threshold: float
) -> list[NDArray[np.bool_]]:
    """Directed occluding contours for right and down neighbour pairs, both directions."""
    right = depth[:, 1:] / depth[:, :-1]
    down = depth[1:, :] / depth[:-1, :]
    return [
        (right > threshold) & pair_valid[0],
        (right * threshold < 1.0) & pair_valid[0],
        (down > threshold) & pair_valid[1],
        (down * threshold < 1.0) & pair_valid[1],
    ]


def boundary_f1(
    pred: NDArray[np.floating],
    gt: NDArray[np.floating],
    valid: NDArray[np.bool_] | None = None,
    thresholds: tuple[float, ...] = DEFAULT_BOUNDARY_THRESHOLDS,
) -> float:
    """Mean over ``thresholds`` (ratios > 1) of the F1 of predicted vs GT occluding contours.

    pred, gt: (H, W) depth in metres; pairs count only where both pixels are valid in both maps.
    At a threshold where neither map has a contour the F1 is 1; where only one has, it is 0.
    """
    if not thresholds or min(thresholds) <= 1.0:
        raise InputError(f"thresholds must be depth ratios > 1, got {thresholds}")
    mask = _valid_mask(np.asarray(pred), np.asarray(gt), valid)
    pred64 = np.where(mask & (pred > 0), pred, np.nan).astype(np.float64)
    gt64 = np.where(mask, gt, np.nan).astype(np.float64)
    pair_valid = [mask[:, 1:] & mask[:, :-1], mask[1:, :] & mask[:-1, :]]
    scores = []
    with np.errstate(invalid="ignore"):
        for threshold in thresholds:
            pred_c = _contours(pred64, pair_valid, threshold)
            gt_c = _contours(gt64, pair_valid, threshold)
            hits = sum(int((p & g).sum()) for p, g in zip(pred_c, gt_c, strict=True))
            n_pred = sum(int(p.sum()) for p in pred_c)
            n_gt = sum(int(g.sum()) for g in gt_c)
            if n_pred + n_gt == 0:
                scores.append(1.0)
            else:
                scores.append(2.0 * hits / (n_pred + n_gt))
    return float(np.mean(scores))


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
        edge_f1=boundary_f1(pred, gt, mask),
        n_pixels=n_pixels,
    )

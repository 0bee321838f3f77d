"""Prompt clipping, k-NN hole filling, configuration checks and the fallback policy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from promptdepth_ros.errors import ConfigError, InputError
from promptdepth_ros.prompt.conditioning import (
    ConditionedPrompt,
    FallbackMode,
    PromptConditioningConfig,
    PromptDecision,
    PromptFallback,
    clip_range,
    condition_prompt,
)
from promptdepth_ros.prompt.hole_filling import GRID_SEARCH_PX, fill_prompt_holes

NAN = np.nan


def test_clip_range_marks_out_of_range_and_non_finite_as_nan():
    depth = np.array([[0.05, 0.1, 5.0], [10.0, 10.5, np.inf]], np.float32)
    out = clip_range(depth, 0.1, 10.0)
    expected = np.array([[NAN, 0.1, 5.0], [10.0, NAN, NAN]], np.float32)
    np.testing.assert_array_equal(out, expected)
    assert depth[0, 0] == np.float32(0.05)  # the input is not modified


def test_single_valid_pixel_fills_everything_with_its_value():
    depth = np.full((5, 6), NAN, np.float32)
    depth[2, 3] = 1.75
    np.testing.assert_array_equal(fill_prompt_holes(depth, 4), np.full((5, 6), 1.75, np.float32))


def test_fill_is_inverse_distance_weighted():
    depth = np.array([[1.0, NAN, NAN, 4.0]], np.float32)
    out = fill_prompt_holes(depth, 2)
    # pixel 1: distances 1 and 2 -> (1/1 * 1 + 1/2 * 4) / (1 + 1/2) = 2
    # pixel 2: distances 2 and 1 -> (1/2 * 1 + 1/1 * 4) / 1.5 = 3
    np.testing.assert_allclose(out, [[1.0, 2.0, 3.0, 4.0]], rtol=1e-6)


def test_k_one_copies_the_nearest_value_and_k_zero_fills_nothing():
    depth = np.array([[1.0, NAN, NAN, NAN, 4.0]], np.float32)
    np.testing.assert_array_equal(fill_prompt_holes(depth, 1)[0, [1, 3]], [1.0, 4.0])
    np.testing.assert_array_equal(fill_prompt_holes(depth, 0), depth)


def test_all_nan_prompt_stays_unfilled():
    out = fill_prompt_holes(np.full((3, 3), NAN, np.float32), 4)
    assert np.isnan(out).all()


def test_condition_prompt_reports_measured_returns_and_fills_holes():
    raw = np.full((4, 5), NAN, np.float32)
    raw[0, 0], raw[3, 4], raw[1, 1] = 1.0, 3.0, 50.0  # 50 m is out of range
    prompt = condition_prompt(raw, PromptConditioningConfig(max_range_m=10.0, fill_k=2))
    assert prompt.valid_ratio == pytest.approx(2 / 20)
    assert (prompt.min_m, prompt.max_m) == (1.0, 3.0)
    assert prompt.valid_mask.sum() == 2 and not prompt.valid_mask[1, 1]
    assert np.isfinite(prompt.depth_m).all()
    assert prompt.depth_m.min() >= 1.0 and prompt.depth_m.max() <= 3.0


def test_conditioned_prompt_rejects_arrays_that_are_not_what_it_says():
    prompt = condition_prompt(np.ones((3, 4), np.float32))
    assert prompt.depth_mask.all() and prompt.valid_mask.all()
    for depth, valid in [
        (prompt.depth_m.astype(np.float64), prompt.valid_mask),
        (prompt.depth_m, prompt.valid_mask.astype(np.uint8)),
        (prompt.depth_m, prompt.valid_mask[:2]),
        (prompt.depth_m[None], prompt.valid_mask[None]),
    ]:
        with pytest.raises(InputError, match="float32 depth_m and an"):
            ConditionedPrompt(depth, valid, 1.0, 1.0, 1.0)


def test_unusable_prompt_is_not_filled():
    raw = np.full((10, 10), NAN, np.float32)
    raw[0, 0] = 2.0
    prompt = condition_prompt(raw, PromptConditioningConfig(min_valid_ratio=0.05))
    assert prompt.valid_ratio == pytest.approx(0.01)
    assert np.isfinite(prompt.depth_m).sum() == 1


def test_empty_prompt_has_nan_range():
    prompt = condition_prompt(np.zeros((3, 3), np.float32), PromptConditioningConfig())
    assert prompt.valid_ratio == 0.0 and math.isnan(prompt.min_m) and math.isnan(prompt.max_m)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"min_range_m": -1.0}, "min_range_m"),
        ({"max_range_m": 0.05}, "max_range_m"),
        ({"fill_k": -1}, "fill_k"),
        ({"fill_k": 2.5}, "fill_k"),
        ({"min_valid_ratio": 1.5}, "min_valid_ratio"),
        ({"last_good_max_age_s": math.inf}, "last_good_max_age_s"),
        ({"fallback": "guess"}, "fallback"),
    ],
)
def test_config_errors_name_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        PromptConditioningConfig(**kwargs)


def test_config_accepts_fallback_by_its_parameter_value():
    assert PromptConditioningConfig(fallback="monocular").fallback is FallbackMode.MONOCULAR


def _prompt(ratio_pixels: int):
    raw = np.full((10, 10), NAN, np.float32)
    raw.reshape(-1)[:ratio_pixels] = 2.0
    return condition_prompt(raw, PromptConditioningConfig(min_valid_ratio=0.05))


def test_last_good_is_reused_until_it_is_too_old_then_skipped():
    config = PromptConditioningConfig(
        min_valid_ratio=0.05, fallback="last_good", last_good_max_age_s=0.5
    )
    policy = PromptFallback(config)
    good, bad = _prompt(20), _prompt(1)
    assert policy.decide(bad, 0.0).decision is PromptDecision.SKIP
    assert policy.decide(good, 1.0).decision is PromptDecision.USE
    reused = policy.decide(bad, 1.4)
    assert reused.decision is PromptDecision.USE_LAST_GOOD and reused.prompt is good
    assert policy.decide(None, 1.6).decision is PromptDecision.SKIP
    assert policy.decide(bad, 0.9).decision is PromptDecision.SKIP  # last good is from the future
    assert policy.counts == {
        PromptDecision.USE: 1,
        PromptDecision.USE_LAST_GOOD: 1,
        PromptDecision.MONOCULAR: 0,
        PromptDecision.SKIP: 3,
    }


def test_monocular_and_skip_modes():
    mono = PromptFallback(PromptConditioningConfig(min_valid_ratio=0.05, fallback="monocular"))
    result = mono.decide(_prompt(1), 0.0)
    assert result.decision is PromptDecision.MONOCULAR and result.prompt is None
    skip = PromptFallback(PromptConditioningConfig(min_valid_ratio=0.05, fallback="skip"))
    assert skip.decide(_prompt(20), 0.0).decision is PromptDecision.USE
    assert skip.decide(_prompt(1), 0.1).decision is PromptDecision.SKIP


def test_holes_beyond_the_fill_distance_stay_empty():
    depth = np.full((20, 40), np.nan, np.float32)
    depth[:, :5] = 2.0
    filled = fill_prompt_holes(depth, 4, max_distance_px=3.0)
    assert np.all(filled[:, :8] == 2.0)  # at most 3 px from column 4
    assert np.isnan(filled[:, 8:]).all()
    assert np.isfinite(fill_prompt_holes(depth, 4)).all()  # 0 = no limit


def _brute_force_fill(depth, k, max_distance_px):
    """Reference fill and, per pixel, whether its k-th neighbour ties with the next one."""
    out = depth.copy()
    tied = np.zeros(depth.shape, bool)
    known = np.argwhere(np.isfinite(depth))
    values = depth[np.isfinite(depth)].astype(np.float64)
    bound = max_distance_px if max_distance_px > 0 else np.inf
    for y, x in np.argwhere(np.isnan(depth)):
        dist = np.hypot(known[:, 0] - y, known[:, 1] - x)
        order = np.argsort(dist, kind="stable")
        near = order[dist[order] <= bound][:k]
        if near.size:
            weights = 1.0 / dist[near]
            out[y, x] = np.sum(weights * values[near]) / np.sum(weights)
        if near.size == k and order.size > k:
            tied[y, x] = np.isclose(dist[order[k - 1]], dist[order[k]])
    return out, tied


@pytest.mark.parametrize(
    ("shape", "density", "k", "max_distance_px"),
    [
        ((40, 50), 0.05, 4, 0.0),
        ((40, 50), 0.05, 4, 3.5),
        ((40, 50), 0.15, 1, 2.0),
        ((30, 60), 0.02, 8, 12.0),
        ((48, 64), 0.002, 4, 0.0),  # holes beyond GRID_SEARCH_PX: the KD-tree finishes them
        ((48, 64), 0.004, 3, 40.0),
        ((96, 128), 0.003, 4, 24.0),  # KD-tree over the returns near the far holes only
    ],
)
def test_fill_matches_brute_force_knn_on_random_sparse_prompts(shape, density, k, max_distance_px):
    rng = np.random.default_rng(int(density * 1000) + k)
    depth = np.where(rng.random(shape) < density, rng.uniform(0.5, 5.0, shape), np.nan).astype(
        np.float32
    )
    filled = fill_prompt_holes(depth, k, max_distance_px)
    expected, tied = _brute_force_fill(depth, k, max_distance_px)
    np.testing.assert_array_equal(np.isnan(filled), np.isnan(expected))
    untied = ~tied & np.isfinite(expected)
    assert untied.mean() > 0.5  # most pixels are compared exactly
    np.testing.assert_allclose(filled[untied], expected[untied], rtol=2e-6)
    assert np.all(filled[tied] >= np.nanmin(depth)) and np.all(filled[tied] <= np.nanmax(depth))


def test_fill_bound_is_inclusive_and_far_holes_use_the_kdtree_exactly():
    depth = np.full((5, 60), np.nan, np.float32)
    depth[2, 0], depth[2, 59] = 1.0, 3.0
    near = fill_prompt_holes(depth, 2, max_distance_px=GRID_SEARCH_PX)
    assert near[2, 16] == pytest.approx(1.0) and np.isnan(near[2, 17])  # exactly 16 px: filled
    both = fill_prompt_holes(depth, 2)  # beyond GRID_SEARCH_PX of the right-hand return
    # pixel (2, 20): distances 20 and 39 -> (1/20 * 1 + 1/39 * 3) / (1/20 + 1/39)
    assert both[2, 20] == pytest.approx((1 / 20 + 3 / 39) / (1 / 20 + 1 / 39), rel=1e-6)

"""The engine contract on the prompt side: engines take the conditioned prompt, fill nothing."""

from __future__ import annotations

import numpy as np
import pytest

from promptdepth_ros.engines.baselines import BilinearUpsampleEngine, NearestUpsampleEngine
from promptdepth_ros.engines.guided import GuidedConfig, GuidedEngine
from promptdepth_ros.engines.prompt_input import mask_unsupported, prompt_grid
from promptdepth_ros.engines.resampling import resize_nearest
from promptdepth_ros.prompt.conditioning import (
    ConditionedPrompt,
    PromptConditioningConfig,
    condition_prompt,
)
from promptdepth_ros.sim.lidar import simulate_lidar_depth
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import default_camera, generate_tabletop_scene

ENGINES = [GuidedEngine, NearestUpsampleEngine, BilinearUpsampleEngine]


@pytest.fixture(scope="module")
def tabletop() -> tuple[np.ndarray, np.ndarray]:
    """A 320x240 tabletop frame: rgb and ground-truth depth (NaN where there is no surface)."""
    rng = np.random.default_rng(21)
    frame = render(generate_tabletop_scene(rng, default_camera(320, 240)))
    return frame.rgb, frame.depth_m


def _prompt(depth: np.ndarray, measured: np.ndarray) -> ConditionedPrompt:
    values = depth[measured]
    return ConditionedPrompt(
        depth_m=depth.astype(np.float32),
        valid_mask=measured,
        valid_ratio=float(measured.mean()),
        min_m=float(values.min()),
        max_m=float(values.max()),
    )


def test_prompt_grid_keeps_a_prompt_at_its_own_resolution_and_values():
    depth = np.full((12, 12), 3.0, np.float32)
    depth[::4], depth[10:, 6:] = 2.0, np.nan
    prompt = _prompt(depth, depth == 2.0)
    grid = prompt_grid(prompt, (48, 48))
    np.testing.assert_array_equal(grid.depth_m[np.isfinite(depth)], depth[np.isfinite(depth)])
    np.testing.assert_array_equal(grid.measured, prompt.valid_mask)
    np.testing.assert_array_equal(grid.has_depth, prompt.depth_mask)


def test_prompt_grid_pools_a_prompt_larger_than_the_image_preferring_measured_returns():
    depth = np.full((12, 12), 3.0, np.float32)  # filled by conditioning
    measured = np.zeros((12, 12), bool)
    measured[::4] = True  # rows 0, 4, 8
    depth[measured] = 2.0
    depth[10:, 6:] = np.nan  # conditioning left these without depth
    grid = prompt_grid(_prompt(depth, measured), (6, 6))
    # 2x2 cells: cell rows 0, 2, 4 hold measured rows, 1, 3, 5 do not
    assert grid.depth_m.shape == (6, 6) and np.isfinite(grid.depth_m).all()
    np.testing.assert_array_equal(grid.measured[:, 0], [1, 0, 1, 0, 1, 0])
    np.testing.assert_array_equal(grid.depth_m[:5, 0], [2.0, 3.0, 2.0, 3.0, 2.0])
    assert grid.has_depth[:5].all() and grid.has_depth[5, :3].all()
    assert not grid.has_depth[5, 3:].any()
    weights = grid.weights(0.05)
    np.testing.assert_allclose(weights[:, 0], [1.0, 0.05, 1.0, 0.05, 1.0, 0.05])
    np.testing.assert_array_equal(weights[5, 3:], 0.0)


def test_mask_unsupported_maps_prompt_cells_onto_image_pixels():
    depth = np.array([[1.0, np.nan], [np.nan, 2.0]], np.float32)
    masked = mask_unsupported(np.ones((4, 6), np.float32), _prompt(depth, np.isfinite(depth)))
    expected = np.array([[1, 1, 1, 0, 0, 0]] * 2 + [[0, 0, 0, 1, 1, 1]] * 2, bool)
    np.testing.assert_array_equal(np.isfinite(masked), expected)


@pytest.mark.parametrize("engine_cls", ENGINES)
def test_engines_leave_what_conditioning_did_not_fill_without_depth(engine_cls, tabletop):
    rgb, gt = tabletop
    raw = simulate_lidar_depth(gt, np.random.default_rng(5), out_hw=(120, 160))
    raw[:, 100:] = np.nan  # no returns in the right part of the view
    prompt = condition_prompt(raw, PromptConditioningConfig(max_fill_px=3.0))
    assert prompt.depth_mask[:, 100:103].any() and not prompt.depth_mask[:, 104:].any()
    depth = engine_cls().infer(rgb, prompt, None).depth_m
    np.testing.assert_array_equal(np.isfinite(depth), resize_nearest(prompt.depth_mask, 240, 320))


def test_nearest_baseline_shows_conditioning_values_unchanged(tabletop):
    rgb, gt = tabletop
    raw = simulate_lidar_depth(gt, np.random.default_rng(6), out_hw=(120, 160))
    prompt = condition_prompt(raw, PromptConditioningConfig(max_fill_px=2.0))
    assert (prompt.depth_mask & ~prompt.valid_mask).any() and not prompt.depth_mask.all()
    depth = NearestUpsampleEngine().infer(rgb, prompt, None).depth_m
    # measured and filled pixels as conditioning left them, no depth where it left none
    np.testing.assert_array_equal(depth, resize_nearest(prompt.depth_m, 240, 320))


def test_guided_weighs_filled_pixels_by_filled_weight(tabletop):
    rgb, gt = tabletop
    raw = simulate_lidar_depth(gt, np.random.default_rng(7), out_hw=(60, 80), hole_fraction=0.2)
    prompt = condition_prompt(raw)
    assert (prompt.depth_mask & ~prompt.valid_mask).sum() > 100
    # the same depth with every pixel declared measured: filled_weight has nothing to act on
    all_measured = _prompt(prompt.depth_m, prompt.depth_mask)
    low = GuidedEngine(GuidedConfig(filled_weight=0.05))
    high = GuidedEngine(GuidedConfig(filled_weight=1.0))
    change = np.abs(low.infer(rgb, prompt, None).depth_m - high.infer(rgb, prompt, None).depth_m)
    assert (change > 1e-4).sum() > 100  # NaN (no depth) compares False
    np.testing.assert_array_equal(
        low.infer(rgb, all_measured, None).depth_m, high.infer(rgb, all_measured, None).depth_m
    )

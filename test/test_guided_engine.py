"""Tests of the weight-free guided engine and the upsampling baselines."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from promptdepth_ros.engines.base import DepthEngine
from promptdepth_ros.engines.baselines import BilinearUpsampleEngine, NearestUpsampleEngine
from promptdepth_ros.engines.depth_filters import median_filter, refill_from_measured
from promptdepth_ros.engines.edge_snap import cell_mean_colour
from promptdepth_ros.engines.guided import GuidedConfig, GuidedEngine
from promptdepth_ros.engines.resampling import resize_nearest
from promptdepth_ros.errors import ConfigError, InputError
from promptdepth_ros.eval.metrics import depth_metrics
from promptdepth_ros.prompt.conditioning import condition_prompt
from promptdepth_ros.prompt.hole_filling import fill_prompt_holes_nearest
from promptdepth_ros.sim.lidar import simulate_lidar_depth
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import default_camera, generate_tabletop_scene

ENGINES = [GuidedEngine, NearestUpsampleEngine, BilinearUpsampleEngine]


@pytest.fixture(scope="module")
def frames() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    out = []
    for seed in (11, 12, 13, 14):
        rng = np.random.default_rng(seed)
        frame = render(generate_tabletop_scene(rng, default_camera(640, 480)))
        prompt = condition_prompt(simulate_lidar_depth(frame.depth_m, rng))
        out.append((frame.rgb, frame.depth_m, prompt))
    return out


def _mean_metrics(engine: DepthEngine, frames) -> tuple[float, float]:
    metrics = [depth_metrics(engine.infer(rgb, p, None).depth_m, gt) for rgb, gt, p in frames]
    return float(np.mean([m.absrel for m in metrics])), float(
        np.mean([m.edge_f1 for m in metrics])
    )


def test_guided_beats_bilinear_on_absrel_and_edge_f1(frames):
    guided_absrel, guided_f1 = _mean_metrics(GuidedEngine(), frames)
    bilinear_absrel, bilinear_f1 = _mean_metrics(BilinearUpsampleEngine(), frames)
    assert guided_absrel < 0.6 * bilinear_absrel
    assert guided_f1 > bilinear_f1 + 0.3
    assert guided_absrel < 0.005 and guided_f1 > 0.6


@pytest.mark.parametrize("engine_cls", ENGINES)
def test_engines_give_depth_exactly_where_the_conditioned_prompt_has_it(engine_cls, frames):
    rgb, _, prompt = frames[0]
    engine = engine_cls()
    assert isinstance(engine, DepthEngine) and engine.needs_prompt
    depth = engine.infer(rgb, prompt, None).depth_m
    assert depth.shape == (480, 640) and depth.dtype == np.float32
    # The scene's background has no surface: conditioning leaves it without depth beyond
    # max_fill_px, and no engine fills it again.
    assert not prompt.depth_mask.all()
    np.testing.assert_array_equal(np.isfinite(depth), resize_nearest(prompt.depth_mask, 480, 640))


def test_guided_never_mixes_depth_across_a_colour_edge():
    # A near red board (1 m) in front of a blue wall (3 m), edge at column 83; the 8x coarser
    # prompt has a mixed cell on the edge, as a box-averaging sensor reports.
    rgb = np.zeros((64, 160, 3), np.uint8)
    rgb[:, :83] = (200, 30, 30)
    rgb[:, 83:] = (30, 30, 200)
    gt = np.where(np.arange(160) < 83, 1.0, 3.0).astype(np.float32)[None].repeat(64, 0)
    prompt = gt.reshape(8, 8, 20, 8).mean(axis=(1, 3))
    assert 1.0 < prompt[0, 10] < 3.0  # the mixed cell
    config = GuidedConfig(denoise_radius=0)
    depth = GuidedEngine(config).infer(rgb, condition_prompt(prompt), None).depth_m
    bilinear = BilinearUpsampleEngine().infer(rgb, condition_prompt(prompt), None).depth_m
    np.testing.assert_allclose(depth, gt, rtol=1e-5)
    assert np.abs(bilinear - gt).max() > 0.5


def test_refill_blends_rings_of_one_surface_and_keeps_an_edge():
    # Rows 0 and 3 are measured rings; rows 1-2 were filled with the nearest ring's depth.
    depth = np.array([[1.0] * 6, [1.0] * 6, [1.3] * 6, [1.3] * 6], np.float32)
    measured = np.zeros(depth.shape, bool)
    measured[[0, 3]] = True
    blended = refill_from_measured(depth, measured, radius=3, sigma_rel=0.5)
    assert 1.0 < blended[1, 2] < blended[2, 2] < 1.3  # one slanted surface: a ramp
    np.testing.assert_array_equal(blended[measured], depth[measured])
    kept = refill_from_measured(depth, measured, radius=3, sigma_rel=0.05)
    np.testing.assert_allclose(kept, depth, rtol=1e-4)  # 30 % apart: an edge, not blended


def test_guided_keeps_a_constant_prompt_constant():
    rgb = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    prompt = np.full((30, 40), 1.25, np.float32)
    prompt[5:9, 10:20] = np.nan
    depth = GuidedEngine().infer(rgb, condition_prompt(prompt), None).depth_m
    np.testing.assert_allclose(depth, 1.25, rtol=1e-6)


@pytest.mark.parametrize(
    "prompt_hw, max_absrel", [((480, 640), 0.002), ((960, 1280), 0.002), ((48, 64), 0.015)]
)
def test_guided_accepts_prompts_at_any_resolution(prompt_hw, max_absrel, frames):
    rgb, gt, _ = frames[1]
    rows = np.arange(prompt_hw[0]) * 480 // prompt_hw[0]
    cols = np.arange(prompt_hw[1]) * 640 // prompt_hw[1]
    prompt = condition_prompt(gt[rows[:, None], cols[None, :]])
    depth = GuidedEngine().infer(rgb, prompt, None).depth_m
    assert depth.shape == (480, 640)
    np.testing.assert_array_equal(np.isfinite(depth), resize_nearest(prompt.depth_mask, 480, 640))
    assert depth_metrics(depth, gt).absrel < max_absrel


def test_guided_densifies_a_sparse_ring_prompt(frames):
    rgb, gt, _ = frames[2]
    sparse = np.full_like(gt, np.nan)
    rows, cols = np.arange(7, 480, 15)[:, None], np.arange(0, 640, 2)[None, :]
    sparse[rows, cols] = gt[rows, cols]
    assert np.isfinite(sparse).mean() < 0.04
    prompt = condition_prompt(sparse)
    guided = depth_metrics(GuidedEngine().infer(rgb, prompt, None).depth_m, gt)
    bilinear = depth_metrics(BilinearUpsampleEngine().infer(rgb, prompt, None).depth_m, gt)
    assert guided.absrel < 0.01
    assert guided.absrel < bilinear.absrel and guided.edge_f1 > bilinear.edge_f1


def test_nearest_hole_fill_copies_the_closest_valid_return():
    depth = np.array([[1.0, np.nan, np.nan, 4.0], [np.nan, np.nan, np.nan, np.nan]], np.float32)
    filled = fill_prompt_holes_nearest(depth, np.isfinite(depth))
    np.testing.assert_array_equal(filled, [[1.0, 1.0, 4.0, 4.0], [1.0, 1.0, 4.0, 4.0]])
    with pytest.raises(InputError, match="no valid pixel"):
        fill_prompt_holes_nearest(depth, np.zeros(depth.shape, bool))


@pytest.mark.parametrize("engine_cls", ENGINES)
def test_engines_reject_unusable_inputs(engine_cls):
    engine = engine_cls()
    rgb = np.zeros((48, 64, 3), np.uint8)
    raw = np.ones((12, 16), np.float32)
    prompt = condition_prompt(raw)
    with pytest.raises(InputError, match="no valid depth"):
        engine.infer(rgb, condition_prompt(np.full((12, 16), np.nan, np.float32)), None)
    with pytest.raises(InputError, match="no valid depth"):
        engine.infer(rgb, condition_prompt(np.zeros((12, 16), np.float32)), None)
    with pytest.raises(InputError, match="uint8"):
        engine.infer(rgb.astype(np.float32), prompt, None)
    with pytest.raises(InputError, match="uint8"):
        engine.infer(rgb[..., 0], prompt, None)
    with pytest.raises(InputError, match="takes a ConditionedPrompt"):
        engine.infer(rgb, raw, None)
    with pytest.raises(InputError, match="needs a depth prompt"):
        engine.infer(rgb, None, None)


@pytest.mark.parametrize(
    "field, value",
    [("snap_radius", 0), ("denoise_radius", 9), ("color_sigma", 0.0), ("edge_ratio", 1.0),
     ("edge_weight", 0.0), ("filled_weight", 1.5), ("snap_reach_px", 0.0),
     ("denoise_reach_px", -1.0), ("fill_reach_px", -1.0), ("min_cell_px", 0.0),
     ("min_measured_share", 1.5)],
)  # fmt: skip
def test_guided_config_rejects_out_of_range_values(field, value):
    with pytest.raises(ConfigError, match=field):
        GuidedConfig(**{field: value})


def test_nearest_baseline_repeats_prompt_cells():
    prompt = np.arange(12, dtype=np.float32).reshape(3, 4) + 1.0
    rgb = np.zeros((6, 8, 3), np.uint8)
    depth = NearestUpsampleEngine().infer(rgb, condition_prompt(prompt), None).depth_m
    np.testing.assert_array_equal(depth, np.kron(prompt, np.ones((2, 2), np.float32)))


@pytest.mark.parametrize("radius", [1, 2, 3])
def test_median_filter_equals_scipy_median_with_edge_replication(radius):
    rng = np.random.default_rng(radius)
    image = rng.integers(0, 6, (23, 31)).astype(np.float32)  # many equal values
    image[4:9, 10:20] = rng.uniform(0.5, 3.0, (5, 10))
    expected = ndimage.median_filter(image, size=2 * radius + 1, mode="nearest")
    np.testing.assert_array_equal(median_filter(image, radius), expected)


@pytest.mark.parametrize("grid_hw", [(4, 5), (19, 26), (48, 64)])
def test_cell_mean_colour_averages_the_pixels_of_each_cell(grid_hw):
    rgb = np.random.default_rng(7).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    rows = np.arange(48) * grid_hw[0] // 48
    cols = np.arange(64) * grid_hw[1] // 64
    expected = np.zeros((*grid_hw, 3))
    for gy in range(grid_hw[0]):
        for gx in range(grid_hw[1]):
            cell = rgb[rows == gy][:, cols == gx].reshape(-1, 3)
            expected[gy, gx] = cell.mean(axis=0)
    np.testing.assert_allclose(cell_mean_colour(rgb, grid_hw), expected, rtol=1e-6)

"""Tests of the depth evaluation loop and the promptdepth-eval command line."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from promptdepth_ros.engines.baselines import BilinearUpsampleEngine, NearestUpsampleEngine
from promptdepth_ros.errors import ConfigError
from promptdepth_ros.eval.depth_eval import EvalConfig, evaluate_engines, generate_frames
from promptdepth_ros.eval.visualize import colorize
from promptdepth_ros.tools.eval import main

METRIC_KEYS = {"absrel", "rmse", "mae", "delta1", "edge_f1", "ms_per_frame"}


def test_cli_json_last_line_has_every_engine_and_metric(capsys):
    assert main(["--json", "--frames", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    payload = json.loads(lines[-1])
    assert payload["frames"] == 2
    assert set(payload["engines"]) == {"nearest", "bilinear", "guided"}
    for values in payload["engines"].values():
        assert set(values) == METRIC_KEYS
        assert all(math.isfinite(v) for v in values.values())
        assert 0.0 <= values["delta1"] <= 1.0 and 0.0 <= values["edge_f1"] <= 1.0
    engines = payload["engines"]
    assert engines["guided"]["absrel"] < engines["bilinear"]["absrel"]
    assert lines[0] == "2 frames" and lines[1].split()[0] == "engine"
    assert any(line.startswith("guided") for line in lines[:-1])


def test_cli_without_json_prints_only_the_table(capsys, tmp_path):
    argv = [
        "--frames",
        "1",
        "--width",
        "160",
        "--height",
        "120",
        "--save-error-maps",
        str(tmp_path),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "{" not in out and "bilinear" in out
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved == ["frame_000_bilinear.png", "frame_000_guided.png", "frame_000_nearest.png"]
    with Image.open(tmp_path / "frame_000_guided.png") as image:
        assert image.size == (3 * 160, 120)


def test_cli_rejects_unknown_engines_and_bad_frame_counts(capsys):
    with pytest.raises(SystemExit) as unknown:
        main(["--engine", "nope"])
    assert unknown.value.code == 2
    with pytest.raises(SystemExit) as bad_frames:
        main(["--frames", "0"])
    assert bad_frames.value.code == 2
    assert "n_frames must be >= 1" in capsys.readouterr().err


def test_evaluation_is_reproducible_for_a_seed():
    config = EvalConfig(n_frames=2, seed=3, width=160, height=120)
    first = evaluate_engines([NearestUpsampleEngine(), BilinearUpsampleEngine()], config)
    second = evaluate_engines([NearestUpsampleEngine(), BilinearUpsampleEngine()], config)
    for name in ("nearest", "bilinear"):
        assert first[name].absrel == second[name].absrel
        assert first[name].edge_f1 == second[name].edge_f1
    other = evaluate_engines(
        [NearestUpsampleEngine()], EvalConfig(2, seed=4, width=160, height=120)
    )
    assert other["nearest"].absrel != first["nearest"].absrel


def test_generated_frames_pair_images_with_lidar_prompts():
    frames = list(generate_frames(EvalConfig(n_frames=2, width=320, height=240)))
    assert [f.index for f in frames] == [0, 1]
    for frame in frames:
        assert frame.rgb.shape == (240, 320, 3) and frame.gt_m.shape == (240, 320)
        assert frame.prompt_m.shape == (192, 256) and frame.prompt_m.dtype == np.float32
    assert EvalConfig(width=1280, height=720).prompt_hw == (144, 256)


def test_evaluation_rejects_duplicate_engine_names_and_empty_runs():
    with pytest.raises(ConfigError, match="unique"):
        evaluate_engines(
            [NearestUpsampleEngine(), NearestUpsampleEngine()], EvalConfig(n_frames=1)
        )
    with pytest.raises(ConfigError, match="n_frames"):
        EvalConfig(n_frames=0)


def test_colorize_maps_range_ends_and_marks_missing_pixels_black():
    values = np.array([[0.0, 1.0, np.nan]])
    rgb = colorize(values, 0.0, 1.0)
    assert rgb.dtype == np.uint8 and rgb.shape == (1, 3, 3)
    np.testing.assert_array_equal(rgb[0, 2], [0, 0, 0])
    assert rgb[0, 0, 2] > rgb[0, 0, 0] and rgb[0, 1, 0] > rgb[0, 1, 2]

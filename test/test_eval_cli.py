"""Tests of the depth evaluation through the pipeline and the promptdepth-eval command line."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from promptdepth_ros.engines.baselines import BilinearUpsampleEngine, NearestUpsampleEngine
from promptdepth_ros.errors import ConfigError
from promptdepth_ros.eval.depth_eval import (
    EvalConfig,
    evaluate_engines,
    generate_frames,
    raw_sensor_depth,
)
from promptdepth_ros.eval.visualize import colorize
from promptdepth_ros.pipeline.depth import PipelineConfig
from promptdepth_ros.prompt.sources import DepthImagePrompt, LidarPrompt
from promptdepth_ros.tools.eval import main

METRIC_KEYS = {
    "absrel",
    "rmse",
    "mae",
    "delta1",
    "common_absrel",
    "common_rmse",
    "common_mae",
    "common_delta1",
    "coverage",
    "edge_f1",
    "ms_per_frame",
    "pipeline_ms",
    "frames",
}
SMALL = ["--width", "160", "--height", "120", "--frames", "1"]


def test_cli_json_has_one_row_per_engine_sensor_and_scene(capsys):
    assert main(["--json", *SMALL]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    payload = json.loads(lines[-1])
    assert payload["frames"] == 1 and payload["seed"] == 0
    assert set(payload["engines"]) == {"nearest", "bilinear", "guided", "sensor"}
    for name in ("nearest", "bilinear", "guided"):
        rows = payload["engines"][name]
        keys = {(row["sensor"], row["scene"]) for row in rows}
        assert keys == {
            (s, f) for s in ("iphone", "lidar32", "realsense") for f in ("tabletop", "room")
        }
        for row in rows:
            assert set(row) == METRIC_KEYS | {"sensor", "scene"}
            assert row["frames"] == 1
            assert all(math.isfinite(row[k]) for k in METRIC_KEYS)
            assert 0.0 <= row["coverage"] <= 1.0 and 0.0 <= row["edge_f1"] <= 1.0
    # The raw sensor is a method only where its prompt is a depth map of the image itself.
    assert {row["sensor"] for row in payload["engines"]["sensor"]} == {"realsense"}
    assert lines[0] == "1 frames per scene family" and lines[1].split()[:3] == [
        "engine",
        "sensor",
        "scene",
    ]


def test_cli_filters_sensors_and_scenes_and_writes_error_maps(capsys, tmp_path):
    argv = [*SMALL, "--sensor", "lidar32", "--scene", "room", "--save-error-maps", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "{" not in out and "lidar32" in out and "iphone" not in out and "tabletop" not in out
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved == [f"room_lidar32_000_{name}.png" for name in ("bilinear", "guided", "nearest")]
    with Image.open(tmp_path / "room_lidar32_000_guided.png") as image:
        assert image.size == (3 * 160, 120)


def test_cli_rejects_unknown_engines_sensors_and_bad_frame_counts(capsys):
    for argv in (["--engine", "nope"], ["--sensor", "kinect"]):
        with pytest.raises(SystemExit) as error:
            main(argv)
        assert error.value.code == 2
    with pytest.raises(SystemExit) as bad_frames:
        main(["--frames", "0"])
    assert bad_frames.value.code == 2
    assert "n_frames must be >= 1" in capsys.readouterr().err


def test_evaluation_is_reproducible_for_a_seed_and_differs_between_seeds():
    def run(seed: int) -> dict[tuple[str, str, str], float]:
        config = EvalConfig(n_frames=1, seed=seed, width=160, height=120, sensors=("iphone",))
        rows = evaluate_engines([NearestUpsampleEngine(), BilinearUpsampleEngine()], config)
        return {(r.engine, r.sensor, r.scene): r.absrel for r in rows}

    first = run(0)
    assert first == run(0)
    assert set(first.values()).isdisjoint(run(1).values())


def test_generated_frames_give_each_sensor_its_own_prompt_of_the_same_view():
    config = EvalConfig(n_frames=1, width=320, height=240, scenes=("room",))
    frames = list(generate_frames(config))
    assert [f.sensor for f in frames] == ["iphone", "lidar32", "realsense"]
    assert all(f.gt_m is frames[0].gt_m and f.scene == "room" for f in frames)
    iphone, lidar, realsense = (f.prompt for f in frames)
    assert isinstance(iphone, DepthImagePrompt) and iphone.depth_m.shape == (64, 85)
    assert isinstance(lidar, LidarPrompt) and lidar.points.shape[1] == 3
    assert isinstance(realsense, DepthImagePrompt) and realsense.depth_m.shape == (240, 320)
    gt = frames[0].gt_m
    assert np.nanmax(gt) > 3.0  # room scale, not a tabletop


def test_raw_sensor_is_scored_only_at_the_image_resolution():
    frames = list(generate_frames(EvalConfig(n_frames=1, width=160, height=120)))
    native = PipelineConfig()
    by_sensor = {f.sensor: f for f in frames if f.scene == "tabletop"}
    raw = raw_sensor_depth(by_sensor["realsense"], native)
    assert raw is not None and raw.shape == (120, 160)
    np.testing.assert_array_equal(
        np.isfinite(raw), np.isfinite(by_sensor["realsense"].prompt.depth_m)
    )
    assert raw_sensor_depth(by_sensor["iphone"], native) is None
    assert raw_sensor_depth(by_sensor["lidar32"], native) is None
    pooled = PipelineConfig(depth_native_resolution=False)
    assert raw_sensor_depth(by_sensor["realsense"], pooled) is None


def test_common_pixels_are_those_every_method_covers():
    config = EvalConfig(n_frames=1, width=160, height=120, sensors=("realsense",))
    rows = evaluate_engines([BilinearUpsampleEngine()], config)
    by_key = {(r.engine, r.scene): r for r in rows}
    for scene in ("tabletop", "room"):
        bilinear, sensor = by_key["bilinear", scene], by_key["sensor", scene]
        # At the sensor's own resolution bilinear upsampling is the identity: on the pixels the
        # sensor measured it is the raw sensor; it also covers the holes the conditioning fills.
        assert bilinear.common_absrel == pytest.approx(sensor.common_absrel)
        assert bilinear.coverage > sensor.coverage


def test_evaluation_rejects_duplicate_or_reserved_engine_names_and_empty_runs():
    with pytest.raises(ConfigError, match="unique"):
        evaluate_engines(
            [NearestUpsampleEngine(), NearestUpsampleEngine()], EvalConfig(n_frames=1)
        )
    with pytest.raises(ConfigError, match="n_frames"):
        EvalConfig(n_frames=0)
    with pytest.raises(ConfigError, match="sensors must be"):
        EvalConfig(sensors=())


def test_colorize_maps_range_ends_and_marks_missing_pixels_black():
    values = np.array([[0.0, 1.0, np.nan]])
    rgb = colorize(values, 0.0, 1.0)
    assert rgb.dtype == np.uint8 and rgb.shape == (1, 3, 3)
    np.testing.assert_array_equal(rgb[0, 2], [0, 0, 0])
    assert rgb[0, 0, 2] > rgb[0, 0, 0] and rgb[0, 1, 0] > rgb[0, 1, 2]

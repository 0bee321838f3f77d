"""Depth Pro: metric depth from canonical inverse depth, focal length choice, configs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from engine_fixtures import generated_scene
from transformers import Dinov2Config

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.engines.backends.torch_backend import TorchBackend
from promptdepth_ros.engines.depth_pro.engine import (
    DEPTH_PRO_INPUTS,
    DEPTH_PRO_OUTPUTS,
    DepthProEngine,
)
from promptdepth_ros.engines.depth_pro.model import (
    depth_pro_config,
    depth_pro_input_size,
    focal_from_fov,
    load_depth_pro_hf_dir,
    metric_depth_from_canonical,
    random_depth_pro,
)
from promptdepth_ros.engines.registry import create_engine
from promptdepth_ros.engines.resampling import resize_image
from promptdepth_ros.engines.spec import EngineSpec
from promptdepth_ros.errors import CheckpointError, ConfigError, EngineError, InputError


@pytest.fixture(scope="module")
def engine() -> DepthProEngine:
    network = random_depth_pro("reduced")
    backend = TorchBackend(network, DEPTH_PRO_INPUTS, DEPTH_PRO_OUTPUTS)
    return DepthProEngine(backend, network.input_size, "RANDOM weights")


def test_focal_of_a_90_degree_field_of_view_is_half_the_width() -> None:
    assert focal_from_fov(90.0, 640) == pytest.approx(320.0)
    assert focal_from_fov(60.0, 1000) == pytest.approx(500.0 / math.tan(math.radians(30.0)))


def test_metric_depth_matches_hand_computation() -> None:
    # inverse = canonical * W / f = 0.25 * 640 / 320 = 0.5  ->  depth 2 m
    canonical = np.full((8, 8), 0.25, np.float32)
    depth = metric_depth_from_canonical(canonical, 480, 640, focal_px=320.0)
    assert depth.shape == (480, 640)
    np.testing.assert_allclose(depth, 2.0, rtol=1e-6)


def test_metric_depth_scales_with_focal_and_clamps_zero_inverse_depth() -> None:
    canonical = np.array([[0.5, 0.0], [1.0, 2.0]], np.float32)
    depth = metric_depth_from_canonical(canonical, 2, 2, focal_px=4.0)
    # inverse = c * 2 / 4: 0.25, 0 (clamped to 1e-4), 0.5, 1.0
    np.testing.assert_allclose(depth, [[4.0, 1e4], [2.0, 1.0]], rtol=1e-5)


def test_invalid_focal_and_fov_are_rejected() -> None:
    with pytest.raises(InputError, match="focal"):
        metric_depth_from_canonical(np.ones((2, 2), np.float32), 2, 2, focal_px=0.0)
    with pytest.raises(InputError, match="field of view"):
        focal_from_fov(180.0, 640)


def test_full_config_is_the_published_1536px_model() -> None:
    config = depth_pro_config("full")
    assert depth_pro_input_size(config) == 1536
    image, patch, fov = (
        config.image_model_config,
        config.patch_model_config,
        config.fov_model_config,
    )
    assert isinstance(image, Dinov2Config) and image.hidden_size == 1024
    assert isinstance(patch, Dinov2Config) and patch.num_hidden_layers == 24
    assert isinstance(fov, Dinov2Config) and fov.patch_size == 16 and config.use_fov_model
    with pytest.raises(ConfigError, match="full"):
        depth_pro_config("tiny")  # type: ignore[arg-type]


def test_engine_uses_camera_fx_scaled_to_the_image_width(engine: DepthProEngine) -> None:
    rgb, _ = generated_scene(60, 80, (4, 4))
    camera = CameraModel(width=160, height=120, fx=200.0, fy=200.0, cx=80.0, cy=60.0)
    with_camera = engine.infer(rgb, None, camera)
    assert with_camera.focal_px is None  # nothing estimated
    without_camera = engine.infer(rgb, None, None)
    assert without_camera.focal_px is not None and without_camera.focal_px != 100.0
    # depth is proportional to the focal length used (fx 200 at 160 px = 100 at 80 px)
    ratio = with_camera.depth_m / without_camera.depth_m
    unclamped = (with_camera.depth_m < 1e3) & (without_camera.depth_m < 1e3)
    np.testing.assert_allclose(ratio[unclamped], 100.0 / without_camera.focal_px, rtol=1e-4)
    assert with_camera.depth_m.shape == (60, 80) and not engine.needs_prompt


def test_engine_focal_without_camera_comes_from_the_fov_head(engine: DepthProEngine) -> None:
    rgb, _ = generated_scene(60, 80, (4, 4))
    image = np.zeros((1, 3, 256, 256), np.float32)
    image[0] = resize_image(rgb.astype(np.float32) / 255.0, 256, 256, "bilinear").transpose(
        2, 0, 1
    )
    fov = float(engine.backend.infer({"image": image})["fov"][0])
    assert engine.infer(rgb, None, None).focal_px == pytest.approx(focal_from_fov(fov, 80))


def test_estimated_focal_source_uses_the_fov_head_even_with_a_camera() -> None:
    spec = EngineSpec(
        engine="depth_pro",
        backend="torch",
        random_init=True,
        depth_pro_size="reduced",
        focal_source="estimated",
    )
    estimating = create_engine(spec)
    assert isinstance(estimating, DepthProEngine) and estimating.focal_source == "estimated"
    rgb, _ = generated_scene(60, 80, (4, 4))
    camera = CameraModel(width=80, height=60, fx=100.0, fy=100.0, cx=40.0, cy=30.0)
    image = resize_image(rgb.astype(np.float32) / 255.0, 256, 256, "bilinear")
    outputs = estimating.backend.infer({"image": image.transpose(2, 0, 1)[None].copy()})
    focal = focal_from_fov(float(outputs["fov"][0]), 80)
    result = estimating.infer(rgb, None, camera)
    assert result.focal_px == pytest.approx(focal) and abs(focal - 100.0) > 1.0
    expected = metric_depth_from_canonical(outputs["depth"].reshape(256, 256), 60, 80, focal)
    np.testing.assert_allclose(result.depth_m, expected, rtol=1e-5)


def test_saved_depth_pro_directory_loads_back_with_identical_output(tmp_path: Path) -> None:
    network = random_depth_pro("reduced", seed=3)
    network.model.save_pretrained(tmp_path)
    loaded = load_depth_pro_hf_dir(tmp_path)
    image = torch.rand(1, 3, 256, 256)
    with torch.no_grad():
        for got, want in zip(loaded(image), network(image), strict=True):
            torch.testing.assert_close(got, want)
    with pytest.raises(CheckpointError, match=r"no config\.json"):
        load_depth_pro_hf_dir(tmp_path / "missing")


class _BadFovBackend:
    """Stand-in network output: a valid depth map and an impossible field of view."""

    name = "stand-in"
    input_names = ("image",)
    output_names = ("depth", "fov")

    def __init__(self) -> None:
        self.input_shapes: dict[str, tuple[int, ...] | None] = {"image": (1, 3, 8, 8)}

    def infer(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"depth": np.ones((1, 8, 8), np.float32), "fov": np.array([-3.0], np.float32)}

    def close(self) -> None:
        pass


def test_impossible_fov_without_camera_is_an_engine_error() -> None:
    engine = DepthProEngine(_BadFovBackend(), 8)  # type: ignore[arg-type]
    rgb = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(EngineError, match=r"use focal\.source 'camera_info' with a CameraInfo"):
        engine.infer(rgb, None, None)
    camera = CameraModel(width=8, height=8, fx=8.0, fy=8.0, cx=4.0, cy=4.0)
    # inverse = 1 * 8 / 8 = 1 -> 1 m everywhere when fx is known
    np.testing.assert_allclose(engine.infer(rgb, None, camera).depth_m, 1.0)

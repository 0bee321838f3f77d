"""PromptDA pre/post-processing and the engine on a small random network."""

from __future__ import annotations

import numpy as np
import pytest
from engine_fixtures import generated_scene, needs_sample, small_arkit_sample
from scipy.spatial import cKDTree

from promptdepth_ros.engines.backends import TensorMap
from promptdepth_ros.engines.backends.torch_backend import TorchBackend
from promptdepth_ros.engines.base import DepthEngine
from promptdepth_ros.engines.promptda.engine import (
    PROMPTDA_INPUTS,
    PROMPTDA_OUTPUTS,
    PromptDAEngine,
)
from promptdepth_ros.engines.promptda.model import random_promptda
from promptdepth_ros.engines.promptda.preprocessing import (
    PromptDAPipelineConfig,
    network_input_size,
    prepare_image,
    prepare_prompt,
    prompt_confidence,
)
from promptdepth_ros.engines.resampling import resize_image, resize_nearest
from promptdepth_ros.errors import ConfigError, EngineMismatch, InputError
from promptdepth_ros.geometry.transforms import invert_transform
from promptdepth_ros.pipeline.depth import DepthPipeline, FrameInput, FrameOutput, PipelineConfig
from promptdepth_ros.prompt.conditioning import PromptConditioningConfig, condition_prompt
from promptdepth_ros.prompt.sources import LidarPrompt, build_raw_prompt
from promptdepth_ros.sim.lidar import simulate_lidar_points
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import default_camera, generate_tabletop_scene


@pytest.fixture(scope="module")
def engine() -> PromptDAEngine:
    backend = TorchBackend(random_promptda("vits"), PROMPTDA_INPUTS, PROMPTDA_OUTPUTS)
    return PromptDAEngine(backend, PromptDAPipelineConfig(long_side=238), "RANDOM weights")


@pytest.mark.parametrize(
    ("size", "long_side", "expected"),
    [
        ((1440, 1920), 1008, (756, 1008)),
        ((1920, 1440), 1008, (1008, 756)),
        ((480, 640), 238, (178 // 14 * 14, 238)),
        ((2160, 3840), 3836, (2156, 3836)),
        ((480, 640), 1008, (476, 630)),  # never enlarged, only floored to multiples of 14
        ((756, 1008), 1008, (756, 1008)),
    ],
)
def test_network_size_has_the_long_side_and_multiples_of_14(
    size: tuple[int, int], long_side: int, expected: tuple[int, int]
) -> None:
    assert network_input_size(*size, long_side) == expected


def test_image_is_scaled_to_unit_range_channels_first() -> None:
    rgb = np.zeros((28, 28, 3), np.uint8)
    rgb[..., 0] = 255
    image = prepare_image(rgb, 14, 14)
    assert image.shape == (1, 3, 14, 14) and image.dtype == np.float32
    np.testing.assert_allclose(image[0, 0], 1.0)
    np.testing.assert_allclose(image[0, 1:], 0.0)


def test_network_prompt_is_the_conditioned_prompt_kept_finite() -> None:
    raw = np.array([[1.0, 0.0, 2.0, 0.0, 0.0], [np.nan, 3.0, 0.0, 0.0, 0.0]], np.float32)
    prompt = condition_prompt(raw, PromptConditioningConfig(max_fill_px=1.0))
    network_prompt = prepare_prompt(prompt)
    assert network_prompt.shape == (1, 1, 2, 5) and np.isfinite(network_prompt).all()
    # conditioning's values where it gave depth, untouched; its holes never set the range
    has_depth = prompt.depth_mask
    np.testing.assert_array_equal(network_prompt[0, 0][has_depth], prompt.depth_m[has_depth])
    assert network_prompt.min() == 1.0 and network_prompt.max() == 3.0


def test_prompt_with_one_depth_value_is_rejected() -> None:
    with pytest.raises(InputError, match="single depth value"):
        prepare_prompt(condition_prompt(np.full((4, 4), 1.5, np.float32)))


def test_confidence_drops_at_prompt_bounds_and_away_from_returns() -> None:
    config = PromptDAPipelineConfig(saturation_margin=0.1, support_sigma_px=2.0)
    depth = np.array([[1.0, 1.5, 2.0, 1.95]], np.float32)
    valid = np.array([[True, True, True, False]])
    confidence = prompt_confidence(depth, valid, (1.0, 2.0), config)
    # t = 0, 0.5, 1, 0.95 -> saturation 0, 1, 0, 0.5; support exp(-d / 2) with d = 0, 0, 0, 1
    np.testing.assert_allclose(confidence[0], [0.0, 1.0, 0.0, 0.5 * np.exp(-0.5)], atol=1e-6)


def test_pipeline_config_rejects_out_of_range_values() -> None:
    with pytest.raises(ConfigError, match="long_side"):
        PromptDAPipelineConfig(long_side=5000)
    with pytest.raises(ConfigError, match="support_sigma_px"):
        PromptDAPipelineConfig(support_sigma_px=0.0)


def test_engine_output_is_at_image_resolution_within_prompt_range(engine: PromptDAEngine) -> None:
    rgb, raw = generated_scene(120, 160, (24, 32))
    result = engine.infer(rgb, condition_prompt(raw), None)
    valid, prompt = raw > 0, raw
    assert isinstance(engine, DepthEngine) and engine.needs_prompt
    assert result.depth_m.shape == (120, 160) and result.depth_m.dtype == np.float32
    assert result.confidence is not None and result.confidence.shape == (120, 160)
    assert np.isfinite(result.depth_m).all()
    assert prompt[valid].min() - 1e-4 <= result.depth_m.min()
    assert result.depth_m.max() <= prompt[valid].max() + 1e-4
    assert result.confidence.min() >= 0.0 and result.confidence.max() <= 1.0


@needs_sample
def test_engine_runs_on_the_real_arkit_sample(engine: PromptDAEngine) -> None:
    rgb, prompt = small_arkit_sample(180, 240)
    result = engine.infer(rgb, condition_prompt(prompt), None)
    assert engine.network_size(180, 240) == (168, 238)
    assert result.depth_m.shape == (180, 240)
    assert result.depth_m.min() >= 1.566 - 1e-4 and result.depth_m.max() <= 3.512 + 1e-4


def test_engine_requires_a_prompt(engine: PromptDAEngine) -> None:
    with pytest.raises(InputError, match="needs a depth prompt"):
        engine.infer(np.zeros((28, 28, 3), np.uint8), None, None)


def test_engine_rejects_a_backend_with_other_inputs() -> None:
    backend = TorchBackend(random_promptda("vits"), ("pixels",), ("depth",))
    with pytest.raises(EngineMismatch, match="prompt_depth"):
        PromptDAEngine(backend)


def test_confidence_support_on_a_32_beam_lidar_follows_the_measured_returns(
    engine: PromptDAEngine,
) -> None:
    camera = default_camera(320, 240)
    t_camera_lidar = np.eye(4)  # a LiDAR 8 cm above the camera, same axes
    t_camera_lidar[:3, 3] = (0.0, -0.08, 0.0)
    rng = np.random.default_rng(32)
    frame = render(generate_tabletop_scene(rng, camera))
    points = simulate_lidar_points(
        frame.depth_m, camera, invert_transform(t_camera_lidar), rng, n_rings=32
    )
    source = LidarPrompt(points, t_camera_lidar)
    out = DepthPipeline(PipelineConfig(), engine).process(
        FrameInput(0.0, frame.rgb, camera, source)
    )
    assert isinstance(out, FrameOutput) and out.confidence is not None
    # Independently: the measured returns of the projected scan, their distance to every prompt
    # pixel by brute-force nearest neighbour, and the documented confidence formula.
    raw = build_raw_prompt(source, camera, (192, 256))
    with np.errstate(invalid="ignore"):
        measured = np.isfinite(raw) & (raw >= 0.1) & (raw <= 20.0)
    assert measured.mean() < 0.25  # a ring scan: most prompt pixels are filled, not measured
    pixels = np.indices((192, 256)).reshape(2, -1).T
    distance, _ = cKDTree(np.argwhere(measured)).query(pixels)
    support = np.exp(-distance.reshape(192, 256) / 4.0)
    assert support.mean() < 0.9  # treating filled pixels as returns would make this 1
    lo, hi = float(raw[measured].min()), float(raw[measured].max())
    t = (out.depth_m - lo) / (hi - lo)
    saturation = np.clip(np.minimum(t, 1.0 - t) / 0.02, 0.0, 1.0)
    expected = np.nan_to_num(saturation * resize_image(support, 240, 320, "bilinear"), nan=0.0)
    np.testing.assert_allclose(out.confidence, expected, atol=1e-5)


def test_engine_feeds_the_conditioned_prompt_and_masks_where_it_has_no_depth() -> None:
    backend = RecordingTorchBackend(random_promptda("vits"), PROMPTDA_INPUTS, PROMPTDA_OUTPUTS)
    engine = PromptDAEngine(backend, PromptDAPipelineConfig(long_side=238))
    rgb, raw = generated_scene(120, 160, (24, 32))
    raw[:, 20:] = 0.0  # no returns on the right
    prompt = condition_prompt(raw, PromptConditioningConfig(max_fill_px=2.0))
    assert not prompt.depth_mask.all()
    result = engine.infer(rgb, prompt, None)
    fed = backend.inputs["prompt_depth"][0, 0]
    has_depth = prompt.depth_mask
    np.testing.assert_array_equal(fed[has_depth], prompt.depth_m[has_depth])
    assert np.isfinite(fed).all()
    supported = resize_nearest(has_depth, 120, 160)
    np.testing.assert_array_equal(np.isfinite(result.depth_m), supported)
    assert result.confidence is not None and (result.confidence[~supported] == 0.0).all()


class RecordingTorchBackend(TorchBackend):
    """A torch backend that keeps the inputs of its last call."""

    inputs: TensorMap

    def infer(self, inputs: TensorMap) -> TensorMap:
        self.inputs = inputs
        return super().infer(inputs)

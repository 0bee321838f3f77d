"""Node parameters: validation, and the core configs they build."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from promptdepth_ros.errors import ConfigError
from promptdepth_ros.geometry.transforms import parse_xyz_quat
from promptdepth_ros.prompt.conditioning import FallbackMode
from promptdepth_ros.ros.grasp_planner_params import GRASP_PLANNER_PARAMS, grasp_config_from_params
from promptdepth_ros.ros.prompt_depth_params import (
    PROMPT_DEPTH_PARAMS,
    engine_spec_from_params,
    pipeline_config_from_params,
)
from promptdepth_ros.settings import ParamSpec, validate_all

CONFIG = Path(__file__).resolve().parents[1] / "config"


def test_every_parameter_has_a_description_and_a_unique_name() -> None:
    for specs in (PROMPT_DEPTH_PARAMS, GRASP_PLANNER_PARAMS):
        names = [s.name for s in specs]
        assert len(names) == len(set(names))
        assert all(len(s.description) > 10 for s in specs)


def test_out_of_range_value_is_refused_with_the_parameter_name_and_range() -> None:
    spec = ParamSpec("sync.max_offset_s", 0.05, "window", low=0.0001, high=2.0)
    with pytest.raises(ConfigError, match=r"sync.max_offset_s.*\[0.0001, 2.0\].*5.0"):
        spec.validate(5.0)
    assert spec.validate(1) == 1.0  # ints are accepted for floats


def test_wrong_type_and_unknown_choice_are_refused() -> None:
    spec = ParamSpec("engine.name", "guided", "engine", choices=("guided", "promptda"))
    with pytest.raises(ConfigError, match=r"engine\.name.*one of"):
        spec.validate("midas")
    with pytest.raises(ConfigError, match="must be str"):
        spec.validate(3)
    with pytest.raises(ConfigError, match="must be int"):
        ParamSpec("n", 3, "count").validate(True)


def test_list_parameters_need_their_length() -> None:
    spec = ParamSpec("grasp.workspace_min_m", [0.0, 0.0, 0.0], "corner", length=(3,))
    with pytest.raises(ConfigError, match="needs 3 values, got 2"):
        spec.validate([1.0, 2.0])


def test_defaults_build_valid_core_configs() -> None:
    prompt = validate_all(PROMPT_DEPTH_PARAMS, {})
    config = pipeline_config_from_params(prompt)
    assert config.prompt_hw == (192, 256)
    assert config.conditioning.fallback is FallbackMode.SKIP
    assert config.conditioning.fill_k == 4
    spec = engine_spec_from_params(prompt)
    assert (spec.engine, spec.backend, spec.weights) == ("guided", "auto", None)
    grasp = grasp_config_from_params(validate_all(GRASP_PLANNER_PARAMS, {}))
    assert grasp.gripper.max_opening_m == pytest.approx(0.10)
    assert grasp.friction_coefficient == pytest.approx(0.4)


def test_inconsistent_ranges_are_refused_by_the_core_config() -> None:
    values = validate_all(
        PROMPT_DEPTH_PARAMS, {"prompt.min_range_m": 5.0, "prompt.max_range_m": 1.0}
    )
    with pytest.raises(ConfigError, match="max_range_m"):
        pipeline_config_from_params(values)


def test_fallback_extrinsic_parses_xyz_and_normalises_the_quaternion() -> None:
    T = parse_xyz_quat("0.1 0.2 0.3  0 0 2 0", "tf.x")  # 180° about z, unnormalised
    assert T is not None
    np.testing.assert_allclose(T[:3, 3], [0.1, 0.2, 0.3])
    np.testing.assert_allclose(T[:3, :3], np.diag([-1.0, -1.0, 1.0]), atol=1e-12)
    assert parse_xyz_quat("  ", "tf.x") is None
    with pytest.raises(ConfigError, match=r"tf\.x.*x y z qx qy qz qw"):
        parse_xyz_quat("1 2 3", "tf.x")
    with pytest.raises(ConfigError, match="zero or non-finite quaternion"):
        parse_xyz_quat("0 0 0 0 0 0 0", "tf.x")

"""Settings declared once: parameter specs, configs from parameters, generated copies."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
import yaml

from promptdepth_ros.engines.spec import EngineSpec
from promptdepth_ros.errors import ConfigError
from promptdepth_ros.grasp.planner import plan_grasps
from promptdepth_ros.grasp.types import GraspPlannerConfig
from promptdepth_ros.pipeline.depth import PipelineConfig
from promptdepth_ros.ros.grasp_planner_params import GRASP_PLANNER_PARAMS, grasp_config_from_params
from promptdepth_ros.ros.parameter_files import node_parameters_in_file
from promptdepth_ros.ros.prompt_depth_params import (
    PROMPT_DEPTH_PARAMS,
    engine_spec_from_params,
    pipeline_config_from_params,
)
from promptdepth_ros.settings import (
    check_settings,
    config_from_params,
    group,
    parameter_specs,
    setting,
    validate_all,
)
from promptdepth_ros.sim.scene import Primitive, PrimitiveKind
from promptdepth_ros.tools import generate_config

ROOT = Path(__file__).resolve().parents[1]


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Inner:
    gain: float = setting(2.0, "a gain", low=0.0, high=10.0)

    def __post_init__(self) -> None:
        check_settings(self)


@dataclass(frozen=True)
class Outer:
    mode: Literal["a", "b"] = setting("a", "a mode", name="mode_name")
    colour: Colour = setting(Colour.RED, "a colour")
    path: Path | None = setting(None, "a file")
    corner: tuple[float, float] = setting((1.0, 2.0), "a corner")
    inner: Inner = group(Inner, "inner.")

    def __post_init__(self) -> None:
        check_settings(self)


def test_specs_take_names_types_and_choices_from_the_declaration() -> None:
    specs = {s.name: s for s in parameter_specs(Outer, "x.")}
    assert list(specs) == ["x.mode_name", "x.colour", "x.path", "x.corner", "x.inner.gain"]
    assert specs["x.mode_name"].choices == ("a", "b")
    assert (specs["x.colour"].default, specs["x.colour"].choices) == ("red", ("red", "blue"))
    assert specs["x.path"].default == ""
    assert (specs["x.corner"].default, specs["x.corner"].length) == ([1.0, 2.0], (2,))
    assert (specs["x.inner.gain"].low, specs["x.inner.gain"].high) == (0.0, 10.0)


def test_configs_from_parameters_convert_each_kind_and_keep_missing_defaults() -> None:
    values = {"x.colour": "blue", "x.path": "~/model.onnx", "x.corner": [3, 4], "x.inner.gain": 5}
    config = config_from_params(Outer, values, "x.")
    assert config.colour is Colour.BLUE and config.mode == "a"
    assert config.path == Path("~/model.onnx").expanduser()
    assert config.corner == (3, 4) and config.inner.gain == 5
    assert config_from_params(Outer, {}, "x.") == Outer()


def test_core_configs_refuse_values_outside_their_declared_range() -> None:
    with pytest.raises(ConfigError, match=r"Inner\.gain.*\[0.0, 10.0\]"):
        Inner(gain=11.0)
    with pytest.raises(ConfigError, match=r"Outer\.colour.*\['red', 'blue'\]"):
        Outer(colour="green")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"parameters 'x\.\*'.*Outer\.mode"):
        config_from_params(Outer, {"x.mode_name": "c"}, "x.")


def test_node_defaults_build_exactly_the_core_defaults() -> None:
    prompt = validate_all(PROMPT_DEPTH_PARAMS, {})
    assert pipeline_config_from_params(prompt) == PipelineConfig()
    assert engine_spec_from_params(prompt) == EngineSpec()
    grasp = validate_all(GRASP_PLANNER_PARAMS, {})
    assert grasp_config_from_params(grasp) == GraspPlannerConfig()


def test_every_planner_and_gripper_setting_is_a_parameter() -> None:
    names = {s.name for s in GRASP_PLANNER_PARAMS}
    for field_name in GraspPlannerConfig.__dataclass_fields__:
        if field_name not in ("gripper", "weights"):
            assert f"grasp.{field_name}" in names
    gripper = GraspPlannerConfig().gripper
    for field_name in type(gripper).__dataclass_fields__:
        assert f"grasp.{field_name}" in names


@pytest.mark.parametrize(("node", "specs", "file"), generate_config.NODES)
def test_yaml_files_hold_every_declared_default(node: str, specs, file: str) -> None:
    document = yaml.safe_load((ROOT / "config" / file).read_text())
    params = node_parameters_in_file(document, "arm1", node)
    assert params == {s.name: s.default for s in specs}


def test_generated_yaml_and_readme_tables_are_current() -> None:
    stale = generate_config.stale_files(ROOT)
    assert not stale, f"run `{generate_config.COMMAND}`: stale {stale}"


def test_generate_check_names_a_stale_copy(tmp_path: Path, capsys) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "README.md").write_text((ROOT / "README.md").read_text())
    assert generate_config.main(["--root", str(tmp_path)]) == 0
    assert generate_config.main(["--root", str(tmp_path), "--check"]) == 0
    path = tmp_path / "config" / "grasp_planner.yaml"
    path.write_text(path.read_text().replace("max_rate_hz: 2.0", "max_rate_hz: 5.0"))
    assert generate_config.main(["--root", str(tmp_path), "--check"]) == 1
    assert "config/grasp_planner.yaml" in capsys.readouterr().err


def _cylinder_on_table(diameter_m: float) -> np.ndarray:
    """An upright 8 cm tall cylinder of ``diameter_m`` on a 40 x 40 cm table grid."""
    pose = np.eye(4)
    pose[:3, 3] = [0.0, 0.0, 0.04]
    box = Primitive(PrimitiveKind.CYLINDER, (diameter_m / 2, 0.08), pose, 0, (1, 1, 1))
    points, normals = box.sample_surface(20_000, np.random.default_rng(0))
    points = points[normals[:, 2] > -0.5]
    grid = np.arange(-0.2, 0.2, 0.004)
    gx, gy = np.meshgrid(grid, grid)
    table = np.stack([gx.ravel(), gy.ravel(), np.zeros(gx.size)], 1)
    table = table[box.signed_distance(table + np.array([0.0, 0.0, 0.002])) > 0.0]
    return np.vstack([points, table]).astype(np.float32)


def test_a_robotiq_2f_140_like_gripper_configures_and_plans_wide_objects() -> None:
    values = validate_all(
        GRASP_PLANNER_PARAMS, {"grasp.max_opening_m": 0.14, "grasp.finger_thickness_m": 0.02}
    )
    config = grasp_config_from_params(values)
    assert config.gripper.palm_span_m == pytest.approx(0.18)
    plan = plan_grasps(_cylinder_on_table(0.11), config)
    assert plan.grasps, "an 11 cm cylinder fits a 14 cm opening"
    assert 0.11 <= plan.grasps[0].width_m <= 0.14
    narrow = grasp_config_from_params(validate_all(GRASP_PLANNER_PARAMS, {}))
    assert not plan_grasps(_cylinder_on_table(0.11), narrow).grasps


def test_palm_narrower_than_the_fingers_names_the_parameter() -> None:
    values = validate_all(
        GRASP_PLANNER_PARAMS, {"grasp.max_opening_m": 0.14, "grasp.palm_width_m": 0.12}
    )
    with pytest.raises(ConfigError, match=r"grasp\..*palm_width_m"):
        grasp_config_from_params(values)

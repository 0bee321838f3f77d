"""Parameter-file sections reach a node as rcl matches them, for the tools as for launch."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptdepth_ros.errors import ConfigError
from promptdepth_ros.ros.parameter_files import node_parameters_in_file
from promptdepth_ros.ros.prompt_depth_params import PROMPT_DEPTH_PARAMS
from promptdepth_ros.tools.cli import node_parameters


@pytest.mark.parametrize(
    ("key", "namespace", "applies"),
    [
        ("/**", "", True),
        ("/**", "arm1/left", True),
        ("/**/prompt_depth_node", "", True),
        ("/**/prompt_depth_node", "arm1", True),
        ("prompt_depth_node", "", True),
        ("/prompt_depth_node", "", True),
        ("prompt_depth_node", "arm1", False),
        ("/arm1/prompt_depth_node", "arm1", True),
        ("/arm1/prompt_depth_node", "arm2", False),
        ("/arm1/*", "arm1", True),
        ("/*/prompt_depth_node", "", False),
        ("/**/grasp_planner_node", "arm1", False),
        ("/**/prompt_depth", "", False),
    ],
)
def test_a_section_applies_to_the_nodes_its_key_names(
    key: str, namespace: str, applies: bool
) -> None:
    document = {key: {"ros__parameters": {"fill_k": 7}}}
    found = node_parameters_in_file(document, namespace, "prompt_depth_node")
    assert found == ({"fill_k": 7} if applies else None)


def test_matching_sections_merge_in_file_order() -> None:
    document = {
        "/**": {"ros__parameters": {"a": 1, "b": 1}},
        "/**/prompt_depth_node": {"ros__parameters": {"b": 2}},
        "/**/other": {"ros__parameters": {"a": 9}},
    }
    assert node_parameters_in_file(document, "ns", "prompt_depth_node") == {"a": 1, "b": 2}


def test_a_matching_section_without_parameters_is_an_error() -> None:
    with pytest.raises(ConfigError, match="ros__parameters"):
        node_parameters_in_file({"/**": {"params": {}}}, "", "prompt_depth_node")


def test_tools_read_wildcard_sections_and_say_when_none_applies(tmp_path: Path) -> None:
    params = tmp_path / "robot.yaml"
    params.write_text("/**:\n  ros__parameters:\n    prompt.max_range_m: 5.0\n")
    values = node_parameters(params, "prompt_depth_node", PROMPT_DEPTH_PARAMS, {})
    assert values["prompt.max_range_m"] == 5.0
    params.write_text("/**/grasp_planner_node:\n  ros__parameters:\n    planning_frame: a\n")
    with pytest.raises(ConfigError, match="no section for prompt_depth_node"):
        node_parameters(params, "prompt_depth_node", PROMPT_DEPTH_PARAMS, {})

"""Command-line options of the tools derived from the declared settings (one default each)."""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from promptdepth_ros.errors import ConfigError
from promptdepth_ros.settings import ParamSpec, ParamValue, parameter_specs, validate_all


def specs_by_name(cls: type, prefix: str = "") -> dict[str, ParamSpec]:
    """The parameter specs of config class ``cls`` keyed by their name (under ``prefix``)."""
    return {spec.name: spec for spec in parameter_specs(cls, prefix)}


def add_setting_option(
    parser: argparse.ArgumentParser, flag: str, spec: ParamSpec, **kwargs: Any
) -> None:
    """Add ``flag`` for one setting: its type, choices, default and description from ``spec``.

    ``kwargs`` override argparse arguments (e.g. ``default=None`` where None means "as the
    parameter file says").
    """
    options: dict[str, Any] = {
        "type": type(spec.default),
        "default": spec.default,
        "help": f"{spec.description} (default: {spec.default!r})",
    }
    if spec.choices:
        options["choices"] = spec.choices
    options.update(kwargs)
    parser.add_argument(flag, **options)


def node_parameters(
    path: Path | None, node_name: str, specs: Sequence[ParamSpec], given: Mapping[str, Any]
) -> dict[str, ParamValue]:
    """A node's validated parameters: its ``path`` parameter file, then ``given`` (None = unset).

    Raises ConfigError for a file without the node, an unknown key (naming the nearest valid
    one) or a bad value; OSError/yaml.YAMLError for an unreadable file.
    """
    values: dict[str, Any] = {}
    if path is not None:
        document = yaml.safe_load(path.read_text()) or {}
        if not isinstance(document, dict) or node_name not in document:
            raise ConfigError(f"{path} has no '{node_name}:' section with ros__parameters")
        values.update((document[node_name] or {}).get("ros__parameters") or {})
    values.update({key: value for key, value in given.items() if value is not None})
    names = [spec.name for spec in specs]
    for key in values:
        if key not in names:
            nearest = difflib.get_close_matches(key, names, n=1)
            hint = f"; did you mean '{nearest[0]}'?" if nearest else ""
            raise ConfigError(f"{node_name} has no parameter '{key}'{hint}")
    return validate_all(specs, values)

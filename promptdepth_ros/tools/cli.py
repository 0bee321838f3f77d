"""Command-line options of the tools derived from the declared settings (one default each)."""

from __future__ import annotations

import argparse
from typing import Any

from promptdepth_ros.settings import ParamSpec, parameter_specs


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

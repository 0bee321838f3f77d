"""Declare ParamSpecs on an rclpy node with descriptors, and validate changes at runtime."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.node import Node
from rclpy.parameter import Parameter

from promptdepth_ros.errors import ConfigError
from promptdepth_ros.settings import ParamSpec, ParamValue, validate_all


def _descriptor(spec: ParamSpec, read_only: bool) -> ParameterDescriptor:
    description = spec.description
    if spec.choices:
        description += f" (one of: {', '.join(repr(c) for c in spec.choices)})"
    descriptor = ParameterDescriptor(description=description, read_only=read_only)
    if spec.low is not None and spec.high is not None and not isinstance(spec.default, list):
        if isinstance(spec.default, int) and not isinstance(spec.default, bool):
            descriptor.integer_range = [
                IntegerRange(from_value=int(spec.low), to_value=int(spec.high), step=0)
            ]
        elif isinstance(spec.default, float):
            descriptor.floating_point_range = [
                FloatingPointRange(from_value=float(spec.low), to_value=float(spec.high), step=0.0)
            ]
    return descriptor


def declare_parameters(
    node: Node,
    specs: Sequence[ParamSpec],
    on_change: Callable[[dict[str, ParamValue]], None] | None = None,
    locked: Callable[[], str] | None = None,
) -> dict[str, ParamValue]:
    """Declare every spec, validate the start values, and guard later changes.

    Returns the validated values; raises ConfigError naming a bad launch-time value.
    A runtime change is refused with the reason unless all values stay valid; then
    ``on_change`` receives the new full set of values. Read-only specs are read-only
    parameters, unless ``locked`` is given (a lifecycle node): then they may change while
    ``locked()`` returns "" and a change is refused with the reason it returns otherwise.
    """
    for spec in specs:
        read_only = spec.read_only and locked is None
        node.declare_parameter(spec.name, spec.default, _descriptor(spec, read_only))
    values = validate_all(specs, {s.name: node.get_parameter(s.name).value for s in specs})
    fixed = {s.name for s in specs if s.read_only}

    def check(params: list[Parameter]) -> SetParametersResult:
        proposed: dict[str, Any] = dict(values)
        proposed.update({p.name: p.value for p in params})
        try:
            reason = locked() if locked is not None else ""
            changed = sorted(p.name for p in params if p.name in fixed)
            if changed and reason:
                raise ConfigError(f"{', '.join(changed)} cannot change: {reason}")
            validated = validate_all(specs, proposed)
            if on_change is not None:
                on_change(validated)
        except ConfigError as error:
            return SetParametersResult(successful=False, reason=str(error))
        values.update(validated)
        return SetParametersResult(successful=True)

    node.add_on_set_parameters_callback(check)
    return values

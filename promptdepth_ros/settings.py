"""Declared node parameters: one spec per parameter (name, default, description, range).

Pure: the nodes turn these specs into rclpy ParameterDescriptors; ``config/*.yaml`` mirrors
the defaults (a test holds them equal).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from promptdepth_ros.errors import ConfigError

ParamValue = bool | int | float | str | list[float] | list[str]


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: a default (its type is the parameter's type), a description, a range.

    ``choices`` restricts strings; ``low``/``high`` bound numbers (and list lengths are
    fixed by ``length`` when given); ``read_only`` parameters only take launch-time values.
    """

    name: str
    default: ParamValue
    description: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    length: tuple[int, ...] = ()
    read_only: bool = False

    def validate(self, value: Any) -> ParamValue:
        """Return the value if it is allowed, else raise ConfigError naming the parameter."""
        expected = type(self.default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if expected is list:
            value = list(value)
            if self.length and len(value) not in self.length:
                raise ConfigError(
                    f"parameter '{self.name}' needs {' or '.join(map(str, self.length))} "
                    f"values, got {len(value)}"
                )
        elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(
                f"parameter '{self.name}' must be {expected.__name__}, got {value!r}"
            )
        if self.choices and value not in self.choices:
            raise ConfigError(
                f"parameter '{self.name}' must be one of {list(self.choices)}, got {value!r}"
            )
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        too_low = is_number and self.low is not None and value < self.low
        too_high = is_number and self.high is not None and value > self.high
        if too_low or too_high:
            raise ConfigError(
                f"parameter '{self.name}' must be in [{self.low}, {self.high}], got {value}"
            )
        return value


def validate_all(specs: Sequence[ParamSpec], values: Mapping[str, Any]) -> dict[str, ParamValue]:
    """Every spec's value from ``values`` (default where absent), validated."""
    return {s.name: s.validate(values.get(s.name, s.default)) for s in specs}


def yaml_defaults(node_name: str, specs: Sequence[ParamSpec]) -> dict[str, Any]:
    """The ``config/*.yaml`` document that mirrors the specs' defaults for ``node_name``."""
    return {node_name: {"ros__parameters": {s.name: s.default for s in specs}}}


COMMON_PARAMS: tuple[ParamSpec, ...] = (
    # Declared by both nodes.
    ParamSpec(
        "input.reliable_qos",
        False,
        "Subscribe with RELIABLE instead of sensor-data (BEST_EFFORT) QoS, e.g. for bag "
        "replay with `ros2 bag play --qos-profile-overrides-path`",
        read_only=True,
    ),
    ParamSpec(
        "diagnostics.period_s",
        1.0,
        "Period of the /diagnostics status, seconds",
        low=0.1,
        high=60.0,
        read_only=True,
    ),
    ParamSpec(
        "log_throttle_s",
        5.0,
        "Minimum seconds between two log lines of one cause",
        low=0.0,
        high=600.0,
    ),
)

"""Settings declared once: each config dataclass field carries its default, range and description.

A component's frozen config dataclass declares its fields with :func:`setting` (and nested
configs with :func:`group`). Everything else is derived from that one declaration: the node
parameters (:func:`parameter_specs`), the configs built from parameter values
(:func:`config_from_params`), ``config/*.yaml`` and the README tables
(:mod:`promptdepth_ros.tools.generate_config`), and the range checks of ``__post_init__``
(:func:`check_settings`). Pure: no rclpy.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import Any

from promptdepth_ros.errors import ConfigError

ParamValue = bool | int | float | str | list[float] | list[str]
_META = "promptdepth_ros.setting"


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
            if isinstance(value, str | bytes) or not isinstance(value, Sequence):
                raise ConfigError(f"parameter '{self.name}' must be a list, got {value!r}")
            value = [
                float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value
            ]
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

    def range_text(self) -> str:
        """The allowed values in words, for tables and descriptors ('' when unrestricted)."""
        if self.choices:
            return ", ".join(f"`{c}`" if c else "`''`" for c in self.choices)
        if self.low is not None and self.high is not None:
            return f"[{_number(self.low)}, {_number(self.high)}]"
        if self.length:
            return f"{' or '.join(map(str, self.length))} numbers"
        return ""


def _number(value: float) -> str:
    """A range bound as written in a config file: 50000000, 0.0001."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True)
class _Setting:
    """Field metadata of one setting (see :func:`setting`)."""

    description: str
    low: float | None
    high: float | None
    choices: tuple[str, ...]
    read_only: bool
    name: str


@dataclass(frozen=True)
class _Group:
    """Field metadata of a nested config (see :func:`group`)."""

    prefix: str


def setting(
    default: Any,
    description: str,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
    read_only: bool = False,
    name: str = "",
) -> Any:
    """A config dataclass field that is also a parameter: its one default, range and description.

    ``name`` is the parameter name within its group when it differs from the field name.
    Literal and Enum fields take their choices from the type; ``choices`` narrows them.
    """
    meta = _Setting(description, low, high, choices, read_only, name)
    return field(default=default, metadata={_META: meta})


def group(factory: Callable[[], Any], prefix: str = "") -> Any:
    """A nested config field whose settings are parameters under ``prefix`` ('' = flattened)."""
    return field(default_factory=factory, metadata={_META: _Group(prefix)})


@dataclass(frozen=True)
class _Field:
    """How one setting field maps to a parameter: its spec and the value conversions."""

    field_name: str
    spec: ParamSpec
    to_param: Callable[[Any], ParamValue]
    from_param: Callable[[Any], Any]


def _unchanged(value: Any) -> Any:
    """The conversion of a setting whose parameter has the field's own type."""
    return value


def _is_optional_path(hint: Any) -> bool:
    args = typing.get_args(hint)
    is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    return is_union and Path in args and type(None) in args


def _describe_field(field_name: str, hint: Any, default: Any, meta: _Setting) -> _Field:
    """The parameter spec and conversions of a field of type ``hint``."""
    name = meta.name or field_name
    spec = ParamSpec(
        name,
        default,
        meta.description,
        low=meta.low,
        high=meta.high,
        choices=meta.choices,
        read_only=meta.read_only,
    )
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        enum_type = hint
        choices = meta.choices or tuple(str(member.value) for member in enum_type)
        return _Field(
            field_name,
            replace(spec, default=default.value, choices=choices),
            lambda value: value.value,
            enum_type,
        )
    if typing.get_origin(hint) is typing.Literal:
        choices = meta.choices or tuple(str(c) for c in typing.get_args(hint))
        return _Field(field_name, replace(spec, choices=choices), _unchanged, _unchanged)
    if _is_optional_path(hint):
        return _Field(
            field_name,
            replace(spec, default=""),
            lambda value: "" if value is None else str(value),
            lambda value: Path(value).expanduser() if value else None,
        )
    if typing.get_origin(hint) is tuple:
        return _Field(
            field_name,
            replace(spec, default=list(default), length=(len(default),)),
            list,
            tuple,
        )
    return _Field(field_name, spec, _unchanged, _unchanged)


@dataclass(frozen=True)
class _GroupField:
    """A nested config field: its class and the prefix of its parameters."""

    field_name: str
    prefix: str
    cls: type


@cache
def _layout(cls: type) -> tuple[_Field | _GroupField, ...]:
    """How each setting or nested config field of config class ``cls`` maps to parameters."""
    hints = typing.get_type_hints(cls)
    rows: list[_Field | _GroupField] = []
    for f in fields(cls):
        meta = f.metadata.get(_META)
        if isinstance(meta, _Group):
            rows.append(_GroupField(f.name, meta.prefix, hints[f.name]))
        elif isinstance(meta, _Setting):
            rows.append(_describe_field(f.name, hints[f.name], f.default, meta))
    return tuple(rows)


def parameter_specs(
    cls: type, prefix: str = "", overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> tuple[ParamSpec, ...]:
    """The parameter specs of every setting of config class ``cls``, names under ``prefix``.

    ``overrides`` maps a parameter name (without ``prefix``) to ParamSpec fields to replace,
    for a group that reuses a class with other defaults (e.g. the optional monocular engine).
    """
    specs: list[ParamSpec] = []
    for entry in _layout(cls):
        if isinstance(entry, _GroupField):
            specs += parameter_specs(entry.cls, prefix + entry.prefix)
            continue
        spec = replace(entry.spec, name=prefix + entry.spec.name)
        changes = (overrides or {}).get(entry.spec.name)
        specs.append(replace(spec, **changes) if changes else spec)
    return tuple(specs)


def config_from_params(cls: type, values: Mapping[str, Any], prefix: str = "") -> Any:
    """An instance of config class ``cls`` from parameter values (names under ``prefix``).

    Parameters missing from ``values`` keep their declared default. Raises ConfigError.
    """
    kwargs: dict[str, Any] = {}
    for entry in _layout(cls):
        if isinstance(entry, _GroupField):
            kwargs[entry.field_name] = config_from_params(entry.cls, values, prefix + entry.prefix)
        elif prefix + entry.spec.name in values:
            kwargs[entry.field_name] = entry.from_param(values[prefix + entry.spec.name])
    try:
        return cls(**kwargs)
    except ConfigError as error:
        raise ConfigError(f"parameters '{prefix}*': {error}") from None


def check_settings(config: Any) -> None:
    """Validate every setting of a config dataclass instance against its declared range.

    Call from ``__post_init__``; Enum fields given as their value, Path fields given as
    strings and tuple fields given as lists are converted in place. Raises ConfigError.
    """
    cls: type = type(config)
    for entry in _layout(cls):
        if isinstance(entry, _GroupField):
            continue
        value = getattr(config, entry.field_name)
        spec = replace(entry.spec, name=f"{cls.__name__}.{entry.field_name}")
        try:
            converted = entry.from_param(value)
        except ValueError:
            raise ConfigError(
                f"parameter '{spec.name}' must be one of {list(spec.choices)}, got {value!r}"
            ) from None
        spec.validate(entry.to_param(converted))
        if converted is not value:
            object.__setattr__(config, entry.field_name, converted)


def validate_all(specs: Sequence[ParamSpec], values: Mapping[str, Any]) -> dict[str, ParamValue]:
    """Every spec's value from ``values`` (default where absent), validated."""
    return {s.name: s.validate(values.get(s.name, s.default)) for s in specs}

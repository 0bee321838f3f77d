"""Command-line options of the tools derived from the declared settings (one default each)."""

from __future__ import annotations

import argparse
import difflib
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from promptdepth_ros.errors import ConfigError, PromptDepthError
from promptdepth_ros.ros.parameter_files import node_parameters_in_file
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
        try:
            parameters = node_parameters_in_file(document, "", node_name)
        except ConfigError as error:
            raise ConfigError(f"{path}: {error}") from error
        if parameters is None:
            raise ConfigError(
                f"{path} has no section for {node_name} ('/**/{node_name}:', '{node_name}:' "
                "or '/**:' with ros__parameters)"
            )
        values.update(parameters)
    values.update({key: value for key, value in given.items() if value is not None})
    names = [spec.name for spec in specs]
    for key in values:
        if key not in names:
            nearest = difflib.get_close_matches(key, names, n=1)
            hint = f"; did you mean '{nearest[0]}'?" if nearest else ""
            raise ConfigError(f"{node_name} has no parameter '{key}'{hint}")
    return validate_all(specs, values)


def one_line(error: BaseException) -> str:
    """``error``'s message on one line (YAML and library errors span several)."""
    return " ".join(str(error).split()) or type(error).__name__


def add_debug_option(parser: argparse.ArgumentParser) -> None:
    """``--debug``: print the traceback of an error (else one line)."""
    parser.add_argument("--debug", action="store_true", help="print tracebacks of errors")


def run_tool(body: Callable[[], int], debug: bool) -> int:
    """Run a tool's ``body``; an error is one ``error:`` line on stderr, never a traceback.

    Returns ``body()``'s status, 2 for a configuration or input error (the package's own,
    an unreadable or malformed file), 1 for any other exception (a bug: its type is named;
    ``debug`` adds the traceback), 128 + the signal number when SIGINT or SIGTERM stopped it
    (raised in ``body`` as :class:`Stopped`, so its ``finally`` blocks run).
    """
    signals = StopSignals()
    try:
        with signals:
            return body()
    except KeyboardInterrupt:
        signum = signals.signum or signal.SIGINT
        print(f"error: stopped by {signal.Signals(signum).name}", file=sys.stderr)
        return 128 + signum
    except (PromptDepthError, OSError, yaml.YAMLError) as error:
        if debug:
            traceback.print_exc()
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 2
    except Exception as error:
        if debug:
            traceback.print_exc()
        hint = "" if debug else " (--debug prints the traceback)"
        print(f"error: {type(error).__name__}: {one_line(error)}{hint}", file=sys.stderr)
        return 1


class Stopped(KeyboardInterrupt):
    """SIGINT or SIGTERM asked a tool to stop; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopSignals:
    """SIGINT and SIGTERM raise :class:`Stopped` once in the main thread; later ones only count.

    Within ``shielded()`` (closing a file) a signal is recorded and not raised. ``signum`` is
    the first signal received (None: none); ``exit_status`` is the shell's 128 + signum.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._deferred = False  # the signal came while shielded and was not raised
        self._shield = 0
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
            if not self._shield:
                raise Stopped(signum)
            self._deferred = True

    def __enter__(self) -> StopSignals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    @contextmanager
    def shielded(self) -> Iterator[None]:
        """Defer signals (recorded in ``signum``) while the block runs."""
        self._shield += 1
        try:
            yield
        finally:
            self._shield -= 1

    def pending(self) -> int | None:
        """The signal received while shielded and not raised yet (None: none)."""
        return self.signum if self._deferred else None

    @property
    def exit_status(self) -> int | None:
        """128 + the signal number after a signal, else None."""
        return None if self.signum is None else 128 + self.signum

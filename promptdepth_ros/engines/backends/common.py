"""Shared by the backends: input checks and the context-manager protocol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.errors import InputError


def validate_input_tensors(
    inputs: Mapping[str, NDArray[Any]],
    names: Sequence[str],
    shapes: Mapping[str, tuple[int, ...] | None],
) -> None:
    """Raise InputError unless ``inputs`` holds exactly ``names``, float32, of fixed shapes."""
    if set(inputs) != set(names):
        raise InputError(f"expected inputs {sorted(names)}, got {sorted(inputs)}")
    for name in names:
        array = inputs[name]
        if array.dtype != np.float32:
            raise InputError(f"input '{name}' must be float32, got {array.dtype}")
        expected = shapes.get(name)
        if expected is not None and tuple(array.shape) != tuple(expected):
            raise InputError(
                f"input '{name}' must have shape {tuple(expected)}, got {tuple(array.shape)}; "
                "re-export the model for this resolution or resize the input"
            )


_Backend = TypeVar("_Backend", bound="ClosingBackend")


class ClosingBackend:
    """Mixin: ``with backend:`` calls ``close()`` on exit."""

    def close(self) -> None:
        """Release the backend's resources (overridden by each backend)."""

    def __enter__(self: _Backend) -> _Backend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

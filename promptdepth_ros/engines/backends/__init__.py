"""Inference backends: one per runtime, all behind :class:`InferenceBackend`."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

TensorMap = dict[str, NDArray[np.float32]]  # named float32 tensors


@runtime_checkable
class InferenceBackend(Protocol):
    """Runs one network: named float32 arrays in, named float32 arrays out.

    ``input_shapes`` maps each input name to its fixed shape, or to None when the backend
    accepts any shape (torch). ``infer`` raises EngineError when the runtime fails.
    """

    name: str
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    input_shapes: dict[str, tuple[int, ...] | None]

    def infer(self, inputs: TensorMap) -> TensorMap: ...

    def close(self) -> None: ...

    def __enter__(self) -> InferenceBackend: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

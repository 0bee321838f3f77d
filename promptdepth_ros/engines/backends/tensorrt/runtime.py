"""TensorRT 10 runtime backend: one engine, one CUDA stream, buffers allocated once.

Device memory is held in torch CUDA tensors (torch is a dependency of the learned engines);
every TensorRT call goes through :func:`checked`, which raises EngineError on failure.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import numpy as np
import torch

from promptdepth_ros.engines.backends import TensorMap
from promptdepth_ros.engines.backends.common import ClosingBackend, validate_input_tensors
from promptdepth_ros.engines.backends.tensorrt.plan import (
    EngineCacheKey,
    TensorSpec,
    check_io_plan,
    check_plan_current,
    check_plan_host,
)
from promptdepth_ros.errors import EngineError

T = TypeVar("T")


def import_tensorrt() -> ModuleType:
    """The ``tensorrt`` module; EngineError saying how to get it when it is not importable."""
    try:
        return importlib.import_module("tensorrt")
    except ImportError as exc:
        raise EngineError(
            "tensorrt not importable: install the 'tensorrt' extra (TensorRT 10) on a machine "
            f"with an NVIDIA GPU, or use the onnxruntime backend ({exc})"
        ) from exc


def checked(result: T | bool | None, what: str) -> T:
    """Return a TensorRT call's result; EngineError when it is None or False."""
    if result is None or result is False:
        raise EngineError(f"TensorRT call failed: {what}")
    return result  # type: ignore[return-value]


def gpu_name(device: str = "cuda") -> str:
    """Name of the CUDA device; EngineError when torch sees no CUDA GPU."""
    if not torch.cuda.is_available():
        raise EngineError("no CUDA GPU visible to torch; TensorRT needs one")
    return torch.cuda.get_device_name(torch.device(device))


class TensorRTBackend(ClosingBackend):
    """Named-array inference with a serialized TensorRT plan.

    On load the plan's sidecar must name this GPU and TensorRT version (and match
    ``expected_key`` when given), and the engine I/O must be float32 static tensors named
    like ``expected_inputs``/``expected_outputs``; otherwise EngineMismatch.
    """

    name = "tensorrt"

    def __init__(
        self,
        plan_path: Path,
        expected_inputs: Mapping[str, tuple[int, ...]] | None = None,
        expected_outputs: Sequence[str] | None = None,
        expected_key: EngineCacheKey | None = None,
        device: str = "cuda",
    ) -> None:
        trt = import_tensorrt()
        self._device = torch.device(device)
        check_plan_host(plan_path, gpu_name(device), str(trt.__version__))
        if expected_key is not None:
            check_plan_current(plan_path, expected_key)
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = checked(trt.Runtime(self._logger), "trt.Runtime")
        self._engine = checked(
            self._runtime.deserialize_cuda_engine(plan_path.read_bytes()),
            f"deserialize_cuda_engine({plan_path})",
        )
        self._context = checked(
            self._engine.create_execution_context(), "create_execution_context"
        )
        tensors = self._tensor_specs(trt)
        found_inputs = {t.name: t.shape for t in tensors if t.is_input}
        check_io_plan(
            tensors,
            expected_inputs if expected_inputs is not None else found_inputs,
            expected_outputs or [t.name for t in tensors if not t.is_input],
        )
        self.input_names = tuple(t.name for t in tensors if t.is_input)
        self.output_names = tuple(t.name for t in tensors if not t.is_input)
        self.input_shapes: dict[str, tuple[int, ...] | None] = dict(found_inputs)
        self._stream = torch.cuda.Stream(device=self._device)
        self._device_buffers: dict[str, torch.Tensor] = {}
        self._host_buffers: dict[str, torch.Tensor] = {}
        for tensor in tensors:
            buffer = torch.empty(tensor.shape, dtype=torch.float32, device=self._device)
            self._device_buffers[tensor.name] = buffer
            self._host_buffers[tensor.name] = torch.empty(
                tensor.shape, dtype=torch.float32, pin_memory=True
            )
            if tensor.is_input:
                checked(
                    self._context.set_input_shape(tensor.name, tensor.shape),
                    f"set_input_shape({tensor.name}, {tensor.shape})",
                )
            checked(
                self._context.set_tensor_address(tensor.name, buffer.data_ptr()),
                f"set_tensor_address({tensor.name})",
            )

    def _tensor_specs(self, trt: Any) -> list[TensorSpec]:
        """Name, direction, shape and dtype of every engine I/O tensor."""
        specs = []
        for index in range(self._engine.num_io_tensors):
            name = self._engine.get_tensor_name(index)
            specs.append(
                TensorSpec(
                    name=name,
                    is_input=self._engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT,
                    shape=tuple(int(d) for d in self._engine.get_tensor_shape(name)),
                    dtype=np.dtype(trt.nptype(self._engine.get_tensor_dtype(name))).name,
                )
            )
        return specs

    def infer(self, inputs: TensorMap) -> TensorMap:
        """Copy inputs in, run the engine on its stream, copy outputs out (float32)."""
        validate_input_tensors(inputs, self.input_names, self.input_shapes)
        with torch.cuda.stream(self._stream):
            for name in self.input_names:
                host = self._host_buffers[name]
                host.numpy()[...] = inputs[name]
                self._device_buffers[name].copy_(host, non_blocking=True)
            checked(self._context.execute_async_v3(self._stream.cuda_stream), "execute_async_v3")
            for name in self.output_names:
                self._host_buffers[name].copy_(self._device_buffers[name], non_blocking=True)
        self._stream.synchronize()
        return {name: self._host_buffers[name].numpy().copy() for name in self.output_names}

    def close(self) -> None:
        """Free the context, engine and buffers (in that order)."""
        self._context = None
        self._engine = None
        self._device_buffers.clear()
        self._host_buffers.clear()

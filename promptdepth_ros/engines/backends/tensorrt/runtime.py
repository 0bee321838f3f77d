"""TensorRT 10 runtime backend: one engine, one CUDA stream, buffers allocated once.

Device memory is held in torch CUDA tensors (torch is a dependency of the learned engines);
every TensorRT call goes through :func:`checked`, which raises EngineError on failure. The
plan is loaded only when its sidecar records exactly the expected :class:`EngineCacheKey`.
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
)
from promptdepth_ros.engines.backends.torch_backend import cuda_device
from promptdepth_ros.engines.spec import Precision
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


def engine_cache_key(onnx_path: Path, precision: Precision, device: str) -> EngineCacheKey:
    """The key of a plan built from ``onnx_path`` at ``precision`` on ``device`` with this
    TensorRT: what the build tool records and the runtime requires.

    Raises ConfigError when the CUDA device does not exist, EngineError without tensorrt.
    """
    trt = import_tensorrt()
    index = cuda_device(device)
    major, minor = torch.cuda.get_device_capability(index)
    return EngineCacheKey.for_onnx(
        onnx_path,
        precision,
        gpu_name=torch.cuda.get_device_name(index),
        compute_capability=f"{major}.{minor}",
        tensorrt_version=str(trt.__version__),
    )


class TensorRTBackend(ClosingBackend):
    """Named-array inference with a serialized TensorRT plan on one CUDA device.

    On load the plan's sidecar must record exactly ``expected_key`` (from
    :func:`engine_cache_key` for this device) and the engine I/O must be float32 static
    tensors with the key's input names and shapes (those of the ONNX graph) and
    ``expected_outputs``; otherwise EngineMismatch.
    ConfigError when the CUDA device does not exist.
    """

    name = "tensorrt"

    def __init__(
        self,
        plan_path: Path,
        expected_key: EngineCacheKey,
        expected_outputs: Sequence[str] | None = None,
        device: str = "cuda",
    ) -> None:
        trt = import_tensorrt()
        self._device = cuda_device(device)
        check_plan_current(plan_path, expected_key)
        with torch.cuda.device(self._device):  # TensorRT works on the current CUDA device
            self._load(trt, plan_path, dict(expected_key.input_shapes), expected_outputs)

    def _load(
        self,
        trt: Any,
        plan_path: Path,
        expected_inputs: Mapping[str, tuple[int, ...]],
        expected_outputs: Sequence[str] | None,
    ) -> None:
        """Deserialize the plan, check its I/O and allocate buffers on the current device."""
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
        outputs = expected_outputs or [t.name for t in tensors if not t.is_input]
        check_io_plan(tensors, expected_inputs, outputs)
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
        with torch.cuda.device(self._device), torch.cuda.stream(self._stream):
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

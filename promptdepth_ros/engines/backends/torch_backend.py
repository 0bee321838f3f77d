"""PyTorch backend: runs an ``nn.Module`` on CPU or CUDA in fp32 (or fp16 on CUDA)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from promptdepth_ros.engines.backends import TensorMap
from promptdepth_ros.engines.backends.common import ClosingBackend, validate_input_tensors
from promptdepth_ros.engines.spec import Precision
from promptdepth_ros.errors import ConfigError, EngineError


def cuda_device(device: str) -> torch.device:
    """The torch device of ``'cuda'`` or ``'cuda:N'``; ConfigError when torch cannot see it."""
    if not device.startswith("cuda"):
        raise ConfigError(f"device must be 'cuda' or 'cuda:N' here, got {device!r}")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise ConfigError(f"device '{device}' requested but torch sees no CUDA GPU; use 'cpu'")
    try:
        index = int(device.partition(":")[2] or torch.cuda.current_device())
    except ValueError:
        raise ConfigError(f"device must be 'cuda' or 'cuda:N', got {device!r}") from None
    if not 0 <= index < count:
        raise ConfigError(
            f"device '{device}' requested but torch sees {count} CUDA GPU(s): "
            f"cuda:0 to cuda:{count - 1} (check CUDA_VISIBLE_DEVICES)"
        )
    return torch.device("cuda", index)


class TorchBackend(ClosingBackend):
    """Named-array inference with a torch module whose forward takes the inputs in order.

    Raises ConfigError for fp16 on CPU or a CUDA device torch cannot see, EngineError when
    the forward pass fails.
    """

    name = "torch"

    def __init__(
        self,
        module: nn.Module,
        input_names: Sequence[str],
        output_names: Sequence[str],
        device: str = "cpu",
        precision: Precision = "fp32",
    ) -> None:
        if precision == "fp16" and not device.startswith("cuda"):
            raise ConfigError("precision fp16 needs a CUDA device for the torch backend; use fp32")
        self.device = cuda_device(device) if device.startswith("cuda") else torch.device(device)
        self.dtype = torch.float16 if precision == "fp16" else torch.float32
        self.module = module.to(device=self.device, dtype=self.dtype).eval()
        self.input_names = tuple(input_names)
        self.output_names = tuple(output_names)
        self.input_shapes: dict[str, tuple[int, ...] | None] = dict.fromkeys(self.input_names)

    def infer(self, inputs: TensorMap) -> TensorMap:
        """Run the module; returns float32 numpy outputs by name."""
        validate_input_tensors(inputs, self.input_names, self.input_shapes)
        args = [
            torch.from_numpy(np.ascontiguousarray(inputs[n])).to(self.device, self.dtype)
            for n in self.input_names
        ]
        try:
            with torch.inference_mode():
                result = self.module(*args)
        except RuntimeError as exc:
            raise EngineError(f"torch forward pass failed: {exc}") from exc
        outputs = result if isinstance(result, tuple) else (result,)
        if len(outputs) != len(self.output_names):
            raise EngineError(
                f"module returned {len(outputs)} outputs, expected {self.output_names}"
            )
        pairs = zip(self.output_names, outputs, strict=True)
        return {n: t.detach().float().cpu().numpy() for n, t in pairs}

    def close(self) -> None:
        """Release GPU memory held by the cache allocator."""
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

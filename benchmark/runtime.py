"""Where and how an image model computes: the device, bf16 autocast, channels_last and torch.compile.

A model's parameters are always initialised on the CPU from its seed (so a run starts from the same weights on every
device) and then moved; the random stream for noise and dropout masks lives on the device.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Runtime:
    device: str = "cpu"
    bf16: bool = False  # autocast the forward pass to bfloat16 (parameters and optimiser states stay float32)
    channels_last: bool = False  # NHWC images and weights, which cuDNN's fastest convolutions want
    compile: bool = False  # torch.compile every network's forward

    @classmethod
    def for_device(cls, device: str, compile: bool = False, bf16: bool = False) -> "Runtime":
        """The defaults: on CUDA bf16 autocast and channels_last; on the CPU plain float32 (the results of every CPU
        run so far), or bf16 autocast with `bf16` (faster on CPUs with native bf16, `cpu_bf16_supported`; perf
        measures both)."""
        cuda = torch.device(device).type == "cuda"
        return cls(device=device, bf16=cuda or bf16, channels_last=cuda, compile=compile)

    def autocast(self):
        if not self.bf16:
            return nullcontext()
        return torch.autocast(torch.device(self.device).type, dtype=torch.bfloat16)

    def memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.channels_last else torch.contiguous_format


def cpu_bf16_supported() -> bool:
    """Whether oneDNN has native bf16 kernels on this CPU (AVX512-BF16 or AMX), where bf16 autocast pays."""
    return torch.backends.mkldnn.is_available() and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())

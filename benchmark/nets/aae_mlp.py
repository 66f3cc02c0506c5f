"""The semi-supervised AAE's networks (AAE paper section 5): fully connected 784-1000-1000 ReLU networks on MNIST
[paper]; everything the paper leaves out is [ours] and named in the family's config (the style size, the output
layers, the discriminators' widths, the initialisation)."""
from __future__ import annotations

import torch
from torch import nn


def mlp(sizes: list[int], final: nn.Module | None = None) -> nn.Sequential:
    """Linear + ReLU on every hidden layer, a linear output (then `final` if given)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if final is not None:
        layers.append(final)
    return nn.Sequential(*layers)


class SemiEncoder(nn.Module):
    """x -> (logits of q(y|x) over the classes, style z of q(z|x)) from one shared trunk [paper]; with a style of 0
    dimensions there is no style head and z has no columns (the IAE's clustering setting: all style in the decoder's
    local noise)."""

    def __init__(self, pixels: int, hidden: int, classes: int, style: int):
        super().__init__()
        self.trunk = mlp([pixels, hidden, hidden])
        self.trunk.append(nn.ReLU())
        self.y_head = nn.Linear(hidden, classes)
        self.z_head = nn.Linear(hidden, style) if style else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x.flatten(1))
        return self.y_head(h), self.z_head(h) if self.z_head is not None else h.new_zeros(len(h), 0)



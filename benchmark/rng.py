"""Per-run random streams, so that run i's numbers depend on its own seed and not on the runs beside it."""
from __future__ import annotations

import hashlib

import torch


def derive_seed(*parts: object) -> int:
    """A stable 63-bit seed from any parts (table, row, run index, purpose...)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


class RunGenerators:
    """One torch.Generator per stacked run; draws are stacked along a leading run dimension."""

    def __init__(self, seeds: list[int], device: torch.device | str = "cpu"):
        self.seeds = list(seeds)
        self.device = torch.device(device)
        self.generators = []
        for seed in self.seeds:
            g = torch.Generator(device=self.device)
            g.manual_seed(seed)
            self.generators.append(g)

    def __len__(self) -> int:
        return len(self.generators)

    def randn(self, *shape: int) -> torch.Tensor:
        return torch.stack([torch.randn(*shape, generator=g, device=self.device) for g in self.generators])

    def randint(self, high: int, *shape: int) -> torch.Tensor:
        return torch.stack(
            [torch.randint(high, shape, generator=g, device=self.device) for g in self.generators]
        )

    def randperm(self, n: int) -> torch.Tensor:
        return torch.stack([torch.randperm(n, generator=g, device=self.device) for g in self.generators])

    def state_dict(self) -> dict:
        return {"seeds": self.seeds, "states": [g.get_state() for g in self.generators]}

    def load_state_dict(self, state: dict) -> None:
        if list(state["seeds"]) != self.seeds:
            raise ValueError("checkpoint holds generators of other seeds")
        for g, s in zip(self.generators, state["states"]):
            g.set_state(s)

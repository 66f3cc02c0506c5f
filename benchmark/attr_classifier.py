"""The CelebA attribute classifier of the celeba_attrs table: a small convolutional network with one logit per
attribute, trained by the suite's one training loop on whatever images a reading gives it (real training images, or
one model's reconstructions of them), its weights cached by identity (the config, the seed and a digest of the images
and attributes it trains on) and reused by every later call.

Everything here is [ours] (HALI does not describe its classifier): four 3x3 convolutions of stride 2 (widths
`widths`), each BatchNorm + ReLU, a global mean pool and a linear layer to the attributes; the mean binary
cross-entropy over the attributes; Adam (lr, betas 0.9 / 0.999); `epochs` passes over the images in batches of
`batch_size`; an attribute is predicted present when its logit is above 0.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from benchmark.config import config_hash
from benchmark.models._image import seeded, to_unit
from benchmark.results import environment, write_json_atomic
from benchmark.rng import derive_seed
from benchmark.train import train


@dataclass(frozen=True)
class AttrClassifierConfig:
    widths: tuple[int, ...] = (32, 64, 128, 256)
    epochs: float = 10.0
    steps: int = 0  # > 0: this many updates instead of the epochs (smoke)
    batch_size: int = 100
    lr: float = 1e-3
    seed: int = 0
    checkpoint_every: int = 500

    def updates(self, n_images: int) -> int:
        return self.steps or math.ceil(self.epochs * n_images / self.batch_size)


class AttributeNet(nn.Module):
    def __init__(self, channels: int, attributes: int, widths: tuple[int, ...]):
        super().__init__()
        layers: list[nn.Module] = []
        for a, b in zip((channels, *widths[:-1]), widths):
            layers += [nn.Conv2d(a, b, 3, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU()]
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1], attributes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x).mean((2, 3)))


class LabelledBatcher:
    """Shuffled minibatches of (images, attributes), a fresh permutation each epoch, resumable."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, seed: int):
        self.images, self.labels, self.batch_size = images, labels, min(batch_size, len(images))
        self.generator = torch.Generator().manual_seed(seed)
        self.order, self.position = None, 0

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.order is None or self.position + self.batch_size > len(self.order):
            self.order, self.position = torch.randperm(len(self.images), generator=self.generator), 0
        index = self.order[self.position: self.position + self.batch_size]
        self.position += self.batch_size
        return self.images[index], self.labels[index]

    def state_dict(self) -> dict:
        return {"order": self.order, "position": self.position, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.order, self.position = state["order"], state["position"]
        self.generator.set_state(state["generator"])


class AttributeClassifier(nn.Module):
    """The network with its optimiser, as the training loop drives a model (one run)."""

    runs = 1

    def __init__(self, channels: int, attributes: int, config: AttrClassifierConfig, device: str = "cpu"):
        super().__init__()
        with seeded(derive_seed(config.seed, "attr_classifier")):
            self.net = AttributeNet(channels, attributes, config.widths)
        self.device = device
        self.to(device)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=config.lr)

    def train_step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
        self.train()
        x, y = to_unit(batch[0].to(self.device)), batch[1].to(self.device).float()
        loss = F.binary_cross_entropy_with_logits(self.net(x), y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.detach().view(1)}

    def training_state(self) -> dict:
        return {"net": self.net.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_training_state(self, state: dict) -> None:
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch: int = 500) -> torch.Tensor:
        """(N, A) 0/1 predictions of uint8 or [0, 1] images, in eval mode."""
        self.eval()
        return torch.cat([(self.net(to_unit(c.to(self.device))) > 0).cpu() for c in images.split(batch)]).to(torch.uint8)


def _digest(*tensors: torch.Tensor) -> str:
    h = hashlib.md5()
    for t in tensors:
        h.update(str(tuple(t.shape)).encode())
        h.update(t.contiguous().cpu().numpy().tobytes())
    return h.hexdigest()


def fit(images: torch.Tensor, attributes: torch.Tensor, config: AttrClassifierConfig, cache_dir: Path,
        device: str = "cpu", progress: bool = False, what: str = "") -> tuple[AttributeClassifier, dict]:
    """The classifier trained on (images, attributes), or loaded when one of the same identity was trained before
    (a checkpoint left mid-way is resumed).  Returns (classifier, its record: key, identity, steps, wall time,
    commit).  `what` names the training images in the record (e.g. "real train images")."""
    identity = {"config": asdict(config), "images": _digest(images, attributes), "n": len(images),
                "shape": list(images.shape[1:]), "device_kind": "cuda" if device.startswith("cuda") else "cpu"}
    key = f"attr_classifier_{config_hash(identity)}"
    folder = Path(cache_dir) / "attr_classifiers"
    checkpoint, record_path = folder / f"{key}.pt", folder / f"{key}.json"
    model = AttributeClassifier(images.shape[1], attributes.shape[1], config, device)
    steps = config.updates(len(images))
    finished_before = checkpoint.exists() and record_path.exists()
    batcher = LabelledBatcher(images, attributes, config.batch_size, derive_seed(config.seed, "attr_batches"))
    result = train(model, batcher, steps, checkpoint=checkpoint, identity=key, checkpoint_every=config.checkpoint_every,
                   desc=f"attribute classifier ({what or key})", progress=progress)
    if finished_before:
        return model, json.loads(record_path.read_text())
    record = {"key": key, "identity": identity, "trained_on": what, "steps": result.steps_done,
              "failed": bool(result.failures), "wall_s": round(result.wall_s, 3),
              "last_loss": result.last_losses.get("loss", [None])[0], "ran_on": result.ran_on,
              **environment()}
    write_json_atomic(record_path, record)
    return model, record

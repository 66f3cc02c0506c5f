"""Features of a trained model, extracted once per (model identity, feature set, split) and cached on disk, so every
classifier of a protocol, and every later table, reads a split's features without running the model again.

Feature sets, by name (each a function of the model and images in [0, 1], eval mode, no sampling):
- `code`, `paper`: the encoder feature sets of the SVM protocol (see benchmark.nets.ali_image.named_features);
- `mu`: the posterior mean alone;  `z1`, `z2`, `z1z2`: HALI's posterior means per level and both;
- `discriminator`: the x pathway of the discriminator (the DCGAN + L2-SVM row for a GAN) [ours];
- `pixels`: the images themselves (no model), for the KNN baseline.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

import torch

from benchmark.models._image import to_unit
from benchmark.tables import RunContext

BATCH = 500


def _hali_means(model, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return model.encode(x, level=1).mean.flatten(1), model.encode(x, level=2).mean.flatten(1)


FEATURE_SETS: dict[str, Callable] = {
    "code": lambda model, x: model.features(x, "code"),
    "paper": lambda model, x: model.features(x, "paper"),
    "mu": lambda model, x: model.encode(x).mean.flatten(1),
    "z1": lambda model, x: _hali_means(model, x)[0],
    "z2": lambda model, x: _hali_means(model, x)[1],
    "z1z2": lambda model, x: torch.cat(_hali_means(model, x), dim=1),
    "discriminator": lambda model, x: model.discriminator_features(x),
    "pixels": lambda model, x: x.flatten(1),
}


def split_key(provenance: dict) -> str:
    """A name for a split's images (or the rows [start, stop) of it) that changes when its files or recipe do."""
    blob = json.dumps({k: provenance.get(k) for k in ("dataset", "split", "n", "files", "recipe", "rows")},
                      sort_keys=True)
    return f"{provenance['dataset']}-{provenance['split']}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"


@torch.no_grad()
def compute(model, feature_set: str, images: torch.Tensor, device: str) -> torch.Tensor:
    """(N, D) float32 features on the CPU, computed in batches."""
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {feature_set!r}; valid: {', '.join(FEATURE_SETS)}")
    fn = FEATURE_SETS[feature_set]
    out = [fn(model, to_unit(chunk.to(device))).float().cpu() for chunk in images.split(BATCH)]
    return torch.cat(out)


def cached_features(model, model_key: str, feature_set: str, images: torch.Tensor, provenance: dict,
                    ctx: RunContext) -> torch.Tensor:
    """The features of a split's images, from <cache>/features/<model key>/<feature set>-<split key>-<images>.pt when
    there, else computed and stored (atomically).  The name holds a digest of the images themselves, so two splits
    whose provenance reads alike can never share features."""
    digest = hashlib.sha1(images.contiguous().cpu().numpy().tobytes()).hexdigest()[:12]
    path = Path(ctx.cache_dir) / "features" / model_key / f"{feature_set}-{split_key(provenance)}-{digest}.pt"
    if path.exists():
        return torch.load(path)
    features = compute(model, feature_set, images, ctx.device)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(features, tmp)
    os.replace(tmp, path)
    return features
